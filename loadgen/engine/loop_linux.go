package engine

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

// The event loop.
//
// Each loop is one goroutine that owns an epoll set, a slice of connections,
// one read buffer shared by its connections, and its own histograms and
// counters. Nothing a loop owns is touched by another goroutine while it
// runs, so the hot path has no locks and no atomics; the only shared state is
// the stop flag (read once per iteration) and, when progress is requested, a
// mutex-guarded copy of the counters refreshed a few times a second. Run
// merges the loops' statistics after they return.
//
// The per-request path, steady state (closed loop): epoll_wait reports a
// readable socket, one read(2) into the shared buffer, the parser consumes
// the response(s), the latency goes into the histogram, and one write(2)
// sends the next request (or, pipelined, the next batch of P requests once
// the previous P are answered) from a pre-serialized buffer.
// No goroutine, timer, channel or allocation per request (see
// TestLoopAllocs). That is fewer syscalls than wrk, which re-arms EPOLLOUT
// with epoll_ctl before each write.
//
// That is the epoll backend. The closed loop with keep-alive runs instead,
// where the kernel allows it, on io_uring (uring_linux.go): the same loop,
// parser and bookkeeping, with the reads and writes turned into completions
// and one io_uring_enter per wake. The hooks are marked by l.ur != nil.

const (
	readBufSize  = 256 << 10             // shared by all connections of a loop
	maxEvents    = 512                   // epoll_wait batch
	backoff      = 10 * time.Millisecond // before redialing after a failed connect (closed loop)
	publishEvery = 200 * time.Millisecond
	timerSlot    = -1 // epoll data marking the pacing timerfd

	// Open loop: how long the schedule waits for the initial connections,
	// and how many connects may be in progress at once when the loop grows
	// (a connect storm only makes a struggling server slower).
	initialWait = time.Second
	maxDialing  = 16
	minTick     = 50 * time.Microsecond // shortest pacing interval
)

type connState uint8

const (
	csClosed     connState = iota // no socket; free slot (open loop) or finished
	csConnecting                  // non-blocking connect in progress (EPOLLOUT)
	csOpen                        // connected
	csBackoff                     // closed loop: waiting until conn.retry to redial
)

// sendRec is the timing of one request in flight, in nanoseconds since the
// run started.
type sendRec struct {
	intended int64 // when it should have been sent (== actual in the closed loop)
	actual   int64 // when it was written
}

// conn is one client connection. It is owned by its loop and touched only
// from the loop's goroutine.
type conn struct {
	fd      int
	slot    int32
	gen     int32 // bumped on every close, so stale epoll events are ignored
	state   connState
	wantOut bool // EPOLLOUT registered (connect in progress or a short write)
	sending bool // io_uring: a SEND is in flight
	inAvail bool // on the loop's avail stack (open loop)

	rd respReader

	ring  []sendRec // requests in flight, oldest at head; len(ring) == pipeline depth
	head  int
	n     int   // requests in flight
	wleft int   // bytes of queued requests not yet written
	since int64 // when the current connect started
	retry int64 // csBackoff: when to redial
}

// loopStats are a loop's counters, owned by the loop goroutine.
type loopStats struct {
	status        [1000]int64 // responses by status code
	errs          [nClasses]int64
	responses     int64
	non2xx        int64
	sent          int64
	connects      int64
	connectErrors int64
	bytesRead     int64
	bytesWritten  int64
	clamped       int64 // latencies above the histogram's range
	failedRec     int64 // transport failures recorded in the histograms
	unfinished    int64 // open loop: requests due but unanswered when the run ended
	unexpected    int64 // reads that brought bytes with no request outstanding
	peakOpen      int
	lagMax        int64 // ns, open loop
	scheduled     int64 // open loop, computed at exit
}

// published is the copy of a loop's progress that Run's progress goroutine
// reads. Guarded by mu; written by the loop, read by Run.
type published struct {
	mu        sync.Mutex
	requests  int64
	responses int64
	ok        int64
	errors    int64
	conns     int
	hist      *hdrhistogram.Histogram
}

// loop is one event loop (see the comment at the top of this file). Every
// field is owned by the loop's goroutine while run executes, except stop
// (atomic, written by Run) and pub (guarded by its mutex); Run reads the
// rest only after run has returned.
type loop struct {
	id, nloops int
	t          *target
	open       bool
	sa         unix.Sockaddr
	family     int

	ep     int
	tfd    int // pacing timer (open loop), -1 otherwise
	events []unix.EpollEvent
	ev     unix.EpollEvent // scratch for epoll_ctl: a field, so it does not escape per call
	tbuf   [8]byte         // timerfd expiration count
	rbuf   []byte          // read buffer shared by all connections
	reqs   []byte          // the request, repeated
	reqLen int             //
	conns  []*conn         // connection slots, indexed by conn.slot (the epoll data)
	free   []int32         // closed slots ready for reuse (open loop)
	avail  []*conn         // open loop: connections with room for another request
	start  time.Time       // the run's clock origin
	stop   *atomic.Bool    // set by Run on cancellation
	pub    *published      // nil unless progress was requested
	ur     *uring          // the io_uring backend (uring_linux.go); nil: epoll

	nOpen, nConnecting int
	inflight           int   // requests in flight, all connections
	maxConns           int   // this loop's share of the cap
	deadline           int64 // ns; math.MaxInt64 when -n only
	budget             int64 // closed loop: requests left to send; -1 = unlimited
	kNext, kQuota      int64 // open loop: next request index of this loop, and how many it schedules
	origin             int64 // open loop: when the schedule starts (after the initial connects)
	scheduling         bool  // open loop: the schedule has started
	nsPer              float64
	drained            bool // the last epoll_wait returned less than a full batch: nothing left unread
	nextScan           int64
	nextPublish        int64
	scanEvery          int64

	hist, raw *hdrhistogram.Histogram // corrected (or closed-loop) and raw latency, microseconds
	cur       *hdrhistogram.Histogram // where latencies are recorded: hist, or the current interval's (see interval.go)
	fhist     *hdrhistogram.Histogram // failed requests only (corrected), microseconds
	iv        *ivState                // nil unless Config.Interval is set
	cpu       *cpuWindow              // shared by the run's loops
	st        loopStats
	stopped   bool  // left because of the stop flag
	end       int64 // when the load stopped (before sockets were closed)

	warmEnd   int64 // ns; the warm-up ends here (0: no warm-up)
	warming   bool  // statistics are still warm-up statistics
	mstart    int64 // when the measured phase started (warmEnd, or 0)
	schedBase int64 // open loop: requests due before mstart
}

// newLoop creates loop id of n with its epoll set; conns and maxConns are
// this loop's share, and quota its share of a request count (-1: unlimited).
func newLoop(id, n int, t *target, cfg *Config, sa unix.Sockaddr, family int, conns, maxConns int, quota int64, stop *atomic.Bool, withPub bool) (*loop, error) {
	// x/sys writes the raw form into the Sockaddr on every connect, so each
	// loop needs its own copy.
	switch v := sa.(type) {
	case *unix.SockaddrInet4:
		cp := *v
		sa = &cp
	case *unix.SockaddrInet6:
		cp := *v
		sa = &cp
	}
	l := &loop{
		id: id, nloops: n, t: t, open: t.model == OpenLoop, sa: sa, family: family,
		tfd: -1, stop: stop, maxConns: maxConns,
		events: make([]unix.EpollEvent, maxEvents),
		rbuf:   make([]byte, readBufSize),
		hist:   newHist(),
		fhist:  newHist(),
	}
	l.cur = l.hist
	var err error
	if l.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, err
	}
	l.reqLen = len(t.request)
	reps := max(t.pipe, (16<<10)/l.reqLen, 1)
	l.reqs = make([]byte, 0, reps*l.reqLen)
	for range reps {
		l.reqs = append(l.reqs, t.request...)
	}
	l.conns = make([]*conn, 0, maxConns)
	l.deadline = math.MaxInt64
	if cfg.Warmup > 0 {
		l.warmEnd, l.warming = int64(cfg.Warmup), true
	}
	if cfg.Duration > 0 {
		l.deadline = l.warmEnd + int64(cfg.Duration)
	}
	l.scanEvery = int64(min(max(t.timeout/10, 5*time.Millisecond), 50*time.Millisecond))
	if l.open {
		l.raw = newHist()
		l.nsPer = 1e9 / cfg.Rate
		l.kQuota = math.MaxInt64
		if quota >= 0 {
			l.kQuota = quota
		}
		if l.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
			unix.Close(l.ep)
			return nil, err
		}
		l.ev = unix.EpollEvent{Events: unix.EPOLLIN, Fd: timerSlot}
		if err = unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, l.tfd, &l.ev); err != nil {
			unix.Close(l.ep)
			unix.Close(l.tfd)
			return nil, err
		}
		l.free = make([]int32, 0, maxConns)
		l.avail = make([]*conn, 0, maxConns)
	} else {
		l.budget = quota
	}
	for range conns {
		l.newSlot()
	}
	if withPub {
		l.pub = &published{hist: newHist()}
	}
	if cfg.Interval > 0 && cfg.OnInterval != nil {
		l.iv = newIvState(int64(cfg.Interval), l.warmEnd)
		l.cur = newHist()
	}
	return l, nil
}

// newSlot appends a connection slot (not yet dialed).
func (l *loop) newSlot() *conn {
	c := &conn{fd: -1, slot: int32(len(l.conns)), ring: make([]sendRec, l.t.pipe)}
	c.rd.head = l.t.head
	l.conns = append(l.conns, c)
	return c
}

// clock is the run's monotonic clock in nanoseconds.
func (l *loop) clock() int64 { return int64(time.Since(l.start)) }

// run drives the loop until the deadline, the request budget, or the stop
// flag. It must be called once, from the loop's own goroutine; it closes every
// socket it opened before returning.
func (l *loop) run() {
	if l.t.uring {
		runtime.LockOSThread() // the ring's single issuer
		defer runtime.UnlockOSThread()
		if l.useURing() {
			defer l.ur.close()
		}
	}
	now := l.clock()
	for _, c := range l.conns {
		l.dial(c, now)
	}
	if l.open {
		now = l.awaitInitial()
		l.origin, l.scheduling = now, true
		l.startTimer(now)
		l.pump(now)
	}
	l.nextScan = now + l.scanEvery
	for {
		if l.stop.Load() {
			l.stopped = true
			break
		}
		if l.iv != nil && now >= l.iv.next && l.iv.next < l.deadline {
			l.tickInterval(now)
		}
		if l.warming && now >= l.warmEnd {
			l.endWarmup(now)
		}
		if now >= l.deadline || l.finished() {
			break
		}
		if l.ur != nil {
			// One syscall per wake: submit what the last wake queued,
			// wait, and handle the completions at one clock reading.
			l.ur.enter(l.waitMs(now))
			now = l.clock()
			l.uReap(now)
		} else {
			n, err := unix.EpollWait(l.ep, l.events, l.waitMs(now))
			now = l.clock()
			if err != nil && err != unix.EINTR {
				break // cannot happen with a valid epoll fd
			}
			l.drained = n < len(l.events)
			for i := 0; i < n; i++ {
				l.handle(l.events[i])
			}
			now = l.clock()
		}
		if l.open {
			l.pump(now)
		}
		if now >= l.nextScan {
			l.scan(now)
			l.nextScan = now + l.scanEvery
		}
		if l.pub != nil && now >= l.nextPublish {
			l.publish()
			l.nextPublish = now + int64(publishEvery)
		}
	}
	l.end = min(l.clock(), l.deadline)
	if l.warming { // stopped before the warm-up ended: nothing was measured
		l.endWarmup(l.end)
	}
	if l.open {
		l.st.scheduled = l.scheduledBy(l.end) - l.schedBase
	}
	if !l.stopped {
		l.recordUnfinished(l.end)
	}
	if l.iv != nil {
		l.finishIntervals(l.end)
	}
	if l.cpu != nil {
		l.cpu.loopEnded()
	}
	if l.pub != nil {
		l.publish() // the load's last state, connections still open
	}
	for _, c := range l.conns {
		if c.state == csOpen || c.state == csConnecting {
			l.closeConn(c, true)
		}
	}
	unix.Close(l.ep)
	if l.tfd >= 0 {
		unix.Close(l.tfd)
	}
}

// endWarmup discards the warm-up's statistics: counters and histograms
// start again from zero at now, with the connections and the requests in
// flight kept as they are.
func (l *loop) endWarmup(now int64) {
	l.warming = false
	l.mstart = now
	peak := l.nOpen
	l.st = loopStats{peakOpen: peak}
	l.hist.Reset()
	l.cur.Reset()
	l.fhist.Reset()
	if l.iv != nil {
		l.iv.base = ivCounts{}
	}
	if l.cpu != nil && l.id == 0 {
		l.cpu.markStart()
	}
	if l.raw != nil {
		l.raw.Reset()
		l.schedBase = l.scheduledBy(now)
	}
}

// recordUnfinished accounts, at the end of the window, for the requests
// that got no answer: those still in flight (both load models) and, in the
// open loop, those due but never sent for want of a connection. Dropping
// them would hide exactly what a measurement of a stalled server must show
// (with a 6 s latency and a 2 s window, a closed loop would otherwise report
// only the few fast answers), so each is recorded with the time it had
// waited by the end, a lower bound of its latency, and counted in
// Result.Unfinished. In-flight requests sent during the warm-up count too:
// their answers would have been measured had they come in the window.
func (l *loop) recordUnfinished(end int64) {
	for _, c := range l.conns {
		for i, k := 0, c.head; i < c.n; i++ {
			rec := c.ring[k]
			l.record(l.cur, end-rec.intended)
			if l.open {
				l.record(l.raw, end-rec.actual)
			}
			l.st.unfinished++
			if k++; k == len(c.ring) {
				k = 0
			}
		}
	}
	if !l.open {
		return
	}
	// Due but never sent: from this loop's next unsent index to the end.
	for k := l.kNext; k < l.kQuota; k++ {
		due := l.intended(k)
		if due >= end {
			break
		}
		if due >= l.mstart {
			l.record(l.cur, end-due)
			l.st.unfinished++
		}
	}
}

// awaitInitial lets the open loop's initial connections finish connecting
// (at most initialWait) before its schedule starts, so that the first
// requests do not find every connection still in the handshake and trigger
// a burst of extra connects. It returns the clock.
func (l *loop) awaitInitial() int64 {
	now := l.clock()
	limit := min(now+int64(initialWait), l.deadline)
	for l.nConnecting > 0 && now < limit && !l.stop.Load() {
		n, err := unix.EpollWait(l.ep, l.events, int(max((limit-now)/int64(time.Millisecond), 1)))
		if err != nil && err != unix.EINTR {
			break
		}
		for i := 0; i < n; i++ {
			l.handle(l.events[i])
		}
		now = l.clock()
	}
	return now
}

// finished reports whether a request-count bounded run is complete.
func (l *loop) finished() bool {
	if l.inflight > 0 {
		return false
	}
	if l.open {
		return l.kNext >= l.kQuota
	}
	return l.budget == 0
}

// waitMs is the epoll_wait timeout: until the next scan or the deadline,
// whichever is first. Pacing uses the timerfd, whose precision is not
// limited to milliseconds.
func (l *loop) waitMs(now int64) int {
	until := min(l.nextScan, l.deadline)
	if l.iv != nil {
		until = min(until, l.iv.next)
	}
	until -= now
	if until <= 0 {
		return 0
	}
	return int((until + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

func (l *loop) handle(ev unix.EpollEvent) {
	if ev.Fd == timerSlot {
		// Reading the expiration count re-arms a periodic timerfd (the
		// kernel forwards the timer on read, not on expiry).
		rawRead(l.tfd, l.tbuf[:])
		return
	}
	c := l.conns[ev.Fd]
	if c.gen != ev.Pad || c.state == csClosed || c.state == csBackoff {
		return // stale: the slot was closed (and maybe redialed) since
	}
	if c.state == csConnecting {
		l.connectDone(c)
		return
	}
	if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
		l.onReadable(c)
	}
	if ev.Events&unix.EPOLLOUT != 0 && c.state == csOpen && c.gen == ev.Pad && c.wantOut {
		l.flush(c)
	}
}

// ---- connections ----------------------------------------------------------

func (l *loop) ctl(op int, c *conn, events uint32) error {
	l.ev = unix.EpollEvent{Events: events, Fd: c.slot, Pad: c.gen}
	return unix.EpollCtl(l.ep, op, c.fd, &l.ev)
}

// dial starts a non-blocking connect on c.
func (l *loop) dial(c *conn, now int64) {
	fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.connectFailed(c, classify(errnoOf(err)), now)
		return
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c.fd = fd
	c.since = now
	err = unix.Connect(fd, l.sa)
	switch {
	case l.ur != nil && err == nil:
		l.connected(c, now)
	case l.ur != nil && err == unix.EINPROGRESS:
		l.uPoll(c)
		c.state = csConnecting
		l.nConnecting++
	case err == nil:
		if err := l.ctl(unix.EPOLL_CTL_ADD, c, unix.EPOLLIN|unix.EPOLLRDHUP); err != nil {
			unix.Close(fd)
			c.fd = -1
			l.connectFailed(c, cOther, now)
			return
		}
		l.connected(c, now)
	case err == unix.EINPROGRESS:
		if err := l.ctl(unix.EPOLL_CTL_ADD, c, unix.EPOLLOUT); err != nil {
			unix.Close(fd)
			c.fd = -1
			l.connectFailed(c, cOther, now)
			return
		}
		c.state = csConnecting
		c.wantOut = true
		l.nConnecting++
	default:
		unix.Close(fd)
		c.fd = -1
		l.connectFailed(c, classify(errnoOf(err)), now)
	}
}

// connectDone finishes a non-blocking connect.
func (l *loop) connectDone(c *conn) {
	now := l.clock()
	l.nConnecting--
	c.state = csClosed
	v, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && v == 0 {
		if l.ur == nil {
			err = l.ctl(unix.EPOLL_CTL_MOD, c, unix.EPOLLIN|unix.EPOLLRDHUP)
		}
	} else if err == nil {
		err = unix.Errno(v)
	}
	if err != nil {
		unix.Close(c.fd)
		c.fd = -1
		c.gen++
		l.connectFailed(c, classify(errnoOf(err)), now)
		return
	}
	c.wantOut = false
	l.connected(c, now)
}

// connected puts a fresh connection to work.
func (l *loop) connected(c *conn, now int64) {
	c.state = csOpen
	l.nOpen++
	l.st.connects++
	l.st.peakOpen = max(l.st.peakOpen, l.nOpen)
	if l.ur != nil {
		l.uRecv(c)
	}
	if l.open {
		l.pushAvail(c)
		return
	}
	l.refill(c, l.t.pipe, now)
}

// connectFailed counts a failed connect as one failed request (closed loop:
// the request it was opened for; open loop: the oldest overdue request, if
// any) and schedules what happens to the slot.
func (l *loop) connectFailed(c *conn, class errClass, now int64) {
	l.st.connectErrors++
	c.state = csClosed
	if l.open {
		if due := l.intended(l.kNext); l.scheduling && l.kNext < l.kQuota && due <= now && due < l.deadline {
			l.kNext++
			l.st.sent++
			l.st.errs[class]++
			l.recordFailed(now-due, 0, false)
		}
		l.free = append(l.free, c.slot)
		return
	}
	if l.budget != 0 {
		l.st.errs[class]++
		l.st.sent++
		if l.budget > 0 {
			l.budget--
		}
		// The request this connection was opened for waited since the
		// connect started.
		l.recordFailed(now-c.since, 0, false)
	}
	if l.budget != 0 {
		c.state = csBackoff
		c.retry = now + int64(backoff)
	}
}

// closeConn closes c's socket and forgets what was in flight on it; the
// caller has already counted those requests.
//
// abort closes with SO_LINGER 0 (an RST, no TIME_WAIT on this side). It is
// used when the engine gives up on a connection (errors, timeouts) and at the
// end of a run: the lab runs measurement after measurement with up to 10k
// connections on one machine, and ~28k ephemeral ports in TIME_WAIT make
// every later connect(2) crawl. Connections the server closes, or that
// finish a "Connection: close" exchange, close normally.
func (l *loop) closeConn(c *conn, abort bool) {
	switch c.state {
	case csOpen:
		l.nOpen--
	case csConnecting:
		l.nConnecting--
	}
	if c.fd >= 0 {
		if l.ur != nil {
			l.uCancel(c) // release the ring's hold on the socket first
		}
		if abort {
			_ = unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		unix.Close(c.fd) // also removes it from the epoll set
		c.fd = -1
	}
	c.state = csClosed
	c.gen++
	l.inflight -= c.n
	c.n, c.head, c.wleft = 0, 0, 0
	c.wantOut, c.sending = false, false
	c.rd.reset()
}

// fail counts every request in flight on c as failed with class, closes c,
// and replaces it (closed loop) or frees its slot (open loop).
func (l *loop) fail(c *conn, class errClass, now int64) {
	l.st.errs[class] += int64(c.n)
	for i, k := 0, c.head; i < c.n; i++ {
		rec := c.ring[k]
		l.recordFailed(now-rec.intended, now-rec.actual, l.open)
		if k++; k == len(c.ring) {
			k = 0
		}
	}
	l.closeConn(c, class != cEOF)
	l.replace(c, now)
}

// replace redials c's slot in the closed loop while there is work left, or
// frees it in the open loop (the pump opens connections on demand).
func (l *loop) replace(c *conn, now int64) {
	if l.open {
		l.free = append(l.free, c.slot)
		return
	}
	if l.budget != 0 && now < l.deadline {
		l.dial(c, now)
	}
}

// ---- requests and responses ----------------------------------------------

// enqueue queues k requests on c, recording their intended and actual send
// times, and writes what the socket takes.
func (l *loop) enqueue(c *conn, k int, intended, now int64) {
	for range k {
		i := c.head + c.n
		if i >= len(c.ring) {
			i -= len(c.ring)
		}
		c.ring[i] = sendRec{intended: intended, actual: now}
		c.n++
	}
	l.inflight += k
	l.st.sent += int64(k)
	c.wleft += k * l.reqLen
	if !c.wantOut { // otherwise EPOLLOUT will flush
		l.flush(c)
	}
}

// flush writes c's queued request bytes. The queue is a suffix of the
// request repeated, so it is just a byte count: the offset into l.reqs
// follows from it.
func (l *loop) flush(c *conn) {
	if l.ur != nil {
		l.uSend(c)
		return
	}
	for c.wleft > 0 {
		off := (l.reqLen - c.wleft%l.reqLen) % l.reqLen
		end := min(len(l.reqs), off+c.wleft)
		n, e := rawWrite(c.fd, l.reqs[off:end])
		if n > 0 {
			c.wleft -= n
			l.st.bytesWritten += int64(n)
			continue
		}
		if e == unix.EINTR {
			continue
		}
		if e == unix.EAGAIN {
			if !c.wantOut {
				c.wantOut = true
				if l.ctl(unix.EPOLL_CTL_MOD, c, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLOUT) != nil {
					l.fail(c, cOther, l.clock())
				}
			}
			return
		}
		l.fail(c, classify(e), l.clock())
		return
	}
	if c.wantOut {
		c.wantOut = false
		if l.ctl(unix.EPOLL_CTL_MOD, c, unix.EPOLLIN|unix.EPOLLRDHUP) != nil {
			l.fail(c, cOther, l.clock())
		}
	}
}

// refill sends up to k more requests on c (closed loop), within the budget
// and before the deadline.
func (l *loop) refill(c *conn, k int, now int64) {
	if now >= l.deadline {
		return
	}
	if l.budget >= 0 {
		k = int(min(int64(k), l.budget))
		l.budget -= int64(k)
	}
	if k > 0 {
		l.enqueue(c, k, now, now)
	}
}

// onReadable reads once from c and consumes what arrived.
func (l *loop) onReadable(c *conn) {
	n, e := rawRead(c.fd, l.rbuf)
	now := l.clock()
	switch {
	case n > 0:
		l.st.bytesRead += int64(n)
		l.consume(c, l.rbuf[:n], now)
	case n == 0:
		l.onEOF(c, now)
	case e == unix.EAGAIN || e == unix.EINTR:
	default:
		l.fail(c, classify(e), now)
	}
}

// consume feeds b to c's reader, completing responses in order.
func (l *loop) consume(c *conn, b []byte, now int64) {
	done := 0
	for len(b) > 0 {
		if c.n == 0 {
			// Bytes nobody asked for: the stream cannot be trusted. No
			// request is outstanding to blame, so it is counted apart.
			l.st.unexpected++
			l.fail(c, cMalformed, now)
			return
		}
		k, complete, err := c.rd.feed(b)
		if err != nil {
			l.fail(c, cMalformed, now)
			return
		}
		b = b[k:]
		if !complete {
			break
		}
		closing := c.rd.close || l.t.closeEach
		l.complete(c, c.rd.status, now)
		c.rd.reset()
		done++
		if closing {
			// The server said it closes after this response: whatever else
			// was pipelined on c is lost and counts as eof.
			l.fail(c, cEOF, now)
			return
		}
	}
	if done == 0 {
		return
	}
	if l.open {
		l.pushAvail(c)
	} else if c.n == 0 {
		// Closed loop: the next batch of Pipeline requests goes out when
		// the whole previous batch is answered, as wrk's pipelining does.
		// A sliding window (one request per response) was measured too:
		// no faster against a saturated server, and it turns one write
		// of P requests into many small ones on both sides.
		l.refill(c, len(c.ring), now)
	}
}

// onEOF handles the server closing c.
func (l *loop) onEOF(c *conn, now int64) {
	complete, _, err := c.rd.eof()
	if complete && c.n > 0 {
		l.complete(c, c.rd.status, now)
	}
	class := cEOF
	if err != nil && err != errTruncated {
		class = cMalformed
	}
	// With nothing in flight this is a keep-alive connection the server
	// closed while idle: not an error, just reconnect.
	l.fail(c, class, now)
}

// complete records the response to the oldest request in flight on c.
func (l *loop) complete(c *conn, status int, now int64) {
	rec := c.ring[c.head]
	c.head++
	if c.head == len(c.ring) {
		c.head = 0
	}
	c.n--
	l.inflight--
	l.record(l.cur, now-rec.intended)
	if l.open {
		l.record(l.raw, now-rec.actual)
	}
	l.st.responses++
	l.st.status[status]++
	if status < 200 || status > 299 {
		l.st.non2xx++
	}
}

// recordFailed records a request that failed after waiting ns (corrected)
// and rawNs (from its actual send, open loop only when withRaw) in the
// latency histograms, and in the failed-only one.
func (l *loop) recordFailed(ns, rawNs int64, withRaw bool) {
	l.record(l.cur, ns)
	if withRaw {
		l.record(l.raw, rawNs)
	}
	l.record(l.fhist, ns)
	l.st.failedRec++
}

func (l *loop) record(h *hdrhistogram.Histogram, ns int64) {
	us := ns / int64(time.Microsecond)
	if us > histMaxUs {
		us = histMaxUs
		l.st.clamped++
	} else if us < 0 {
		us = 0
	}
	_ = h.RecordValue(us) // cannot fail: us is within range
}

// ---- open loop -------------------------------------------------------------

// intended is the scheduled send time of this loop's k-th request: request
// j = k*nloops+id of the whole run is due at origin + j/Rate.
func (l *loop) intended(k int64) int64 {
	return l.origin + int64(float64(k*int64(l.nloops)+int64(l.id))*l.nsPer)
}

// scheduledBy counts this loop's requests due strictly before t.
func (l *loop) scheduledBy(t int64) int64 {
	t -= l.origin
	if t <= 0 {
		return 0
	}
	j := int64(math.Ceil(float64(t)/l.nsPer)) - 1 // last global index due before t
	if j < int64(l.id) {
		return 0
	}
	return min((j-int64(l.id))/int64(l.nloops)+1, l.kQuota)
}

func (l *loop) pushAvail(c *conn) {
	if !c.inAvail && c.n < len(c.ring) {
		c.inAvail = true
		l.avail = append(l.avail, c)
	}
}

// popAvail returns a connection with room for a request, or nil.
func (l *loop) popAvail() *conn {
	for len(l.avail) > 0 {
		c := l.avail[len(l.avail)-1]
		l.avail = l.avail[:len(l.avail)-1]
		c.inAvail = false
		if c.state == csOpen && c.n < len(c.ring) {
			return c
		}
	}
	return nil
}

// startTimer arms the periodic pacing timer on this loop's schedule: its
// requests are due every nloops/Rate, starting at origin + id/Rate. Above
// minTick's rate, a tick sends every request due by then, so a request may
// leave up to minTick late (and its corrected latency says so).
func (l *loop) startTimer(now int64) {
	first := max(l.intended(0)-now, 1)
	every := max(int64(l.nsPer*float64(l.nloops)), int64(minTick))
	its := unix.ItimerSpec{Value: unix.NsecToTimespec(first), Interval: unix.NsecToTimespec(every)}
	_ = unix.TimerfdSettime(l.tfd, 0, &its, nil)
}

// pump sends every request that is due, opening connections (up to the cap)
// when none has room.
func (l *loop) pump(now int64) {
	for l.kNext < l.kQuota {
		due := l.intended(l.kNext)
		if due > now || due >= l.deadline {
			break
		}
		c := l.popAvail()
		if c == nil {
			// Every connection is busy: open more, one per overdue request,
			// up to the cap. The overdue requests keep their intended times,
			// so the wait shows up in the corrected latency.
			//
			// Only when the last epoll_wait was drained: with readiness
			// still unread the connections only look busy (the engine is
			// behind, not the server), and more connections would make
			// that worse.
			if l.drained {
				backlog := l.scheduledBy(now+1) - l.kNext
				for int64(l.nConnecting) < min(backlog, maxDialing) && l.nOpen+l.nConnecting < l.maxConns {
					l.dial(l.freeSlot(), now)
				}
			}
			if c = l.popAvail(); c == nil { // a loopback connect may complete at once
				break
			}
		}
		l.enqueue(c, 1, due, now)
		l.kNext++
		l.st.lagMax = max(l.st.lagMax, now-due)
		if c.state == csOpen && c.n < len(c.ring) {
			l.pushAvail(c)
		}
	}
}

// freeSlot returns a closed slot to dial, reusing one or adding one.
func (l *loop) freeSlot() *conn {
	for len(l.free) > 0 {
		s := l.free[len(l.free)-1]
		l.free = l.free[:len(l.free)-1]
		if c := l.conns[s]; c.state == csClosed {
			return c
		}
	}
	return l.newSlot()
}

// ---- housekeeping ----------------------------------------------------------

// scan times out stuck requests and connects and redials slots whose backoff
// expired. It runs every scanEvery, off the per-request path.
func (l *loop) scan(now int64) {
	timeout := int64(l.t.timeout)
	for _, c := range l.conns {
		switch c.state {
		case csOpen:
			if c.n > 0 && now-c.ring[c.head].actual > timeout {
				l.fail(c, cTimeout, now)
			}
		case csConnecting:
			if now-c.since > timeout {
				l.closeConn(c, true)
				l.connectFailed(c, cTimeout, now)
			}
		case csBackoff:
			if now >= c.retry {
				c.state = csClosed
				if l.budget != 0 && now < l.deadline {
					l.dial(c, now)
				}
			}
		}
	}
}

// okAndStatusErrors sums the status counts: answers with 2xx/3xx, with
// 4xx, and with 5xx (or another code). Off the per-request path: the hot
// path only counts by code.
func (s *loopStats) okAndStatusErrors() (ok, e4, e5 int64) {
	for code := 200; code < len(s.status); code++ {
		n := s.status[code]
		if n == 0 {
			continue
		}
		switch StatusClass(code) {
		case "":
			ok += n
		case ClassHTTP4xx:
			e4 += n
		default:
			e5 += n
		}
	}
	return ok, e4, e5
}

func (l *loop) errors() int64 {
	var n int64
	for _, e := range l.st.errs {
		n += e
	}
	return n
}

// publish copies the loop's progress for Run's progress goroutine.
func (l *loop) publish() {
	p := l.pub
	ok, e4, e5 := l.st.okAndStatusErrors()
	errs := l.errors()
	p.mu.Lock()
	p.requests = l.st.responses + errs
	p.responses = l.st.responses
	p.ok = ok
	p.errors = errs + e4 + e5
	p.conns = l.nOpen
	p.hist.Reset()
	p.hist.Merge(l.hist)
	if l.cur != l.hist {
		p.hist.Merge(l.cur)
	}
	p.mu.Unlock()
}
