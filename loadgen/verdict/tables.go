package verdict

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// ---- the WSGI/ASGI 2×2 (claim 11) -----------------------------------------

// Cell is one cell of seed 000's "Django server stats" 2×2, measured on the
// code-x-server scenario. Sequential calls stand for sync code, gathered
// calls for async code; a thread-per-request server stands for a sync
// (WSGI) server, an event loop for an async (ASGI) one.
type Cell struct {
	Code, Server string // "sync" or "async"
	Config       string
	Label        string // the point: "calls=3 seq"
	Scenario     string // where the row is: "code-x-server"
	Real         bool   // a real stack (the Django cells), not a twin
	SeedSays     string // the seed's result for this cell: the code's style
	Row          *results.Row
	Missing      string // why the cell was not measured ("" when it was)
	Gated        string // why its row cannot decide (errors, a short window)

	// Slots is the configured concurrency cap at this point (threads, pool
	// threads, or the client's connections when nothing lower caps it), and
	// SlotKind names it.
	Slots    int
	SlotKind string
	// SumMs and MaxMs are the sum and the largest of the request's waits.
	SumMs, MaxMs float64
	// HoldMs is how long each slot was held per request: slots ÷ rps
	// (Little's law applied to the slots, which are all busy when c >
	// slots). Held for the sum of the waits: one wait at a time (sync);
	// for the largest: the waits overlapped (async).
	HoldMs results.Stat
	// Concurrency is the measured L = rps × mean latency: the requests in
	// the server, queued or served. In a closed loop it is about c by
	// construction, so it says how many waited for a slot, not how the
	// slots behaved.
	Concurrency results.Stat
	BehavesAs   string // "sync", "async" or "CPU-bound", computed
	Why         string // one line: the numbers behind BehavesAs
}

// Matches reports whether the computed behaviour is the seed's.
func (c Cell) Matches() bool {
	return c.Missing == "" && c.Gated == "" && strings.HasPrefix(c.BehavesAs, c.SeedSays)
}

// Cells computes the 2×2 from the code-x-server scenario, in the order
// (sync code, sync server), (async code, sync server), (sync code, async
// server), (async code, async server). The cells come from the catalog.
func Cells(f *results.File) []Cell {
	d := data{f}
	sc, ok := catalog.ScenarioByName("code-x-server")
	if !ok {
		return nil
	}
	var cells []Cell
	for _, cfgName := range sc.Configs {
		cfg, ok := catalog.ConfigByName(cfgName)
		if !ok || cfg.Kind == catalog.KindStack {
			continue // the real Django cells are RealCells (claim11.go)
		}
		for _, p := range d.points("code-x-server") {
			if !sc.Runs(cfgName, p) {
				continue
			}
			c := Cell{Config: cfgName, Label: p.Label, Code: "async", Server: "sync", Scenario: "code-x-server"}
			if p.Mode == "seq" {
				c.Code = "sync"
			}
			if isAsync(cfg) {
				c.Server = "async"
			}
			c.SeedSays = c.Code
			c.evaluate(d, cfg, p)
			cells = append(cells, c)
		}
	}
	rank := func(c Cell) int {
		r := 0
		if c.Server == "async" {
			r += 2
		}
		if c.Code == "async" {
			r++
		}
		return r
	}
	for i := 1; i < len(cells); i++ { // insertion sort: stable, tiny
		for j := i; j > 0 && rank(cells[j]) < rank(cells[j-1]); j-- {
			cells[j], cells[j-1] = cells[j-1], cells[j]
		}
	}
	return cells
}

func (c *Cell) evaluate(d data, cfg catalog.Config, p catalog.Point) {
	if r, err := d.row(c.Scenario, c.Config, c.Label); err == nil {
		p = r.Point // as measured: an older run may have used other connections
	}
	c.Slots = slots(cfg, p)
	switch cfg.Limit {
	case catalog.LimitThreads:
		c.SlotKind = "threads"
	case catalog.LimitPool:
		c.SlotKind = "pool threads"
	case catalog.LimitLoops:
		c.SlotKind = "loops"
	default:
		c.SlotKind = "connections"
	}
	c.MaxMs = float64(p.Ms)
	c.SumMs = float64(p.Ms)
	if p.Calls > 0 {
		c.SumMs = float64(p.Calls * p.Ms)
	}
	r, err := d.row(c.Scenario, c.Config, c.Label)
	if err != nil {
		c.Missing = err.Error()
		return
	}
	if err := usable(r); err != nil {
		c.Gated = err.Error()
	}
	c.Row = r
	c.Concurrency = r.Concurrency
	if r.RPS.Median <= 0 {
		c.Missing = fmt.Sprintf("%s %s at %s served nothing", c.Scenario, c.Config, c.Label)
		return
	}
	c.HoldMs = inverse(float64(c.Slots)*1000, r.RPS)
	hold := c.HoldMs.Median
	what := fmt.Sprintf("each of its %s %s held a request for %s ms", Int(c.Slots), c.SlotKind, Num(hold))
	if c.SlotKind == "connections" {
		what = fmt.Sprintf("each of its %s connections finished a request every %s ms", Int(c.Slots), Num(hold))
	}
	// A handler that makes its calls one after another holds its slot for
	// at least the sum of the waits. Held clearly less than that, the
	// waits must have overlapped; held that long or longer, the slot
	// behaved as sequential code would (or, with no slot cap, the CPU
	// set the pace).
	switch {
	case against(c.HoldMs, (1-CellTolerance)*c.SumMs) == Below:
		c.BehavesAs = "async"
		c.Why = what + fmt.Sprintf(", %s below the %s ms that the waits take one after another and %s the %s ms largest wait: the waits overlapped",
			Pct(1-hold/c.SumMs), Num(c.SumMs), approx(hold, c.MaxMs), Num(c.MaxMs))
	case against(c.HoldMs, (1-CellTolerance)*c.SumMs) == Straddles:
		c.BehavesAs = "undecided"
		c.Why = what + fmt.Sprintf(" (%s): the interval straddles %s of the %s ms sum, so overlap cannot be told from sequence",
			StatWith(c.HoldMs, "ms", Num), Pct(1-CellTolerance), Num(c.SumMs))
	case cfg.Limit == catalog.LimitNone && cpuBound(d, r, cfg):
		c.BehavesAs = "CPU-bound"
		c.Why = what + fmt.Sprintf(" with the CPU %s busy: the CPU, not the waits, set the pace", Pct(r.Server.CPUUtil.Median))
	default:
		c.BehavesAs = "sync"
		c.Why = what + fmt.Sprintf(", %s the %s ms sum of the waits: one wait at a time", approx(hold, c.SumMs), Num(c.SumMs))
	}
	if c.Gated != "" {
		c.Why += "; does not decide: " + c.Gated
	}
	if c.Concurrency.N > 0 && c.Concurrency.Median > float64(c.Slots)*(1+CellTolerance) {
		c.Why += fmt.Sprintf("; %s requests were in the server (rps × mean latency), so about %s waited for one of the %s %s",
			Num(c.Concurrency.Median), Num(c.Concurrency.Median-float64(c.Slots)), Int(c.Slots), c.SlotKind)
	}
}

// approx says how hold compares with target: "≈" within CellTolerance,
// else "X% above" or "X% below".
func approx(hold, target float64) string {
	if math.Abs(hold-target) <= CellTolerance*target {
		return "≈"
	}
	if hold > target {
		return Pct(hold/target-1) + " above"
	}
	return Pct(1-hold/target) + " below"
}

// cpuBound reports whether the row's server used at least CPUBoundUtil of
// the cores it could use.
func cpuBound(d data, r *results.Row, cfg catalog.Config) bool {
	cores := cpuCount(r.ServerCPUs)
	if cores == 0 && d.f != nil {
		cores = cpuCount(d.f.Environment.ServerCPUs)
	}
	if cfg.Parallelism > 0 && (cores == 0 || cfg.Parallelism < cores) {
		cores = cfg.Parallelism
	}
	if cores == 0 {
		cores = 1
	}
	return r.Server.CPUUtil.N > 0 && r.Server.CPUUtil.Median >= CPUBoundUtil*float64(cores)
}

// cpuCount counts the CPUs of a taskset list such as "0", "0-1" or "0,2-3".
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || b < a {
			return 0
		}
		n += b - a + 1
	}
	return n
}

// ---- the METRICS connection table (claim 10) ------------------------------

// Bracket is how much concurrency one configuration held, from the points
// tested: it held Held, and the next point tested, Failed, was not held.
// The true limit lies in [Held, Failed); with Failed 0 nothing above Held
// was tested (or failed).
type Bracket struct {
	Config   string
	Scenario string
	Held     int    // highest concurrency held (0: none)
	Failed   int    // lowest concurrency above Held not held (0: none)
	FailWhy  string // why Failed was not held
	// FailGated: Failed is a point whose window was too short for its
	// latency, so it may have been held after all: a verdict that rests
	// on Failed is inconclusive.
	FailGated bool
	Tested    int    // highest concurrency tried
	None      string // why nothing was tested ("" when something was)
}

// String reads like "≥ 1,000, < 5,000 (c=5000: p99 312 ms > 100 ms)".
func (b Bracket) String() string {
	switch {
	case b.None != "":
		return "not measured (" + b.None + ")"
	case b.Held == 0 && b.Failed > 0:
		return fmt.Sprintf("< %s (%s)", Int(b.Failed), b.FailWhy)
	case b.Failed > 0:
		return fmt.Sprintf("≥ %s, < %s (%s)", Int(b.Held), Int(b.Failed), b.FailWhy)
	default:
		return fmt.Sprintf("≥ %s (the most tested)", Int(b.Held))
	}
}

// Capacity is one configuration's active and idle brackets.
type Capacity struct {
	Config       string
	Active, Idle Bracket
}

// Capacities returns the brackets of every configuration in io-wait or
// idle-connections, in catalog order.
func Capacities(f *results.File) []Capacity {
	d := data{f}
	seen := map[string]bool{}
	var out []Capacity
	for _, scn := range []string{"io-wait", "idle-connections"} {
		for _, c := range d.configsOf(scn) {
			if seen[c] {
				continue
			}
			seen[c] = true
			out = append(out, Capacity{Config: c, Active: activeBracket(d, c), Idle: idleBracket(d, c)})
		}
	}
	return out
}

// activeBracket: io-wait points held with p99 ≤ P99WaitFactor × the wait
// and no errors in any repetition.
func activeBracket(d data, cfg string) Bracket {
	return activeIn(d, "io-wait", cfg)
}

// activeIn is activeBracket on any closed-loop scenario with a wait.
func activeIn(d data, scn, cfg string) Bracket {
	return bracket(d, scn, cfg, func(r *results.Row) string {
		limit := P99WaitFactor * float64(r.Point.Ms)
		if l := r.LOverCStat(); l != nil && l.Median < results.WindowLOverCMin {
			return gatedMark + r.Point.Label + ": " + r.Gate()
		}
		switch {
		case r.Errors.Max > 0:
			return fmt.Sprintf("%s: %s errors", r.Point.Label, Num(r.Errors.Max))
		case r.P99Ms.Median > limit:
			return fmt.Sprintf("%s: p99 %s ms > %s ms", r.Point.Label, Num(r.P99Ms.Median), Num(limit))
		}
		return ""
	})
}

// idleBracket: idle-connections points where every repetition held every
// connection and the probe's p99 stayed ≤ P99WaitFactor × the io-wait wait.
func idleBracket(d data, cfg string) Bracket {
	limit := P99WaitFactor * waitMs()
	return bracket(d, "idle-connections", cfg, func(r *results.Row) string {
		for _, rp := range r.Reps {
			if rp.Idle != nil && rp.Idle.Error != "" {
				return fmt.Sprintf("%s: %s", r.Point.Label, rp.Idle.Error)
			}
		}
		switch {
		case r.Idle == nil:
			return r.Point.Label + ": no idle measurement"
		case r.Idle.Held.Min < float64(r.Idle.Wanted):
			return fmt.Sprintf("%s: held %s of %s", r.Point.Label, Num(r.Idle.Held.Min), Int(r.Idle.Wanted))
		case r.Errors.Max > 0:
			return fmt.Sprintf("%s: %s errors", r.Point.Label, Num(r.Errors.Max))
		case r.Idle.ProbeP99Ms.Median > limit:
			return fmt.Sprintf("%s: probe p99 %s ms > %s ms", r.Point.Label, Num(r.Idle.ProbeP99Ms.Median), Num(limit))
		}
		return ""
	})
}

// gatedMark prefixes a point's failure that a gate, not the server, caused.
const gatedMark = "\x00gated:"

// bracket walks a configuration's points by ascending concurrency; fail
// returns why a measured row was not held ("" when it was).
func bracket(d data, scn, cfg string, fail func(*results.Row) string) Bracket {
	b := Bracket{Config: cfg, Scenario: scn}
	if _, err := d.scenario(scn); err != nil {
		b.None = err.Error()
		return b
	}
	rows := d.allRows(scn, cfg)
	if len(rows) == 0 {
		b.None = fmt.Sprintf("%s has no %s rows", scn, cfg)
		return b
	}
	type pt struct {
		c   int
		why string
	}
	var pts []pt
	for _, r := range rows {
		c := conc(r.Point)
		b.Tested = max(b.Tested, c)
		if _, err := d.row(scn, cfg, r.Point.Label); err != nil {
			why := err.Error()
			if r.Prevented != "" {
				why = r.Point.Label + ": prevented: " + r.Prevented
			}
			pts = append(pts, pt{c, why})
			continue
		}
		pts = append(pts, pt{c, fail(r)})
	}
	for _, p := range pts {
		if p.why == "" && p.c > b.Held {
			b.Held = p.c
		}
	}
	for _, p := range pts {
		if p.why != "" && p.c > b.Held && (b.Failed == 0 || p.c < b.Failed) {
			b.Failed, b.FailWhy = p.c, strings.TrimPrefix(p.why, gatedMark)
			b.FailGated = strings.HasPrefix(p.why, gatedMark)
		}
	}
	return b
}

// better returns the bracket with the higher Held.
func better(a, b Bracket) Bracket {
	if a.None != "" {
		return b
	}
	if b.None != "" || a.Held >= b.Held {
		return a
	}
	return b
}

// Fit is how a measured bracket compares with a seed's range.
type Fit string

const (
	FitWithin       Fit = "within the seed's range"
	FitAbove        Fit = "above the seed's range"
	FitBelow        Fit = "below the seed's range"
	FitInconclusive Fit = "inconclusive"
	FitUnmeasured   Fit = "not measured"
)

// MetricsRow is one row of seed 000's METRICS table against its stand-in.
type MetricsRow struct {
	Seed     string // the seed's row
	Lo, Hi   int    // the seed's range
	Approx   bool   // the seed wrote "~"
	SeedNote string // the seed's own qualifier
	StandIn  string // what the lab measured for it, in words
	Real     bool   // measured on the real thing (nginx), not a stand-in
	// StandInOnly: the row's real subject was not measured (outbound client
	// calls, real nginx); the stand-in's bracket is shown, its fit is in
	// Why, and the row does not decide (Outcome FitUnmeasured).
	StandInOnly bool
	Measured    Bracket
	Outcome     Fit
	Why         string // one line
}

// SeedRange formats the seed's range.
func (m MetricsRow) SeedRange() string {
	s := Int(m.Lo) + "–" + Int(m.Hi)
	if m.Approx {
		s = "~" + s
	}
	return s
}

// outboundScenario is the catalog's client-side scenario: one process
// holding N concurrent outbound calls (the seed's aiohttp and requests
// rows count outbound client connections, not a server's inbound ones).
func outboundScenario(d data) string {
	if d.f == nil {
		return ""
	}
	for _, s := range d.f.Scenarios {
		if sc, ok := catalog.ScenarioByName(s.Name); (ok && sc.Kind == catalog.KindOutbound) || strings.Contains(s.Name, "outbound") {
			return s.Name
		}
	}
	return ""
}

// Metrics rebuilds the METRICS table. The aiohttp and requests rows are
// judged on the outbound-connections scenario where the run has it (the
// seed counts outbound client connections), else on the in-flight requests
// a server held in io-wait (a stand-in, said so). The nginx row is judged
// on the real nginx where it was measured, else on prefork-1.
func Metrics(f *results.File) []MetricsRow {
	d := data{f}
	caps := Capacities(f)
	active := func(cfg string) Bracket {
		for _, c := range caps {
			if c.Config == cfg {
				return c.Active
			}
		}
		return Bracket{Config: cfg, None: cfg + " was not measured in io-wait"}
	}
	conns := func(cfg string) Bracket {
		for _, c := range caps {
			if c.Config == cfg {
				return better(c.Active, c.Idle)
			}
		}
		return Bracket{Config: cfg, None: cfg + " was not measured"}
	}
	bestOf := func(pick func(Capacity) Bracket) Bracket {
		b := Bracket{None: "no configuration was measured"}
		for _, c := range caps {
			b = better(b, pick(c))
		}
		return b
	}
	nofile := ""
	if d.f != nil && d.f.Environment.NofileLimit > 0 {
		nofile = fmt.Sprintf("; nofile cap %s per process", Int(int(d.f.Environment.NofileLimit)))
	}
	aio := MetricsRow{Seed: "Python asyncio + aiohttp", Lo: 1000, Hi: 10000, SeedNote: "efficient", StandInOnly: true,
		StandIn: "stand-in: eventloop-async (one loop), inbound requests in flight; the seed counts outbound client calls, not measured in this run", Measured: active("eventloop-async")}
	thr := MetricsRow{Seed: "Thread-based (e.g., requests)", Lo: 100, Hi: 500, Approx: true, SeedNote: "less efficient", StandInOnly: true,
		StandIn: "stand-in: blocking-os (max 200 threads), inbound requests in flight; the seed counts outbound client calls, not measured in this run", Measured: active("blocking-os")}
	if scn := outboundScenario(d); scn != "" {
		for _, cfg := range d.configsOf(scn) {
			c := config(&results.Row{Config: cfg})
			b := activeIn(d, scn, cfg)
			switch {
			case isAsync(c) || strings.Contains(cfg, "async"):
				aio.StandIn, aio.Measured, aio.StandInOnly = cfg+": one process holding concurrent outbound calls ("+scn+")", b, false
			case c.Model == "thread-per-request" || strings.Contains(cfg, "thread") || strings.Contains(cfg, "-os"):
				thr.StandIn, thr.Measured, thr.StandInOnly = cfg+": one process holding concurrent outbound calls ("+scn+")", b, false
			}
		}
	}
	ngx := MetricsRow{Seed: "Nginx default (worker_connections)", Lo: 1024, Hi: 4096, SeedNote: "per worker", StandInOnly: true,
		StandIn: "stand-in: prefork-1 (one worker process), connections in flight or idle; real nginx not measured in this run", Measured: conns("prefork-1")}
	if b := conns("nginx"); b.None == "" {
		ngx.StandIn, ngx.Measured, ngx.Real, ngx.StandInOnly = "real nginx, worker_processes 1, default worker_connections: connections held", b, true, false
	}
	rows := []MetricsRow{
		{Seed: "Typical Linux system", Lo: 1000, Hi: 65000, SeedNote: "depends on tuning",
			StandIn:  "the most connections any server held here, in flight or idle" + nofile,
			Measured: bestOf(func(c Capacity) Bracket { return better(c.Active, c.Idle) })},
		aio, thr, ngx,
		{Seed: "\"approx 100–200 connections can be made parallel\"", Lo: 100, Hi: 200, SeedNote: "the seed's conclusion",
			StandIn: "the most requests in flight any server held here", Measured: bestOf(func(c Capacity) Bracket { return c.Active })},
	}
	for i := range rows {
		rows[i].Outcome, rows[i].Why = fit(rows[i].Measured, rows[i].Lo, rows[i].Hi)
		if rows[i].StandInOnly && rows[i].Outcome != FitUnmeasured {
			rows[i].Why = fmt.Sprintf("the seed's subject was not measured, so the stand-in does not decide (it would read %s: %s)", rows[i].Outcome, rows[i].Why)
			rows[i].Outcome = FitUnmeasured
		}
	}
	return rows
}

// fit compares a bracket with a range [lo, hi]. The true limit lies in
// [Held, Failed) (Failed unset: [Held, ∞)). Within: the whole bracket is
// inside the range; above or below: none of it is; a bracket that only
// overlaps the range is inconclusive, never "within". A bracket with no
// failure above it and its most tested point under the range's top can
// never come out above, and says so.
func fit(b Bracket, lo, hi int) (Fit, string) {
	r := Int(lo) + "–" + Int(hi)
	switch {
	case b.None != "":
		return FitUnmeasured, b.None
	case b.Held > hi:
		return FitAbove, fmt.Sprintf("%s held %s, more than %s", b.Config, Int(b.Held), Int(hi))
	case b.Failed > 0 && b.Failed <= lo && !b.FailGated:
		return FitBelow, fmt.Sprintf("%s failed at %s, before the range starts at %s", b.Config, Int(b.Failed), Int(lo))
	case b.Failed > 0 && b.FailGated:
		return FitInconclusive, fmt.Sprintf("%s held %s; at %s the window was too short to tell (%s)", b.Config, Int(b.Held), Int(b.Failed), b.FailWhy)
	case b.Held >= lo && b.Failed > 0 && b.Failed-1 <= hi:
		return FitWithin, fmt.Sprintf("%s's limit lies in [%s, %s), inside %s", b.Config, Int(b.Held), Int(b.Failed), r)
	case b.Failed > 0:
		return FitInconclusive, fmt.Sprintf("%s's limit lies in [%s, %s), which only overlaps %s", b.Config, Int(b.Held), Int(b.Failed), r)
	case b.Held >= lo:
		return FitInconclusive, fmt.Sprintf("%s held all it was tested with (%s, inside %s); nothing above %s was tested, so this row can never come out above the range", b.Config, Int(b.Held), r, Int(b.Tested))
	}
	return FitInconclusive, fmt.Sprintf("%s held all it was tested with (%s), below the range's start at %s; nothing above was tested", b.Config, Int(b.Held), Int(lo))
}

// ---- sync against async per task type (seed 002) --------------------------

// TaskRow is one row of seed 002's table ("best for"), measured.
type TaskRow struct {
	Task      string // "CPU-bound" or "I/O-bound"
	SeedBest  string // "sync" or "async"
	Where     string // scenario and point
	Sync      string // the sync configuration compared
	Async     string // the async configuration compared
	SyncRow   *results.Row
	AsyncRow  *results.Row
	Best      string       // "sync", "async" or "tie", computed
	Ratio     float64      // async ÷ sync throughput (medians)
	RatioStat results.Stat // the same with its interval
	Outcome   Outcome      // reproduced: the seed's side is best; partly: a tie; refuted: the other side
	Missing   string
	Gated     string // why a measured row cannot decide (errors, a short window)
}

// TaskTypes compares the best sync and async configuration per task type:
// CPU-bound on the 1-core cpu point (sync: the fastest configuration that is
// not an event loop), I/O-bound at the highest io-wait concurrency measured
// on both blocking-os and eventloop-async. Within OneCoreSpread is a tie.
func TaskTypes(f *results.File) []TaskRow {
	d := data{f}
	cpu := TaskRow{Task: "CPU-bound", SeedBest: "sync"}
	if one, ok := d.cpuLabel(1); ok {
		cpu.Where = "cpu, " + one
		for _, cfg := range d.configsOf("cpu") {
			r, err := d.row("cpu", cfg, one)
			if err != nil {
				continue
			}
			if isAsync(config(r)) {
				if cfg == "eventloop-async" {
					cpu.Async, cpu.AsyncRow = cfg, r
				}
			} else if cpu.SyncRow == nil || r.RPS.Median > cpu.SyncRow.RPS.Median {
				cpu.Sync, cpu.SyncRow = cfg, r
			}
		}
	}
	if cpu.SyncRow == nil || cpu.AsyncRow == nil {
		cpu.Missing = "the 1-core cpu point needs eventloop-async and one configuration that is not an event loop"
	}
	io := TaskRow{Task: "I/O-bound", SeedBest: "async", Sync: "blocking-os", Async: "eventloop-async"}
	if ls := d.commonLabels("io-wait", 0, "blocking-os", "eventloop-async"); len(ls) > 0 {
		l := ls[len(ls)-1]
		io.Where = "io-wait, " + l
		io.SyncRow, _ = d.row("io-wait", "blocking-os", l)
		io.AsyncRow, _ = d.row("io-wait", "eventloop-async", l)
	} else {
		io.Missing = "io-wait has no concurrency measured on both blocking-os and eventloop-async"
	}
	out := []TaskRow{cpu, io}
	for i := range out {
		t := &out[i]
		if t.Missing != "" {
			t.Outcome = NotMeasured
			continue
		}
		if err := firstErr(usable(t.SyncRow), usable(t.AsyncRow)); err != nil {
			t.Outcome, t.Best, t.Gated = Inconclusive, "undecided", err.Error()
			continue
		}
		r := ratio(t.AsyncRow.RPS, t.SyncRow.RPS)
		t.Ratio, t.RatioStat = r.Median, r
		switch {
		case inBand(r, 1-OneCoreSpread, 1+OneCoreSpread) == Inside:
			t.Best, t.Outcome = "tie", Partly
		case against(r, 1+OneCoreSpread) == Above:
			t.Best = "async"
		case against(r, 1-OneCoreSpread) == Below:
			t.Best = "sync"
		default:
			t.Best, t.Outcome = "undecided", Inconclusive
		}
		if t.Best == "sync" || t.Best == "async" {
			t.Outcome = Refuted
			if t.Best == t.SeedBest {
				t.Outcome = Reproduced
			}
		}
	}
	return out
}
