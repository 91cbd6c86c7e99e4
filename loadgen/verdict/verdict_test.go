package verdict

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Synthetic results: each test builds the few rows a claim reads, once so
// that the claim comes out reproduced and once so that it comes out
// refuted (and partly where the rule has a middle), then once with a row
// missing so that it comes out "not measured".

// st is a statistic over three repetitions with a ±2 % spread.
func st(x float64) results.Stat {
	return results.Stat{Median: x, Min: x * 0.98, Max: x * 1.02, N: 3}
}

type file struct{ f *results.File }

func newFile() *file {
	return &file{&results.File{Schema: results.SchemaVersion, Complete: true,
		Environment: results.Environment{Cores: 2, ServerCPUs: "0", LoadCPUs: "1", NofileLimit: 20000}}}
}

// add appends a row for (scenario, config, label), with the catalog's point,
// after mut has filled its numbers.
func (b *file) add(scn, cfg, label string, mut func(r *results.Row)) *file {
	sc, ok := catalog.ScenarioByName(scn)
	if !ok {
		panic("no scenario " + scn)
	}
	var p catalog.Point
	found := false
	for _, q := range sc.Points {
		if q.Label == label {
			p, found = q, true
		}
	}
	if !found {
		panic("no point " + label + " in " + scn)
	}
	c, _ := catalog.ConfigByName(cfg)
	var s *results.Scenario
	for i := range b.f.Scenarios {
		if b.f.Scenarios[i].Name == scn {
			s = &b.f.Scenarios[i]
		}
	}
	if s == nil {
		b.f.Scenarios = append(b.f.Scenarios, results.Scenario{Name: scn, Title: sc.Title, Claims: sc.Claims})
		s = &b.f.Scenarios[len(b.f.Scenarios)-1]
	}
	r := results.Row{Scenario: scn, Config: cfg, Model: c.Model, Style: c.Style, Twin: c.Twin, Point: p,
		LoadModel: "closed", ServerCPUs: "0", RPS: st(1000), P50Ms: st(1), P99Ms: st(2), Errors: st(0)}
	if p.Ms > 0 && p.Conns > 0 {
		bound := float64(slots(c, p)) / (float64(p.Ms) / 1000)
		if p.Calls > 0 && p.Mode == "seq" {
			bound /= float64(p.Calls)
		}
		r.LittleBoundRPS = &bound
	}
	if sc.Kind == catalog.KindIdle {
		r.LoadModel = "idle"
		r.Idle = &results.Idle{Wanted: p.Idle, Held: st(float64(p.Idle)), ProbeP99Ms: st(1), RSSPerConnBytes: st(10000)}
		r.Idle.Held.Min, r.Idle.Held.Max = float64(p.Idle), float64(p.Idle)
	}
	mut(&r)
	if r.LittleBoundRPS != nil && r.LittleFraction == nil && r.RPS.N > 0 {
		fr := scale(r.RPS, 1 / *r.LittleBoundRPS)
		r.LittleFraction = &fr
	}
	s.Rows = append(s.Rows, r)
	return b
}

func verdictOf(t *testing.T, f *results.File, n int) Verdict {
	t.Helper()
	for _, v := range Claims(f) {
		if v.Claim.N == n {
			if v.Reason == "" {
				t.Errorf("claim %d: empty reason", n)
			}
			if v.Explain == "" {
				t.Errorf("claim %d: no workshop explanation", n)
			}
			return v
		}
	}
	t.Fatalf("claim %d not evaluated", n)
	return Verdict{}
}

func expect(t *testing.T, name string, f *results.File, claim int, want Outcome) Verdict {
	t.Helper()
	v := verdictOf(t, f, claim)
	if v.Outcome != want {
		t.Errorf("%s: claim %d = %s, want %s\n  measured: %s\n  reason: %s", name, claim, v.Outcome, want, v.Measured, v.Reason)
	}
	return v
}

func p50(x float64) func(*results.Row) { return func(r *results.Row) { r.P50Ms = st(x) } }

func TestClaimsAreTwelveInOrder(t *testing.T) {
	vs := Claims(newFile().f)
	if len(vs) != 12 {
		t.Fatalf("%d verdicts", len(vs))
	}
	for i, v := range vs {
		if v.Claim.N != i+1 {
			t.Errorf("verdict %d is claim %d", i, v.Claim.N)
		}
		if v.Outcome != NotMeasured {
			t.Errorf("claim %d on an empty file: %s (%s)", v.Claim.N, v.Outcome, v.Reason)
		}
		if !strings.HasPrefix(v.Reason, "not measured: ") {
			t.Errorf("claim %d: reason %q does not say why it was not measured", v.Claim.N, v.Reason)
		}
	}
}

func fanout(seq3, par3, seq2, par2 float64, cfgs ...string) *file {
	b := newFile()
	for _, c := range cfgs {
		b.add("fanout", c, "calls=3 seq", p50(seq3)).add("fanout", c, "calls=3 par", p50(par3)).
			add("fanout", c, "calls=2 seq", p50(seq2)).add("fanout", c, "calls=2 par", p50(par2))
	}
	return b
}

func TestClaim1SeqOverParRatio(t *testing.T) {
	expect(t, "ratio 3", fanout(152, 51, 101, 51, "eventloop-async", "blocking-os").f, 1, Reproduced)
	expect(t, "ratio 1.1", fanout(152, 140, 101, 95, "eventloop-async").f, 1, Refuted)
	expect(t, "ratio 1.7", fanout(152, 90, 101, 60, "eventloop-async").f, 1, Partly)
	mixed := fanout(152, 51, 101, 51, "eventloop-async")
	mixed.add("fanout", "blocking-os", "calls=3 seq", p50(152)).add("fanout", "blocking-os", "calls=3 par", p50(150))
	v := expect(t, "one config refutes", mixed.f, 1, Partly)
	if !strings.Contains(v.Reason, "blocking-os") {
		t.Errorf("reason does not name the configuration that deviates: %s", v.Reason)
	}
	missing := newFile().add("fanout", "eventloop-async", "calls=3 seq", p50(152))
	expect(t, "no par row", missing.f, 1, NotMeasured)
}

func TestClaim2TwoQueries(t *testing.T) {
	expect(t, "100 and 50", fanout(152, 51, 101, 51, "eventloop-async").f, 2, Reproduced)
	expect(t, "160 and 90", fanout(152, 51, 160, 90, "eventloop-async").f, 2, Refuted)
	expect(t, "101 and 70", fanout(152, 51, 101, 70, "eventloop-async").f, 2, Partly)
}

func TestClaim3MaxNotSum(t *testing.T) {
	expect(t, "follows the max", fanout(152, 52, 101, 51, "eventloop-async", "prefork-1").f, 3, Reproduced)
	expect(t, "follows the sum", fanout(152, 140, 101, 95, "eventloop-async").f, 3, Refuted)
	expect(t, "in between", fanout(152, 100, 101, 70, "eventloop-async").f, 3, Partly)
}

func canary(rps, p99 float64) func(*results.Row) {
	return func(r *results.Row) {
		r.RPS = st(rps)
		r.Canary = &results.Canary{Rate: catalog.CanaryRate, P50Ms: st(p99 / 2), P99Ms: st(p99)}
	}
}

func TestClaim4BlockedLoop(t *testing.T) {
	loop := func(inlineRPS, inlineP99 float64) *results.File {
		return newFile().add("blocking-in-loop", "eventloop-inline", "c=100", canary(inlineRPS, inlineP99)).
			add("blocking-in-loop", "eventloop-async", "c=100", canary(1950, 1.1)).f
	}
	expect(t, "collapsed and blocked", loop(19.6, 2400), 4, Reproduced)
	expect(t, "neither", loop(1900, 1.2), 4, Refuted)
	expect(t, "collapsed, canary fine", loop(19.6, 3), 4, Partly)
	noCanary := newFile().add("blocking-in-loop", "eventloop-inline", "c=100", func(r *results.Row) { r.RPS = st(19) }).f
	expect(t, "no canary", noCanary, 4, NotMeasured)
}

// canaryRep is one repetition whose canary got answered probes out of
// rate × 2 s.
func canaryRep(answered int64) results.Rep {
	return results.Rep{RPS: 20, Canary: json.RawMessage(fmt.Sprintf(`{"responses":%d,"duration_s":2}`, answered))}
}

// TestClaim4StarvedCanary: on a blocked loop most probes are never answered
// within the window, and the few that are look fast. The answered share,
// not the p99, decides.
func TestClaim4StarvedCanary(t *testing.T) {
	f := newFile().add("blocking-in-loop", "eventloop-inline", "c=100", func(r *results.Row) {
		canary(19.6, 0.107)(r)
		r.Reps = []results.Rep{canaryRep(2), canaryRep(1), canaryRep(3)}
	}).add("blocking-in-loop", "eventloop-async", "c=100", canary(1950, 1.1)).f
	v := expect(t, "starved canary", f, 4, Reproduced)
	if !strings.Contains(v.Reason, "answers to only 6 of 300 probes") || !strings.Contains(v.Measured, "answered 6 of 300") {
		t.Errorf("reason: %s\nmeasured: %s", v.Reason, v.Measured)
	}
	if a := CanaryOf(&f.Scenarios[0].Rows[0]); !a.Starved || a.OldestWaitMs != 1940 {
		t.Errorf("CanaryOf = %+v; want starved, oldest ≈ 2 s − 3 probes ÷ 50/s = 1,940 ms", a)
	}
	healthy := newFile().add("blocking-in-loop", "eventloop-pool", "c=100", func(r *results.Row) {
		canary(780, 1.6)(r)
		r.Reps = []results.Rep{canaryRep(99), canaryRep(100), canaryRep(98)}
	}).add("blocking-in-loop", "eventloop-async", "c=100", canary(1950, 1.1)).f
	expect(t, "answered canary", healthy, 5, Reproduced)
	starvedPool := newFile().add("blocking-in-loop", "eventloop-pool", "c=100", func(r *results.Row) {
		canary(780, 1.6)(r)
		r.Reps = []results.Rep{canaryRep(10)}
	}).add("blocking-in-loop", "eventloop-async", "c=100", canary(1950, 1.1)).f
	expect(t, "starved pool canary", starvedPool, 5, Refuted)
}

func TestClaim5Pool(t *testing.T) {
	pool := func(poolRPS, poolP99 float64) *results.File {
		return newFile().add("blocking-in-loop", "eventloop-pool", "c=100", canary(poolRPS, poolP99)).
			add("blocking-in-loop", "eventloop-async", "c=100", canary(1950, 1.1)).f
	}
	expect(t, "responsive and capped", pool(780, 1.6), 5, Reproduced)
	expect(t, "canary blocked", pool(780, 60), 5, Refuted)
	expect(t, "responsive, not capped", pool(300, 1.6), 5, Partly)
	onlyPool := newFile().add("blocking-in-loop", "eventloop-pool", "c=100", canary(780, 1.6)).f
	expect(t, "no async row", onlyPool, 5, NotMeasured)
}

func server(threads, rssBytes float64) func(*results.Row) {
	return func(r *results.Row) {
		r.Server.ThreadsPeak = st(threads)
		r.Server.RSSPeakBytes = st(rssBytes)
	}
}

func TestClaim6ThreadMemory(t *testing.T) {
	const mib = 1 << 20
	io := func(osThr100, osPerReq, elPerReq float64) *results.File {
		return newFile().
			add("io-wait", "blocking-os", "c=10", server(18, 10*mib)).
			add("io-wait", "blocking-os", "c=100", server(osThr100, 10*mib+90*osPerReq)).
			add("io-wait", "eventloop-async", "c=10", server(6, 8*mib)).
			add("io-wait", "eventloop-async", "c=100", server(6, 8*mib+90*elPerReq)).f
	}
	expect(t, "a thread and 64 KiB per request", io(108, 64<<10, 8<<10), 6, Reproduced)
	expect(t, "no threads, same memory", io(19, 8<<10, 8<<10), 6, Refuted)
	expect(t, "threads, but cheap", io(108, 9<<10, 8<<10), 6, Partly)
	one := newFile().add("io-wait", "blocking-os", "c=100", server(108, 20*mib)).
		add("io-wait", "eventloop-async", "c=100", server(6, 9*mib)).f
	v := expect(t, "one point under the cap", one, 6, NotMeasured)
	if !strings.Contains(v.Reason, "needs two") {
		t.Errorf("reason: %s", v.Reason)
	}
}

// TestClaim6FirstRepetition: the suite keeps one server through every
// point and repetition, so later repetitions of small points inherit the
// threads and heap of larger ones. The medians below say "no extra threads
// per request"; the first repetitions say one thread each, and decide.
func TestClaim6FirstRepetition(t *testing.T) {
	const mib = 1 << 20
	rep := func(threads int, rss int64) results.Rep {
		return results.Rep{RPS: 1000, Server: results.ServerSample{ThreadsPeak: threads, RSSPeak: rss}}
	}
	withReps := func(first results.Rep) func(*results.Row) {
		return func(r *results.Row) {
			later := rep(206, 40*mib) // after c=1000 and c=5000 ran in the first round
			r.Reps = []results.Rep{first, later, later}
			r.Server.ThreadsPeak = st(206)
			r.Server.RSSPeakBytes = st(40 * mib)
		}
	}
	f := newFile().
		add("io-wait", "blocking-os", "c=10", withReps(rep(18, 10*mib))).
		add("io-wait", "blocking-os", "c=100", withReps(rep(108, 10*mib+90*(64<<10)))).
		add("io-wait", "eventloop-async", "c=10", server(6, 8*mib)).
		add("io-wait", "eventloop-async", "c=100", server(6, 8*mib+90*(8<<10))).f
	v := expect(t, "first repetitions", f, 6, Reproduced)
	if !strings.Contains(v.Measured, "first repetitions") {
		t.Errorf("measured does not say where the numbers come from: %s", v.Measured)
	}
	ic, err := InFlightCost(f, "blocking-os", ThreadCap())
	if err != nil || ic.Threads != 1 || ic.RSSBytes != 64<<10 {
		t.Errorf("InFlightCost = %+v, %v; want 1 thread and 64 KiB per request", ic, err)
	}
}

func ctx(vol, invol float64) func(*results.Row) {
	return func(r *results.Row) {
		r.Server.CtxVolPerReq, r.Server.CtxInvolPerReq = st(vol), st(invol)
	}
}

func TestClaim7ContextSwitches(t *testing.T) {
	io := func(os float64) *results.File {
		return newFile().add("io-wait", "blocking-os", "c=1000", ctx(os, 0.1)).
			add("io-wait", "eventloop-async", "c=1000", ctx(0.4, 0.05)).f
	}
	expect(t, "10×", io(4.4), 7, Reproduced)
	expect(t, "equal", io(0.35), 7, Refuted)
	expect(t, "1.5×", io(0.6), 7, Partly)
}

func frac(f float64, threads float64, saturated bool) func(*results.Row) {
	return func(r *results.Row) {
		r.RPS = st(f * *r.LittleBoundRPS)
		r.Server.ThreadsPeak = st(threads)
		r.Saturated = saturated
		if saturated {
			r.SaturationReason = "load generator CPU at 97% of its cores"
		}
	}
}

func TestClaim8OneLoopThousands(t *testing.T) {
	el := func(f1000, f5000, threads float64, sat bool) *results.File {
		return newFile().add("io-wait", "eventloop-async", "c=1000", frac(f1000, threads, false)).
			add("io-wait", "eventloop-async", "c=5000", frac(f5000, threads, sat)).f
	}
	expect(t, "both held", el(0.97, 0.9, 7, false), 8, Reproduced)
	expect(t, "c=5000 short", el(0.97, 0.5, 7, false), 8, Partly)
	expect(t, "both just short", el(0.79, 0.6, 7, false), 8, Partly)
	expect(t, "neither", el(0.4, 0.1, 7, false), 8, Refuted)
	expect(t, "many threads", el(0.97, 0.9, 40, false), 8, Partly)
	expect(t, "short but loadgen-bound", el(0.4, 0.1, 7, true), 8, Partly)
	prevented := newFile().add("io-wait", "eventloop-async", "c=1000", func(r *results.Row) {
		r.Prevented = "nofile cap"
		r.RPS = results.Stat{}
	}).f
	v := expect(t, "prevented", prevented, 8, NotMeasured)
	if !strings.Contains(v.Reason, "nofile") {
		t.Errorf("reason does not carry the prevention: %s", v.Reason)
	}
}

func rps(x float64) func(*results.Row) { return func(r *results.Row) { r.RPS = st(x) } }

func TestClaim9Parallelism(t *testing.T) {
	cpu := func(p2, e2 float64) *results.File {
		return newFile().add("cpu", "prefork-2", "2 core(s)", rps(p2)).add("cpu", "prefork-1", "2 core(s)", rps(1080)).
			add("cpu", "eventloop-async", "2 core(s)", rps(e2)).add("cpu", "eventloop-async", "1 core(s)", rps(1070)).f
	}
	expect(t, "2 workers scale, 1 loop does not", cpu(2100, 1090), 9, Reproduced)
	expect(t, "nothing scales but the loop", cpu(1100, 2000), 9, Refuted)
	expect(t, "both scale", cpu(2100, 2000), 9, Partly)
	noTwo := newFile().add("cpu", "eventloop-async", "1 core(s)", rps(1070)).f
	expect(t, "no 2-core rows", noTwo, 9, NotMeasured)
}

func TestClaim12OneCore(t *testing.T) {
	cpu := func(el, pf, bg float64) *results.File {
		return newFile().add("cpu", "eventloop-async", "1 core(s)", rps(el)).
			add("cpu", "prefork-1", "1 core(s)", rps(pf)).add("cpu", "blocking-goroutine", "1 core(s)", rps(bg)).f
	}
	expect(t, "all within 10%", cpu(1000, 1040, 980), 12, Reproduced)
	expect(t, "async 30% faster", cpu(1300, 1000, 990), 12, Refuted)
	expect(t, "spread, async not faster", cpu(1000, 700, 1000), 12, Partly)
	expect(t, "only async", newFile().add("cpu", "eventloop-async", "1 core(s)", rps(1000)).f, 12, NotMeasured)
}

func p99(x float64) func(*results.Row) { return func(r *results.Row) { r.P99Ms = st(x) } }

func TestClaim10Metrics(t *testing.T) {
	// blocking-os holds 100, not 1000: inside ~100–500. eventloop-async holds
	// 1000: inside 1000–10000, but the seed's "100–200 in parallel" is
	// then exceeded.
	partly := newFile().
		add("io-wait", "blocking-os", "c=100", p99(52)).add("io-wait", "blocking-os", "c=1000", p99(300)).
		add("io-wait", "eventloop-async", "c=100", p99(51)).add("io-wait", "eventloop-async", "c=1000", p99(60)).
		add("io-wait", "eventloop-async", "c=5000", p99(400)).
		add("io-wait", "prefork-1", "c=1000", p99(70)).add("io-wait", "prefork-1", "c=5000", p99(300)).
		add("idle-connections", "eventloop-async", "10k idle", func(*results.Row) {})
	v := expect(t, "models fit, the 100–200 conclusion does not", partly.f, 10, Partly)
	if !strings.Contains(v.Reason, "above") {
		t.Errorf("reason: %s", v.Reason)
	}
	rows := Metrics(partly.f)
	want := map[string]Fit{
		"Typical Linux system":               Within,
		"Python asyncio + aiohttp":           Within,
		"Thread-based (e.g., requests)":      Within,
		"Nginx default (worker_connections)": Within,
	}
	for _, r := range rows {
		if w, ok := want[r.Seed]; ok && r.Outcome != w {
			t.Errorf("%s: %s (%s), want %s", r.Seed, r.Outcome, r.Measured, w)
		}
		if strings.Contains(r.Seed, "parallel") && r.Outcome != Above {
			t.Errorf("%s: %s, want above", r.Seed, r.Outcome)
		}
	}

	// Every model fails early: everything is below the seed's ranges.
	refuted := newFile().
		add("io-wait", "blocking-os", "c=10", p99(300)).
		add("io-wait", "eventloop-async", "c=10", p99(300)).
		add("io-wait", "prefork-1", "c=10", func(r *results.Row) { r.Errors = st(12) }).
		add("idle-connections", "eventloop-async", "1k idle", func(r *results.Row) { r.Idle.Held.Min = 300 })
	expect(t, "every model below", refuted.f, 10, Refuted)

	// With coarse points (c=100, then 5000) every bracket overlaps its range.
	coarse := newFile().
		add("io-wait", "blocking-os", "c=100", p99(60)).add("io-wait", "blocking-os", "c=5000", p99(1300)).
		add("io-wait", "eventloop-async", "c=100", p99(51)).add("io-wait", "eventloop-async", "c=5000", p99(400)).
		add("io-wait", "prefork-1", "c=100", p99(51)).add("io-wait", "prefork-1", "c=5000", p99(300)).
		add("idle-connections", "eventloop-async", "5k idle", func(*results.Row) {})
	expect(t, "every bracket overlaps", coarse.f, 10, Reproduced)

	if got := (Bracket{Config: "x", Held: 1000, Failed: 5000, FailWhy: "c=5000: p99 400 ms > 100 ms"}).String(); got != "≥ 1,000, < 5,000 (c=5000: p99 400 ms > 100 ms)" {
		t.Errorf("bracket: %q", got)
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		b    Bracket
		want Fit
	}{
		{Bracket{Held: 300, Failed: 1000}, Within},
		{Bracket{Held: 100, Failed: 1000}, Within}, // [100, 1000) overlaps 100–500
		{Bracket{Held: 10, Failed: 100}, Below},    // failed at the range's start
		{Bracket{Held: 5000}, Above},
		{Bracket{Held: 50}, Inconclusive},
		{Bracket{None: "not run"}, Unmeasured},
	} {
		if got, _ := fit(tc.b, 100, 500); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.b, got, tc.want)
		}
	}
}

func cell(x, cpuUtil float64) func(*results.Row) {
	return func(r *results.Row) {
		r.RPS = st(x)
		r.Server.CPUUtil = st(cpuUtil)
		r.Concurrency = st(float64(r.Point.Conns) * 0.99)
	}
}

func codeXServer(osSeq, osPar, poolSeq, async, asyncCPU float64) *results.File {
	return newFile().
		add("code-x-server", "blocking-os", "calls=3 seq", cell(osSeq, 0.3)).
		add("code-x-server", "blocking-os", "calls=3 par", cell(osPar, 0.5)).
		add("code-x-server", "eventloop-pool", "calls=3 seq", cell(poolSeq, 0.1)).
		add("code-x-server", "eventloop-async", "calls=3 par", cell(async, asyncCPU)).f
}

func TestClaim11TwoByTwo(t *testing.T) {
	good := codeXServer(1320, 3950, 262, 7600, 0.7)
	expect(t, "as the seed says", good, 11, Reproduced)
	cells := Cells(good)
	if len(cells) != 4 {
		t.Fatalf("%d cells", len(cells))
	}
	order := []string{"sync/sync", "async/sync", "sync/async", "async/async"}
	for i, c := range cells {
		if got := c.Code + "/" + c.Server; got != order[i] {
			t.Errorf("cell %d is %s, want %s", i, got, order[i])
		}
		if !c.Matches() {
			t.Errorf("%s: behaves %s (%s)", order[i], c.BehavesAs, c.Why)
		}
	}
	if c := cells[0]; c.Slots != 200 || math.Abs(c.HoldMs.Median-1000*200/1320.0) > 1e-9 {
		t.Errorf("sync/sync: slots %d, hold %v", c.Slots, c.HoldMs.Median)
	}
	if !strings.Contains(cells[0].Why, "waited for one of the 200 threads") {
		t.Errorf("sync/sync does not explain the queue: %s", cells[0].Why)
	}

	// Async code on the sync server held its threads for the sum, and the
	// event loop ran out of CPU: two cells and the throughput check fail.
	bad := codeXServer(1320, 1300, 262, 1000, 0.98)
	v := expect(t, "against the seed", bad, 11, Refuted)
	if !strings.Contains(v.Reason, "CPU-bound") {
		t.Errorf("reason: %s", v.Reason)
	}
	expect(t, "async on async slower than async on sync", codeXServer(1320, 3950, 262, 3000, 0.5), 11, Partly)
	// One busy core (a real container run): slots are held longer than the
	// waits, but async code on the sync server still held each thread for
	// 97 ms, far less than the 150 ms that three waits in a row need.
	contended := codeXServer(1000, 2065, 200, 5927, 0.9)
	expect(t, "contended CPU", contended, 11, Reproduced)
	if c := Cells(contended)[1]; c.BehavesAs != "async" || !strings.Contains(c.Why, "below the 150 ms") {
		t.Errorf("async code on sync server: %s (%s)", c.BehavesAs, c.Why)
	}
	missing := newFile().add("code-x-server", "blocking-os", "calls=3 seq", cell(1320, 0.3)).f
	expect(t, "three cells missing", missing, 11, NotMeasured)
}

func TestTaskTypes(t *testing.T) {
	f := newFile().add("cpu", "eventloop-async", "1 core(s)", rps(1000)).add("cpu", "prefork-1", "1 core(s)", rps(1300)).
		add("cpu", "blocking-goroutine", "1 core(s)", rps(1100)).
		add("io-wait", "blocking-os", "c=1000", rps(3900)).add("io-wait", "eventloop-async", "c=1000", rps(19000)).f
	rows := TaskTypes(f)
	if rows[0].Best != "sync" || rows[0].Sync != "prefork-1" || rows[0].Outcome != Reproduced {
		t.Errorf("CPU-bound: %+v", rows[0])
	}
	if rows[1].Best != "async" || rows[1].Outcome != Reproduced {
		t.Errorf("I/O-bound: %+v", rows[1])
	}
	f2 := newFile().add("cpu", "eventloop-async", "1 core(s)", rps(1000)).add("cpu", "prefork-1", "1 core(s)", rps(1030)).
		add("io-wait", "blocking-os", "c=1000", rps(19000)).add("io-wait", "eventloop-async", "c=1000", rps(3900)).f
	rows = TaskTypes(f2)
	if rows[0].Best != "tie" || rows[0].Outcome != Partly {
		t.Errorf("CPU-bound tie: %+v", rows[0])
	}
	if rows[1].Best != "sync" || rows[1].Outcome != Refuted {
		t.Errorf("I/O-bound refuted: %+v", rows[1])
	}
	if rows := TaskTypes(newFile().f); rows[0].Outcome != NotMeasured || rows[1].Outcome != NotMeasured {
		t.Errorf("empty: %+v", rows)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Num(19850.4), "19,850"},
		{Num(-1234567), "-1,234,567"},
		{Num(150.26), "150"},
		{Num(50.26), "50.3"},
		{Num(2.986), "2.99"},
		{Num(0.04213), "0.0421"},
		{Num(0), "0"},
		{Num(math.NaN()), "–"},
		{Pct(0.853), "85%"},
		{Pct(0.042), "4.2%"},
		{Bytes(64 << 10), "64 KiB"},
		{Num(2), "2"},
		{Num(1.5), "1.5"},
		{Num(50.04), "50"},
		{Count(5), "5"},
		{Count(6.5), "6.5"},
		{Count(20000), "20,000"},
		{Bytes(12.5 * (1 << 20)), "12.5 MiB"},
		{Stat(results.Stat{Median: 51.2, Min: 50.8, Max: 53.1, N: 3}, "ms"), "51.2 ms [50.8–53.1]"},
		{Stat(results.Stat{Median: 51.2, Min: 51.2, Max: 51.2, N: 1}, "ms"), "51.2 ms"},
		{Stat(results.Stat{}, "ms"), "–"},
		{Int(20000), "20,000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
