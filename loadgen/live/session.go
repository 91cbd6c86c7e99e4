package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/engine"
)

// Point is one pane's second: what the page charts and the session export
// holds. Latencies are in milliseconds; a nil field was not measured.
type Point struct {
	T         float64  `json:"t"`    // seconds since the session started
	Pane      int      `json:"pane"` // 0-based
	Config    string   `json:"config"`
	Load      bool     `json:"load"`  // load ran during this second
	RunS      int      `json:"run_s"` // seconds since this pane's load started (1 = the first)
	RPS       float64  `json:"rps"`   // 2xx/3xx answers per second
	P50       *float64 `json:"p50_ms"`
	P99       *float64 `json:"p99_ms"`
	CanaryP99 *float64 `json:"canary_p99_ms"`
	// CanaryStalled: no canary request was answered for over a second, and
	// CanaryP99 is how long the canary has waited: a lower bound.
	CanaryStalled bool     `json:"canary_stalled,omitempty"`
	Errors        int64    `json:"errors"` // failed requests and non-2xx answers in this second
	Threads       int      `json:"threads"`
	RSSMiB        float64  `json:"rss_mib"`
	CPUPct        float64  `json:"cpu_pct"` // of one core, for the whole server tree
	CtxPerReq     *float64 `json:"ctx_per_req"`
	BoundRPS      *float64 `json:"bound_rps"` // Little's law: in flight ÷ wait
	FloorMs       *float64 `json:"floor_ms"`  // the wait: no request can be faster
}

// stallAfter is how long the canary may go unanswered before its
// per-second p99 becomes the lower bound "waiting at least this long".
const stallAfter = 1200 * time.Millisecond

// maxPoints bounds the session's memory: four panes for about 1.4 hours.
const maxPoints = 20_000

// session is the lab behind the page: the panes, their processes and load,
// and the recorded points. Its exported behaviour is through Server.
type session struct {
	o      *Options
	lookup func(string) (catalog.Config, bool)
	start  time.Time
	hub    *hub
	ctx    context.Context // ends when the session closes

	applyMu sync.Mutex // serializes apply, demos and close

	mu     sync.Mutex // guards the fields below
	panes  []*pane
	points []Point
	dep    Process
	demo   *DemoStatus
	closed bool
}

// pane is one configuration on the page. Its process, load and canary are
// started and stopped only under session.applyMu; its collector goroutine
// is the only one that emits its points.
type pane struct {
	s    *session
	idx  int
	set  PaneSettings   // guarded by s.mu
	cfg  catalog.Config // effective configuration (handler applied)
	key  string         // what a change of restarts the process
	proc Process

	status, errMsg string // guarded by s.mu

	collectStop context.CancelFunc
	collectDone chan struct{}
	loadStop    context.CancelFunc
	loadDone    chan struct{}
	ivs         chan interval

	cmu       sync.Mutex
	canary    *hdrhistogram.Histogram // pending canary latencies (µs), drained by each point
	canaryP99 float64                 // the latest drained canary p99 (ms)
	canaryAt  time.Time               // when it was drained
	// canaryStart is when the running canary started (zero: none runs),
	// canaryDone when it last got answers.
	canaryStart, canaryDone time.Time
	// canaryRun is the last finished canary run's result: its histogram
	// holds the requests still unanswered at the end as lower bounds.
	canaryRun *engine.Result

	// owned by the collector goroutine
	runS     int
	prev     procstat.Snapshot
	prevTime time.Time
}

func (s *session) broadcastState() {
	s.hub.send("state", s.state())
}

type paneState struct {
	Idx      int          `json:"idx"`
	Settings PaneSettings `json:"settings"`
	Config   string       `json:"config"` // the effective configuration
	Model    string       `json:"model"`
	Style    string       `json:"style"`
	Twin     string       `json:"twin"`
	Status   string       `json:"status"` // starting, ready, error
	Error    string       `json:"error,omitempty"`
	BoundRPS *float64     `json:"bound_rps"`
	FloorMs  *float64     `json:"floor_ms"`
}

type stateMsg struct {
	Panes    []paneState `json:"panes"`
	Demo     *DemoStatus `json:"demo"`
	MaxConns int         `json:"max_conns"`
	Elapsed  float64     `json:"elapsed"`
}

func (s *session) state() stateMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := stateMsg{MaxConns: s.o.MaxConns, Demo: s.demo, Elapsed: time.Since(s.start).Seconds()}
	for _, p := range s.panes {
		ps := paneState{Idx: p.idx, Settings: p.set, Config: p.cfg.Name, Model: p.cfg.Model, Style: p.cfg.Style,
			Twin: p.cfg.Twin, Status: p.status, Error: p.errMsg}
		if b, ok := littleBound(p.set, p.cfg); ok {
			ps.BoundRPS = &b
			f := float64(p.set.waitMs())
			ps.FloorMs = &f
		}
		m.Panes = append(m.Panes, ps)
	}
	return m
}

// apply makes the panes match sets: it starts, restarts or stops processes
// (a change of configuration, handler style or CPUs restarts one) and load.
func (s *session) apply(sets []PaneSettings) error {
	if len(sets) < 1 || len(sets) > MaxPanes {
		return fmt.Errorf("want 1 to %d panes, got %d", MaxPanes, len(sets))
	}
	total := 0
	for i := range sets {
		if err := sets[i].normalize(s.lookup); err != nil {
			return fmt.Errorf("pane %d: %w", i+1, err)
		}
		total += sets[i].Conns
		if sets[i].Canary {
			total += canaryConn
		}
	}
	if total > s.o.MaxConns {
		return fmt.Errorf("%d connections in all exceed the cap of %d (one process holds every pane's connections; the nofile cap is %d)",
			total, s.o.MaxConns, engine.NofileCap())
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.ctx.Err() != nil {
		return errors.New("the session is closing")
	}
	if err := s.ensureDependency(); err != nil {
		return err
	}
	var errs []error
	for i, set := range sets {
		cfg, _ := s.lookup(set.Config)
		cfg = effective(cfg, set.Handler)
		key := cfg.Name + "|" + strings.Join(cfg.Args, " ") + "|" + set.CPUs
		s.mu.Lock()
		var p *pane
		if i < len(s.panes) {
			p = s.panes[i]
		}
		s.mu.Unlock()
		if p != nil && p.key == key && p.proc != nil {
			p.stopLoad()
			s.mu.Lock()
			p.set = set
			s.mu.Unlock()
			p.startLoad()
			continue
		}
		if p != nil {
			if err := p.close(); err != nil {
				errs = append(errs, err)
			}
		}
		p = &pane{s: s, idx: i, set: set, cfg: cfg, key: key, status: "starting", ivs: make(chan interval, 4)}
		s.mu.Lock()
		if i < len(s.panes) {
			s.panes[i] = p
		} else {
			s.panes = append(s.panes, p)
		}
		s.mu.Unlock()
		s.broadcastState()
		s.logf("pane %d: starting %s", i+1, cfg.Name)
		if err := p.startProcess(); err != nil {
			s.mu.Lock()
			p.status, p.errMsg = "error", err.Error()
			s.mu.Unlock()
			s.logf("pane %d: %v", i+1, err)
			errs = append(errs, fmt.Errorf("pane %d: %w", i+1, err))
			continue
		}
		s.mu.Lock()
		p.status = "ready"
		s.mu.Unlock()
		p.startLoad()
	}
	s.mu.Lock()
	extra := s.panes[len(sets):]
	s.panes = s.panes[:len(sets)]
	s.mu.Unlock()
	for _, p := range extra {
		if err := p.close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.broadcastState()
	return errors.Join(errs...)
}

// setLoad turns the load of the listed panes on and every other pane's off,
// keeping their processes (demos that run configurations one at a time).
func (s *session) setLoad(on map[int]bool) { s.setLoads(on, false) }

// setLoads is setLoad; quiet also turns every canary off.
func (s *session) setLoads(on map[int]bool, quiet bool) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	panes := append([]*pane(nil), s.panes...)
	s.mu.Unlock()
	for _, p := range panes {
		p.stopLoad()
		s.mu.Lock()
		p.set.Load = on[p.idx]
		if quiet {
			p.set.Canary = false
		}
		s.mu.Unlock()
		p.startLoad()
	}
	s.broadcastState()
}

// stopLoads stops every pane's load (with quiet, the canaries too);
// processes stay up.
func (s *session) stopLoads(quiet bool) { s.setLoads(nil, quiet) }

func (s *session) ensureDependency() error {
	s.mu.Lock()
	dep := s.dep
	s.mu.Unlock()
	if dep != nil || len(s.o.Targets) > 0 {
		return nil
	}
	s.logf("starting the fan-out dependency")
	// The process lives as long as the session (s.ctx), not the request.
	d, err := s.o.Launcher.Start(s.ctx, procman.Spec{Config: catalog.Dependency, CPUs: s.o.LoadCPUs})
	if err != nil {
		return fmt.Errorf("dependency: %w", err)
	}
	s.mu.Lock()
	s.dep = d
	s.mu.Unlock()
	return nil
}

func (p *pane) startProcess() error {
	s := p.s
	spec := procman.Spec{Config: p.cfg}
	if u, ok := s.o.Targets[p.set.Config]; ok {
		if p.set.Handler != "" {
			return fmt.Errorf("%s is an external target: its handler style cannot be changed here", p.set.Config)
		}
		spec.URL = u
	} else {
		spec.CPUs = s.o.ServerCPUs
		if p.set.CPUs == "all" {
			spec.CPUs = s.o.AllCPUs
		}
		s.mu.Lock()
		if s.dep != nil {
			spec.Dependency = s.dep.Addr()
		}
		s.mu.Unlock()
	}
	// The process lives as long as the session (s.ctx), not the request.
	proc, err := s.o.Launcher.Start(s.ctx, spec)
	if err != nil {
		return err
	}
	p.proc = proc
	cctx, cancel := context.WithCancel(s.ctx)
	p.collectStop, p.collectDone = cancel, make(chan struct{})
	go p.collect(cctx)
	return nil
}

// startLoad starts the load and the canary the settings ask for (under applyMu).
func (p *pane) startLoad() {
	s := p.s
	s.mu.Lock()
	set := p.set
	s.mu.Unlock()
	if p.proc == nil || (!set.Load && !set.Canary) {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	p.loadStop, p.loadDone = cancel, make(chan struct{})
	var wg sync.WaitGroup
	base := p.proc.BaseURL()
	if set.Load {
		cfg := engine.Config{URL: base + set.target(), Conns: set.Conns, Duration: s.o.MaxRun, Rate: set.Rate}
		if set.Rate > 0 {
			cfg.Conns, cfg.MaxConns = 1, set.Conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runLoad(ctx, cfg, func(iv interval) {
				select {
				case p.ivs <- iv:
				case <-ctx.Done():
				}
			})
		}()
	}
	if set.Canary {
		cfg := engine.Config{URL: base + "/plaintext", Conns: canaryConn, MaxConns: canaryConn, Rate: catalog.CanaryRate,
			Duration: s.o.MaxRun, Loops: 1}
		p.cmu.Lock()
		p.canaryStart, p.canaryDone = time.Now(), time.Time{}
		p.cmu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := runLoad(ctx, cfg, func(iv interval) {
				if iv.Hist == nil || iv.Hist.TotalCount() == 0 {
					return
				}
				p.cmu.Lock()
				if p.canary == nil {
					p.canary = iv.Hist
				} else {
					p.canary.Merge(iv.Hist)
				}
				p.canaryDone = time.Now()
				p.cmu.Unlock()
			})
			p.cmu.Lock()
			p.canaryStart = time.Time{}
			p.canaryRun = res
			p.cmu.Unlock()
		}()
	}
	go func() { wg.Wait(); close(p.loadDone) }()
}

// stopLoad stops the load and the canary and waits for them (under applyMu).
func (p *pane) stopLoad() {
	if p.loadStop == nil {
		return
	}
	p.loadStop()
	<-p.loadDone
	p.loadStop, p.loadDone = nil, nil
}

// lastCanaryRun is the result of the pane's last finished canary run.
func (p *pane) lastCanaryRun() *engine.Result {
	p.cmu.Lock()
	defer p.cmu.Unlock()
	return p.canaryRun
}

// close stops everything of the pane and returns an error if a process was left.
func (p *pane) close() error {
	p.stopLoad()
	if p.collectStop != nil {
		p.collectStop()
		<-p.collectDone
		p.collectStop = nil
	}
	if p.proc == nil {
		return nil
	}
	err := p.proc.Stop()
	p.proc = nil
	if err != nil {
		return fmt.Errorf("pane %d (%s): %w", p.idx+1, p.cfg.Name, err)
	}
	return nil
}

// collect emits one point per load interval, or one a second while no
// load runs. It owns p.runS, p.prev and p.prevTime.
func (p *pane) collect(ctx context.Context) {
	defer close(p.collectDone)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case iv := <-p.ivs:
			if iv.Err != nil {
				p.s.logf("pane %d: %v", p.idx+1, iv.Err)
				continue
			}
			p.emit(&iv)
			last = time.Now()
		case <-tick.C:
			if time.Since(last) > 1500*time.Millisecond {
				p.emit(nil)
				last = time.Now()
			}
		}
	}
}

func fp(v float64) *float64 { return &v }

func (p *pane) emit(iv *interval) {
	s := p.s
	now := time.Now()
	s.mu.Lock()
	set := p.set
	s.mu.Unlock()
	pt := Point{T: math.Round(now.Sub(s.start).Seconds()*1000) / 1000, Pane: p.idx, Config: p.cfg.Name}
	var reqs int64
	if iv != nil {
		p.runS++
		pt.Load, pt.RunS = true, p.runS
		if d := iv.Dur.Seconds(); d > 0 {
			pt.RPS = float64(iv.OK) / d
		}
		if iv.Hist != nil && iv.Hist.TotalCount() > 0 {
			pt.P50 = fp(float64(iv.Hist.ValueAtQuantile(50)) / 1000)
			pt.P99 = fp(float64(iv.Hist.ValueAtQuantile(99)) / 1000)
		}
		pt.Errors = iv.Errors
		reqs = iv.OK + iv.Errors
		if b, ok := littleBound(set, p.cfg); ok {
			pt.BoundRPS = fp(b)
			pt.FloorMs = fp(float64(set.waitMs()))
		}
	} else {
		p.runS = 0
	}
	// The canary's seconds tick on their own clock: a point takes the
	// canary seconds that ended since the last point, or else repeats the
	// latest one if it is recent.
	p.cmu.Lock()
	if p.canary != nil && p.canary.TotalCount() > 0 {
		p.canaryP99 = float64(p.canary.ValueAtQuantile(99)) / 1000
		p.canaryAt = now
	}
	p.canary = nil
	since := p.canaryDone
	if since.IsZero() {
		since = p.canaryStart
	}
	switch {
	case !p.canaryStart.IsZero() && now.Sub(since) > stallAfter:
		// No canary answer for over a second at 50 requests a second:
		// its requests are stuck (a blocked loop). The oldest has waited
		// at least this long: a lower bound, not a percentile.
		pt.CanaryP99 = fp(math.Round(now.Sub(since).Seconds() * 1000))
		pt.CanaryStalled = true
	case !p.canaryAt.IsZero() && now.Sub(p.canaryAt) < 2*time.Second:
		pt.CanaryP99 = fp(p.canaryP99)
	}
	p.cmu.Unlock()
	if snap, err := p.proc.Sample(); err == nil {
		pt.Threads = snap.Threads
		pt.RSSMiB = math.Round(float64(snap.RSSBytes)/(1<<20)*10) / 10
		if !p.prevTime.IsZero() {
			wall := now.Sub(p.prevTime).Seconds()
			cpu := (snap.CPUUserS + snap.CPUSysS) - (p.prev.CPUUserS + p.prev.CPUSysS)
			if wall > 0 {
				pt.CPUPct = math.Round(cpu/wall*1000) / 10
			}
			if reqs > 0 {
				ctx := (snap.CtxVoluntary + snap.CtxInvoluntary) - (p.prev.CtxVoluntary + p.prev.CtxInvoluntary)
				pt.CtxPerReq = fp(math.Round(float64(ctx)/float64(reqs)*1000) / 1000)
			}
		}
		p.prev, p.prevTime = snap, now
	}
	s.mu.Lock()
	if len(s.points) >= maxPoints {
		s.points = append(s.points[:0], s.points[len(s.points)-maxPoints/2:]...)
	}
	s.points = append(s.points, pt)
	s.mu.Unlock()
	s.hub.send("point", pt)
}

func (s *session) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s.o.Log != nil {
		fmt.Fprintf(s.o.Log, "live: %s\n", msg)
	}
	s.hub.send("log", msg)
}

// close stops every pane and the dependency, and returns an error naming
// any process that was left (and then killed).
func (s *session) close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	panes := s.panes
	s.panes = nil
	dep := s.dep
	s.dep = nil
	s.closed = true
	s.mu.Unlock()
	var errs []error
	for _, p := range panes {
		if err := p.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if dep != nil {
		if err := dep.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("dependency: %w", err))
		}
	}
	return errors.Join(errs...)
}

// export is the session's JSON: its points and the panes as they are now.
func (s *session) export() ([]byte, error) {
	st := s.state()
	s.mu.Lock()
	pts := append([]Point(nil), s.points...)
	s.mu.Unlock()
	return json.MarshalIndent(struct {
		Started time.Time `json:"started"`
		State   stateMsg  `json:"state"`
		Points  []Point   `json:"points"`
	}{s.start, st, pts}, "", " ")
}
