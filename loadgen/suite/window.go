package suite

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Windows. In a closed loop with c connections and a latency T, a window
// of k·T (after a warm-up of at least T, so that it starts in steady state)
// measures L = rps × mean latency ≈ c·(k + ½)/(k + 1): the requests still
// in flight at its end count as lower bounds of about T/2. L ≥ 0.9 c needs
// k ≥ 4; windowFactor 5 leaves a margin.
const (
	windowFactor = 5
	// maxWindow caps one measurement's window; a point whose latency
	// needs more is flagged by the gate instead (L < 0.9 c).
	maxWindow = 25 * time.Second
	// maxLengthenings caps how often one row's window is lengthened (each
	// time its repetition is measured again); lengthenTarget is the
	// shortfall of L ÷ c a lengthened window aims at (L ≈ 0.95 c, a margin
	// over the gate's 0.9), and lengthenMinGrowth the least it grows by.
	maxLengthenings   = 3
	lengthenTarget    = 0.05
	lengthenMinGrowth = 1.5
	// maxWarmup caps the warm-up (at least the expected latency).
	maxWarmup = 8 * time.Second
	// maxHeadlineWindow: a headline row whose window is longer than this
	// keeps the base repetitions (six or more would not fit the budget).
	maxHeadlineWindow = 6 * time.Second
	// calibrationGuessMs stands in for the /cpu cost before calibration
	// measures it (for the plan only).
	calibrationGuessMs = 1.0
	// longRow: a row whose window is at least this long keeps two
	// repetitions (the budget's cut; its note says so).
	longRow = 10 * time.Second
)

// The base window serves headline rows; every other row gets these
// shares of the base warm-up and window (the budget's cut, said in the
// results' notes).
const (
	otherWarmupShare  = 0.6
	otherMeasureShare = 2.0 / 3
)

// Per-measurement costs besides the window, for the plan: sampling,
// settling, the engine's set-up and tear-down; starting a twin and a
// stack (a JVM, a Django import).
var (
	overheadPerMeasurement = 200 * time.Millisecond
	startTwin              = 200 * time.Millisecond
	startStack             = 3 * time.Second
	idleMeasurement        = 2 * time.Second
)

// expectedLatency is the latency a closed-loop point should show on cfg:
// c ÷ its Little bound (0 where there is none).
func (r *runner) expectedLatency(cfg catalog.Config, p catalog.Point) time.Duration {
	cpus := r.o.ServerCPUs
	if p.ServerCPUs > 0 {
		cpus, _ = r.serverCPUs(p)
	}
	b, _ := LittleBound(cfg, p, r.cpuMs, len(parseCPUList(cpus)))
	c := float64(p.Conns * max(p.Pipeline, 1))
	if b == nil || *b <= 0 || c == 0 {
		return 0
	}
	return time.Duration(c / *b * float64(time.Second))
}

// windowFor is a point's warm-up and window on cfg: the base ones,
// lengthened to windowFactor × the expected latency (capped at maxWindow).
func (r *runner) windowFor(sc catalog.Scenario, cfg catalog.Config, p catalog.Point) Window {
	w := Window{Warmup: r.o.Warmup, Measure: r.o.Measure}
	if sc.Kind != catalog.KindLoad {
		return w
	}
	if sc.Window > 0 && !r.o.Quick {
		w.Measure = min(w.Measure, sc.Window)
		w.Warmup = min(w.Warmup, sc.Window/3)
	}
	if !r.o.Quick && !sc.IsHeadlineRow(cfg.Name, p) {
		w.Warmup = time.Duration(float64(w.Warmup) * otherWarmupShare)
		w.Measure = time.Duration(float64(w.Measure) * otherMeasureShare)
	}
	t := r.expectedLatency(cfg, p)
	w.Warmup = max(w.Warmup, min(t, maxWarmup))
	w.Measure = max(w.Measure, min(windowFactor*t, maxWindow))
	if r.o.Quick {
		// -quick is a smoke run: a shorter cap, and the gate flags what
		// it leaves too short.
		w.Measure = min(w.Measure, 2*time.Second)
		w.Warmup = min(w.Warmup, time.Second)
	}
	return w
}

// lengthen returns a longer window for a row whose repetition with
// window w measured throughput rps and L ÷ c = lc at concurrency c. In a
// closed loop whose latency T barely varies the connections run in step,
// each completes whole cycles, and the requests in flight at the end count
// as lower bounds, so L ÷ c ≈ 1 − a·T/W for a window W; the measured
// shortfall 1 − lc gives a, and the window that brings the shortfall to
// lengthenTarget is W·(1 − lc)/lengthenTarget. It grows by at least
// lengthenMinGrowth and at least to windowFactor·T, and never past maxWindow
// (or the -quick cap); a result no longer than w means it cannot grow.
func (r *runner) lengthen(w Window, c, rps, lc float64) Window {
	limit := maxWindow
	if r.o.Quick {
		limit = 2 * time.Second
	}
	t := maxWindow
	if rps > 0 {
		t = time.Duration(c / rps * float64(time.Second))
	}
	want := time.Duration(float64(w.Measure) * max((1-lc)/lengthenTarget, lengthenMinGrowth))
	want = max(want, windowFactor*t)
	return Window{Warmup: max(w.Warmup, min(t, maxWarmup)), Measure: min(want, limit)}
}

// plan is the run's schedule: every measurement with its window, the
// expected wall time, and what was spent so far, for an ETA that holds
// from the start.
type plan struct {
	measurements int
	headline     int // of which on headline rows, beyond the base count
	total        time.Duration
	extra        time.Duration // the headline rows' repetitions beyond the base ones
	byScenario   map[string]time.Duration
	order        []string
	long         []string // rows whose window was lengthened
	budget       time.Duration
	doneTime     time.Duration // planned time of the measurements done
	notInstalled []string      // real stacks whose requirements are missing
}

func appendOnce(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// headlineExpectedReps: a headline row needs at least 6 repetitions for a
// bootstrap interval (results.BootstrapMinReps) and usually settles there.
const headlineExpectedReps = 6

func (r *runner) makePlan(scs []catalog.Scenario) *plan {
	pl := &plan{byScenario: map[string]time.Duration{}, budget: r.o.Budget}
	pl.total += 2 * time.Second // the dependency, the calibration
	for _, sc := range scs {
		var t time.Duration
		for _, p := range r.points(sc) {
			for _, c := range r.configs(sc) {
				if !sc.Runs(c.Name, p) {
					continue
				}
				per := idleMeasurement
				if sc.Kind == catalog.KindOutbound {
					// the wait, the interpreter's start, and about 2 ms to
					// start each thread of a thread-per-call client
					per = time.Duration(p.Ms)*time.Millisecond + time.Second + time.Duration(p.Clients)*2*time.Millisecond
				}
				if sc.Kind == catalog.KindLoad {
					w := r.windowFor(sc, c, p)
					per = w.Warmup + w.Measure + overheadPerMeasurement
					if w.Measure > r.o.Measure {
						pl.long = append(pl.long, fmt.Sprintf("%s %s %s: %s", sc.Name, c.Name, p.Label, w.Measure))
					}
				}
				start := startTwin
				if c.Kind == catalog.KindStack {
					if procman.CheckIn(r.root, c) != nil {
						pl.notInstalled = appendOnce(pl.notInstalled, c.Name)
						continue
					}
					start = startStack
				}
				reps := r.repsFor(sc, c, p)
				if r.o.PlanOnly {
					w := r.windowFor(sc, c, p)
					head := ""
					if sc.IsHeadlineRow(c.Name, p) {
						head = ", headline"
					}
					r.logf("  %s %s %s: %d × (%s warm-up + %s)%s", sc.Name, c.Name, p.Label, reps, w.Warmup.Round(time.Millisecond), w.Measure.Round(time.Millisecond), head)
				}
				pl.measurements += reps
				t += start + time.Duration(reps)*per
				if !r.o.Quick && sc.IsHeadlineRow(c.Name, p) && per <= maxHeadlineWindow+overheadPerMeasurement && reps < headlineExpectedReps {
					n := headlineExpectedReps - reps
					pl.headline += n
					pl.measurements += n
					pl.extra += time.Duration(n) * per
					t += time.Duration(n) * per
				}
			}
		}
		pl.byScenario[sc.Name] = t
		pl.order = append(pl.order, sc.Name)
		pl.total += t
	}
	return pl
}

// print writes the plan: the measurements, the expected time per scenario,
// and the budget.
func (pl *plan) print(logf func(string, ...any), o Options) {
	var parts []string
	for _, n := range pl.order {
		parts = append(parts, fmt.Sprintf("%s %s", n, pl.byScenario[n].Round(time.Second)))
	}
	logf("plan: %d measurements (up to %d base repetitions per point, %d more on headline points), about %s: %s",
		pl.measurements, o.Reps, pl.headline, pl.total.Round(time.Second), strings.Join(parts, ", "))
	logf("plan: windows %s after a %s warm-up, lengthened to %d× the expected latency where it is long (%d rows); budget %s",
		o.Measure, o.Warmup, windowFactor, len(pl.long), pl.budget)
	if len(pl.notInstalled) > 0 {
		logf("plan: not installed, their rows will say so: %s (scripts/install-stacks.sh)", strings.Join(pl.notInstalled, ", "))
	}
	if o.Quick {
		logf("plan: -quick measures the twins only, one repetition each")
	}
	if pl.total > pl.budget {
		logf("plan: over the budget by %s: headline points stop adding repetitions when it runs out", (pl.total - pl.budget).Round(time.Second))
	}
}

// notes are the plan's lines for results.json (the report's options).
func (pl *plan) notes(o Options) []string {
	out := []string{fmt.Sprintf("plan: %d measurements, about %s against a budget of %s; base window %s after a %s warm-up; a point whose expected latency T is long gets a window of %d×T (at most %s) and a warm-up of T (at most %s), so that L ≥ 0.9 c",
		pl.measurements, pl.total.Round(time.Second), pl.budget, o.Measure, o.Warmup, windowFactor, maxWindow, maxWarmup)}
	if !o.Quick {
		out = append(out, fmt.Sprintf("headline rows (the ones a verdict reads) repeat until the 95 %% interval of their median is within ±5 %% or %d repetitions, budget permitting, with the base window; other rows keep %d repetitions (2 where the window is %s or more; 2 for idle connections) with %.0f %% of the base warm-up and %.0f %% of the base window; real stacks are never headline rows",
			results.HeadlineMaxReps, o.Reps, longRow, 100*otherWarmupShare, 100*otherMeasureShare))
	} else {
		out = append(out, "-quick: the twins only (no real stacks), one repetition, the quick points")
	}
	if len(pl.notInstalled) > 0 {
		out = append(out, "real stacks not installed: "+strings.Join(pl.notInstalled, ", "))
	}
	if len(pl.long) > 0 {
		sort.Strings(pl.long)
		out = append(out, "lengthened windows: "+strings.Join(pl.long, "; "))
	}
	return out
}

// spent records a finished measurement's planned time.
func (pl *plan) spent(_ string, w Window) {
	pl.doneTime += w.Warmup + w.Measure + overheadPerMeasurement
}

// started records a server start's planned time.
func (pl *plan) started(c catalog.Config, _ time.Duration) {
	if c.Kind == catalog.KindStack {
		pl.doneTime += startStack
	} else {
		pl.doneTime += startTwin
	}
}

// eta is the time left: the plan's remaining time, scaled by how the run
// has kept to the plan so far.
func (pl *plan) eta(elapsed time.Duration, done int) string {
	left := pl.total - pl.doneTime
	// Headline rows that need more repetitions than planned, and windows
	// lengthened on the way, spend the plan faster than it counts down:
	// never say less than the measurements left at the plan's average.
	if n := pl.measurements - done; n > 0 && pl.measurements > 0 {
		left = max(left, time.Duration(n)*(pl.total/time.Duration(pl.measurements)))
	}
	if left < 0 {
		left = 0
	}
	if pl.doneTime > 10*time.Second && elapsed > 0 {
		scale := float64(elapsed) / float64(pl.doneTime)
		scale = min(max(scale, 0.5), 2)
		left = time.Duration(float64(left) * scale)
	}
	return left.Round(time.Second).String()
}

// affords reports whether one more measurement of window w fits the budget
// with what the plan still has to do.
func (pl *plan) affords(elapsed time.Duration, w Window) bool {
	left := pl.total - pl.doneTime - pl.extra
	if left < 0 {
		left = 0
	}
	return elapsed+left+w.Warmup+w.Measure <= pl.budget
}
