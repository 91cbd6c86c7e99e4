// Package engine is the lab's own HTTP/1.1 load engine, the "fast" engine
// of `loadgen run`. It exists because net/http's client, which hey uses,
// tops out well below what the lab's fastest servers can serve; an engine
// that is slower than the server measures itself.
//
// Usage, in process (the suite runner does this):
//
//	res, err := engine.Run(ctx, engine.Config{
//		URL: "http://127.0.0.1:8080/plaintext", Conns: 64, Duration: 10 * time.Second,
//	}, nil)
//
// Run returns a *Result that encodes to the JSON keys of DESIGN.md. A failed
// request is data in the Result (ErrorsByClass, Status), never an error
// from Run; Run itself fails only before the load starts (bad Config,
// ErrTooMany, ErrTargetDown).
//
// Two load models (Result.LoadModel):
//   - closed loop (Rate == 0): Conns connections, each sending its next
//     request when the response arrives (with Pipeline P > 1: its next P
//     requests when all P responses arrived, as wrk's pipelining does);
//   - open loop (Rate > 0): requests are due at a fixed global rate,
//     independent of Conns; a request waits for a connection with room
//     (opening one, up to MaxConns, if none has), and its latency is
//     measured from when it was due, so a stalled server is not hidden by
//     the client waiting along with it (coordinated omission). The latency
//     from the actual send is kept as LatencyUncorrected.
//
// How it is built: Loops goroutines (GOMAXPROCS by default, which Go derives
// from the CPU affinity mask) each run a private epoll loop over
// non-blocking sockets with pre-serialized requests, its own read buffer, an
// allocation-free response reader (reader.go) and its own HdrHistograms,
// merged when the run ends. See loop_linux.go. Linux only.
//
// Who owns what: Run owns the loops and their goroutines; a loop owns its
// sockets, buffers and histograms and is the only goroutine touching them;
// the Result returned belongs to the caller. Run may be called from several
// goroutines at once (runs share nothing but the process's nofile limit).
//
// Side effects worth knowing: Run raises the soft nofile limit to the hard
// limit (once per process); it dials the target once before the load (the
// probe); and it closes the load's connections with an RST at the end (see
// closeConn), so that back-to-back runs do not leave thousands of ports in
// TIME_WAIT.
package engine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Name is the engine's name in Result.Engine.
const Name = "fast"

// progressEvery is how often Run calls the progress callback.
const progressEvery = 250 * time.Millisecond

// Run performs one measurement and returns its result.
//
// progress, if not nil, is called about four times a second from a single
// goroutine that Run owns, never concurrently with itself and never after
// Run returns; it must not block for long.
//
// When ctx is cancelled, the loops stop within a few milliseconds and Run
// returns the partial result with Interrupted set and a nil error.
func Run(ctx context.Context, cfg Config, progress func(Snapshot)) (*Result, error) {
	t, err := cfg.prepare()
	if err != nil {
		return nil, err
	}
	sa, family, err := resolve(ctx, t.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: resolve %s: %v", ErrTargetDown, t.addr, err)
	}
	if err := Probe(ctx, t.addr, min(t.timeout, time.Second)); err != nil {
		return nil, err
	}
	if err := t.pickIO(cfg.IO); err != nil {
		return nil, err
	}

	nloops := cfg.Loops
	if nloops <= 0 {
		nloops = runtime.GOMAXPROCS(0)
	}
	nloops = max(min(nloops, t.maxConn), 1)
	var stop atomic.Bool
	loops := make([]*loop, nloops)
	for i := range loops {
		quota := int64(-1) // unlimited
		if cfg.Requests > 0 {
			quota = share64(cfg.Requests, nloops, i)
		}
		l, err := newLoop(i, nloops, t, &cfg, sa, family,
			share(t.conns, nloops, i), max(share(t.maxConn, nloops, i), 1), quota, &stop, progress != nil)
		if err != nil {
			for _, l := range loops[:i] {
				l.closeFDs()
			}
			return nil, fmt.Errorf("engine: %w", err)
		}
		loops[i] = l
	}

	cpu := &cpuWindow{live: len(loops)}
	intervals := cfg.Interval > 0 && cfg.OnInterval != nil
	notify := make(chan struct{}, 1)
	for _, l := range loops {
		l.cpu = cpu
		if l.iv != nil {
			l.iv.notify = notify
		}
	}
	if cfg.Warmup <= 0 {
		cpu.markStart()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, l := range loops {
		l.start = start
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run()
		}()
	}
	finished := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-finished:
		}
	}()
	if progress != nil {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			watch(loops, start, progress, finished)
		}()
	}
	if intervals {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			collectIntervals(loops, int64(max(cfg.Warmup, 0)), notify, finished, cfg.OnInterval)
		}()
	}
	wg.Wait()
	// The load phase ends when the last loop stopped sending and receiving,
	// not when it finished closing (10k closes take a while).
	var elapsed time.Duration
	for _, l := range loops {
		elapsed = max(elapsed, time.Duration(l.end-l.mstart))
	}
	close(finished)
	helpers.Wait()
	res := merge(&cfg, t, loops, elapsed)
	res.LoadgenCPUS = cpu.used().Seconds()
	if res.Requests > 0 {
		res.LoadgenCPUUsPerRequest = ms(res.LoadgenCPUS * 1e6 / float64(res.Requests))
	}
	return res, nil
}

// watch calls progress until finished is closed, and once more then.
func watch(loops []*loop, start time.Time, progress func(Snapshot), finished <-chan struct{}) {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	h := newHist()
	for last := false; !last; {
		select {
		case <-finished:
			// One last snapshot: the loops published their final state
			// before closing their connections, so it shows the load's
			// real connection count, not the teardown's zero.
			last = true
		case <-tick.C:
		}
		var s Snapshot
		h.Reset()
		for _, l := range loops {
			p := l.pub
			p.mu.Lock()
			s.Requests += p.requests
			s.Responses += p.responses
			s.OK += p.ok
			s.Errors += p.errors
			s.Conns += p.conns
			h.Merge(p.hist)
			p.mu.Unlock()
		}
		s.Elapsed = time.Since(start)
		s.RPS = float64(s.OK) / s.Elapsed.Seconds()
		s.P99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
		progress(s)
	}
}

// share splits n into k near-equal parts and returns part i.
func share(n, k, i int) int {
	s := n / k
	if i < n%k {
		s++
	}
	return s
}

func share64(n int64, k, i int) int64 {
	s := n / int64(k)
	if int64(i) < n%int64(k) {
		s++
	}
	return s
}

// closeFDs releases a loop that never ran.
func (l *loop) closeFDs() {
	closeFD(l.ep)
	if l.tfd >= 0 {
		closeFD(l.tfd)
	}
}

// pickIO decides whether the loops use io_uring (Config.IO): auto takes it
// for the closed loop with keep-alive wherever a ring can be set up here;
// io_uring asked for explicitly fails with the reason where it cannot be.
func (t *target) pickIO(io string) error {
	switch io {
	case IOURing, "uring":
		if err := probeURing(); err != nil {
			return fmt.Errorf("%w: -io io_uring: io_uring is not available here (%v); give -io epoll or leave -io out", ErrConfig, err)
		}
		t.uring = true
	case "", IOAuto:
		t.uring = t.model != OpenLoop && !t.closeEach && probeURing() == nil
	}
	return nil
}

// backendOf names the loops' I/O backends for Result.IOBackend: "io_uring",
// "epoll", or both joined with "+" if a loop fell back.
func backendOf(loops []*loop) string {
	var u, e bool
	for _, l := range loops {
		if l.ur != nil {
			u = true
		} else {
			e = true
		}
	}
	switch {
	case u && e:
		return IOEpoll + "+" + IOURing
	case u:
		return IOURing
	}
	return IOEpoll
}

// merge combines the loops' statistics into a Result.
func merge(cfg *Config, t *target, loops []*loop, elapsed time.Duration) *Result {
	r := &Result{
		Engine:        Name,
		IOBackend:     backendOf(loops),
		URL:           cfg.URL,
		Method:        "GET",
		LoadModel:     t.model,
		Conns:         t.conns,
		MaxConns:      t.maxConn,
		Pipeline:      t.pipe,
		Loops:         len(loops),
		GoMaxProc:     runtime.GOMAXPROCS(0),
		DurationS:     elapsed.Seconds(),
		ErrorsByClass: make(map[string]int64, len(Classes)),
		Status:        map[string]int64{},
	}
	if cfg.Method != "" {
		r.Method = strings.ToUpper(cfg.Method)
	}
	hist := newHist()
	raw, failed := newHist(), newHist()
	var st loopStats
	var stopped bool
	for _, l := range loops {
		hist.Merge(l.hist)
		failed.Merge(l.fhist)
		if l.raw != nil {
			raw.Merge(l.raw)
		}
		for code, n := range l.st.status {
			st.status[code] += n
		}
		for c, n := range l.st.errs {
			st.errs[c] += n
		}
		st.responses += l.st.responses
		st.non2xx += l.st.non2xx
		st.sent += l.st.sent
		st.connects += l.st.connects
		st.connectErrors += l.st.connectErrors
		st.bytesRead += l.st.bytesRead
		st.bytesWritten += l.st.bytesWritten
		st.clamped += l.st.clamped
		st.failedRec += l.st.failedRec
		st.unfinished += l.st.unfinished
		st.unexpected += l.st.unexpected
		st.peakOpen += l.st.peakOpen
		st.lagMax = max(st.lagMax, l.st.lagMax)
		st.scheduled += l.st.scheduled
		stopped = stopped || l.stopped
	}
	var errs int64
	for c, n := range st.errs {
		r.ErrorsByClass[Classes[c]] = n
		errs += n
	}
	ok, e4, e5 := st.okAndStatusErrors()
	r.ErrorsByClass[ClassHTTP4xx], r.ErrorsByClass[ClassHTTP5xx] = e4, e5
	for code, n := range st.status {
		if n > 0 {
			r.Status[statusKey(code)] = n
		}
	}
	r.Interrupted = stopped
	r.Unfinished = st.unfinished
	if st.unfinished > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d requests were unanswered when the window ended; each is in the latency histogram with the time it had waited (a lower bound), none in requests or errors", st.unfinished))
	}
	r.Responses = st.responses
	r.OK = ok
	r.Requests = st.responses + errs
	r.Non2xx = st.non2xx
	r.Errors = errs + e4 + e5
	if r.Requests > 0 {
		r.ErrorRate = float64(r.Errors) / float64(r.Requests)
	}
	r.FailedRecorded = st.failedRec
	if failed.TotalCount() > 0 {
		f := latencyOf(failed)
		r.LatencyFailed = &f
	}
	r.Sent = st.sent
	r.Connects = st.connects
	r.ConnectErrors = st.connectErrors
	r.PeakConns = st.peakOpen
	r.UnexpectedData = st.unexpected
	r.BytesRead = &st.bytesRead
	r.BytesWritten = &st.bytesWritten
	if s := elapsed.Seconds(); s > 0 {
		r.RPS = float64(ok) / s
	}
	r.Latency = latencyOf(hist)
	r.Histogram = hist
	if t.model == OpenLoop {
		u := latencyOf(raw)
		r.LatencyUncorrected = &u
		rate := cfg.Rate
		achieved := 0.0
		if s := elapsed.Seconds(); s > 0 {
			achieved = float64(st.sent) / s
		}
		met := float64(st.sent) >= 0.99*float64(st.scheduled)-1
		sched := st.scheduled
		r.RateTarget, r.RateAchieved, r.RateMet, r.Scheduled = &rate, &achieved, &met, &sched
		r.SendLagMaxMs = ms(float64(st.lagMax) / 1e6)
		if !met {
			r.Notes = append(r.Notes, fmt.Sprintf("rate not met: %d of %d scheduled requests sent (%.0f/s of %.0f/s); the server or the connection cap (%d) could not keep up",
				st.sent, st.scheduled, achieved, rate, t.maxConn))
		}
	}
	if st.unexpected > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d times the server sent bytes with no request outstanding (connection replaced; a framing bug in the server?)", st.unexpected))
	}
	if st.clamped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d latencies above %v were recorded as %v", st.clamped, time.Duration(histMaxUs)*time.Microsecond, time.Duration(histMaxUs)*time.Microsecond))
	}
	return r
}
