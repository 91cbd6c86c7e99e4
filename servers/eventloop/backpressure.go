package main

// backpressure.go: the hard limits that keep one client (or many) from
// growing the server's memory without bound. gnet reads a readable socket
// whatever the handler does and keeps what OnTraffic leaves in an elastic
// inbound buffer; it buffers whatever the handler writes and the kernel does
// not take in an elastic outbound buffer. Neither has a limit of its own,
// and gnet v2 offers no way to stop reading one connection, so the limits
// are enforced here:
//
//   - at most maxInFlight unanswered requests per connection: past it the
//     connection stops parsing (pauseInFlight) until half have answered;
//   - at most maxOutbound bytes of answers the client has not read: past it
//     the connection stops parsing (pauseOutbound) until the client has read
//     down to outboundResume; a connection that makes no progress for
//     -write-timeout is closed;
//   - at most maxInboundBacklog unparsed bytes while paused: past it the
//     client gets 429 (after the answers it is owed) and the connection
//     closes; a client that sends another maxDroppedAfterFinal bytes
//     meanwhile is closed at once, since gnet cannot stop reading it;
//   - at most -conn-memory MiB buffered across all connections: past it new
//     requests and new connections get 503, and paused connections are
//     allowed only shedInboundBacklog unparsed bytes.
//
// Input is parsed in windows of feedWindow bytes, so that a backlog is never
// copied whole (gnet's Peek copies when its ring buffer wraps).

import (
	"time"

	"github.com/serverlab/lab/internal/contract"
)

const (
	// maxInFlight bounds the pipelined requests a connection may have
	// unanswered.
	maxInFlight = 1024
	// maxOutbound bounds the answer bytes buffered for a client that does
	// not read them.
	maxOutbound = 4 << 20
	// outboundResume is where a connection paused on maxOutbound resumes.
	outboundResume = maxOutbound / 2
	// maxInboundBacklog bounds the unparsed bytes of a paused connection.
	maxInboundBacklog = 1 << 20
	// maxDroppedAfterFinal bounds what a connection may send after its
	// final request (Connection: close, or the 429 of an overflow): past
	// it the connection closes at once instead of being read and dropped.
	maxDroppedAfterFinal = 1 << 20
	// shedInboundBacklog is maxInboundBacklog while the server sheds.
	shedInboundBacklog = 64 << 10
	// feedWindow is how many buffered bytes one parsing pass looks at.
	// It exceeds contract.MaxHeaderBytes, so a whole head always fits.
	feedWindow = 64 << 10
)

// Why a connection does not parse its input.
const (
	running       uint8 = iota
	pauseInFlight       // maxInFlight requests unanswered
	pauseOutbound       // maxOutbound bytes the client has not read
)

var (
	// errPipelineOverflow answers a client that keeps sending while its
	// connection is paused. The connection closes after it.
	errPipelineOverflow = &contract.Error{Status: 429, Msg: "too many unanswered pipelined requests: read the answers before sending more"}
	// errOverloaded sheds new work while the server's buffers are over
	// -conn-memory.
	errOverloaded = &contract.Error{Status: 503, Msg: "server over its connection memory limit: retry later"}
)

var _ = func() bool { // feedWindow must hold a whole head
	if feedWindow <= contract.MaxHeaderBytes {
		panic("feedWindow must exceed contract.MaxHeaderBytes")
	}
	return true
}()

// inboundLimit is how many unparsed bytes a paused connection may hold.
func (cs *connState) inboundLimit() int {
	if cs.loop.srv.shedding.Load() {
		return shedInboundBacklog
	}
	return maxInboundBacklog
}

// pauseOn stops parsing the connection's input for the given reason.
func (cs *connState) pauseOn(why uint8) {
	cs.pause = why
	if why == pauseOutbound {
		cs.stallOut = int32(min(cs.c.OutboundBuffered(), 1<<30))
		cs.deadline = cs.loop.srv.clock.Load() + int64(cs.loop.srv.cfg.writeTimeout)
	}
}

// resume parses the connection's input again, in an OnTraffic of its own.
func (cs *connState) resume() {
	cs.pause = running
	_ = cs.c.Wake(nil)
}

// checkOutbound resumes a connection paused on maxOutbound once the client
// has read enough, and pushes its write deadline back while the client makes
// progress. On the loop.
func (cs *connState) checkOutbound(now int64) {
	out := cs.c.OutboundBuffered()
	switch {
	case out <= outboundResume:
		cs.resume()
		cs.deadline = 0 // settle picks the deadline that applies now
	case out < int(cs.stallOut):
		cs.stallOut = int32(out)
		cs.deadline = now + int64(cs.loop.srv.cfg.writeTimeout)
	}
}

// overflow answers a paused connection whose unparsed input is over its
// limit with 429, after the answers it is owed, and drops its input.
func (cs *connState) overflow() {
	cs.loop.srv.logOverflow()
	cs.refuse(errPipelineOverflow)
}

// account records the bytes the connection holds in gnet's buffers and in
// held answers, in its loop's total. On the loop; cheap when nothing is
// buffered, the common case.
func (cs *connState) account() {
	if cs.closed || cs.orphaned {
		cs.unaccount()
		return
	}
	n := int64(cs.heldBytes) + int64(cs.c.InboundBuffered()+cs.c.OutboundBuffered())
	if n != cs.acct {
		cs.loop.buffered.Add(n - cs.acct)
		cs.acct = n
	}
}

// unaccount removes the connection from its loop's total when it closes.
func (cs *connState) unaccount() {
	if cs.acct != 0 {
		cs.loop.buffered.Add(-cs.acct)
		cs.acct = 0
	}
}

// updateShedding sums the loops' buffered bytes and turns shedding on or
// off. It runs on the ticker, so shedding reacts within a tick.
func (s *server) updateShedding() {
	var total int64
	for _, ls := range s.loops { // under loopsMu
		total += ls.buffered.Load()
	}
	s.bufferedTotal.Store(total)
	over := s.cfg.connMemory > 0 && total > s.cfg.connMemory
	if over != s.shedding.Load() {
		s.shedding.Store(over)
		if over {
			s.log.Printf("eventloop: %d MiB buffered across connections, over -conn-memory %d MiB: shedding new work with 503",
				total>>20, s.cfg.connMemory>>20)
		} else {
			s.log.Printf("eventloop: buffered memory back under -conn-memory (%d MiB): serving again", total>>20)
		}
	}
}

// logOverflow logs, at most once a second, that a client overflowed.
func (s *server) logOverflow() {
	now := s.clock.Load() / int64(time.Second)
	if last := s.lastOverflowLog.Load(); now != last && s.lastOverflowLog.CompareAndSwap(last, now) {
		s.log.Printf("eventloop: a client kept sending while its connection was paused: answered 429 and closing it")
	}
}
