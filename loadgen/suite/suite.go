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
	"math"
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
	// Warmup and Measure are the base warm-up and window of a point. A
	// point whose expected latency is long gets a longer window (window.go),
	// so that its measured concurrency L reaches 0.9 c.
	Warmup  time.Duration
	Measure time.Duration
	// Budget bounds the run's planned time: headline points stop adding
	// repetitions when the plan would pass it (default 20 min, -quick 90 s).
	Budget time.Duration
	// PlanOnly prints the plan and returns without measuring.
	PlanOnly bool
	Command  string    // the command line, recorded for reproduction
	Progress io.Writer // progress lines; nil for none
	// Measurer, when set, replaces the local engine run of a load point
	// (swarm mode: a distributed run). It gets the full URL, the point and
	// the window, and returns the repetition; the suite still samples the
	// server and runs the canary.
	Measurer Measurer
}

// Measurer measures one repetition of a load point at url (the point's
// target included) with the given window.
type Measurer func(ctx context.Context, url string, p catalog.Point, w Window) (results.Rep, error)

// Window is one measurement's warm-up and measured window.
type Window struct {
	Warmup, Measure time.Duration
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
		o.Measure = 1500 * time.Millisecond
		if o.Quick {
			o.Measure = 600 * time.Millisecond
		}
	}
	if o.Budget <= 0 {
		// make bench's goal is 20 min, set-up and report included; the plan
		// underestimates re-measured rows and slow stack starts by about a
		// fifth, so headline rows stop adding repetitions earlier.
		o.Budget = 16 * time.Minute
		if o.Quick {
			o.Budget = 90 * time.Second
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
	o       Options
	root    string // repository root: where stacks run from
	file    *results.File
	dep     string          // dependency host:port
	ceiling map[int]float64 // pipeline depth → the load generator's ceiling
	cpuMs   float64
	started time.Time
	done    int // measurements finished
	plan    *plan
	// windows holds a row's window where the first repetition showed that
	// the planned one was too short for its latency (key: scenario, config,
	// label).
	windows map[string]Window
	// lengthened counts, per row (same key), how often its window was
	// lengthened (at most maxLengthenings).
	lengthened map[string]int

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
	r := &runner{o: o, started: time.Now(), root: repoRoot(o.BinDir), windows: map[string]Window{}, lengthened: map[string]int{}}
	r.file = &results.File{
		Schema:      results.SchemaVersion,
		Environment: collectEnv(o, nofile),
		Options: results.Options{Quick: o.Quick, Reps: o.Reps, WarmupS: o.Warmup.Seconds(), MeasureS: o.Measure.Seconds(),
			Scenarios: names(scs), Command: o.Command},
	}
	defer r.stopAll()

	// The plan: every measurement, its window, and the time it should take.
	r.cpuMs = calibrationGuessMs
	r.plan = r.makePlan(scs)
	r.plan.print(r.logf, o)
	r.file.Environment.Notes = append(r.file.Environment.Notes, r.plan.notes(o)...)
	if o.PlanOnly {
		return r.file, nil
	}
	if !external {
		dep, err := r.startServer(ctx, catalog.Dependency, o.LoadCPUs, "")
		if err != nil {
			return nil, fmt.Errorf("dependency: %w", err)
		}
		r.track(dep)
		r.dep = dep.Addr
		r.file.Environment.Affinity["dependency"] = o.LoadCPUs
		r.file.Environment.Notes = append(r.file.Environment.Notes, fmt.Sprintf(
			"the fan-out dependency charges an emulated WAN handshake of %d ms to the first request of every new connection (-emulate-connect-ms): pooled calls pay it once per connection, conn=new calls on every call",
			catalog.EmulatedHandshakeMs))
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
		if err := writeResults(o.OutDir, r.file); err != nil {
			return r.file, err
		}
	}
	r.file.Complete = ctx.Err() == nil
	r.file.WallS = time.Since(r.started).Seconds()
	r.file.Failures = r.failures
	if err := writeResults(o.OutDir, r.file); err != nil {
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

// writeResults writes DIR/results.json atomically, readable by everyone
// (0644): results are meant to be shared (issue 18).
func writeResults(dir string, f *results.File) error {
	path := filepath.Join(dir, "results.json")
	if err := results.WriteAtomic(path, f); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
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
	// In parallel: each tree's grace period (a JVM's shutdown) is its own.
	var wg sync.WaitGroup
	for _, s := range srvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := s.stop(5 * time.Second); err != nil {
				r.logf("suite: %v", err)
			}
			if d := time.Since(t0); d > 2*time.Second {
				r.logf("suite: stopping %s took %s", s.cfg.Name, d.Round(100*time.Millisecond))
			}
		}()
	}
	wg.Wait()
}

// config looks a configuration up; a name the catalog lacks (a stack whose
// configuration is not there) becomes a stack that is not installed.
func config(name string) catalog.Config {
	if c, ok := catalog.ConfigByName(name); ok {
		return c
	}
	return catalog.Config{Name: name, Kind: catalog.KindStack, Requires: []string{"a catalog configuration named " + name}}
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
		if len(r.o.Targets) > 0 && r.o.Targets[n] == "" {
			continue
		}
		c := config(n)
		if r.o.Quick && c.Kind == catalog.KindStack {
			continue // -quick measures the twins only (said in the results' notes)
		}
		out = append(out, c)
	}
	return out
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
// starts every configuration that runs it, then runs the repetitions
// interleaved across configurations (A B C A B C), then stops them all. A
// headline point's rows go on repeating, still interleaved, until their
// median is pinned down (results.NeedsMoreReps) or the budget says stop.
func (r *runner) runScenario(ctx context.Context, sc catalog.Scenario) results.Scenario {
	if sc.Kind == catalog.KindOutbound {
		return r.runOutbound(ctx, sc)
	}
	out := results.Scenario{Name: sc.Name, Title: sc.Title, Question: sc.Question, Claims: sc.Claims}
	cfgs := r.configs(sc)
	if len(cfgs) == 0 {
		out.Skipped = "no target for any of its configurations"
		return out
	}
	rows := map[string]*results.Row{}
	var order []string
	rowOf := func(cfg catalog.Config, p catalog.Point, cpus string, external bool) *results.Row {
		key := cfg.Name + "\x00" + p.Label
		row := rows[key]
		if row == nil {
			row = r.newRow(sc, cfg, p, cpus, external)
			rows[key] = row
			order = append(order, key)
		}
		return row
	}
	// Fresh servers for every point: the Go runtime keeps the threads and
	// the heap a busier point grew, so a server reused across points would
	// carry one point's footprint into the next one's threads and RSS.
	for _, p := range r.points(sc) {
		if ctx.Err() != nil {
			break
		}
		cpus, note := r.serverCPUs(p)
		var want []catalog.Config
		for _, c := range cfgs {
			if sc.Runs(c.Name, p) {
				want = append(want, c)
			}
		}
		if len(want) == 0 {
			continue
		}
		srvs := r.servers(ctx, sc, p, want, cpus, func(c catalog.Config, why string, notInstalled bool) {
			row := rowOf(c, p, cpus, len(r.o.Targets) > 0)
			if notInstalled {
				row.NotInstalled = why
			} else {
				row.Notes = append(row.Notes, why)
			}
		})
		active := func(srv *server, rep int) bool {
			row := rowOf(srv.cfg, p, cpus, srv.external())
			if row.Prevented != "" || srv.Exited() {
				return false
			}
			if rep < r.repsFor(sc, srv.cfg, p) {
				return true
			}
			return r.wantsMore(sc, p, row, rep)
		}
		for rep := 0; rep < results.HeadlineMaxReps && ctx.Err() == nil; rep++ {
			ran := false
			for _, srv := range srvs {
				if ctx.Err() != nil || !active(srv, rep) {
					continue
				}
				ran = true
				row := rowOf(srv.cfg, p, cpus, srv.external())
				if note != "" && len(row.Reps) == 0 && !containsStr(row.Notes, note) {
					row.Notes = append(row.Notes, note)
				}
				rp, w, err := r.measureRow(ctx, sc, srv, p, row)
				r.done++
				r.plan.spent(sc.Name, w)
				if err != nil {
					if errors.Is(err, errPrevented) {
						row.Prevented = err.Error()
					} else if ctx.Err() == nil {
						row.Notes = append(row.Notes, fmt.Sprintf("rep %d: %v", rep+1, err))
						r.failures = append(r.failures, fmt.Sprintf("%s %s %s rep %d: %v", sc.Name, srv.cfg.Name, p.Label, rep+1, err))
					}
					continue
				}
				row.Reps = append(row.Reps, rp)
				r.progress(sc, srv.cfg.Name, p, len(row.Reps), rp)
			}
			if !ran {
				break
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

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// repsFor is a row's base repetition count: the run's (or the scenario's
// own), and two for a row whose window is long (longRow).
func (r *runner) repsFor(sc catalog.Scenario, cfg catalog.Config, p catalog.Point) int {
	n := r.o.Reps
	if sc.Reps > 0 && !r.o.Quick {
		n = min(n, sc.Reps)
	}
	if w := r.windowFor(sc, cfg, p); w.Measure >= longRow && n > 2 {
		n = 2
	}
	return n
}

// wantsMore decides a headline row's next repetition: while its settle
// metric's median is not pinned down (results.NeedsMoreReps), unless the
// run is quick, the row's window is long (its extra repetitions would not
// fit), or the plan's budget is spent.
func (r *runner) wantsMore(sc catalog.Scenario, p catalog.Point, row *results.Row, rep int) bool {
	// Real stacks keep the base count: the budget goes to the twins'
	// headline rows.
	if r.o.Quick || !sc.IsHeadlineRow(row.Config, p) || len(row.Reps) < rep {
		return false
	}
	w := r.windowFor(sc, config(row.Config), p)
	if w.Warmup+w.Measure > maxHeadlineWindow {
		addNote(row, fmt.Sprintf("headline point kept at %d repetitions: its %s window is too long for more in the budget", len(row.Reps), w.Measure))
		return false
	}
	if !results.NeedsMoreReps(settleValues(sc, row)) {
		return false
	}
	if !r.plan.affords(time.Since(r.started), w) {
		addNote(row, fmt.Sprintf("headline point stopped at %d repetitions: the run's %s budget was spent", len(row.Reps), r.o.Budget))
		return false
	}
	return true
}

func addNote(row *results.Row, n string) {
	if !containsStr(row.Notes, n) {
		row.Notes = append(row.Notes, n)
	}
}

// settleValues are a row's per-repetition values of its scenario's settle
// metric.
func settleValues(sc catalog.Scenario, row *results.Row) []float64 {
	var xs []float64
	for _, rp := range row.Reps {
		switch sc.SettleMetric() {
		case catalog.SettleP50:
			xs = append(xs, rp.P50Ms)
		case catalog.SettleCanaryP99:
			var c engine.Result
			if len(rp.Canary) > 0 && json.Unmarshal(rp.Canary, &c) == nil && c.Latency.P99 != nil {
				xs = append(xs, *c.Latency.P99)
			}
		case catalog.SettleRSSPerConn:
			if ir := rp.Idle; ir != nil && ir.Held > 0 {
				xs = append(xs, float64(ir.RSSHeld-ir.RSSBefore)/float64(ir.Held))
			}
		default:
			xs = append(xs, rp.RPS)
		}
	}
	return xs
}

func (r *runner) progress(sc catalog.Scenario, cfg string, p catalog.Point, rep int, rp results.Rep) {
	what := fmt.Sprintf("%.0f rps, p99 %.1f ms, errors %d", rp.RPS, rp.P99Ms, rp.Errors)
	if rp.Idle != nil {
		what = fmt.Sprintf("held %d, rss %.1f MiB, probe p99 %.1f ms", rp.Idle.Held, float64(rp.Idle.RSSHeld)/(1<<20), rp.Idle.ProbeP99Ms)
	}
	r.logf("  [%d/%d] %s %s %s rep %d: %s (ETA %s)", r.done, r.plan.measurements, sc.Name, cfg, p.Label, rep, what, r.plan.eta(time.Since(r.started), r.done))
}

// servers starts (or, in external mode, reaches) the configurations. A
// configuration that cannot start costs its own rows, not the scenario's:
// report says why (notInstalled: its requirements are missing).
func (r *runner) servers(ctx context.Context, sc catalog.Scenario, p catalog.Point, cfgs []catalog.Config, cpus string,
	report func(c catalog.Config, why string, notInstalled bool)) []*server {
	var out []*server
	for _, c := range cfgs {
		if ctx.Err() != nil {
			break
		}
		if len(r.o.Targets) > 0 {
			s, err := reach(ctx, c, r.o.Targets[c.Name])
			if err != nil {
				r.failures = append(r.failures, fmt.Sprintf("target %s (%s): %v", c.Name, r.o.Targets[c.Name], err))
				report(c, "target: "+err.Error(), false)
				continue
			}
			out = append(out, s)
			continue
		}
		t0 := time.Now()
		s, err := r.startServer(ctx, c, cpus, r.dep)
		r.plan.started(c, time.Since(t0))
		if d := time.Since(t0); d > 3*time.Second && err == nil {
			r.logf("suite: starting %s took %s", c.Name, d.Round(100*time.Millisecond))
		}
		if err != nil {
			if isNotInstalled(err) {
				report(c, err.Error(), true)
				continue
			}
			if ctx.Err() == nil {
				r.failures = append(r.failures, fmt.Sprintf("%s %s: %v", sc.Name, c.Name, err))
				r.logf("suite: %s %s: did not start: %v", sc.Name, c.Name, err)
				report(c, "did not start: "+firstLine(err.Error()), false)
			}
			continue
		}
		r.track(s)
		out = append(out, s)
		r.file.Environment.Affinity[c.Name] = cpus
	}
	for _, s := range out {
		if c := s.cfg; c.Kind == catalog.KindStack {
			continue // /proc does not know a runtime's GOMAXPROCS, and stacks have no /stats
		}
		if st, err := s.Stats(ctx); err == nil && st.GOMAXPROCS > 0 {
			r.file.Environment.GOMAXPROCS[s.cfg.Name] = st.GOMAXPROCS
		}
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

var errPrevented = errors.New("prevented")

// ErrIncomplete is returned (wrapped) when the run finished but something
// in it failed: a dead target, a skipped scenario, a failed repetition. The
// results file and the report still hold everything that was measured.
var ErrIncomplete = errors.New("suite finished with failures")

// measureRow runs one repetition of a row with its window. When a
// closed-loop repetition shows L < 0.9 c and the cause is the window
// (results.LowLCause: not reconnects, refused connects or the load
// generator's turnaround), it lengthens the row's window from what it
// measured and measures that repetition again, up to maxLengthenings times
// per row, within maxWindow and the run's budget. A cause other than the
// window is left to the gate, which names it; no window would cure it.
func (r *runner) measureRow(ctx context.Context, sc catalog.Scenario, srv *server, p catalog.Point, row *results.Row) (results.Rep, Window, error) {
	key := sc.Name + "\x00" + srv.cfg.Name + "\x00" + p.Label
	w, ok := r.windows[key]
	if !ok {
		w = r.windowFor(sc, srv.cfg, p)
	}
	rp, err := r.measure(ctx, sc, srv, p, w)
	c := p.Conns * max(p.Pipeline, 1)
	for err == nil && sc.Kind == catalog.KindLoad && c > 0 && ctx.Err() == nil {
		l := rp.RPS * rp.MeanMs / 1000
		if l >= results.WindowLOverCMin*float64(c) {
			break
		}
		if flag, _ := results.LowLCause([]results.Rep{rp}, c); flag != results.FlagWindow {
			break // the gate names the cause; a longer window would not help
		}
		if r.lengthened[key] >= maxLengthenings {
			addNote(row, fmt.Sprintf("window lengthened %d times, the most allowed; L = %.1f of c = %d at %s", maxLengthenings, l, c, w.Measure))
			break
		}
		longer := r.lengthen(w, float64(c), rp.RPS, l/float64(c))
		if longer.Measure <= w.Measure {
			addNote(row, fmt.Sprintf("window %s is the longest allowed (cap %s); L = %.1f of c = %d", w.Measure, maxWindow, l, c))
			break
		}
		if !r.o.Quick && !r.plan.affords(time.Since(r.started), longer) {
			addNote(row, fmt.Sprintf("window not lengthened past %s: the run's %s budget was spent; L = %.1f of c = %d", w.Measure, r.o.Budget, l, c))
			break
		}
		r.lengthened[key]++
		r.windows[key] = longer
		addNote(row, fmt.Sprintf("window lengthened from %s to %s: a repetition's L = %.1f was under 0.9 c = %.1f (latency ≈ %s); it was measured again",
			w.Measure.Round(time.Millisecond), longer.Measure.Round(time.Millisecond), l, 0.9*float64(c), (time.Duration(float64(c)/math.Max(rp.RPS, 1e-9)*1e9)).Round(time.Millisecond)))
		r.plan.spent(sc.Name, w)
		w = longer
		rp, err = r.measure(ctx, sc, srv, p, w)
	}
	return rp, w, err
}

// measure runs one repetition of one (config, point) with window w.
func (r *runner) measure(ctx context.Context, sc catalog.Scenario, srv *server, p catalog.Point, w Window) (results.Rep, error) {
	if sc.Kind == catalog.KindIdle {
		return r.measureIdle(ctx, srv, p)
	}
	if sc.Kind == catalog.KindOutbound {
		return results.Rep{}, fmt.Errorf("%w: outbound scenarios run a client, not a server", errPrevented)
	}
	if err := engine.CheckConns(p.Conns + 64); err != nil {
		return results.Rep{}, fmt.Errorf("%w: %v", errPrevented, err)
	}
	sm := srv.Sample(ctx, w.Warmup)
	var canary *engine.Result
	var cwg sync.WaitGroup
	if sc.Canary {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			canary, _ = engine.Run(ctx, engine.Config{URL: srv.BaseURL + "/plaintext", Conns: 2, MaxConns: 64,
				Rate: catalog.CanaryRate, Warmup: w.Warmup, Duration: w.Measure, Timeout: 30 * time.Second}, nil)
		}()
	}
	var rp results.Rep
	var err error
	if r.o.Measurer != nil {
		rp, err = r.o.Measurer(ctx, srv.BaseURL+p.Target, p, w)
		cwg.Wait()
		if srvUse := sm.Finish(ctx); err == nil {
			rp.Server = sampleOf(srvUse)
		}
	} else {
		// The warm-up runs on the measurement's own connections (engine
		// Warmup): the measured window starts in steady state, not with a ramp.
		cfg := engine.Config{URL: srv.BaseURL + p.Target, Conns: p.Conns, Pipeline: max(p.Pipeline, 1), Timeout: 30 * time.Second,
			Warmup: w.Warmup, Duration: w.Measure}
		cpu0 := selfCPU()
		t0 := time.Now()
		var res *engine.Result
		res, err = engine.Run(ctx, cfg, nil)
		wall := time.Since(t0)
		cpu := selfCPU() - cpu0
		cwg.Wait()
		srvUse := sm.Finish(ctx)
		if err == nil {
			rp = repOf(res)
			rp.Server = sampleOf(srvUse)
			rp.LoadgenCPU = cpu.Seconds() / wall.Seconds() / float64(runtime.GOMAXPROCS(0))
		}
	}
	if err != nil {
		return results.Rep{}, err
	}
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
	if err := srv.WaitReady(ctx); err != nil {
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
		OK: res.OK, ErrorRate: res.ErrorRate, Unfinished: res.Unfinished, LoadgenCPUUsPerReq: v(res.LoadgenCPUUsPerRequest),
		P50Ms: v(res.Latency.P50), P90Ms: v(res.Latency.P90), P99Ms: v(res.Latency.P99), MaxMs: v(res.Latency.Max), MeanMs: v(res.Latency.Mean),
	}
	slim := *res
	slim.Histogram = nil
	rp.Engine, _ = json.Marshal(&slim)
	rp.IOBackend = res.IOBackend
	return rp
}

// measureIdle holds p.Idle connections, primed with one request each, and
// measures the server's memory and threads and a probe's latency meanwhile.
func (r *runner) measureIdle(ctx context.Context, srv *server, p catalog.Point) (results.Rep, error) {
	if err := engine.CheckConns(p.Idle + 64); err != nil {
		return results.Rep{}, fmt.Errorf("%w: %v", errPrevented, err)
	}
	before, err := srv.Snapshot(ctx)
	if err != nil {
		return results.Rep{}, err
	}
	t0 := time.Now()
	conns, err := holdIdle(ctx, srv.Addr, p.Target, p.Idle)
	ir := &results.IdleRep{Held: len(conns), RSSBefore: before.RSSBytes, OpenS: time.Since(t0).Seconds()}
	if err != nil {
		ir.Error = err.Error()
	}
	time.Sleep(200 * time.Millisecond) // let the server finish accepting before reading its memory
	held, serr := srv.Snapshot(ctx)
	if serr == nil {
		ir.RSSHeld, ir.ThreadsHeld = held.RSSBytes, held.Threads
	}
	ir.ProbeP50Ms, ir.ProbeP99Ms, err = probe(ctx, srv.Addr, p.Target, 100)
	if err != nil && ir.Error == "" {
		ir.Error = "probe: " + err.Error()
	}
	// Held is what is still open at the end of the hold, not what was opened.
	if open := stillOpen(conns); open < ir.Held {
		ir.ClosedByServer = ir.Held - open
		ir.Held = open
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
