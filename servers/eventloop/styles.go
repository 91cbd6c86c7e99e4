package main

// styles.go: the three handler styles — the only place where the models
// differ. Each runs a resolved request of the contract; what differs is
// where its waits happen.

import (
	"context"
	"os"
	"runtime"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/internal/spans"
)

// style runs request seq of cs, on the connection's loop. It returns the
// answer, or later = true when it made a pending that will answer.
type style interface {
	run(cs *connState, seq uint32, meta respMeta, req contract.Request) (status int, ctype string, body []byte, later bool)
}

// asyncStyle is FastAPI's "async def" with await: a wait is an entry in
// the loop's timer wheel (timers.go), a dependency call is a non-blocking
// socket on the loop, and nothing holds a goroutine or a thread while a
// request waits. /cpu runs on the loop.
type asyncStyle struct{ s *server }

func (a asyncStyle) run(cs *connState, seq uint32, meta respMeta, req contract.Request) (int, string, []byte, bool) {
	a.s.callHook(req)
	ls := cs.loop
	switch req.Route {
	case contract.Plaintext:
		return 200, contract.ContentTypeText, contract.PlaintextBody, false
	case contract.JSON:
		return 200, contract.ContentTypeJSON, contract.JSONBody, false
	case contract.CPU:
		w := req.Params.Work
		return 200, contract.ContentTypeJSON, contract.AppendCPUBody(ls.body[:0], w, contract.CPUDigest(w)), false
	case contract.IO:
		ms := req.Params.Millis
		if ms == 0 {
			return 200, contract.ContentTypeJSON, contract.AppendIOBody(ls.body[:0], 0), false
		}
		p := ls.timers.newIOPending(cs, seq, meta, req)
		p.span = spans.Start("io") // LAB_SPANS only
		p.span.WaitStart()
		ls.timers.after(ms, p)
		return 0, "", nil, true
	case contract.Fanout:
		if ls.dep == nil {
			e := contract.ErrNoDependency
			return e.Status, contract.ContentTypeJSON, e.AppendBody(ls.body[:0]), false
		}
		ls.dep.start(cs.newPending(seq, meta, req))
		return 0, "", nil, true
	case contract.Stats:
		// Reading /proc can take milliseconds with thousands of fds: off the loop.
		p := cs.newPending(seq, meta, req)
		go func() { p.done(200, contract.ContentTypeJSON, a.s.appendStats(nil)) }()
		return 0, "", nil, true
	}
	e := contract.ErrNotFound
	return e.Status, contract.ContentTypeJSON, e.AppendBody(ls.body[:0]), false
}

// inlineStyle is the pitfall: a blocking call inside "async def". The whole
// handler runs on the loop, and its waits block the loop — and with it every
// connection the loop serves.
type inlineStyle struct{ s *server }

func (in inlineStyle) run(cs *connState, seq uint32, meta respMeta, req contract.Request) (int, string, []byte, bool) {
	in.s.callHook(req)
	status, body := contract.Serve(context.Background(), cs.loop.body[:0], req, &in.s.model)
	return status, contentType(status, req), body, false
}

// poolStyle is FastAPI's "def" endpoint (run_in_threadpool): the loop
// parses and routes, the whole handler of a blocking route (/io, /cpu,
// /fanout) runs blocking on a fixed pool of workers, and the answer comes
// back to the loop. Like anyio's thread limiter, requests beyond the pool
// queue without blocking the loop. Routes that never block (/plaintext,
// /json, /stats) stay on the loop, as an app's async def health check does
// beside its def endpoints: that is what lets the blocking-in-loop canary
// measure whether offloading kept the loop responsive (claim 5), rather
// than how long the pool's queue is.
type poolStyle struct {
	s    *server
	jobs chan *pending // the queue; workers take from it
}

// poolQueue bounds the queue so that a flood is refused (503), not buffered
// without end.
const poolQueue = 1 << 16

var errPoolFull = &contract.Error{Status: 503, Msg: "worker pool queue full"}

func newPoolStyle(s *server, workers int) *poolStyle {
	p := &poolStyle{s: s, jobs: make(chan *pending, poolQueue)}
	for i := 0; i < workers; i++ {
		go p.worker()
	}
	return p
}

func (ps *poolStyle) run(cs *connState, seq uint32, meta respMeta, req contract.Request) (int, string, []byte, bool) {
	switch req.Route {
	case contract.Plaintext, contract.JSON, contract.Stats:
		return asyncStyle{ps.s}.run(cs, seq, meta, req)
	}
	select {
	case ps.jobs <- cs.newPending(seq, meta, req):
		return 0, "", nil, true
	default:
		return errPoolFull.Status, contract.ContentTypeJSON, errPoolFull.AppendBody(cs.loop.body[:0]), false
	}
}

// worker is one pool thread. It locks its goroutine to an OS thread and
// waits with a blocking syscall, so that, as in a Python thread pool, a
// waiting handler holds a real thread.
func (ps *poolStyle) worker() {
	runtime.LockOSThread()
	for p := range ps.jobs {
		ps.handle(p)
	}
}

func (ps *poolStyle) handle(p *pending) {
	defer func() {
		if r := recover(); r != nil {
			ps.s.logPanic(r, p.req)
			p.done(500, contract.ContentTypeJSON, contract.ErrInternal.AppendBody(nil))
		}
	}()
	ps.s.callHook(p.req)
	status, body := contract.Serve(context.Background(), nil, p.req, &ps.s.model)
	p.done(status, contentType(status, p.req), body)
}

func (ps *poolStyle) stop() { close(ps.jobs) }

func contentType(status int, req contract.Request) string {
	if status == 200 {
		return contract.ContentType(req.Route)
	}
	return contract.ContentTypeJSON
}

// maxBlockingConns caps the pool and inline styles' blocking dependency
// client's connections (and so its fds).
const maxBlockingConns = 256

// appendStats appends the /stats body. Safe from any goroutine.
func (s *server) appendStats(dst []byte) []byte {
	return procstat.AppendJSON(dst, s.modelName(), os.Getpid(), s.open.Load())
}
