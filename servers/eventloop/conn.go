package main

// conn.go: one client connection on the event loop — parsing what arrives,
// running each request in the server's handler style, and writing answers in
// request order however they finish.

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/spans"
)

// connState is one client connection's HTTP/1.1 state, stored in the
// gnet.Conn's context. The connection's event loop owns it: only code running
// on that loop (gnet callbacks, and tasks handed to the loop with
// EventLoop.Execute) reads or writes it. Handlers that run elsewhere — a
// pool worker, a /stats goroutine — hold a *pending and give it back to the
// loop; they never touch the connState.
//
// It is paid for every idle keep-alive connection, so it holds offsets and
// flags, not buffers: scratch memory belongs to the loop.
type connState struct {
	c    gnet.Conn
	loop *loopState
	hp   headParser   // the head being read
	body *bodyRequest // the request whose body is being read, or nil

	// Answers go out in request order. Every request (and every
	// "100 Continue") takes the next sequence number; sendSeq is the one
	// the wire waits for; answers that finish early wait in held.
	nextSeq, sendSeq uint32
	finalSeq         uint32 // the answer after which the connection closes, if final
	held             []heldResponse

	deadline  int64 // engine-clock nanoseconds at which the sweep closes it; 0: none
	acct      int64 // bytes counted in loop.buffered (see account)
	index     int32 // position in loop.conns
	heldBytes int32 // bytes in held
	stallOut  int32 // paused on maxOutbound: the least outbound seen since
	pause     uint8 // running, or why input waits (backpressure.go)

	inFeed bool // inside onTraffic: answers collect in loop.out
	final  bool // finalSeq is set: no request after it is read
	// dropped counts the bytes read and dropped after the final request;
	// past maxDroppedAfterFinal the connection is closed at once.
	dropped      int
	finalWritten bool // the final answer is written
	afterPOST    bool // the last request was a POST (net/http skips CR/LF after one)
	headTimed    bool // deadline already counts the header-read timeout
	draining     bool // write side shut: reading and dropping until EOF or the deadline
	shutPending  bool // draining, but the write side shuts once gnet's buffer is empty
	closed       bool // gnet closed it; late answers are dropped
	greeted      bool // its first request was charged the emulated handshake
	orphaned     bool // gnet closed it at the client's EOF; answers still go to orphanFD

	orphanFD int // a duplicate of the socket, while orphaned
}

// heldResponse is an answer that finished before an earlier one.
type heldResponse struct {
	seq uint32
	b   []byte
}

// bodyRequest is a request resolved from its head whose body is still
// arriving; it runs once the body is read. Rare, so it is allocated.
type bodyRequest struct {
	req  contract.Request
	rerr *contract.Error
	meta respMeta
	dec  bodyDecoder
}

// onTraffic handles the bytes gnet has buffered for the connection, a
// window at a time, until they are used up or the connection pauses.
func (cs *connState) onTraffic() gnet.Action {
	c := cs.c
	if cs.draining || cs.final { // nothing after the final request is read
		n, _ := c.Discard(-1)
		cs.dropped += n
		if cs.dropped > maxDroppedAfterFinal {
			// The client keeps sending after its last request (or after
			// the 429 it is owed): gnet cannot stop reading one socket, so
			// close it rather than spend a core reading it. Answers it has
			// not read are lost; it was not reading them.
			cs.loop.srv.logOverflow()
			return gnet.Close
		}
		return gnet.None
	}
	if cs.pause == running && c.OutboundBuffered() > maxOutbound {
		cs.pauseOn(pauseOutbound)
	}
	if cs.pause != running {
		if c.InboundBuffered() > cs.inboundLimit() {
			cs.overflow()
			_, _ = c.Discard(-1)
			cs.settle()
		}
		cs.account()
		return gnet.None
	}
	ls := cs.loop
	ls.out = ls.out[:0]
	cs.inFeed = true
	for {
		in := c.InboundBuffered()
		data, _ := c.Peek(min(in, feedWindow))
		n := cs.feed(data)
		if n > 0 {
			_, _ = c.Discard(n)
		}
		if n == 0 || len(data) == in || cs.final || cs.pause != running { // all seen, or a partial request waits
			break
		}
		if len(ls.out) > maxOutbound {
			cs.pauseOn(pauseOutbound)
			break
		}
	}
	cs.inFeed = false
	if len(ls.out) > 0 && !cs.closed {
		_, _ = c.Write(ls.out) // on error gnet closes the connection (onClose runs)
	}
	cs.settle()
	cs.account()
	return gnet.None
}

// feed parses and runs every complete request in b and returns how many
// bytes it used.
func (cs *connState) feed(b []byte) int {
	ls := cs.loop
	off := 0
	for !cs.final {
		if cs.nextSeq-cs.sendSeq >= maxInFlight {
			cs.pause = pauseInFlight
			break
		}
		if br := cs.body; br != nil {
			n, st, err := br.dec.decode(b[off:], nil)
			off += n
			if st == parseMore {
				break
			}
			cs.body = nil
			if st == parseError {
				cs.refuse(err)
				break
			}
			cs.serve(br.req, br.rerr, br.meta)
			continue
		}
		rest := b[off:]
		if len(rest) == 0 {
			break
		}
		if cs.afterPOST {
			// net/http tolerates CR/LF after a POST body: it peeks 4
			// bytes and skips the leading CRs and LFs among them.
			if len(rest) < 4 {
				break
			}
			k := 0
			for k < 4 && (rest[k] == '\r' || rest[k] == '\n') {
				k++
			}
			off += k
			cs.afterPOST = false
			continue
		}
		var h head
		st, err := cs.hp.parse(rest, &h, &ls.scratch)
		if st == parseMore {
			break
		}
		cs.hp = headParser{}
		cs.headTimed = false
		if st == parseError {
			cs.refuse(err)
			break
		}
		off += h.size
		meta := metaOf(&h)
		req, rerr := contract.Resolve(h.method, h.path, h.query)
		cs.afterPOST = string(h.method) == "POST"
		if h.continue100 {
			seq := cs.nextSeq
			cs.nextSeq++
			cs.emit(seq, continue100Bytes)
		}
		if h.hasBody() {
			cs.body = &bodyRequest{req: req, rerr: rerr, meta: meta, dec: newBodyDecoder(&h)}
			continue
		}
		cs.serve(req, rerr, meta)
	}
	if cs.final {
		return len(b) // nothing after the final request is read
	}
	return off
}

var continue100Bytes = []byte(continue100)

// serve runs one request: the contract's refusal, or the handler style.
func (cs *connState) serve(req contract.Request, rerr *contract.Error, meta respMeta) {
	seq := cs.nextSeq
	cs.nextSeq++
	if meta.close {
		cs.final, cs.finalSeq = true, seq
	}
	if rerr == nil && cs.loop.srv.shedding.Load() {
		rerr = errOverloaded
	}
	if rerr != nil {
		cs.respond(seq, meta, rerr.Status, contract.ContentTypeJSON, rerr.AppendBody(cs.loop.body[:0]))
		return
	}
	if !cs.greeted {
		cs.greeted = true
		if d := cs.loop.srv.cfg.opts.ConnectDelay(1); d > 0 {
			// -emulate-connect-ms: the first request of a connection waits
			// an emulated WAN handshake, on the loop's timers, then runs.
			p := cs.newPending(seq, meta, req)
			p.deferred = true
			cs.loop.timers.afterNanos(int64(d), p)
			return
		}
	}
	status, ctype, body, later := cs.run(seq, meta, req)
	if !later {
		cs.respond(seq, meta, status, ctype, body)
	}
}

// runDeferred runs a request that waited for the emulated handshake. On
// the loop.
func (cs *connState) runDeferred(p *pending) {
	status, ctype, body, later := cs.run(p.seq, p.meta, p.req)
	if !later {
		cs.respond(p.seq, p.meta, status, ctype, body)
		cs.settle()
	}
}

// run calls the handler style, turning a panic into a 500: gnet recovers
// nothing, and a panic on the loop would end the process.
func (cs *connState) run(seq uint32, meta respMeta, req contract.Request) (status int, ctype string, body []byte, later bool) {
	defer func() {
		if r := recover(); r != nil {
			cs.loop.srv.logPanic(r, req)
			e := contract.ErrInternal
			status, ctype, body, later = e.Status, contract.ContentTypeJSON, e.AppendBody(cs.loop.body[:0]), false
		}
	}()
	return cs.loop.srv.style.run(cs, seq, meta, req)
}

// refuse answers a request the protocol layer refused, then closes.
func (cs *connState) refuse(err *contract.Error) {
	seq := cs.nextSeq
	cs.nextSeq++
	cs.final, cs.finalSeq = true, seq
	cs.body = nil
	cs.respond(seq, refusalMeta, err.Status, contract.ContentTypeJSON, err.AppendBody(cs.loop.body[:0]))
}

// respond writes (or holds) the answer to request seq. On the common path —
// inside onTraffic, in order — it is built straight into the loop's output.
func (cs *connState) respond(seq uint32, meta respMeta, status int, ctype string, body []byte) {
	ls := cs.loop
	if cs.inFeed && seq == cs.sendSeq && !cs.closed {
		ls.out = appendResponse(ls.out, meta, status, ctype, body, &ls.srv.date)
		ls.out = cs.advance(ls.out)
		return
	}
	ls.resp = appendResponse(ls.resp[:0], meta, status, ctype, body, &ls.srv.date)
	cs.emit(seq, ls.resp)
}

// emit writes the bytes of answer seq if the wire waits for it, followed by
// any held answers that may now follow, or holds a copy.
func (cs *connState) emit(seq uint32, resp []byte) {
	if cs.closed || cs.finalWritten {
		return
	}
	if seq != cs.sendSeq {
		cs.held = append(cs.held, heldResponse{seq: seq, b: append([]byte(nil), resp...)})
		cs.heldBytes += int32(len(resp))
		return
	}
	ls := cs.loop
	if cs.inFeed {
		ls.out = append(ls.out, resp...)
		ls.out = cs.advance(ls.out)
		return
	}
	buf := cs.advance(append(ls.wbuf[:0], resp...))
	cs.write(buf)
	ls.wbuf = buf[:0]
}

// write sends answers outside onTraffic: through gnet, or, once orphaned,
// straight to the socket (non-blocking; an answer that does not fit is
// dropped with the connection).
func (cs *connState) write(buf []byte) {
	if !cs.orphaned {
		_, _ = cs.c.Write(buf) // on error gnet closes the connection (onClose runs)
		return
	}
	for len(buf) > 0 {
		n, err := syscall.Write(cs.orphanFD, buf)
		if err != nil {
			cs.closeOrphan()
			return
		}
		buf = buf[n:]
	}
}

// advance records that the answer the wire waited for is in dst, and
// appends the held answers that now follow it.
func (cs *connState) advance(dst []byte) []byte {
	for {
		written := cs.sendSeq
		cs.sendSeq++
		if cs.final && written == cs.finalSeq {
			cs.finalWritten = true
			cs.held, cs.heldBytes = nil, 0
			return dst
		}
		i := cs.heldIndex(cs.sendSeq)
		if i < 0 {
			if len(cs.held) == 0 {
				cs.held = nil // let an idle connection drop the slice
			}
			return dst
		}
		dst = append(dst, cs.held[i].b...)
		cs.heldBytes -= int32(len(cs.held[i].b))
		last := len(cs.held) - 1
		cs.held[i] = cs.held[last]
		cs.held[last] = heldResponse{}
		cs.held = cs.held[:last]
	}
}

func (cs *connState) heldIndex(seq uint32) int {
	for i := range cs.held {
		if cs.held[i].seq == seq {
			return i
		}
	}
	return -1
}

// settle brings the connection's deadline and state up to date after
// input or an answer: close once the final answer is out, resume paused
// input, and pick the timeout that applies now.
func (cs *connState) settle() {
	if cs.orphaned {
		if cs.sendSeq == cs.nextSeq || cs.finalWritten {
			cs.closeOrphan()
		}
		return
	}
	if cs.closed || cs.draining || cs.inFeed { // onTraffic settles once its output is written
		return
	}
	srv := cs.loop.srv
	if cs.finalWritten {
		cs.beginClose()
		return
	}
	now := srv.clock.Load()
	switch {
	case cs.pause == pauseInFlight && cs.nextSeq-cs.sendSeq < maxInFlight/2:
		cs.resume() // onTraffic again, for the bytes that waited
	case cs.pause == pauseOutbound:
		cs.checkOutbound(now)
	}
	switch {
	case cs.pause == pauseOutbound:
		// the write deadline runs (checkOutbound)
	case cs.body != nil:
		cs.deadline = now + int64(srv.cfg.idleTimeout) // a body must keep coming
	case cs.pause == running && cs.c.InboundBuffered() > 0:
		if !cs.headTimed { // part of a head: the header-read timeout runs from its first byte
			cs.deadline = now + int64(srv.cfg.readHeaderTimeout)
			cs.headTimed = true
		}
	case cs.nextSeq != cs.sendSeq:
		cs.deadline = 0 // handlers are bounded; wait for them
	default:
		cs.deadline = now + int64(srv.cfg.idleTimeout) // idle keep-alive
		cs.headTimed = false
	}
}

// beginClose shuts the write side once the final answer is out and keeps
// reading (and dropping) until the client closes or the linger deadline,
// so that unread input does not make the kernel reset the connection
// before the client has read the answer (net/http's closeWriteAndWait).
func (cs *connState) beginClose() {
	cs.draining = true
	cs.deadline = cs.loop.srv.clock.Load() + int64(cs.loop.srv.cfg.linger)
	cs.shutPending = true
	cs.tryShutdown()
}

func (cs *connState) tryShutdown() {
	if cs.shutPending && cs.c.OutboundBuffered() == 0 {
		cs.shutPending = false
		_ = syscall.Shutdown(cs.c.Fd(), syscall.SHUT_WR)
	}
}

// onClose runs when gnet has closed the connection. gnet closes as soon as
// it reads EOF, but a client that only shut its write side still waits for
// the answers it asked for (net/http writes them): then a duplicate of the
// socket outlives gnet's connection until those answers are out.
func (cs *connState) onClose(err error) {
	cs.body = nil
	cs.unaccount()
	cs.loop.remove(cs)
	cs.loop.srv.open.Add(-1)
	if errors.Is(err, io.EOF) && !cs.draining && cs.sendSeq != cs.nextSeq && cs.c.OutboundBuffered() == 0 {
		if fd, derr := cs.c.Dup(); derr == nil {
			cs.orphaned, cs.orphanFD, cs.c = true, fd, nil
			return
		}
	}
	cs.closed = true
	cs.held, cs.heldBytes = nil, 0
}

func (cs *connState) closeOrphan() {
	_ = syscall.Close(cs.orphanFD)
	cs.orphaned, cs.closed, cs.held, cs.heldBytes = false, true, nil, 0
}

// pending is a request answered after the loop's synchronous pass. On the
// loop — the timer heap, the dependency client — Run is called directly.
// Off the loop — a pool worker, a /stats goroutine — done records the
// answer (on any goroutine) and queues the pending for the connection's
// loop (loopState.complete); from then on the loop owns it, and Run writes
// the answer in order.
type pending struct {
	cs     *connState // read only on the loop
	home   *loopState // the connection's loop; set at creation, then read-only
	seq    uint32
	meta   respMeta
	req    contract.Request
	status int
	ctype  string
	body   []byte

	deferred bool     // waiting for the emulated handshake, not for its answer
	pooled   bool     // an /io wait: back to its loop's free list once answered
	span     spans.ID // LAB_SPANS: this /io wait's timeline span (0: none)
}

func (cs *connState) newPending(seq uint32, meta respMeta, req contract.Request) *pending {
	return &pending{cs: cs, home: cs.loop, seq: seq, meta: meta, req: req}
}

// done records the answer and hands the pending to its loop. Safe from any
// goroutine; the caller must not touch p afterwards.
func (p *pending) done(status int, ctype string, body []byte) {
	p.status, p.ctype, p.body = status, ctype, body
	p.home.complete(p)
}

// completions carries answers finished off the loop back to it. Many
// answers that finish while the loop is busy cost one Execute (one wake of
// the loop) between them, not one each.
type completions struct {
	mu        sync.Mutex
	q         []*pending // finished, not yet run on the loop
	scheduled bool       // a drain task is queued on the loop
	spare     []*pending // the loop's: the last batch's slice, for reuse
}

// complete queues p for its loop. Safe from any goroutine.
func (ls *loopState) complete(p *pending) {
	c := &ls.done
	c.mu.Lock()
	c.q = append(c.q, p)
	wake := !c.scheduled
	c.scheduled = true
	c.mu.Unlock()
	if wake {
		_ = ls.el.Execute(context.Background(), ls.drainer) // fails only when the engine is shutting down
	}
}

// drainDone runs every queued completion. On the loop.
func (ls *loopState) drainDone(ctx context.Context) error {
	c := &ls.done
	c.mu.Lock()
	batch := c.q
	c.q, c.scheduled = c.spare[:0], false
	c.mu.Unlock()
	for i, p := range batch {
		batch[i] = nil
		_ = p.Run(ctx)
	}
	c.spare = batch[:0]
	return nil
}

// Run writes the answer on the loop (gnet.Runnable).
func (p *pending) Run(context.Context) error {
	cs := p.cs
	if cs.closed {
		return nil
	}
	cs.respond(p.seq, p.meta, p.status, p.ctype, p.body)
	cs.settle()
	return nil
}
