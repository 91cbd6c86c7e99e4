package main

// depclient.go: the async style's dependency client. /fanout's calls are
// HTTP/1.1 requests on non-blocking connections that gnet registers on the
// same event loop as the client connection that asked (EventLoop.Register),
// so a fan-out never leaves its loop: no goroutine per call, no lock, no
// hop between threads. seq sends the next call when the previous answer
// arrives; par sends every call at once.
//
// Each loop keeps a small pool of connections to the dependency. A call goes
// to an idle connection, else to a new one while the pool is below its size,
// else it is pipelined behind the fewest calls. The dependency (an eventloop
// server in async style) answers pipelined calls concurrently; a server that
// serializes pipelined requests would make a full pool slower.
//
// conn=new calls each dial a connection of their own (at most maxFresh per
// loop; more wait their turn) that says Connection: close and is closed
// after its answer.
//
// Every call has a deadline, -dependency-timeout after it was issued; the
// loop's sweep (every tick) checks them. A connection whose oldest call is
// past its deadline is closed; that call's fan-out answers 504, and the
// calls queued behind it are sent again. A connection lost otherwise sends
// its calls again (each fan-out at most calls times), then answers 502.

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/contract"
)

// maxFresh bounds one loop's conn=new dependency connections, open or
// dialing, and so their fds; calls beyond it wait in depPool.waiting.
const maxFresh = 1024

// depPool is one loop's connections to the dependency. The loop owns it.
type depPool struct {
	ls      *loopState
	addr    net.Addr
	host    string // Host header of each call
	size    int
	timeout int64      // per-call deadline, nanoseconds
	conns   []*depConn // pooled, open or dialing
	fresh   []*depConn // conn=new, open or dialing
	waiting []depCall  // conn=new calls waiting for a slot under maxFresh
	dirty   []*depConn // connections with requests to write
}

func newDepPool(ls *loopState, addr net.Addr, host string, size int, timeout time.Duration) *depPool {
	return &depPool{ls: ls, addr: addr, host: host, size: size, timeout: int64(timeout)}
}

// depConn is one connection to the dependency; its gnet.Conn's context
// points to it. The loop owns it.
type depConn struct {
	pool    *depPool
	c       gnet.Conn // nil while dialing
	wbuf    []byte    // requests not yet written
	calls   []depCall // one per request sent or queued; answers come back in this order
	dirty   bool      // in pool.dirty
	dead    bool      // closed, timed out, or its dial failed
	closing bool      // the dependency said Connection: close
	fresh   bool      // conn=new: one call, then closed
}

// depCall is one dependency call of a fan-out.
type depCall struct {
	f        *fanout
	ms       int
	deadline int64 // engine clock
}

// fanout is one /fanout request in progress. The loop owns it.
type fanout struct {
	p        *pending
	pool     *depPool
	calls    int
	mode     contract.Mode
	fresh    bool
	start    time.Time
	next     int // index of the next call to issue
	answered int // calls answered 200
	retries  int // calls sent again after their connection was lost
	done     bool
}

// start begins the fan-out of p on the loop.
func (dp *depPool) start(p *pending) {
	prm := &p.req.Params
	f := &fanout{p: p, pool: dp, calls: prm.Calls, mode: prm.Mode, fresh: prm.Conn == contract.New, start: time.Now()}
	if f.mode == contract.Par {
		dp.issue(f, f.calls)
	} else {
		dp.issue(f, 1)
	}
}

// issue queues the next n calls of f and writes them.
func (dp *depPool) issue(f *fanout, n int) {
	prm := &f.p.req.Params
	// A fresh clock reading, not the engine clock: that one may be a tick
	// (100 ms) stale, which would expire the call up to a tick early. The
	// sweep compares against the engine clock, so expiry is never early
	// and at most a tick late.
	deadline := time.Now().UnixNano() + dp.timeout
	for i := 0; i < n && !f.done; i++ {
		dp.send(depCall{f: f, ms: prm.CallMillis(f.next), deadline: deadline})
		f.next++
	}
	dp.flush()
}

// send queues one call on a connection; the caller flushes.
func (dp *depPool) send(call depCall) {
	var dc *depConn
	if call.f.fresh {
		if len(dp.fresh) >= maxFresh {
			dp.waiting = append(dp.waiting, call)
			return
		}
		dc = dp.dial(true)
	} else {
		dc = dp.pick()
	}
	if dc == nil {
		call.f.finish(contract.ErrDependency)
		return
	}
	dc.calls = append(dc.calls, call)
	dc.wbuf = appendDepRequest(dc.wbuf, call.ms, dp.host, dc.fresh)
	if !dc.dirty {
		dc.dirty = true
		dp.dirty = append(dp.dirty, dc)
	}
}

// flush writes the queued requests of open connections.
func (dp *depPool) flush() {
	for i, dc := range dp.dirty {
		dp.dirty[i] = nil
		dc.dirty = false
		if dc.c != nil && !dc.dead && len(dc.wbuf) > 0 {
			buf := dc.wbuf
			dc.wbuf = dc.wbuf[:0]
			_, _ = dc.c.Write(buf) // on error gnet closes it; onClose sends its calls again
		}
	}
	dp.dirty = dp.dirty[:0]
}

// pick chooses the pooled connection for one call: an idle open one, else
// a new one while the pool has room, else the one with the fewest calls.
func (dp *depPool) pick() *depConn {
	var best *depConn
	for _, dc := range dp.conns {
		if dc.dead || dc.closing {
			continue
		}
		if dc.c != nil && len(dc.calls) == 0 {
			return dc
		}
		if best == nil || len(dc.calls) < len(best.calls) {
			best = dc
		}
	}
	if len(dp.conns) < dp.size {
		if dc := dp.dial(false); dc != nil {
			return dc
		}
	}
	return best
}

// dial asks gnet to connect a new connection and register it on this loop;
// OnOpen hands it to opened. The dial itself runs on gnet's worker pool,
// and one goroutine waits for its result, only to report a failure.
func (dp *depPool) dial(fresh bool) *depConn {
	dc := &depConn{pool: dp, fresh: fresh}
	ch, err := dp.ls.el.Register(gnet.NewContext(context.Background(), dc), dp.addr)
	if err != nil {
		return nil
	}
	if fresh {
		dp.fresh = append(dp.fresh, dc)
	} else {
		dp.conns = append(dp.conns, dc)
	}
	go func() {
		if r := <-ch; r.Err != nil {
			_ = dp.ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
				dc.lost()
				return nil
			}))
		}
	}()
	return dc
}

// opened runs on the loop when the connection is registered.
func (dc *depConn) opened(c gnet.Conn) {
	dc.c = c
	if dc.dead {
		_ = c.Close()
		return
	}
	if len(dc.wbuf) > 0 && !dc.dirty {
		dc.dirty = true
		dc.pool.dirty = append(dc.pool.dirty, dc)
	}
	dc.pool.flush()
}

// onTraffic reads the dependency's answers; each answers the oldest call.
func (dc *depConn) onTraffic() gnet.Action {
	if dc.dead {
		_, _ = dc.c.Discard(-1)
		return gnet.Close
	}
	b, _ := dc.c.Peek(-1)
	off := 0
	for off < len(b) {
		n, status, closeAfter, st := parseDepResponse(b[off:])
		if st == parseMore {
			break
		}
		if st == parseError || len(dc.calls) == 0 {
			return gnet.Close // onClose sends the calls again
		}
		off += n
		call := dc.calls[0]
		dc.calls[0] = depCall{}
		dc.calls = dc.calls[1:]
		call.f.answer(status == 200)
		if closeAfter || dc.fresh {
			dc.closing = true
			break
		}
	}
	if off > 0 {
		_, _ = dc.c.Discard(off)
	}
	dc.pool.flush()
	if dc.closing && len(dc.calls) == 0 {
		return gnet.Close
	}
	if dc.closing { // calls after a Connection: close answer: they go again
		dc.pool.reissue(dc)
		return gnet.Close
	}
	return gnet.None
}

// onClose runs on the loop when gnet has closed the connection — possibly
// inside a Write of ours — so the calls it carried are sent again in a
// task of their own.
func (dc *depConn) onClose() {
	_ = dc.pool.ls.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		dc.lost()
		return nil
	}))
}

// remove takes dc out of the pool's lists; it reports whether it was there.
func (dp *depPool) remove(dc *depConn) bool {
	list := &dp.conns
	if dc.fresh {
		list = &dp.fresh
	}
	for i, x := range *list {
		if x == dc {
			last := len(*list) - 1
			copy((*list)[i:], (*list)[i+1:])
			(*list)[last] = nil
			*list = (*list)[:last]
			return true
		}
	}
	return false
}

// lost drops the connection and sends its unanswered calls again.
func (dc *depConn) lost() {
	dc.dead = true
	dp := dc.pool
	dp.remove(dc)
	dp.reissue(dc)
	dp.admit()
}

// reissue sends dc's unanswered calls again (each fan-out at most calls
// times), or fails their fan-outs with 502.
func (dp *depPool) reissue(dc *depConn) {
	calls := dc.calls
	dc.calls, dc.wbuf = nil, nil
	for _, call := range calls {
		f := call.f
		if f.done {
			continue
		}
		if f.retries < f.calls {
			f.retries++
			dp.send(call)
		} else {
			f.finish(contract.ErrDependency)
		}
	}
	dp.flush()
}

// admit dials waiting conn=new calls while there is room under maxFresh.
func (dp *depPool) admit() {
	for len(dp.waiting) > 0 && len(dp.fresh) < maxFresh {
		call := dp.waiting[0]
		dp.waiting[0] = depCall{}
		dp.waiting = dp.waiting[1:]
		if !call.f.done {
			dp.send(call)
		}
	}
	if len(dp.waiting) == 0 {
		dp.waiting = nil
	}
	dp.flush()
}

// expire enforces the calls' deadlines; the loop's sweep runs it every
// tick. A connection whose oldest call is overdue is closed: that call's
// fan-out answers 504, and the calls behind it on the connection are sent
// again elsewhere, with their own deadlines. Waiting calls that are overdue
// answer 504 too.
func (dp *depPool) expire(now int64) {
	for _, list := range [2]*[]*depConn{&dp.conns, &dp.fresh} {
		for i := len(*list) - 1; i >= 0; i-- { // dropping removes (*list)[i]
			dc := (*list)[i]
			if len(dc.calls) == 0 || dc.calls[0].deadline > now {
				continue
			}
			dc.dead = true
			dp.remove(dc)
			if dc.c != nil {
				_ = dp.ls.el.Close(dc.c) // onClose finds no calls left
			} // else opened closes it once the dial completes
			for _, call := range dc.calls {
				if call.deadline <= now {
					call.f.finish(contract.ErrDependencyTimeout)
				}
			}
			dp.reissue(dc)
		}
	}
	if len(dp.waiting) > 0 {
		kept := dp.waiting[:0]
		for _, call := range dp.waiting {
			switch {
			case call.f.done:
			case call.deadline <= now:
				call.f.finish(contract.ErrDependencyTimeout)
			default:
				kept = append(kept, call)
			}
		}
		clear(dp.waiting[len(kept):])
		dp.waiting = kept
	}
	dp.admit()
}

// answer records one call's answer and sends the next call (seq) or
// finishes.
func (f *fanout) answer(ok bool) {
	if f.done {
		return
	}
	if !ok {
		f.finish(contract.ErrDependency)
		return
	}
	f.answered++
	switch {
	case f.answered == f.calls:
		f.finish(nil)
	case f.mode == contract.Seq:
		f.pool.issue(f, 1)
	}
}

// finish answers the /fanout request: 200 with the elapsed time, or the
// error (502 or 504). The calls still out are dropped as they answer.
func (f *fanout) finish(e *contract.Error) {
	if f.done {
		return
	}
	f.done = true
	p := f.p
	if e == nil {
		p.status, p.body = 200, contract.AppendFanoutBody(nil, f.calls, f.mode, time.Since(f.start))
	} else {
		p.status, p.body = e.Status, e.AppendBody(nil)
	}
	p.ctype = contract.ContentTypeJSON
	_ = p.Run(context.Background()) // on the loop already
}

// appendDepRequest appends one call: GET /io?ms=N (contract.DependencyPath),
// with Connection: close on a fresh connection.
func appendDepRequest(dst []byte, ms int, host string, closeAfter bool) []byte {
	dst = append(dst, "GET /io?ms="...)
	dst = strconv.AppendInt(dst, int64(ms), 10)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	if closeAfter {
		dst = append(dst, "\r\nConnection: close"...)
	}
	return append(dst, "\r\n\r\n"...)
}

// parseDepResponse reads one answer of the dependency: a status line,
// headers with a Content-Length, and that many body bytes, which it skips.
// The dependency is one of the lab's servers; anything else (chunked
// coding, no length) is refused and the connection dropped.
func parseDepResponse(b []byte) (n, status int, closeAfter bool, st parseStatus) {
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		if len(b) > 64<<10 {
			return 0, 0, false, parseError
		}
		return 0, 0, false, parseMore
	}
	i := bytes.IndexByte(b, '\n')
	line := trimEOL(b[:i+1])
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return 0, 0, false, parseError
	}
	for _, c := range line[9:12] {
		if !isDigit(c) {
			return 0, 0, false, parseError
		}
		status = status*10 + int(c-'0')
	}
	length := int64(-1)
	for rest := b[i+1 : end+2]; len(rest) > 0; {
		j := bytes.IndexByte(rest, '\n')
		fieldLine := trimEOL(rest[:j+1])
		rest = rest[j+1:]
		colon := bytes.IndexByte(fieldLine, ':')
		if colon < 0 {
			return 0, 0, false, parseError
		}
		key, val := fieldLine[:colon], trimOWS(fieldLine[colon+1:])
		switch {
		case equalFold(key, "content-length"):
			v, ok := parseContentLength(val)
			if !ok {
				return 0, 0, false, parseError
			}
			length = v
		case equalFold(key, "transfer-encoding"):
			return 0, 0, false, parseError
		case equalFold(key, "connection"):
			closeAfter = closeAfter || containsToken(val, "close")
		}
	}
	if length < 0 || length > 64<<10 {
		return 0, 0, false, parseError
	}
	total := end + 4 + int(length)
	if len(b) < total {
		return 0, 0, false, parseMore
	}
	return total, status, closeAfter, parseOK
}
