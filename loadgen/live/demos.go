package live

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"
)

// DemoStatus is the scripted demo that runs or ran last, as the page shows it.
type DemoStatus struct {
	ID       string             `json:"id"`
	Claim    int                `json:"claim"`
	Title    string             `json:"title"`
	Sentence string             `json:"sentence"` // the claim, as the seed says it
	State    string             `json:"state"`    // running, done, failed, cancelled
	Phase    string             `json:"phase"`    // what runs now
	Seconds  int                `json:"seconds"`
	StartT   float64            `json:"start_t"` // session seconds when the load started
	EndT     float64            `json:"end_t"`
	Result   string             `json:"result,omitempty"` // the measured number, in words
	Values   map[string]float64 `json:"values,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// demo is one scripted demo: the panes it sets, and how it turns the
// seconds it measured into the claim's number.
type demo struct {
	id, title, sentence string
	claim               int
	panes               []PaneSettings
	// sequential runs the panes' load one at a time (CPU-bound demos,
	// where side by side they would share the cores).
	sequential bool
	measure    func(m measured) (string, map[string]float64)
}

// measured holds what a demo measured: each pane's seconds under load,
// the first second of each run left out (connections opening, queues
// filling), and the canary's p99 over the whole load phase.
type measured struct {
	pts [][]Point
	// canaryP99 is each pane's canary p99 (ms) over the demo's load, from
	// the canary run's own histogram, where requests still unanswered at
	// the end count with the time they had waited (NaN: no canary).
	canaryP99 []float64
}

// canary is pane i's canary p99 over the demo.
func (m measured) canary(i int) float64 { return m.canaryP99[i] }

// median is the median of f over pane i's seconds (NaN if none).
func (m measured) median(i int, f func(Point) (float64, bool)) float64 {
	var v []float64
	for _, p := range m.pts[i] {
		if x, ok := f(p); ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func rps(p Point) (float64, bool)     { return p.RPS, true }
func threads(p Point) (float64, bool) { return float64(p.Threads), true }
func rss(p Point) (float64, bool)     { return p.RSSMiB, true }
func p50(p Point) (float64, bool)     { return deref(p.P50) }
func ctxsw(p Point) (float64, bool)   { return deref(p.CtxPerReq) }
func deref(v *float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return *v, true
}

// ratio is a/b, NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func ioPane(config string, ms, conns int, canary bool) PaneSettings {
	return PaneSettings{Config: config, Route: RouteIO, Ms: ms, Conns: conns, Canary: canary}
}

func cpuPane(config, cpus string) PaneSettings {
	return PaneSettings{Config: config, Route: RouteCPU, Work: 10_000, Conns: 16, CPUs: cpus}
}

// demos are the scripted demos, one per claim that a short live run can show.
var demos = []demo{
	{
		id: "1", claim: 1, title: "sequential vs concurrent fetches",
		sentence: "Fetching 3 URLs one after another took 1.02 s; fetching them concurrently took 0.12 s.",
		panes: []PaneSettings{
			{Config: "eventloop-async", Route: RouteFanSeq, Calls: 3, Ms: 100, Conns: 10},
			{Config: "eventloop-async", Route: RouteFanPar, Calls: 3, Ms: 100, Conns: 10},
		},
		measure: func(m measured) (string, map[string]float64) {
			seq, par := m.median(0, p50), m.median(1, p50)
			r := ratio(seq, par)
			return fmt.Sprintf("3 calls of 100 ms: one after another p50 %s, concurrently %s: %.1f× faster (the sum against the largest wait).",
				fmtMs(seq), fmtMs(par), r), map[string]float64{"seq_p50_ms": seq, "par_p50_ms": par, "ratio": r}
		},
	},
	{
		id: "2", claim: 2, title: "two 50 ms queries",
		sentence: "Two 50 ms database queries take 100 ms synchronously and 50 ms asynchronously.",
		panes: []PaneSettings{
			{Config: "eventloop-async", Route: RouteFanSeq, Calls: 2, Ms: 50, Conns: 10},
			{Config: "eventloop-async", Route: RouteFanPar, Calls: 2, Ms: 50, Conns: 10},
		},
		measure: func(m measured) (string, map[string]float64) {
			seq, par := m.median(0, p50), m.median(1, p50)
			return fmt.Sprintf("p50 one after another %s, concurrently %s.", fmtMs(seq), fmtMs(par)),
				map[string]float64{"seq_p50_ms": seq, "par_p50_ms": par}
		},
	},
	{
		id: "4", claim: 4, title: "a blocking call starves the loop",
		sentence: "One blocking call inside an async handler blocks the whole event loop and degrades every other request on it.",
		panes:    []PaneSettings{ioPane("eventloop-inline", 50, 100, true), ioPane("eventloop-async", 50, 100, true)},
		measure: func(m measured) (string, map[string]float64) {
			ci, ca := m.canary(0), m.canary(1)
			ri, ra := m.median(0, rps), m.median(1, rps)
			return fmt.Sprintf("Bystander (canary) p99: %s with the blocking call inline against %s with async (%.0f×); throughput %.0f against %.0f req/s (Little's bound for one blocked loop: 1 ÷ 50 ms = 20 req/s).",
					fmtMs(ci), fmtMs(ca), ratio(ci, ca), ri, ra),
				map[string]float64{"inline_canary_p99_ms": ci, "async_canary_p99_ms": ca, "inline_rps": ri, "async_rps": ra}
		},
	},
	{
		id: "5", claim: 5, title: "a thread pool keeps the loop responsive",
		sentence: "Offloading blocking work to a thread pool keeps the loop responsive.",
		panes:    []PaneSettings{ioPane("eventloop-pool", 50, 100, true), ioPane("eventloop-async", 50, 100, true)},
		measure: func(m measured) (string, map[string]float64) {
			cp, ca := m.canary(0), m.canary(1)
			rp := m.median(0, rps)
			return fmt.Sprintf("Canary p99 %s with the pool against %s with async; the pool's throughput %.0f req/s against its bound of 40 ÷ 50 ms = 800 req/s.",
					fmtMs(cp), fmtMs(ca), rp),
				map[string]float64{"pool_canary_p99_ms": cp, "async_canary_p99_ms": ca, "pool_rps": rp}
		},
	},
	{
		id: "6", claim: 6, title: "memory per connection",
		sentence: "Each OS thread costs significant memory, so thread-per-request hits the C10k wall.",
		panes:    []PaneSettings{ioPane("blocking-os", 100, 1000, false), ioPane("eventloop-async", 100, 1000, false)},
		measure: func(m measured) (string, map[string]float64) {
			to, ta := m.median(0, threads), m.median(1, threads)
			mo, ma := m.median(0, rss), m.median(1, rss)
			return fmt.Sprintf("At 1000 connections: thread-per-request %.0f threads, %.0f MiB; event loop %.0f threads, %.0f MiB.", to, mo, ta, ma),
				map[string]float64{"os_threads": to, "async_threads": ta, "os_rss_mib": mo, "async_rss_mib": ma}
		},
	},
	{
		id: "7", claim: 7, title: "context switches per request",
		sentence: "Many threads add context-switch overhead.",
		panes:    []PaneSettings{ioPane("blocking-os", 100, 1000, false), ioPane("eventloop-async", 100, 1000, false)},
		measure: func(m measured) (string, map[string]float64) {
			co, ca := m.median(0, ctxsw), m.median(1, ctxsw)
			return fmt.Sprintf("Context switches per request: %.2f thread-per-request against %.2f event loop.", co, ca),
				map[string]float64{"os_ctx_per_req": co, "async_ctx_per_req": ca}
		},
	},
	{
		id: "8", claim: 8, title: "one loop, a thousand waiting connections",
		sentence: "One event-loop thread handles thousands of concurrent I/O-bound connections.",
		panes:    []PaneSettings{ioPane("blocking-os", 100, 1000, false), ioPane("eventloop-async", 100, 1000, false)},
		measure: func(m measured) (string, map[string]float64) {
			ro, ra := m.median(0, rps), m.median(1, rps)
			ta := m.median(1, threads)
			return fmt.Sprintf("c=1000, 100 ms waits: the loop serves %.0f req/s (%.0f %% of Little's bound 1000 ÷ 100 ms = 10000) on %.0f threads; thread-per-request (200 threads) %.0f req/s (bound 2000).",
					ra, ra/100, ta, ro),
				map[string]float64{"async_rps": ra, "async_threads": ta, "os_rps": ro, "bound_rps": 10000}
		},
	},
	{
		id: "9", claim: 9, title: "workers give parallelism", sequential: true,
		sentence: "Worker processes give true parallelism for CPU-bound work.",
		panes:    []PaneSettings{cpuPane("prefork-1", "all"), cpuPane("prefork-2", "all")},
		measure: func(m measured) (string, map[string]float64) {
			r1, r2 := m.median(0, rps), m.median(1, rps)
			return fmt.Sprintf("/cpu on every core, one at a time: 2 workers %.0f req/s = %.2f× 1 worker (%.0f req/s); the load generator shares the cores.", r2, ratio(r2, r1), r1),
				map[string]float64{"prefork1_rps": r1, "prefork2_rps": r2, "ratio": ratio(r2, r1)}
		},
	},
	{
		id: "12", claim: 12, title: "one core: async does not speed up CPU work", sequential: true,
		sentence: "Concurrency is not parallelism: on one core, async does not speed up CPU-bound work.",
		panes:    []PaneSettings{cpuPane("eventloop-async", ""), cpuPane("blocking-goroutine", ""), cpuPane("prefork-1", "")},
		measure: func(m measured) (string, map[string]float64) {
			a, g, w := m.median(0, rps), m.median(1, rps), m.median(2, rps)
			lo, hi := min(a, g, w), max(a, g, w)
			spread := (hi/lo - 1) * 100
			return fmt.Sprintf("/cpu on one core: event loop %.0f, goroutines %.0f, one worker process %.0f req/s: within %.0f %% of each other.", a, g, w, spread),
				map[string]float64{"async_rps": a, "goroutine_rps": g, "prefork1_rps": w, "spread_pct": spread}
		},
	},
}

func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

type demoInfo struct {
	ID       string `json:"id"`
	Claim    int    `json:"claim"`
	Title    string `json:"title"`
	Sentence string `json:"sentence"`
}

func demoInfos() []demoInfo {
	var out []demoInfo
	for _, d := range demos {
		out = append(out, demoInfo{d.id, d.claim, d.title, d.sentence})
	}
	return out
}

func demoByID(id string) (demo, bool) {
	for _, d := range demos {
		if d.id == id {
			return d, true
		}
	}
	return demo{}, false
}

// Demo lengths the page may ask for.
const (
	minDemoSeconds = 4
	maxDemoSeconds = 120
)

// postDemo starts a demo: {"id": "4", "seconds": 10}. It answers at once;
// the demo's progress and result come as "demo" events.
func (s *Server) postDemo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID      string `json:"id"`
		Seconds int    `json:"seconds"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	d, ok := demoByID(body.ID)
	if !ok {
		httpError(w, http.StatusNotFound, "no demo %q", body.ID)
		return
	}
	secs := body.Seconds
	if secs == 0 {
		secs = s.o.DemoSeconds
	}
	if secs < minDemoSeconds || secs > maxDemoSeconds {
		httpError(w, http.StatusBadRequest, "seconds must be in [%d, %d]", minDemoSeconds, maxDemoSeconds)
		return
	}
	s.cancelDemo()
	ctx, cancel := context.WithCancel(s.sess.ctx)
	done := make(chan struct{})
	s.demoMu.Lock()
	s.demoCancel, s.demoDone = cancel, done
	s.demoMu.Unlock()
	go func() {
		defer close(done)
		s.runDemo(ctx, d, secs)
	}()
	writeJSON(w, map[string]any{"id": d.id, "seconds": secs})
}

// cancelDemo stops a running demo and waits for it.
func (s *Server) cancelDemo() {
	s.demoMu.Lock()
	cancel, done := s.demoCancel, s.demoDone
	s.demoCancel, s.demoDone = nil, nil
	s.demoMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// runDemo sets the demo's panes, runs the load for secs, and measures.
func (s *Server) runDemo(ctx context.Context, d demo, secs int) {
	sess := s.sess
	st := &DemoStatus{ID: d.id, Claim: d.claim, Title: d.title, Sentence: d.sentence, State: "running", Seconds: secs, Phase: "starting the configurations"}
	publish := func() {
		sess.mu.Lock()
		c := *st
		sess.demo = &c
		sess.mu.Unlock()
		sess.hub.send("demo", c)
		sess.broadcastState()
	}
	fail := func(state string, err error) {
		st.State, st.Error = state, err.Error()
		publish()
	}
	publish()
	sets := slices.Clone(d.panes)
	for i := range sets {
		sets[i].Load = false
	}
	if err := sess.apply(sets); err != nil {
		fail("failed", err)
		return
	}
	now := func() float64 { return time.Since(sess.start).Seconds() }
	wait := func(dur time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(dur):
			return true
		}
	}
	st.StartT = now()
	if d.sequential {
		each := time.Duration(secs) * time.Second / time.Duration(len(sets))
		for i := range sets {
			st.Phase = fmt.Sprintf("load on pane %d (%s) only", i+1, sets[i].Config)
			publish()
			sess.setLoad(map[int]bool{i: true})
			if !wait(each) {
				sess.stopLoads(false)
				fail("cancelled", ctx.Err())
				return
			}
		}
	} else {
		on := map[int]bool{}
		for i := range sets {
			on[i] = true
		}
		st.Phase = "load on every pane"
		publish()
		sess.setLoad(on)
		if !wait(time.Duration(secs) * time.Second) {
			sess.stopLoads(false)
			fail("cancelled", ctx.Err())
			return
		}
	}
	st.EndT = now()
	// The last interval lands up to a second after the load stops.
	sess.stopLoads(false)
	wait(300 * time.Millisecond)
	m := measured{pts: make([][]Point, len(sets)), canaryP99: make([]float64, len(sets))}
	sess.mu.Lock()
	for _, p := range sess.points {
		if p.T >= st.StartT && p.Load && p.RunS > 1 && p.Pane < len(sets) {
			m.pts[p.Pane] = append(m.pts[p.Pane], p)
		}
	}
	for i := range m.canaryP99 {
		m.canaryP99[i] = math.NaN()
		if !sets[i].Canary || i >= len(sess.panes) {
			continue
		}
		if r := sess.panes[i].lastCanaryRun(); r != nil && r.Histogram != nil && r.Histogram.TotalCount() > 0 {
			m.canaryP99[i] = float64(r.Histogram.ValueAtQuantile(99)) / 1000
		}
		// A canary that got no answer at all has only its per-second
		// lower bounds ("waiting at least this long"): take the largest.
		for _, p := range m.pts[i] {
			if p.CanaryP99 != nil && (math.IsNaN(m.canaryP99[i]) || (p.CanaryStalled && *p.CanaryP99 > m.canaryP99[i])) {
				m.canaryP99[i] = *p.CanaryP99
			}
		}
	}
	sess.mu.Unlock()
	st.Result, st.Values = d.measure(m)
	for k, v := range st.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(st.Values, k) // JSON has no NaN
		}
	}
	st.State, st.Phase = "done", ""
	publish()
	sess.logf("demo %s (claim %d): %s", d.id, d.claim, st.Result)
}
