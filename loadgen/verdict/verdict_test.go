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
	// Overlap reproduces, but the seed's 8.5× does not: partly, and it says so.
	v := expect(t, "ratio 3", fanout(152, 51, 101, 51, "eventloop-async", "blocking-os").f, 1, Partly)
	if !strings.Contains(v.Reason, "8.5×") || !strings.Contains(v.Prediction, "1.02 s") || !strings.Contains(v.Reason, "conn=new") {
		t.Errorf("claim 1 does not set the seed's 1.02 s / 0.12 s beside the ratio: %s / %s", v.Prediction, v.Reason)
	}
	expect(t, "ratio 1.1", fanout(152, 140, 101, 95, "eventloop-async").f, 1, Refuted)
	expect(t, "ratio 1.7", fanout(152, 90, 101, 60, "eventloop-async").f, 1, Partly)
	mixed := fanout(152, 51, 101, 51, "eventloop-async")
	mixed.add("fanout", "blocking-os", "calls=3 seq", p50(152)).add("fanout", "blocking-os", "calls=3 par", p50(150))
	v = expect(t, "one config refutes", mixed.f, 1, Partly)
	if !strings.Contains(v.Reason, "blocking-os") {
		t.Errorf("reason does not name the configuration that deviates: %s", v.Reason)
	}
	// A par p50 spread so wide that the ratio's interval crosses the ±20 % band.
	wide := fanout(152, 51, 101, 51, "eventloop-async")
	wide.f.Scenarios[0].Rows[1].P50Ms = results.Stat{Median: 51, Min: 40, Max: 62, N: 3}
	expect(t, "straddling interval", wide.f, 1, Inconclusive)
	missing := newFile().add("fanout", "eventloop-async", "calls=3 seq", p50(152))
	expect(t, "no par row", missing.f, 1, NotMeasured)
}

// TestClaim1ColdConnections: the cold rows explain the gap between 3× and
// the seed's 8.5× with a measurement, whatever it shows.
func TestClaim1ColdConnections(t *testing.T) {
	seq, ok1 := data{}.findPoint("fanout", func(p catalog.Point) bool { return p.Calls == 3 && p.Mode == "seq" && coldConn(p) })
	par, ok2 := data{}.findPoint("fanout", func(p catalog.Point) bool { return p.Calls == 3 && p.Mode == "par" && coldConn(p) })
	if !ok1 || !ok2 {
		t.Skip("the catalog has no conn=new fan-out points")
	}
	f := fanout(152, 51, 101, 51, "eventloop-async")
	f.add("fanout", "eventloop-async", seq.Label, p50(420)).add("fanout", "eventloop-async", par.Label, p50(93))
	v := expect(t, "cold rows", f.f, 1, Partly)
	if !strings.Contains(v.Reason, "emulated WAN handshake") || !strings.Contains(v.Measured, "fresh connections") {
		t.Errorf("the cold rows are not used: %s / %s", v.Reason, v.Measured)
	}
}

func TestClaim2TwoQueries(t *testing.T) {
	expect(t, "100 and 50", fanout(152, 51, 101, 51, "eventloop-async").f, 2, Reproduced)
	expect(t, "160 and 90", fanout(152, 51, 160, 90, "eventloop-async").f, 2, Refuted)
	expect(t, "101 and 70", fanout(152, 51, 101, 70, "eventloop-async").f, 2, Partly)
}

func TestClaim3UnequalWaits(t *testing.T) {
	p, ok := data{}.findPoint("fanout", func(p catalog.Point) bool { return p.Mode == "par" && unequalWaits(p) && !coldConn(p) })
	if !ok {
		v := expect(t, "no unequal-wait point", fanout(152, 52, 101, 51, "eventloop-async").f, 3, NotMeasured)
		if !strings.Contains(v.Reason, "unequal") {
			t.Errorf("reason: %s", v.Reason)
		}
		return
	}
	mx, sum, _ := waitsOf(p)
	expect(t, "follows the max", newFile().add("fanout", "eventloop-async", p.Label, p50(mx*1.02)).f, 3, Reproduced)
	expect(t, "follows the sum", newFile().add("fanout", "eventloop-async", p.Label, p50(sum)).f, 3, Refuted)
}

// loopLabel is the catalog's blocking-in-loop sleeping point.
func loopLabel() string {
	p, _ := data{}.loopPoint()
	return p.Label
}

func canary(rps, p99 float64) func(*results.Row) {
	return func(r *results.Row) {
		r.RPS = st(rps)
		r.Canary = &results.Canary{Rate: catalog.CanaryRate, P50Ms: st(p99 / 2), P99Ms: st(p99)}
	}
}

func TestClaim4BlockedLoop(t *testing.T) {
	loop := func(inlineRPS, inlineP99 float64) *results.File {
		return newFile().add("blocking-in-loop", "eventloop-inline", loopLabel(), canary(inlineRPS, inlineP99)).
			add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	}
	expect(t, "collapsed and blocked", loop(19.6, 2400), 4, Reproduced)
	expect(t, "neither", loop(1900, 1.2), 4, Refuted)
	expect(t, "collapsed, canary fine", loop(19.6, 3), 4, Partly)
	expect(t, "canary p99 straddles the wait", loop(19.6, 50), 4, Inconclusive)
	noCanary := newFile().add("blocking-in-loop", "eventloop-inline", loopLabel(), func(r *results.Row) { r.RPS = st(19) }).f
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
	f := newFile().add("blocking-in-loop", "eventloop-inline", loopLabel(), func(r *results.Row) {
		canary(19.6, 0.107)(r)
		r.Reps = []results.Rep{canaryRep(2), canaryRep(1), canaryRep(3)}
	}).add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	v := expect(t, "starved canary", f, 4, Reproduced)
	if !strings.Contains(v.Reason, "answers to 6 of 300 probes") || !strings.Contains(v.Measured, "answered 6 of 300") {
		t.Errorf("reason: %s\nmeasured: %s", v.Reason, v.Measured)
	}
	if a := CanaryOf(&f.Scenarios[0].Rows[0]); !a.Starved || a.OldestWaitMs != 1940 {
		t.Errorf("CanaryOf = %+v; want starved, oldest ≈ 2 s − 3 probes ÷ 50/s = 1,940 ms", a)
	}
	healthy := newFile().add("blocking-in-loop", "eventloop-pool", loopLabel(), func(r *results.Row) {
		canary(780, 1.6)(r)
		r.Reps = []results.Rep{canaryRep(99), canaryRep(100), canaryRep(98)}
	}).add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	expect(t, "answered canary", healthy, 5, Reproduced)
	starvedPool := newFile().add("blocking-in-loop", "eventloop-pool", loopLabel(), func(r *results.Row) {
		canary(780, 1.6)(r)
		r.Reps = []results.Rep{canaryRep(10)}
	}).add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	expect(t, "starved pool canary", starvedPool, 5, Refuted)
}

func TestClaim5Pool(t *testing.T) {
	pool := func(poolRPS, poolP99 float64) *results.File {
		return newFile().add("blocking-in-loop", "eventloop-pool", loopLabel(), canary(poolRPS, poolP99)).
			add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	}
	expect(t, "responsive and capped", pool(780, 1.6), 5, Reproduced)
	expect(t, "canary blocked", pool(780, 60), 5, Refuted)
	expect(t, "responsive, not capped", pool(300, 1.6), 5, Partly)
	expect(t, "canary interval crosses the allowance", pool(780, 6.1), 5, Inconclusive)
	onlyPool := newFile().add("blocking-in-loop", "eventloop-pool", loopLabel(), canary(780, 1.6)).f
	expect(t, "no async row", onlyPool, 5, NotMeasured)
}

func server(threads, rssBytes float64) func(*results.Row) {
	return func(r *results.Row) {
		r.Server.ThreadsPeak = st(threads)
		r.Server.RSSPeakBytes = st(rssBytes)
	}
}

func idleCost(perConn float64) func(*results.Row) {
	return func(r *results.Row) { r.Idle.RSSPerConnBytes = st(perConn) }
}

func TestClaim6ThreadMemory(t *testing.T) {
	const mib = 1 << 20
	io := func(osThr100, osPerReq, grPerReq, connCost float64) *results.File {
		return newFile().
			add("io-wait", "blocking-os", "c=10", server(18, 10*mib)).
			add("io-wait", "blocking-os", "c=100", server(osThr100, 10*mib+90*osPerReq)).
			add("io-wait", "blocking-goroutine", "c=10", server(6, 10*mib)).
			add("io-wait", "blocking-goroutine", "c=100", server(6, 10*mib+90*grPerReq)).
			add("idle-connections", "blocking-os", "10k idle", idleCost(connCost)).
			add("idle-connections", "blocking-goroutine", "10k idle", idleCost(connCost)).f
	}
	expect(t, "a thread, and its memory beyond the connection's", io(108, 64<<10, 8<<10, 8<<10), 6, Reproduced)
	v := expect(t, "threads, but the memory is the connection's", io(108, 68<<10, 53<<10, 20<<10), 6, Partly)
	if !strings.Contains(v.Reason, "per-connection buffers") {
		t.Errorf("reason does not attribute the cost: %s", v.Reason)
	}
	expect(t, "no threads, cheap threads", io(19, 8<<10, 8<<10, 8<<10), 6, Refuted)
	// Goroutines costing more than threads: the difference is not
	// resolvable, never a negative size.
	v = expect(t, "negative difference", io(108, 8<<10, 9<<10, 8<<10), 6, Inconclusive)
	if strings.Contains(v.Measured, "-") && strings.Contains(v.Measured, "KiB (") && strings.Contains(v.Measured, "own memory") {
		t.Errorf("a negative size is shown: %s", v.Measured)
	}
	one := newFile().add("io-wait", "blocking-os", "c=100", server(108, 20*mib)).
		add("io-wait", "blocking-goroutine", "c=100", server(6, 9*mib)).f
	v = expect(t, "one point under the cap", one, 6, NotMeasured)
	if !strings.Contains(v.Reason, "needs two") {
		t.Errorf("reason: %s", v.Reason)
	}
}

// TestClaim6FirstRepetition: the suite keeps one server through every
// point and repetition, so later repetitions of small points inherit the
// threads and heap of larger ones. The first repetitions decide.
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
		add("io-wait", "blocking-goroutine", "c=10", server(6, 8*mib)).
		add("io-wait", "blocking-goroutine", "c=100", server(6, 8*mib+90*(8<<10))).
		add("idle-connections", "blocking-os", "10k idle", idleCost(8<<10)).
		add("idle-connections", "blocking-goroutine", "10k idle", idleCost(8<<10)).f
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
	// Judged across concurrency: more switches at c=1000, fewer at c=10.
	across := newFile().add("io-wait", "blocking-os", "c=1000", ctx(4.4, 0.1)).
		add("io-wait", "eventloop-async", "c=1000", ctx(0.4, 0.05)).
		add("io-wait", "blocking-os", "c=10", ctx(5.9, 0.1)).
		add("io-wait", "eventloop-async", "c=10", ctx(8.9, 0.1)).f
	v := expect(t, "reverses at c=10", across, 7, Partly)
	if !strings.Contains(v.Reason, "c=10 refuted") {
		t.Errorf("reason: %s", v.Reason)
	}
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
	expect(t, "c=5000 short", el(0.97, 0.6, 7, false), 8, Partly)
	expect(t, "c=5000 on the line", el(0.97, 0.8, 7, false), 8, Inconclusive)
	expect(t, "both just short", el(0.7, 0.6, 7, false), 8, Partly)
	expect(t, "neither", el(0.4, 0.1, 7, false), 8, Refuted)
	expect(t, "many threads", el(0.97, 0.9, 40, false), 8, Partly)
	expect(t, "short but loadgen-bound", el(0.4, 0.1, 7, true), 8, Partly)
	ceiling := el(0.97, 0.56, 7, false)
	ceiling.Calibration.LoadgenCeilingRPS = 91600
	ceiling.Calibration.LoadgenCeilingByPipeline = map[string]float64{"1": 91600}
	// A ceiling where calibration did not show the load generator busy is
	// the pair's: it names no bottleneck.
	ceiling.Calibration.LoadgenCeilingCPUByPipeline = map[string]float64{"1": 0.6}
	expect(t, "pair's ceiling, not the load generator's", ceiling, 8, Partly)
	ceiling.Calibration.LoadgenCeilingCPUByPipeline = map[string]float64{"1": 0.97}
	v := expect(t, "bound above the load generator's ceiling", ceiling, 8, Inconclusive)
	if !strings.Contains(v.Reason, "ceiling") {
		t.Errorf("reason does not name the bottleneck: %s", v.Reason)
	}
	prevented := newFile().add("io-wait", "eventloop-async", "c=1000", func(r *results.Row) {
		r.Prevented = "nofile cap"
		r.RPS = results.Stat{}
	}).f
	v = expect(t, "prevented", prevented, 8, NotMeasured)
	if !strings.Contains(v.Reason, "nofile") {
		t.Errorf("reason does not carry the prevention: %s", v.Reason)
	}
}

func rps(x float64) func(*results.Row) { return func(r *results.Row) { r.RPS = st(x) } }

func cores(rpsX, util float64) func(*results.Row) {
	return func(r *results.Row) { r.RPS, r.Server.CPUUtil = st(rpsX), st(util) }
}

func TestClaim9Parallelism(t *testing.T) {
	cpu := func(p2, p2cores, e2 float64) *results.File {
		return newFile().add("cpu", "prefork-2", "2 core(s)", cores(p2, p2cores)).add("cpu", "prefork-1", "2 core(s)", cores(1080, 1)).
			add("cpu", "eventloop-async", "2 core(s)", rps(e2)).add("cpu", "eventloop-async", "1 core(s)", rps(1070)).f
	}
	expect(t, "2 workers on 2 cores scale, 1 loop does not", cpu(2100, 1.95, 1090), 9, Reproduced)
	v := expect(t, "2 workers on one core", cpu(1100, 1.0, 1090), 9, Inconclusive)
	if !strings.Contains(v.Reason, "do not test parallelism") {
		t.Errorf("reason: %s", v.Reason)
	}
	expect(t, "2 cores busy, no speed-up; the loop scales", cpu(1100, 1.95, 2000), 9, Refuted)
	expect(t, "both scale", cpu(2100, 1.95, 2000), 9, Partly)
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
	v := expect(t, "async 30% slower: two-sided", cpu(700, 1000, 990), 12, Refuted)
	if !strings.Contains(v.Reason, "slower") {
		t.Errorf("reason: %s", v.Reason)
	}
	expect(t, "on the line", cpu(1100, 1000, 990), 12, Inconclusive)
	expect(t, "only async", newFile().add("cpu", "eventloop-async", "1 core(s)", rps(1000)).f, 12, NotMeasured)
}

func p99(x float64) func(*results.Row) { return func(r *results.Row) { r.P99Ms = st(x) } }

func TestClaim10Metrics(t *testing.T) {
	// Every server holds c=100 and fails c=1000: the "100–200 in parallel"
	// row's bracket [100, 1000) only overlaps its range.
	overlap := newFile().
		add("io-wait", "blocking-os", "c=100", p99(52)).add("io-wait", "blocking-os", "c=1000", p99(300)).
		add("io-wait", "eventloop-async", "c=100", p99(51)).add("io-wait", "eventloop-async", "c=1000", p99(300)).
		add("idle-connections", "eventloop-async", "10k idle", func(*results.Row) {})
	v := expect(t, "overlapping brackets", overlap.f, 10, Inconclusive)
	if !strings.Contains(v.Reason, "only overlaps") || !strings.Contains(v.Reason, "can never come out above") {
		t.Errorf("reason: %s", v.Reason)
	}
	for _, r := range Metrics(overlap.f) {
		if r.StandInOnly && r.Outcome != FitUnmeasured {
			t.Errorf("%s: a stand-in decided (%s)", r.Seed, r.Outcome)
		}
	}
	// A server holding 1,000 in flight puts the "100–200" row above.
	above := newFile().
		add("io-wait", "eventloop-async", "c=100", p99(51)).add("io-wait", "eventloop-async", "c=1000", p99(60)).
		add("io-wait", "eventloop-async", "c=5000", p99(400))
	v = expect(t, "linux within, the 100–200 conclusion above", above.f, 10, Partly)
	if !strings.Contains(v.Reason, "more than 200") {
		t.Errorf("reason: %s", v.Reason)
	}

	if got := (Bracket{Config: "x", Held: 1000, Failed: 5000, FailWhy: "c=5000: p99 400 ms > 100 ms"}).String(); got != "≥ 1,000, < 5,000 (c=5000: p99 400 ms > 100 ms)" {
		t.Errorf("bracket: %q", got)
	}
}

// TestFit: a bracket [held, failed) is within a range only when it lies
// wholly inside it; one that only overlaps is inconclusive.
func TestFit(t *testing.T) {
	for _, tc := range []struct {
		b    Bracket
		want Fit
	}{
		{Bracket{Held: 300, Failed: 400}, FitWithin},
		{Bracket{Held: 100, Failed: 501}, FitWithin},        // the limit is at most 500
		{Bracket{Held: 300, Failed: 1000}, FitInconclusive}, // [300, 1000) overlaps 100–500
		{Bracket{Held: 100, Failed: 1000}, FitInconclusive},
		{Bracket{Held: 10, Failed: 100}, FitBelow}, // failed at the range's start
		{Bracket{Held: 10, Failed: 100, FailGated: true}, FitInconclusive},
		{Bracket{Held: 5000}, FitAbove},
		{Bracket{Held: 200}, FitInconclusive}, // can never come out above
		{Bracket{Held: 50}, FitInconclusive},
		{Bracket{None: "not run"}, FitUnmeasured},
	} {
		if got, why := fit(tc.b, 100, 500); got != tc.want {
			t.Errorf("%+v: %s (%s), want %s", tc.b, got, why, tc.want)
		}
	}
	if _, why := fit(Bracket{Config: "x", Held: 200}, 100, 500); !strings.Contains(why, "can never come out above") {
		t.Errorf("an untested top does not say so: %s", why)
	}
}

// cell fills a code-x-server row whose slots were each held holdMs per
// request: rps = slots ÷ hold, whatever the catalog's concurrency.
func cell(holdMs, cpuUtil float64) func(*results.Row) {
	return func(r *results.Row) {
		c, _ := catalog.ConfigByName(r.Config)
		r.RPS = st(float64(slots(c, r.Point)) * 1000 / holdMs)
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

// TestClaim11TwoByTwo: the twin cells explain; without the real Django
// cells the claim is not measured, and says what is true by construction.
func TestClaim11TwoByTwo(t *testing.T) {
	good := codeXServer(151, 50.6, 152, 52, 0.7)
	v := expect(t, "twins only", good, 11, NotMeasured)
	if !strings.Contains(v.Reason, "by construction") || !strings.Contains(v.Reason, "django-asgi-async") {
		t.Errorf("reason: %s", v.Reason)
	}
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
	if c := cells[0]; math.Abs(c.HoldMs.Median-151) > 1e-9 {
		t.Errorf("sync/sync: slots %d, hold %v", c.Slots, c.HoldMs.Median)
	}
	bad := Cells(codeXServer(151, 150, 152, 150, 0.98))
	if bad[1].BehavesAs != "sync" || bad[3].BehavesAs != "CPU-bound" {
		t.Errorf("async on sync %s, async on async %s", bad[1].BehavesAs, bad[3].BehavesAs)
	}
	// One busy core: async code on the sync server still held each thread
	// for 97 ms, far less than the 150 ms that three waits in a row need.
	if c := Cells(codeXServer(151, 97, 152, 52, 0.9))[1]; c.BehavesAs != "async" || !strings.Contains(c.Why, "below the 150 ms") {
		t.Errorf("async code on sync server: %s (%s)", c.BehavesAs, c.Why)
	}
	// A hold whose interval crosses 75 % of the sum is undecided.
	wide := codeXServer(151, 50.6, 152, 52, 0.7)
	wr := &wide.Scenarios[0].Rows[1]
	c, _ := catalog.ConfigByName(wr.Config)
	k := float64(slots(c, wr.Point)) * 1000
	wr.RPS = results.Stat{Median: k / 100, Min: k / 160, Max: k / 50, N: 3} // held 50–160 ms around 112.5

	if c := Cells(wide)[1]; c.BehavesAs != "undecided" || c.Matches() {
		t.Errorf("straddling hold: %s", c.BehavesAs)
	}
	// A short window: the cell is shown, and does not decide.
	short := codeXServer(151, 50.6, 152, 52, 0.7)
	short.Scenarios[0].Rows[2].Concurrency = st(0.83 * float64(short.Scenarios[0].Rows[2].Point.Conns))
	if c := Cells(short)[2]; c.Gated == "" || c.Matches() {
		t.Errorf("sync/async with L = 0.83 c: gated %q, matches %v", c.Gated, c.Matches())
	}
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

// TestErrorsGate: a row with more than 0.1 % errors never decides.
func TestErrorsGate(t *testing.T) {
	withErrors := func(share float64) func(*results.Row) {
		return func(r *results.Row) {
			frac(0.95, 7, false)(r)
			r.Reps = []results.Rep{{RPS: r.RPS.Median, Requests: 10000, Errors: int64(share * 10000), Status: map[string]int64{"200": int64((1 - share) * 10000), "503": int64(share * 10000)}}}
		}
	}
	f := func(share float64) *results.File {
		return newFile().add("io-wait", "eventloop-async", "c=1000", withErrors(share)).
			add("io-wait", "eventloop-async", "c=5000", withErrors(share)).f
	}
	expect(t, "no errors", f(0), 8, Reproduced)
	expect(t, "0.1 % errors", f(0.001), 8, Reproduced)
	v := expect(t, "50 % errors", f(0.5), 8, Inconclusive)
	if !strings.Contains(v.Reason, "50 % errors") {
		t.Errorf("reason does not give the error rate: %s", v.Reason)
	}
	// A 503 the engine did not count as an error still counts.
	uncounted := newFile().add("io-wait", "eventloop-async", "c=1000", func(r *results.Row) {
		frac(0.95, 7, false)(r)
		r.Reps = []results.Rep{{Requests: 1000, Status: map[string]int64{"200": 500, "503": 500}}}
	}).f
	expect(t, "uncounted 503s", uncounted, 8, Inconclusive)
}

// TestWindowGate: a closed-loop row whose measured L is under 0.9 c was cut
// short by its window; it never decides.
func TestWindowGate(t *testing.T) {
	f := func(l float64) *results.File {
		return newFile().add("blocking-in-loop", "eventloop-inline", loopLabel(), func(r *results.Row) {
			canary(19.6, 2400)(r)
			r.Concurrency = st(l)
		}).add("blocking-in-loop", "eventloop-async", loopLabel(), canary(1950, 1.1)).f
	}
	p, _ := data{}.loopPoint()
	c := float64(p.Conns)
	expect(t, "L = c", f(c), 4, Reproduced)
	v := expect(t, "L = 0.29 c", f(0.29*c), 4, Inconclusive)
	if !strings.Contains(v.Reason, "window too short") {
		t.Errorf("reason: %s", v.Reason)
	}
}

// TestAgreement: a real stack against its twin.
func TestAgreement(t *testing.T) {
	f := func(realFrac float64) *results.File {
		return newFile().add("io-wait", "eventloop-async", "c=1000", frac(0.97, 7, false)).
			add("io-wait", "eventloop-async", "c=100", frac(0.99, 7, false)).
			add("io-wait", "fake-real", "c=1000", frac(realFrac, 3, false)).
			add("io-wait", "fake-real", "c=100", frac(0.99, 3, false)).f
	}
	for _, tc := range []struct {
		frac float64
		want string
	}{{0.95, AgreeSame}, {0.45, AgreeDiverges}, {0.87, AgreeInconclusive}} {
		a := AgreementOf(f(tc.frac), "fake-real", "eventloop-async")
		if a.Word != tc.want {
			t.Errorf("real at %s of the bound: %s (%s), want %s", Pct(tc.frac), a.Word, a.Reason, tc.want)
		}
	}
	if a := AgreementOf(newFile().f, "fake-real", "eventloop-async"); a.Word != AgreeNotMeasured {
		t.Errorf("empty: %s", a.Word)
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

func TestNonNegativeStat(t *testing.T) {
	if got := NonNegativeStat(results.Stat{Median: 3614, Min: -1515, Max: 20070, N: 3}, "", Bytes); strings.Contains(got, "-") || !strings.Contains(got, "clamped") {
		t.Errorf("negative size shown: %q", got)
	}
	if got := NonNegativeStat(results.Stat{Median: -10, Min: -20, Max: 5, N: 3}, "", Bytes); !strings.HasPrefix(got, "not resolvable") {
		t.Errorf("negative median: %q", got)
	}
	if got := NonNegativeStat(results.Stat{Median: 10, Min: 9, Max: 11, N: 3}, "", Num); got != "10 [9–11]" {
		t.Errorf("plain: %q", got)
	}
}
