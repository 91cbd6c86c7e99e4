// Package suite runs the scenario catalog end to end: it starts every server
// configuration a scenario needs (or reaches the ones it is given), pins
// servers and load to separate CPUs, warms up, measures with the fast engine,
// samples each server tree, runs the canary and the idle-connection holder,
// repeats, and writes DIR/results.json. Run owns every process it starts and
// stops them all before it returns, interrupted or not.
package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/limits"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/engine"
	"github.com/serverlab/lab/loadgen/results"
)

// Options configure a suite run. The zero value of each duration selects
// the default for the mode (full or -quick).
type Options struct {
	BinDir     string   // where make build put the binaries
	OutDir     string   // results.json goes here
	Quick      bool     // one repetition, short phases, fewer points
	Reps       int      // repetitions per measurement (default 3, quick 1)
	Scenarios  []string // names; empty runs the whole catalog
	ServerCPUs string   // taskset list for servers
	LoadCPUs   string   // taskset list of this process and the dependency
	// MachineCPUs are the CPUs the suite may hand out (its affinity before
	// it pinned itself to LoadCPUs); empty means ServerCPUs and LoadCPUs.
	MachineCPUs string
	Targets     map[string]string // external mode: config name → base URL
	Warmup      time.Duration
	Measure     time.Duration
	Command     string    // the command line, recorded for reproduction
	Progress    io.Writer // progress lines; nil for none
}

func (o *Options) defaults() {
	if o.Reps <= 0 {
		o.Reps = 3
		if o.Quick {
			o.Reps = 1
		}
	}
	if o.Warmup <= 0 {
		o.Warmup = 500 * time.Millisecond
		if o.Quick {
			o.Warmup = 200 * time.Millisecond
		}
	}
	if o.Measure <= 0 {
		o.Measure = 2 * time.Second
		if o.Quick {
			o.Measure = 600 * time.Millisecond
		}
	}
}

// DefaultCPUs splits the CPUs this process may use: the first half to the
// servers, the rest to the load (on 2 cores: server 0, load 1). With one
// CPU both get it, and the results say so.
func DefaultCPUs() (server, load string) {
	var set unixCPUSet
	cpus := set.allowed()
	if len(cpus) < 2 {
		l := cpuList(cpus)
		return l, l
	}
	half := len(cpus) / 2
	return cpuList(cpus[:half]), cpuList(cpus[half:])
}

// runner holds one run's state. It is used from the calling goroutine,
// except procs, which the interrupt path also reads under procsMu.
type runner struct {
	o        Options
	file     *results.File
	dep      string          // dependency host:port
	ceiling  map[int]float64 // pipeline depth → the load generator's ceiling
	cpuMs    float64
	started  time.Time
	done     int // measurements finished, for the ETA
	total    int
	measured time.Duration

	// failures are what went wrong without stopping the run (a dead
	// target, a skipped scenario, a failed repetition): Run reports them as
	// its error after writing everything it measured.
	failures []string

	procsMu sync.Mutex
	procs   []*server
}

// Run executes the suite and returns what it measured. The results file is
// rewritten atomically after every scenario, so an interrupted run leaves a
// valid, partial results.json (Complete false). Run returns ctx.Err() when
// interrupted, after stopping every process it started.
func Run(ctx context.Context, o Options) (*results.File, error) {
	o.defaults()
	scs, err := selectScenarios(o.Scenarios)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	external := len(o.Targets) > 0
	if !external {
		for _, b := range []string{"blocking", "eventloop", "prefork"} {
			if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
				return nil, fmt.Errorf("missing server binary %s (run make build first)", filepath.Join(o.BinDir, b))
			}
		}
	}
	nofile, _ := limits.RaiseNofile()
	r := &runner{o: o, started: time.Now()}
	r.file = &results.File{
		Schema:      results.SchemaVersion,
		Environment: collectEnv(o, nofile),
		Options: results.Options{Quick: o.Quick, Reps: o.Reps, WarmupS: o.Warmup.Seconds(), MeasureS: o.Measure.Seconds(),
			Scenarios: names(scs), Command: o.Command},
	}
	defer r.stopAll()

	for _, sc := range scs {
		r.total += r.measurements(sc)
	}
	if !external {
		dep, err := startServer(ctx, o.BinDir, catalog.Dependency, o.LoadCPUs, "")
		if err != nil {
			return nil, fmt.Errorf("dependency: %w", err)
		}
		r.track(dep)
		r.dep = dep.addr
		r.file.Environment.Affinity["dependency"] = o.LoadCPUs
	}
	r.calibrate(ctx)

	for i, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		r.logf("scenario %d/%d: %s (%s)", i+1, len(scs), sc.Name, sc.Title)
		res := r.runScenario(ctx, sc)
		r.file.Scenarios = append(r.file.Scenarios, res)
		r.file.WallS = time.Since(r.started).Seconds()
		if err := results.WriteAtomic(filepath.Join(o.OutDir, "results.json"), r.file); err != nil {
			return r.file, err
		}
	}
	r.file.Complete = ctx.Err() == nil
	r.file.WallS = time.Since(r.started).Seconds()
	r.file.Failures = r.failures
	if err := results.WriteAtomic(filepath.Join(o.OutDir, "results.json"), r.file); err != nil {
		return r.file, err
	}
	if ctx.Err() != nil {
		return r.file, ctx.Err()
	}
	if len(r.failures) > 0 {
		return r.file, fmt.Errorf("%w: %d failure(s), first: %s", ErrIncomplete, len(r.failures), r.failures[0])
	}
	return r.file, nil
}

func selectScenarios(want []string) ([]catalog.Scenario, error) {
	if len(want) == 0 {
		return catalog.Scenarios, nil
	}
	var out []catalog.Scenario
	for _, n := range want {
		sc, ok := catalog.ScenarioByName(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, catalog.Names())
		}
		out = append(out, sc)
	}
	return out, nil
}

func names(scs []catalog.Scenario) []string {
	var n []string
	for _, s := range scs {
		n = append(n, s.Name)
	}
	return n
}

func (r *runner) logf(format string, args ...any) {
	if r.o.Progress != nil {
		fmt.Fprintf(r.o.Progress, format+"\n", args...)
	}
}

func (r *runner) track(s *server) {
	r.procsMu.Lock()
	r.procs = append(r.procs, s)
	r.procsMu.Unlock()
}

// stopAll stops every process still running, dependency last.
func (r *runner) stopAll() {
	r.procsMu.Lock()
	procs := r.procs
	r.procs = nil
	r.procsMu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].stop(5 * time.Second); err != nil {
			r.logf("suite: %v", err)
		}
	}
}

func (r *runner) stopServers(srvs []*server) {
	r.procsMu.Lock()
	kept := r.procs[:0]
	for _, p := range r.procs {
		stopping := false
		for _, s := range srvs {
			stopping = stopping || s == p
		}
		if !stopping {
			kept = append(kept, p)
		}
	}
	r.procs = kept
	r.procsMu.Unlock()
	for _, s := range srvs {
		if err := s.stop(5 * time.Second); err != nil {
			r.logf("suite: %v", err)
		}
	}
}

// points returns the scenario's points for this run (-quick keeps fewer;
// external mode cannot change a target's CPUs and keeps single-CPU points).
func (r *runner) points(sc catalog.Scenario) []catalog.Point {
	var out []catalog.Point
	for _, p := range sc.Points {
		if r.o.Quick && len(sc.QuickPoints) > 0 && !contains(sc.QuickPoints, p.Label) {
			continue
		}
		if len(r.o.Targets) > 0 && p.ServerCPUs > 1 {
			continue
		}
		out = append(out, p)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// configs returns the scenario's configurations this run can reach.
func (r *runner) configs(sc catalog.Scenario) []catalog.Config {
	var out []catalog.Config
	for _, n := range sc.Configs {
		c, _ := catalog.ConfigByName(n)
		if len(r.o.Targets) > 0 && r.o.Targets[n] == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (r *runner) measurements(sc catalog.Scenario) int {
	n := 0
	for _, p := range r.points(sc) {
		for _, c := range r.configs(sc) {
			if sc.Runs(c.Name, p) {
				n += r.o.Reps
			}
		}
	}
	return n
}

// serverCPUs returns the taskset list for a point: the default server CPUs,
// or the first n allowed CPUs when the point asks for n.
func (r *runner) serverCPUs(p catalog.Point) (string, string) {
	if p.ServerCPUs == 0 {
		return r.o.ServerCPUs, ""
	}
	server := parseCPUList(r.o.ServerCPUs)
	if len(server) >= p.ServerCPUs {
		return cpuList(server[:p.ServerCPUs]), ""
	}
	all := parseCPUList(r.o.MachineCPUs)
	if len(all) == 0 {
		all = uniqueSorted(append(server, parseCPUList(r.o.LoadCPUs)...))
	}
	if len(all) < p.ServerCPUs {
		return cpuList(all), fmt.Sprintf("asked for %d server CPUs, the machine has %d", p.ServerCPUs, len(all))
	}
	cpus := cpuList(all[:p.ServerCPUs])
	return cpus, fmt.Sprintf("server CPUs %s overlap the load CPUs %s: this machine has %d", cpus, r.o.LoadCPUs, len(all))
}

// runScenario measures every (config, point) of sc. For each point it
// starts every configuration's server, then runs the repetitions
// interleaved across configurations (A B C A B C), then stops them all.
func (r *runner) runScenario(ctx context.Context, sc catalog.Scenario) results.Scenario {
	out := results.Scenario{Name: sc.Name, Title: sc.Title, Question: sc.Question, Claims: sc.Claims}
	cfgs := r.configs(sc)
	if len(cfgs) == 0 {
		out.Skipped = "no target for any of its configurations"
		return out
	}
	// Fresh servers for every point: the Go runtime keeps the threads and
	// the heap a busier point grew, so a server reused across points would
	// carry one point's footprint into the next one's threads and RSS.
	type group struct {
		cpus, note string
		points     []catalog.Point
	}
	var groups []*group
	for _, p := range r.points(sc) {
		cpus, note := r.serverCPUs(p)
		groups = append(groups, &group{cpus: cpus, note: note, points: []catalog.Point{p}})
	}
	rows := map[string]*results.Row{}
	var order []string
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		srvs, err := r.servers(ctx, cfgs, g.cpus)
		if err != nil || len(srvs) == 0 {
			if err == nil {
				err = errors.New("no configuration of it could be reached")
			}
			out.Skipped = err.Error()
			r.failures = append(r.failures, fmt.Sprintf("scenario %s skipped: %v", sc.Name, err))
			r.logf("suite: %s: %v", sc.Name, err)
			break
		}
		for rep := 0; rep < r.o.Reps && ctx.Err() == nil; rep++ {
			for _, p := range g.points {
				for _, srv := range srvs {
					if !sc.Runs(srv.cfg.Name, p) || ctx.Err() != nil {
						continue
					}
					key := srv.cfg.Name + "\x00" + p.Label
					row := rows[key]
					if row == nil {
						row = r.newRow(sc, srv, p, g.cpus)
						if g.note != "" {
							row.Notes = append(row.Notes, g.note)
						}
						rows[key] = row
						order = append(order, key)
					}
					if row.Prevented != "" {
						continue
					}
					t0 := time.Now()
					rp, err := r.measure(ctx, sc, srv, p)
					if err != nil {
						if errors.Is(err, errPrevented) {
							row.Prevented = err.Error()
						} else if ctx.Err() == nil {
							row.Notes = append(row.Notes, fmt.Sprintf("rep %d: %v", rep+1, err))
							r.failures = append(r.failures, fmt.Sprintf("%s %s %s rep %d: %v", sc.Name, srv.cfg.Name, p.Label, rep+1, err))
						}
						r.done++
						continue
					}
					row.Reps = append(row.Reps, rp)
					r.done++
					r.measured += time.Since(t0)
					r.progress(sc, srv.cfg.Name, p, rep, rp)
				}
			}
		}
		if len(r.o.Targets) == 0 {
			r.stopServers(srvs)
		}
	}
	for _, k := range order {
		row := rows[k]
		r.summarise(row)
		out.Rows = append(out.Rows, *row)
	}
	return out
}

func (r *runner) progress(sc catalog.Scenario, cfg string, p catalog.Point, rep int, rp results.Rep) {
	eta := "?"
	if r.done > 0 {
		left := time.Duration(float64(time.Since(r.started)) / float64(r.done) * float64(r.total-r.done))
		eta = left.Round(time.Second).String()
	}
	what := fmt.Sprintf("%.0f rps, p99 %.1f ms, errors %d", rp.RPS, rp.P99Ms, rp.Errors)
	if rp.Idle != nil {
		what = fmt.Sprintf("held %d, rss %.1f MiB, probe p99 %.1f ms", rp.Idle.Held, float64(rp.Idle.RSSHeld)/(1<<20), rp.Idle.ProbeP99Ms)
	}
	r.logf("  [%d/%d] %s %s %s rep %d/%d: %s (ETA %s)", r.done, r.total, sc.Name, cfg, p.Label, rep+1, r.o.Reps, what, eta)
}

// servers starts (or, in external mode, looks up) the configurations.
func (r *runner) servers(ctx context.Context, cfgs []catalog.Config, cpus string) ([]*server, error) {
	var out []*server
	for _, c := range cfgs {
		if len(r.o.Targets) > 0 {
			u := strings.TrimRight(r.o.Targets[c.Name], "/")
			pu, err := url.Parse(u)
			if err != nil || pu.Host == "" {
				return out, fmt.Errorf("target %s: bad URL %q", c.Name, u)
			}
			s := &server{cfg: c, baseURL: u, addr: pu.Host}
			if err := waitReady(ctx, u, 60*time.Second, nil); err != nil {
				// One dead target costs its own rows, not the scenario's.
				r.failures = append(r.failures, fmt.Sprintf("target %s (%s): %v", c.Name, u, err))
				continue
			}
			out = append(out, s)
			continue
		}
		s, err := startServer(ctx, r.o.BinDir, c, cpus, r.dep)
		if err != nil {
			r.stopServers(out)
			return nil, err
		}
		r.track(s)
		out = append(out, s)
		r.file.Environment.Affinity[c.Name] = cpus
	}
	for _, s := range out {
		if snap, err := s.snapshot(ctx); err == nil && snap.GOMAXPROCS > 0 {
			r.file.Environment.GOMAXPROCS[s.cfg.Name] = snap.GOMAXPROCS
		} else if s.cmd != nil {
			// /proc does not know GOMAXPROCS; ask the server.
			if st, err := (&server{baseURL: s.baseURL, cfg: s.cfg}).snapshot(ctx); err == nil {
				r.file.Environment.GOMAXPROCS[s.cfg.Name] = st.GOMAXPROCS
			}
		}
	}
	return out, nil
}

var errPrevented = errors.New("prevented")

// ErrIncomplete is returned (wrapped) when the run finished but something
// in it failed: a dead target, a skipped scenario, a failed repetition. The
// results file and the report still hold everything that was measured.
var ErrIncomplete = errors.New("suite finished with failures")

// measure runs one repetition of one (config, point).
func (r *runner) measure(ctx context.Context, sc catalog.Scenario, srv *server, p catalog.Point) (results.Rep, error) {
	if sc.Kind == catalog.KindIdle {
		return r.measureIdle(ctx, srv, p)
	}
	base := engine.Config{URL: srv.baseURL + p.Target, Conns: p.Conns, Pipeline: max(p.Pipeline, 1), Timeout: 30 * time.Second}
	if err := engine.CheckConns(p.Conns + 64); err != nil {
		return results.Rep{}, fmt.Errorf("%w: %v", errPrevented, err)
	}
	// The warm-up runs on the measurement's own connections (engine
	// Warmup): the measured window starts in steady state, not with a ramp.
	main := base
	main.Warmup, main.Duration = r.o.Warmup, r.o.Measure
	sm := startSampling(ctx, srv, r.o.Warmup)
	var canary *engine.Result
	var cwg sync.WaitGroup
	if sc.Canary {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			canary, _ = engine.Run(ctx, engine.Config{URL: srv.baseURL + "/plaintext", Conns: 2, MaxConns: 64,
				Rate: catalog.CanaryRate, Warmup: r.o.Warmup, Duration: r.o.Measure, Timeout: 30 * time.Second}, nil)
		}()
	}
	cpu0 := selfCPU()
	t0 := time.Now()
	res, err := engine.Run(ctx, main, nil)
	wall := time.Since(t0)
	cpu := selfCPU() - cpu0
	cwg.Wait()
	srvUse := sm.finish(ctx)
	if err != nil {
		return results.Rep{}, err
	}
	rp := repOf(res)
	rp.Server = srvUse
	rp.LoadgenCPU = cpu.Seconds() / wall.Seconds() / float64(runtime.GOMAXPROCS(0))
	if canary != nil {
		rp.Canary, _ = json.Marshal(canary)
	}
	// Let what this measurement left queued drain before the next one.
	if err := r.settle(ctx, srv); err != nil {
		return rp, err
	}
	return rp, nil
}

// settle waits until the server answers /plaintext again: after a load
// that left work queued (a blocked loop), the next measurement starts clean.
func (r *runner) settle(ctx context.Context, srv *server) error {
	if err := waitReady(ctx, srv.baseURL, 60*time.Second, srv.done); err != nil {
		return fmt.Errorf("server did not recover after the load: %w", err)
	}
	return nil
}

func repOf(res *engine.Result) results.Rep {
	v := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	rp := results.Rep{
		RPS: res.RPS, Requests: res.Requests, Errors: res.Errors, ErrorsBy: res.ErrorsByClass, Status: res.Status,
		P50Ms: v(res.Latency.P50), P90Ms: v(res.Latency.P90), P99Ms: v(res.Latency.P99), MaxMs: v(res.Latency.Max), MeanMs: v(res.Latency.Mean),
	}
	slim := *res
	slim.Histogram = nil
	rp.Engine, _ = json.Marshal(&slim)
	return rp
}

// measureIdle holds p.Idle connections, primed with one request each, and
// measures the server's memory and threads and a probe's latency meanwhile.
func (r *runner) measureIdle(ctx context.Context, srv *server, p catalog.Point) (results.Rep, error) {
	if err := engine.CheckConns(p.Idle + 64); err != nil {
		return results.Rep{}, fmt.Errorf("%w: %v", errPrevented, err)
	}
	runtime.GC()
	before, err := srv.snapshot(ctx)
	if err != nil {
		return results.Rep{}, err
	}
	t0 := time.Now()
	conns, err := holdIdle(ctx, srv.addr, p.Target, p.Idle)
	ir := &results.IdleRep{Held: len(conns), RSSBefore: before.RSSBytes, OpenS: time.Since(t0).Seconds()}
	if err != nil {
		ir.Error = err.Error()
	}
	time.Sleep(200 * time.Millisecond) // let the server finish accepting before reading its memory
	held, serr := srv.snapshot(ctx)
	if serr == nil {
		ir.RSSHeld, ir.ThreadsHeld = held.RSSBytes, held.Threads
	}
	ir.ProbeP50Ms, ir.ProbeP99Ms, err = probe(ctx, srv.addr, p.Target, 100)
	if err != nil && ir.Error == "" {
		ir.Error = "probe: " + err.Error()
	}
	rp := results.Rep{Idle: ir, P50Ms: ir.ProbeP50Ms, P99Ms: ir.ProbeP99Ms}
	rp.Server = results.ServerSample{RSSBefore: before.RSSBytes, RSSPeak: ir.RSSHeld, ThreadsPeak: ir.ThreadsHeld,
		FDsPeak: held.OpenFDs, Processes: held.Processes, Samples: 2}
	closeAll(conns)
	return rp, r.settle(ctx, srv)
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
