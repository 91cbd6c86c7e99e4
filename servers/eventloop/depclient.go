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

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/contract"
)

// depPool is one loop's connections to the dependency. The loop owns it.
type depPool struct {
	ls    *loopState
	addr  net.Addr
	host  string // Host header of each call
	size  int
	conns []*depConn // open or dialing
	dirty []*depConn // connections with requests to write
}

func newDepPool(ls *loopState, addr net.Addr, host string, size int) *depPool {
	return &depPool{ls: ls, addr: addr, host: host, size: size}
}

// depConn is one pooled connection; its gnet.Conn's context points to it.
// The loop owns it.
type depConn struct {
	pool    *depPool
	c       gnet.Conn // nil while dialing
	wbuf    []byte    // requests not yet written
	calls   []*fanout // one per request sent or queued; answers come back in this order
	dirty   bool      // in pool.dirty
	dead    bool      // closed, or its dial failed
	closing bool      // the dependency said Connection: close
}

// fanout is one /fanout request in progress. The loop owns it.
type fanout struct {
	p        *pending
	pool     *depPool
	calls    int
	ms       int
	mode     contract.Mode
	start    time.Time
	issued   int // calls sent or queued
	answered int // calls answered 200
	retries  int // calls sent again after their connection was lost
	done     bool
}

// start begins the fan-out of p on the loop.
func (dp *depPool) start(p *pending) {
	prm := p.req.Params
	f := &fanout{p: p, pool: dp, calls: prm.Calls, ms: prm.Millis, mode: prm.Mode, start: time.Now()}
	if f.mode == contract.Par {
		dp.issue(f, f.calls)
	} else {
		dp.issue(f, 1)
	}
}

// issue queues n calls of f and writes them.
func (dp *depPool) issue(f *fanout, n int) {
	for i := 0; i < n; i++ {
		dc := dp.pick()
		if dc == nil {
			f.finish(false)
			break
		}
		dc.calls = append(dc.calls, f)
		dc.wbuf = appendDepRequest(dc.wbuf, f.ms, dp.host)
		f.issued++
		if !dc.dirty {
			dc.dirty = true
			dp.dirty = append(dp.dirty, dc)
		}
	}
	dp.flush()
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

// pick chooses the connection for one call: an idle open one, else a new
// one while the pool has room, else the one with the fewest calls.
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
		if dc := dp.dial(); dc != nil {
			return dc
		}
	}
	return best
}

// dial asks gnet to connect a new connection and register it on this loop;
// OnOpen hands it to opened. The dial itself runs on gnet's worker pool,
// and one goroutine waits for its result, only to report a failure.
func (dp *depPool) dial() *depConn {
	dc := &depConn{pool: dp}
	ch, err := dp.ls.el.Register(gnet.NewContext(context.Background(), dc), dp.addr)
	if err != nil {
		return nil
	}
	dp.conns = append(dp.conns, dc)
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
		f := dc.calls[0]
		dc.calls[0] = nil
		dc.calls = dc.calls[1:]
		f.answer(status == 200)
		if closeAfter {
			dc.closing = true
			break
		}
	}
	if off > 0 {
		_, _ = dc.c.Discard(off)
	}
	dc.pool.flush()
	if dc.closing {
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

// lost drops the connection from the pool and sends its unanswered calls
// again (each fan-out at most calls times), or fails their fan-outs.
func (dc *depConn) lost() {
	if !dc.dead {
		dc.dead = true
	}
	dp := dc.pool
	for i, x := range dp.conns {
		if x == dc {
			dp.conns = append(dp.conns[:i], dp.conns[i+1:]...)
			break
		}
	}
	calls := dc.calls
	dc.calls, dc.wbuf = nil, nil
	for _, f := range calls {
		if f.done {
			continue
		}
		f.issued--
		if f.retries < f.calls {
			f.retries++
			dp.issue(f, 1)
		} else {
			f.finish(false)
		}
	}
}

// answer records one call's answer and sends the next call (seq) or
// finishes.
func (f *fanout) answer(ok bool) {
	if f.done {
		return
	}
	if !ok {
		f.finish(false)
		return
	}
	f.answered++
	switch {
	case f.answered == f.calls:
		f.finish(true)
	case f.mode == contract.Seq:
		f.pool.issue(f, 1)
	}
}

// finish answers the /fanout request: 200 with the elapsed time, or 502.
func (f *fanout) finish(ok bool) {
	if f.done {
		return
	}
	f.done = true
	p := f.p
	if ok {
		p.status, p.body = 200, contract.AppendFanoutBody(nil, f.calls, f.mode, time.Since(f.start))
	} else {
		e := contract.ErrDependency
		p.status, p.body = e.Status, e.AppendBody(nil)
	}
	p.ctype = contract.ContentTypeJSON
	_ = p.Run(context.Background()) // on the loop already
}

// appendDepRequest appends one call: GET /io?ms=N.
func appendDepRequest(dst []byte, ms int, host string) []byte {
	dst = append(dst, "GET /io?ms="...)
	dst = strconv.AppendInt(dst, int64(ms), 10)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
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
