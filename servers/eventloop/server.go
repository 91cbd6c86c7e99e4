package main

// server.go: the gnet reactor — engine events, the loops' shared state,
// deadlines, and start/stop. This is the one file that knows gnet's
// EventHandler; conn.go holds the per-connection protocol.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/serverlab/lab/internal/blockingio"
	"github.com/serverlab/lab/internal/contract"
)

// config is the server's flags.
type config struct {
	addr              string
	loops             int
	handler           string // async, pool or inline
	poolSize          int
	dependency        string // host:port, or empty
	depConns          int    // async fan-out: dependency connections per loop
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	linger            time.Duration // how long a closing connection drains input
	grace             time.Duration // how long in-flight requests get on SIGTERM
	writeTimeout      time.Duration // how long a client may leave maxOutbound unread without progress
	connMemory        int64         // bytes buffered across connections past which new work is shed; 0: no limit
	nofile            uint64        // the soft RLIMIT_NOFILE in force
	opts              contract.Options
	cpuProfile        string // -cpuprofile file, or empty
	traceFile         string // -trace file, or empty
}

// bodyCap is the capacity of a loop's body buffer: every body of the
// contract but /stats fits, so building one does not allocate.
const bodyCap = 1024

// tick is how often the engine clock, the Date header and the deadline
// sweeps run.
const tick = 100 * time.Millisecond

// server is the gnet event handler. Its fields are set before the engine
// starts and read-only afterwards, except those marked otherwise.
type server struct {
	gnet.BuiltinEventEngine

	cfg     config
	log     *log.Logger
	style   style
	pool    *poolStyle     // pool style only
	model   contract.Model // pool and inline styles: blocking waits and calls
	depAddr *net.TCPAddr   // async style with -dependency
	shedAt  int            // accepted fds at or above this are refused (nofile headroom)

	open     atomic.Int64 // open client connections (not dependency ones)
	shutting atomic.Bool  // draining: new connections are refused
	stopping atomic.Bool  // stop or shutdown was asked for
	clock    atomic.Int64 // engine clock: unix nanoseconds, refreshed every tick
	date     dateCache

	eng    gnet.Engine   // set in OnBoot
	booted chan struct{} // closed in OnBoot
	done   chan struct{} // closed when serve returns: the loops' sleepers end

	loopsMu sync.Mutex
	loops   map[gnet.EventLoop]*loopState

	lastShedLog     atomic.Int64
	lastOverflowLog atomic.Int64

	shedding      atomic.Bool  // over cfg.connMemory: new work gets 503 (backpressure.go)
	bufferedTotal atomic.Int64 // the loops' buffered bytes at the last tick

	// ready, when set, runs once the listener accepts connections.
	ready func()

	// hook, when set (tests only), runs before every handler and may panic.
	hook func(contract.Request)
}

func newServer(cfg config, logger *log.Logger) (*server, error) {
	s := &server{cfg: cfg, log: logger, booted: make(chan struct{}), done: make(chan struct{}),
		loops: map[gnet.EventLoop]*loopState{}}
	s.clock.Store(time.Now().UnixNano())
	s.date.refresh(time.Now())
	s.model = contract.Model{Wait: blockingio.Sleep, Stats: s.appendStats, DependencyTimeout: cfg.opts.DependencyTimeout}
	reserve := 64 // stdio, epoll, eventfds, listeners, /proc reads
	switch cfg.handler {
	case "async":
		s.style = asyncStyle{s}
		if cfg.dependency != "" {
			a, err := net.ResolveTCPAddr("tcp", cfg.dependency)
			if err != nil {
				return nil, fmt.Errorf("-dependency %q: %w", cfg.dependency, err)
			}
			s.depAddr = a
			reserve += cfg.loops * cfg.depConns
		}
	case "pool", "inline":
		if cfg.dependency != "" {
			s.model.Call = blockingio.NewDependencyCall(cfg.dependency, maxBlockingConns)
			reserve += maxBlockingConns
		}
		if cfg.handler == "inline" {
			s.style = inlineStyle{s}
		} else {
			s.pool = newPoolStyle(s, cfg.poolSize)
			s.style = s.pool
		}
	default:
		return nil, fmt.Errorf("-handler %q: want async, pool or inline", cfg.handler)
	}
	if cfg.nofile > uint64(reserve) {
		s.shedAt = int(cfg.nofile) - reserve
	}
	return s, nil
}

func (s *server) modelName() string { return "eventloop/" + s.cfg.handler }

// serve runs the engine on addr until stop or shutdown is called, or it
// fails. gnet stops the whole engine when accept fails (EMFILE, for one):
// serve then returns an error instead of nil, so that it is never silent.
func (s *server) serve(addr string) error {
	defer func() {
		close(s.done)
		if s.pool != nil {
			s.pool.stop()
		}
	}()
	err := s.run(addr)
	if err == nil && !s.stopping.Load() {
		err = errors.New("the engine stopped by itself (an event loop failed; see gnet's error above)")
	}
	return err
}

func (s *server) run(addr string) error {
	return gnet.Run(s, "tcp://"+addr,
		gnet.WithNumEventLoop(s.cfg.loops),
		gnet.WithReusePort(true), // each loop accepts on its own listener
		gnet.WithReuseAddr(true), // rebind at once over the TIME_WAIT sockets of a previous run
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{s.log}),
	)
}

// stop stops the engine at once: listeners and connections close, loops
// exit, serve returns. Safe from any goroutine.
func (s *server) stop(ctx context.Context) error {
	s.stopping.Store(true)
	select {
	case <-s.booted:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.eng.Stop(ctx)
}

// shutdown drains, then stops: new connections are refused, idle ones
// close, busy ones close after the answers to the requests they have sent;
// once none is left, or after grace, the engine stops. Safe from any
// goroutine.
func (s *server) shutdown(grace time.Duration) error {
	s.stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	select {
	case <-s.booted:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.shutting.Store(true)
	s.loopsMu.Lock()
	for _, ls := range s.loops {
		_ = ls.el.Execute(context.Background(), gnet.RunnableFunc(ls.drain))
	}
	s.loopsMu.Unlock()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for s.open.Load() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-poll.C:
		}
	}
	if n := s.open.Load(); n > 0 {
		s.log.Printf("eventloop: %d connections still busy after %v; closing them", n, grace)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return s.eng.Stop(sctx)
}

// OnBoot runs once the engine is ready.
func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	if s.ready != nil {
		s.ready()
	}
	return gnet.None
}

// OnOpen runs on the loop of a new connection: a client, or one of the
// async style's dependency connections (whose context is already set).
func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if dc, ok := c.Context().(*depConn); ok {
		dc.opened(c)
		return nil, gnet.None
	}
	// Linux gives the lowest free fd: a high one means the table is nearly
	// full. Refusing here keeps accept itself from failing with EMFILE,
	// which makes gnet stop the whole engine.
	if s.shutting.Load() {
		return nil, gnet.Close
	}
	if s.shedding.Load() {
		return appendResponse(nil, refusalMeta, errOverloaded.Status, contract.ContentTypeJSON, errOverloaded.AppendBody(nil), &s.date), gnet.Close
	}
	if s.shedAt > 0 && c.Fd() >= s.shedAt {
		s.logShed(c.Fd())
		return appendResponse(nil, refusalMeta, errShed.Status, contract.ContentTypeJSON, errShed.AppendBody(nil), &s.date), gnet.Close
	}
	ls := s.loopOf(c.EventLoop())
	cs := &connState{c: c, loop: ls, headTimed: true,
		deadline: s.clock.Load() + int64(s.cfg.readHeaderTimeout)}
	ls.add(cs)
	c.SetContext(cs)
	s.open.Add(1)
	return nil, gnet.None
}

// OnTraffic runs on a connection's loop when it has new bytes.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	switch x := c.Context().(type) {
	case *connState:
		return x.onTraffic()
	case *depConn:
		return x.onTraffic()
	}
	return gnet.Close
}

// OnClose runs on a connection's loop once gnet has closed it.
func (s *server) OnClose(c gnet.Conn, err error) gnet.Action {
	switch x := c.Context().(type) {
	case *connState:
		x.onClose(err)
	case *depConn:
		x.onClose()
	}
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine, not on a loop: it refreshes the
// clock and the Date header and hands each loop its deadline sweep.
func (s *server) OnTick() (time.Duration, gnet.Action) {
	now := time.Now()
	s.clock.Store(now.UnixNano())
	s.date.refresh(now)
	s.loopsMu.Lock()
	s.updateShedding()
	for _, ls := range s.loops {
		_ = ls.el.Execute(context.Background(), ls.sweeper)
	}
	s.loopsMu.Unlock()
	return tick, gnet.None
}

// loopOf returns the state of a loop, made on its first connection. Safe
// from any goroutine.
func (s *server) loopOf(el gnet.EventLoop) *loopState {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	ls := s.loops[el]
	if ls == nil {
		ls = &loopState{srv: s, el: el, body: make([]byte, 0, bodyCap)}
		ls.sweeper = gnet.RunnableFunc(ls.sweep)
		ls.drainer = gnet.RunnableFunc(ls.drainDone)
		if s.depAddr != nil {
			ls.dep = newDepPool(ls, s.depAddr, s.cfg.dependency, s.cfg.depConns, s.cfg.opts.DependencyTimeout)
		}
		if s.cfg.handler == "async" || s.cfg.opts.EmulateConnectMillis > 0 {
			ls.timers = newTimerQueue(el, s.done) // waits, and emulated handshakes
		}
		s.loops[el] = ls
	}
	return ls
}

func (s *server) callHook(req contract.Request) {
	if s.hook != nil {
		s.hook(req)
	}
}

func (s *server) logPanic(r any, req contract.Request) {
	s.log.Printf("eventloop: handler panic on %v (answered 500, loop kept running): %v", req.Route, r)
}

// logShed logs, at most once a second, that connections are being refused
// for lack of file descriptors.
func (s *server) logShed(fd int) {
	now := time.Now().Unix()
	if last := s.lastShedLog.Load(); now != last && s.lastShedLog.CompareAndSwap(last, now) {
		s.log.Printf("eventloop: refusing new connections: fd %d is within %d of the open-file limit %d "+
			"(existing connections keep being served)", fd, int(s.cfg.nofile)-s.shedAt, s.cfg.nofile)
	}
}

// errShed answers a connection refused at the open-file limit.
var errShed = &contract.Error{Status: 503, Msg: "server at its open-file limit"}

// loopState is what one event loop owns: its connections, its scratch
// buffers and its dependency connections. Only that loop's goroutine touches
// it; el is concurrency-safe.
type loopState struct {
	srv     *server
	el      gnet.EventLoop
	sweeper gnet.Runnable
	drainer gnet.Runnable // runs drainDone
	done    completions   // answers finished off the loop (conn.go)

	conns    []*connState
	buffered atomic.Int64 // bytes the loop's connections buffer (written on the loop, summed by the ticker)
	dep      *depPool     // async style with a dependency
	timers   *timerQueue  // async style: pending waits

	out     []byte // answers produced during one onTraffic, written once at its end
	resp    []byte // one answer being built outside onTraffic
	wbuf    []byte // answers written outside onTraffic
	body    []byte // one body being built: appended to at [:0], never grown past bodyCap by the common routes
	scratch scratch
}

func (ls *loopState) add(cs *connState) {
	cs.index = int32(len(ls.conns))
	ls.conns = append(ls.conns, cs)
}

func (ls *loopState) remove(cs *connState) {
	i, last := int(cs.index), len(ls.conns)-1
	if i > last || ls.conns[i] != cs {
		return
	}
	ls.conns[i] = ls.conns[last]
	ls.conns[i].index = int32(i)
	ls.conns[last] = nil
	ls.conns = ls.conns[:last]
}

// sweep closes the loop's connections whose deadline has passed: header
// read and keep-alive idle timeouts (closed without an answer, as net/http
// does) and lingering closes. It runs on the loop.
func (ls *loopState) sweep(context.Context) error {
	now := ls.srv.clock.Load()
	for i := len(ls.conns) - 1; i >= 0; i-- { // closing removes conns[i]
		cs := ls.conns[i]
		if cs.shutPending {
			cs.tryShutdown()
		}
		if cs.pause == pauseOutbound {
			cs.checkOutbound(now)
		}
		if cs.acct != 0 {
			cs.account() // gnet wrote some out since
		}
		if cs.deadline != 0 && now >= cs.deadline {
			_ = ls.el.Close(cs.c)
		}
	}
	if ls.dep != nil {
		ls.dep.expire(now)
	}
	return nil
}

// drain starts the shutdown of the loop's connections (see server.shutdown).
// It runs on the loop.
func (ls *loopState) drain(context.Context) error {
	for i := len(ls.conns) - 1; i >= 0; i-- { // closing removes conns[i]
		cs := ls.conns[i]
		switch {
		case cs.draining || cs.final:
		case cs.nextSeq == cs.sendSeq || cs.body != nil:
			_ = ls.el.Close(cs.c) // idle, or in the middle of a body
		default:
			cs.final, cs.finalSeq = true, cs.nextSeq-1 // close after the last answer
		}
	}
	return nil
}

// gnetLogger passes gnet's warnings and errors to the server's log and
// drops its debug and info lines.
type gnetLogger struct{ l *log.Logger }

func (gnetLogger) Debugf(string, ...any)       {}
func (gnetLogger) Infof(string, ...any)        {}
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Printf("gnet warning: "+f, a...) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Printf("gnet error: "+f, a...) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Printf("gnet fatal: "+f, a...) }
