// Package verdict decides, from a results file, whether each claim of
// CLAIMS.md was reproduced, refuted or partly reproduced, and computes the
// seeds' tables that carry a judgement (the WSGI/ASGI 2×2, METRICS, sync
// against async per task type). It is the only place where a threshold
// turns numbers into a verdict: every threshold is a named constant below,
// with the reason for its value. Where a number is missing the verdict is
// NotMeasured with the reason, never a guess.
//
// Everything here is a pure function of its *results.File argument, which
// it only reads; it is safe for concurrent use on a file nobody mutates.
package verdict

import (
	"fmt"
	"math"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Outcome is a claim's verdict.
type Outcome string

// The outcomes. A refutation backed by numbers is as good a result as a
// reproduction.
const (
	Reproduced  Outcome = "reproduced"
	Refuted     Outcome = "refuted"
	Partly      Outcome = "partly"
	NotMeasured Outcome = "not measured"
)

// Verdict is one row of the claims table.
type Verdict struct {
	Claim      catalog.Claim
	Outcome    Outcome
	Prediction string // the theory, with numbers where they exist
	Measured   string // medians with [min–max] over repetitions
	Reason     string // one line: why this outcome
	Explain    string // one line for a workshop: the mechanism
}

// Thresholds. Each is the line where a measurement stops counting as "about
// what the claim says". They are deliberately round and generous: the lab
// runs on 2 shared cores over loopback, so a few percent of noise is
// normal, and a claim that needs a finer line than these is not what the
// seeds assert.
const (
	// LatencyTolerance: a latency "≈" a predicted wait when within ±20 % of
	// it (claims 1, 2, 3). 20 % of 50 ms is 10 ms: far above loopback and
	// scheduling overhead, far below one extra wait.
	LatencyTolerance = 0.20
	// NoGainRatio: a concurrent fan-out that is not at least 1.5× faster
	// than the sequential one shows no concurrency at all (claim 1).
	NoGainRatio = 1.5
	// FollowsSumFraction: a parallel fan-out whose latency reaches 80 % of
	// the sum of its waits follows the sum, not the max (claim 3).
	FollowsSumFraction = 0.8

	// InlineCollapseFactor: a blocked loop "collapses to loops ÷ wait" when
	// its throughput stays under 1.5× that bound (claim 4); an unblocked loop
	// serves c ÷ wait, 100× more at c=100.
	InlineCollapseFactor = 1.5
	// CanaryBlockedFactor: the canary "rises to about the wait or more" when
	// its p99 reaches 1.0× the handler's wait (claim 4).
	CanaryBlockedFactor = 1.0
	// CanaryNearFactor and CanaryNearSlackMs: the pool style's canary p99 is
	// "near the async style's" when it is at most 2× the async p99, or at
	// most 5 ms above it, whichever is larger. A bare /plaintext p99 is
	// around a millisecond, where a 2× factor alone would be noise (claim 5).
	CanaryNearFactor  = 2.0
	CanaryNearSlackMs = 5.0
	// PoolCapLow and PoolCapHigh: pool throughput is "capped at about pool
	// size ÷ wait" when it lands within 70 %–110 % of that bound (claim 5).
	PoolCapLow  = 0.70
	PoolCapHigh = 1.10

	// ThreadPerRequestMin: thread-per-request holds at least 0.5 extra
	// threads per extra in-flight request (ideally 1.0; the runtime's own
	// threads and sampling between peaks blur it) (claim 6).
	ThreadPerRequestMin = 0.5
	// MemRatioSignificant: an OS thread's memory is "significant" when the
	// thread-per-request server needs at least 2× the event loop's memory
	// per in-flight request (claim 6).
	MemRatioSignificant = 2.0
	// MemFloorBytes: below 1 KiB per request, an RSS difference is noise;
	// the event loop's figure is raised to this floor before the ratio
	// (claim 6).
	MemFloorBytes = 1024

	// CtxRatioReproduced and CtxRatioPartly: thread-per-request must make at
	// least 2× the event loop's context switches per request for "many
	// threads add context-switch overhead", and at least 1.2× for partly
	// (claim 7).
	CtxRatioReproduced = 2.0
	CtxRatioPartly     = 1.2
	// CtxFloor: context switches per request below 0.01 count as none.
	CtxFloor = 0.01

	// ThousandsConns: "thousands of connections" starts at 1,000 (claim 8).
	ThousandsConns = 1000
	// LittleHeldFraction: a configuration "handles" a concurrency when it
	// reaches 80 % of Little's bound c ÷ wait there (claim 8).
	LittleHeldFraction = 0.80
	// LittleFailedFraction: below half of Little's bound the loop is
	// plainly not keeping up; between the two lines the claim is partly
	// reproduced (claim 8).
	LittleFailedFraction = 0.50
	// HandfulThreads: "using one thread" allows the Go runtime's own
	// threads (GC workers, sysmon, the netpoller): at most 16 in all (claim 8).
	HandfulThreads = 16

	// ParallelSpeedupMin: 2 worker processes on 2 cores give "true
	// parallelism" at ≥ 1.6× one worker (80 % of the ideal 2×) (claim 9).
	ParallelSpeedupMin = 1.6
	// OneLoopMaxGain: one event loop "stays at about one core" when a
	// second core adds at most 20 % (claim 9).
	OneLoopMaxGain = 1.2

	// OneCoreSpread: on one core every model lands within 10 % of the
	// others: max ÷ min − 1 ≤ 0.10 (claim 12, and the tie line of the
	// per-task-type table).
	OneCoreSpread = 0.10

	// P99WaitFactor: a concurrency is "held" while p99 ≤ 2× the wait and no
	// request fails (claim 10, the METRICS table).
	P99WaitFactor = 2.0

	// CellTolerance: in the 2×2, a slot held for less than 75 % of the sum
	// of the waits proves that they overlapped (sequential calls cannot
	// take less than their sum), and a hold within ±25 % of a wait reads
	// as "≈" it (claim 11).
	CellTolerance = 0.25
	// CPUBoundUtil: a configuration with no slot limit whose CPU use reaches
	// 90 % of the cores it may use is CPU-bound, not waiting (claim 11).
	CPUBoundUtil = 0.90
)

// Claims evaluates the twelve claims, in CLAIMS.md order.
func Claims(f *results.File) []Verdict {
	d := data{f}
	rules := map[int]func(data) Verdict{
		1: claim1, 2: claim2, 3: claim3, 4: claim4, 5: claim5, 6: claim6,
		7: claim7, 8: claim8, 9: claim9, 10: claim10, 11: claim11, 12: claim12,
	}
	var out []Verdict
	for _, c := range catalog.Claims {
		v := Verdict{Outcome: NotMeasured, Reason: "no rule decides this claim"}
		if rule, ok := rules[c.N]; ok {
			v = rule(d)
		}
		v.Claim = c
		v.Explain = explain[c.N]
		out = append(out, v)
	}
	return out
}

// explain holds the workshop line for each claim: the mechanism, whichever
// way the numbers came out.
var explain = map[int]string{
	1:  "Awaiting calls one after another adds their waits; gathering them overlaps the waits, so the request lasts as long as its slowest call.",
	2:  "Concurrency saves waiting time, not work: two overlapped 50 ms queries cost one wait.",
	3:  "gather returns when the slowest task does: overlapped waits cost their maximum, not their sum.",
	4:  "A blocking call inside the loop stops every connection on that loop: it serves one request per wait, and bystanders queue behind it.",
	5:  "A pool moves the blocking call off the loop, so the loop keeps answering others; the pool's size now caps throughput at size ÷ wait.",
	6:  "A thread is memory (its stack and kernel state) held for as long as a request waits; an event loop pays a buffer and a timer per request instead.",
	7:  "Every blocking wait parks a thread and wakes it again; an event loop collects many wake-ups in one epoll_wait.",
	8:  "A waiting request costs an event loop a timer and a buffer, not a thread: Little's law (c ÷ wait) is the cap until the CPU runs out.",
	9:  "CPU work goes faster only with more cores running it: processes (or threads) on each core, not more coroutines on one.",
	10: "How many connections a server holds is set by file descriptors, memory and its own caps (threads, pools), not by one number for the OS.",
	11: "Whether waits overlap is decided by the code (sequential or gathered calls); the server decides how many requests run at once.",
	12: "On one core CPU work is serial however it is scheduled: async only reorders it, and every model pays the same hashing.",
}

// combine folds per-configuration outcomes: all reproduced → reproduced,
// all refuted → refuted, any mix → partly. NotMeasured parts are left out;
// if nothing was measured the result is NotMeasured.
func combine(parts []Outcome) Outcome {
	n, rep, ref := 0, 0, 0
	for _, p := range parts {
		switch p {
		case Reproduced:
			rep++
		case Refuted:
			ref++
		case NotMeasured:
			continue
		}
		n++
	}
	switch {
	case n == 0:
		return NotMeasured
	case rep == n:
		return Reproduced
	case ref == n:
		return Refuted
	}
	return Partly
}

// count maps the number of checks passed to an outcome: all → reproduced,
// none → refuted, some → partly.
func count(passed, of int) Outcome {
	switch {
	case passed == of:
		return Reproduced
	case passed == 0:
		return Refuted
	}
	return Partly
}

func notMeasured(prediction string, err error) Verdict {
	return Verdict{Outcome: NotMeasured, Prediction: prediction, Measured: "–", Reason: "not measured: " + err.Error()}
}

func within(x, target, tol float64) bool {
	return target > 0 && math.Abs(x-target) <= tol*target
}

// fanPoint returns the catalog's fanout point with calls and mode.
func fanPoint(scn string, calls int, mode string) (catalog.Point, bool) {
	sc, ok := catalog.ScenarioByName(scn)
	if !ok {
		return catalog.Point{}, false
	}
	for _, p := range sc.Points {
		if p.Calls == calls && p.Mode == mode {
			return p, true
		}
	}
	return catalog.Point{}, false
}

// primary orders configurations so that the asyncio twin (eventloop-async),
// the one the seeds' fan-out examples ran on, comes first.
func primary(cfgs []string) []string {
	out := make([]string, 0, len(cfgs))
	for _, c := range cfgs {
		if c == "eventloop-async" {
			out = append(out, c)
		}
	}
	for _, c := range cfgs {
		if c != "eventloop-async" {
			out = append(out, c)
		}
	}
	return out
}

// perConfig is one configuration's part of a claim decided over several.
type perConfig struct {
	cfg  string
	out  Outcome
	note string
}

// summarize writes the reason of a claim decided per configuration.
func summarize(parts []perConfig, okText string) (Outcome, string) {
	var outs []Outcome
	var bad, skipped []string
	for _, p := range parts {
		outs = append(outs, p.out)
		switch p.out {
		case Reproduced:
		case NotMeasured:
			skipped = append(skipped, p.cfg)
		default:
			bad = append(bad, p.cfg+" "+p.note)
		}
	}
	o := combine(outs)
	measured := len(parts) - len(skipped)
	var why string
	switch o {
	case NotMeasured:
		why = "not measured: no configuration has both rows"
	case Reproduced:
		why = fmt.Sprintf("%s on all %d configurations", okText, measured)
	default:
		why = fmt.Sprintf("%s on %d of %d configurations; not on %s", okText, measured-len(bad), measured, strings.Join(bad, "; "))
	}
	if len(skipped) > 0 && o != NotMeasured {
		why += fmt.Sprintf(" (not measured on %s)", strings.Join(skipped, ", "))
	}
	return o, why
}

// ---- claims 1–3: fan-out -------------------------------------------------

func claim1(d data) Verdict {
	seqP, ok1 := fanPoint("fanout", 3, "seq")
	parP, ok2 := fanPoint("fanout", 3, "par")
	if !ok1 || !ok2 {
		return notMeasured("", missing("the catalog has no calls=3 fan-out points"))
	}
	calls, ms := seqP.Calls, seqP.Ms
	pred := fmt.Sprintf("seq ≈ %d × %d ms = %d ms, par ≈ %d ms: seq ÷ par ≈ %d (the seed saw 1.02 s against 0.12 s)",
		calls, ms, calls*ms, ms, calls)
	var parts []perConfig
	var measured string
	var ratios []float64
	for _, cfg := range primary(d.configsOf("fanout")) {
		seq, err1 := d.row("fanout", cfg, seqP.Label)
		par, err2 := d.row("fanout", cfg, parP.Label)
		if err1 != nil || err2 != nil {
			parts = append(parts, perConfig{cfg: cfg, out: NotMeasured})
			continue
		}
		r := ratio(seq.P50Ms, par.P50Ms)
		ratios = append(ratios, r.Median)
		if measured == "" {
			measured = fmt.Sprintf("%s: seq p50 %s, par p50 %s, ratio %s", cfg,
				Stat(seq.P50Ms, "ms"), Stat(par.P50Ms, "ms"), StatWith(r, "", Times))
		}
		o := Refuted
		switch {
		case within(r.Median, float64(calls), LatencyTolerance):
			o = Reproduced
		case r.Median >= NoGainRatio:
			o = Partly
		}
		parts = append(parts, perConfig{cfg: cfg, out: o, note: Times(r.Median)})
	}
	if measured == "" {
		return notMeasured(pred, missing("no configuration has both fanout calls=3 rows"))
	}
	if len(ratios) > 1 {
		lo, hi := minMax(ratios)
		measured += fmt.Sprintf("; ratio %s–%s over %d configurations", Num(lo), Times(hi), len(ratios))
	}
	o, why := summarize(parts, fmt.Sprintf("seq ÷ par within %s of %d", Pct(LatencyTolerance), calls))
	return Verdict{Outcome: o, Prediction: pred, Measured: measured, Reason: why}
}

func claim2(d data) Verdict {
	seqP, ok1 := fanPoint("fanout", 2, "seq")
	parP, ok2 := fanPoint("fanout", 2, "par")
	if !ok1 || !ok2 {
		return notMeasured("", missing("the catalog has no calls=2 fan-out points"))
	}
	ms := float64(parP.Ms)
	sum := float64(seqP.Calls) * float64(seqP.Ms)
	pred := fmt.Sprintf("seq ≈ %s ms, par ≈ %s ms (each within %s)", Num(sum), Num(ms), Pct(LatencyTolerance))
	var parts []perConfig
	var measured string
	for _, cfg := range primary(d.configsOf("fanout")) {
		seq, err1 := d.row("fanout", cfg, seqP.Label)
		par, err2 := d.row("fanout", cfg, parP.Label)
		if err1 != nil || err2 != nil {
			parts = append(parts, perConfig{cfg: cfg, out: NotMeasured})
			continue
		}
		if measured == "" {
			measured = fmt.Sprintf("%s: seq p50 %s, par p50 %s", cfg, Stat(seq.P50Ms, "ms"), Stat(par.P50Ms, "ms"))
		}
		okSeq, okPar := within(seq.P50Ms.Median, sum, LatencyTolerance), within(par.P50Ms.Median, ms, LatencyTolerance)
		n := 0
		for _, b := range []bool{okSeq, okPar} {
			if b {
				n++
			}
		}
		parts = append(parts, perConfig{cfg: cfg, out: count(n, 2),
			note: fmt.Sprintf("(seq %s ms, par %s ms)", Num(seq.P50Ms.Median), Num(par.P50Ms.Median))})
	}
	if measured == "" {
		return notMeasured(pred, missing("no configuration has both fanout calls=2 rows"))
	}
	o, why := summarize(parts, fmt.Sprintf("seq ≈ %s ms and par ≈ %s ms", Num(sum), Num(ms)))
	return Verdict{Outcome: o, Prediction: pred, Measured: measured, Reason: why}
}

func claim3(d data) Verdict {
	var pars []catalog.Point
	if sc, ok := catalog.ScenarioByName("fanout"); ok {
		for _, p := range sc.Points {
			if p.Mode == "par" {
				pars = append(pars, p)
			}
		}
	}
	if len(pars) == 0 {
		return notMeasured("", missing("the catalog has no parallel fan-out points"))
	}
	var preds []string
	for _, p := range pars {
		preds = append(preds, fmt.Sprintf("%d × %d ms par ≈ %d ms, not %d", p.Calls, p.Ms, p.Ms, p.Calls*p.Ms))
	}
	pred := "latency follows the largest wait: " + strings.Join(preds, "; ")
	var parts []perConfig
	var measured string
	for _, cfg := range primary(d.configsOf("fanout")) {
		var outs []Outcome
		var notes, vals []string
		for _, p := range pars {
			r, err := d.row("fanout", cfg, p.Label)
			if err != nil {
				continue
			}
			x := r.P50Ms.Median
			o := Partly
			switch {
			case within(x, float64(p.Ms), LatencyTolerance):
				o = Reproduced
			case x >= FollowsSumFraction*float64(p.Calls*p.Ms):
				o = Refuted
			}
			outs = append(outs, o)
			notes = append(notes, fmt.Sprintf("%s %s ms", p.Label, Num(x)))
			vals = append(vals, fmt.Sprintf("%s p50 %s", p.Label, Stat(r.P50Ms, "ms")))
		}
		if len(outs) == 0 {
			parts = append(parts, perConfig{cfg: cfg, out: NotMeasured})
			continue
		}
		if measured == "" {
			measured = cfg + ": " + strings.Join(vals, ", ")
		}
		parts = append(parts, perConfig{cfg: cfg, out: combine(outs), note: "(" + strings.Join(notes, ", ") + ")"})
	}
	if measured == "" {
		return notMeasured(pred, missing("no configuration has a parallel fan-out row"))
	}
	o, why := summarize(parts, fmt.Sprintf("par latency within %s of the largest wait", Pct(LatencyTolerance)))
	return Verdict{Outcome: o, Prediction: pred, Measured: measured, Reason: why}
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// ---- claims 4–5: blocking inside the loop --------------------------------

// loopPoint is the blocking-in-loop scenario's load point.
func loopPoint() (catalog.Point, bool) {
	sc, ok := catalog.ScenarioByName("blocking-in-loop")
	if !ok || len(sc.Points) == 0 {
		return catalog.Point{}, false
	}
	return sc.Points[0], true
}

// slots is the configured concurrency cap of cfg at p: its threads, pool
// or loops, or the client's connections when nothing lower caps it.
func slots(c catalog.Config, p catalog.Point) int {
	n := p.Conns
	if c.Limit != catalog.LimitNone && c.LimitN > 0 && (n == 0 || c.LimitN < n) {
		n = c.LimitN
	}
	return n
}

func claim4(d data) Verdict {
	p, ok := loopPoint()
	if !ok {
		return notMeasured("", missing("the catalog has no blocking-in-loop point"))
	}
	cfg, _ := catalog.ConfigByName("eventloop-inline")
	bound := float64(slots(cfg, p)) / (float64(p.Ms) / 1000)
	wait := float64(p.Ms)
	pred := fmt.Sprintf("inline at %s: throughput ≈ %d loop(s) ÷ %d ms = %s rps; the canary's p99 ≥ %s ms, or fewer than %s of its probes answered at all",
		p.Label, slots(cfg, p), p.Ms, Num(bound), Num(CanaryBlockedFactor*wait), Pct(CanaryAnsweredMin))
	inl, err := d.row("blocking-in-loop", "eventloop-inline", p.Label)
	if err != nil {
		return notMeasured(pred, err)
	}
	if inl.Canary == nil || inl.Canary.P99Ms.N == 0 {
		return notMeasured(pred, missing("the inline row has no canary"))
	}
	collapsed := inl.RPS.Median <= InlineCollapseFactor*bound
	ans := CanaryOf(inl)
	blocked := ans.Starved || inl.Canary.P99Ms.Median >= CanaryBlockedFactor*wait
	measured := fmt.Sprintf("inline: %s rps, canary %s", Stat(inl.RPS, ""), CanaryText(inl))
	if a, err := d.row("blocking-in-loop", "eventloop-async", p.Label); err == nil && a.Canary != nil {
		measured += fmt.Sprintf("; async: %s rps, canary %s", Stat(a.RPS, ""), CanaryText(a))
	}
	var bits []string
	n := 0
	if collapsed {
		n++
		bits = append(bits, fmt.Sprintf("throughput %s rps stayed under %s× the %s rps bound", Num(inl.RPS.Median), Num(InlineCollapseFactor), Num(bound)))
	} else {
		bits = append(bits, fmt.Sprintf("throughput %s rps did not collapse to the %s rps bound", Num(inl.RPS.Median), Num(bound)))
	}
	switch {
	case ans.Starved:
		n++
		bits = append(bits, fmt.Sprintf("the canary got answers to only %s of %s probes, the oldest unanswered after ≈ %s ms: the loop held them back",
			Int(ans.Answered), Int(ans.Scheduled), Num(ans.OldestWaitMs)))
	case blocked:
		n++
		bits = append(bits, fmt.Sprintf("the canary's p99 reached %s ms, at least the %s ms wait", Num(inl.Canary.P99Ms.Median), Num(wait)))
	default:
		bits = append(bits, fmt.Sprintf("the canary's p99 stayed at %s ms, under the %s ms wait", Num(inl.Canary.P99Ms.Median), Num(wait)))
	}
	return Verdict{Outcome: count(n, 2), Prediction: pred, Measured: measured, Reason: strings.Join(bits, "; ")}
}

func claim5(d data) Verdict {
	p, ok := loopPoint()
	if !ok {
		return notMeasured("", missing("the catalog has no blocking-in-loop point"))
	}
	cfg, _ := catalog.ConfigByName("eventloop-pool")
	bound := float64(slots(cfg, p)) / (float64(p.Ms) / 1000)
	pred := fmt.Sprintf("pool: canary p99 ≤ max(%s× async's, async's + %s ms); throughput ≈ %d ÷ %d ms = %s rps (%s–%s of it)",
		Num(CanaryNearFactor), Num(CanaryNearSlackMs), slots(cfg, p), p.Ms, Num(bound), Pct(PoolCapLow), Pct(PoolCapHigh))
	pool, err := d.row("blocking-in-loop", "eventloop-pool", p.Label)
	if err != nil {
		return notMeasured(pred, err)
	}
	as, err := d.row("blocking-in-loop", "eventloop-async", p.Label)
	if err != nil {
		return notMeasured(pred, err)
	}
	if pool.Canary == nil || as.Canary == nil || pool.Canary.P99Ms.N == 0 || as.Canary.P99Ms.N == 0 {
		return notMeasured(pred, missing("the pool or async row has no canary"))
	}
	limit := math.Max(CanaryNearFactor*as.Canary.P99Ms.Median, as.Canary.P99Ms.Median+CanaryNearSlackMs)
	starved := CanaryOf(pool).Starved
	near := !starved && pool.Canary.P99Ms.Median <= limit
	frac := pool.RPS.Median / bound
	capped := frac >= PoolCapLow && frac <= PoolCapHigh
	measured := fmt.Sprintf("pool: canary %s, %s rps (%s of %s); async: canary %s",
		CanaryText(pool), Stat(pool.RPS, ""), Pct(frac), Num(bound), CanaryText(as))
	var o Outcome
	var why string
	switch {
	case starved:
		o = Refuted
		why = fmt.Sprintf("the canary was starved (%s): the pool did not keep the loop responsive", CanaryText(pool))
	case near && capped:
		o = Reproduced
		why = fmt.Sprintf("canary p99 %s ms is within the %s ms allowed beside async's %s ms, and throughput sits at %s of pool ÷ wait",
			Num(pool.Canary.P99Ms.Median), Num(limit), Num(as.Canary.P99Ms.Median), Pct(frac))
	case near:
		o = Partly
		why = fmt.Sprintf("the loop stayed responsive (canary p99 %s ms against async's %s ms), but throughput is %s of pool ÷ wait, outside %s–%s",
			Num(pool.Canary.P99Ms.Median), Num(as.Canary.P99Ms.Median), Pct(frac), Pct(PoolCapLow), Pct(PoolCapHigh))
	default:
		o = Refuted
		why = fmt.Sprintf("canary p99 %s ms is above the %s ms allowed beside async's %s ms: the pool did not keep the loop responsive",
			Num(pool.Canary.P99Ms.Median), Num(limit), Num(as.Canary.P99Ms.Median))
	}
	return Verdict{Outcome: o, Prediction: pred, Measured: measured, Reason: why}
}

// ---- claims 6–8: I/O waits ----------------------------------------------

// commonLabels returns the io-wait labels measured for every cfg, by
// ascending concurrency, at most maxConns connections (0: any).
func (d data) commonLabels(scn string, maxConns int, cfgs ...string) []string {
	if len(cfgs) == 0 {
		return nil
	}
	var out []string
	for _, r := range d.rows(scn, cfgs[0]) {
		if maxConns > 0 && r.Point.Conns > maxConns {
			continue
		}
		ok := true
		for _, c := range cfgs[1:] {
			if _, err := d.row(scn, c, r.Point.Label); err != nil {
				ok = false
			}
		}
		if ok {
			out = append(out, r.Point.Label)
		}
	}
	return out
}

// Fresh is a row's server threads and memory as its first repetition saw
// them. The suite keeps one server process alive through every point and
// repetition of a scenario, points in ascending concurrency, repetitions
// interleaved; Go keeps the threads and the heap it grew, so a later
// repetition of a small point starts from the high-water mark of a larger
// one. Only the first repetition of each point is clean for quantities
// that a process keeps. Without raw repetitions, Fresh falls back to the
// minimum over repetitions (which is the first one's for a quantity that
// only grows) and, per idle connection, to the median.
type Fresh struct {
	Threads         float64 // peak threads during the measurement
	RSSBytes        float64 // peak RSS during the measurement
	RSSBeforeBytes  float64 // RSS when the measurement started
	RSSPerConnBytes float64 // idle points: (RSS held − RSS before) ÷ held
	FirstRep        bool    // from the first repetition (false: the fallback)
}

// FreshOf returns r's first-repetition threads and memory.
func FreshOf(r *results.Row) Fresh {
	if len(r.Reps) > 0 {
		rp := r.Reps[0]
		fr := Fresh{Threads: float64(rp.Server.ThreadsPeak), RSSBytes: float64(rp.Server.RSSPeak),
			RSSBeforeBytes: float64(rp.Server.RSSBefore), FirstRep: true}
		if ir := rp.Idle; ir != nil && ir.Held > 0 {
			fr.RSSPerConnBytes = float64(ir.RSSHeld-ir.RSSBefore) / float64(ir.Held)
		}
		return fr
	}
	fr := Fresh{Threads: r.Server.ThreadsPeak.Min, RSSBytes: r.Server.RSSPeakBytes.Min, RSSBeforeBytes: r.Server.RSSBeforeBytes.Min}
	if r.Idle != nil {
		fr.RSSPerConnBytes = r.Idle.RSSPerConnBytes.Median
	}
	return fr
}

// InFlight is what one more request in flight cost a configuration in
// io-wait, between its two lowest measured points at or below a
// concurrency: the extra threads and RSS divided by the extra connections,
// from each point's first repetition (see Fresh).
type InFlight struct {
	Config   string
	From, To string // point labels
	Threads  float64
	RSSBytes float64
}

// InFlightCost measures cfg's cost per in-flight request from its two
// lowest io-wait points at or below maxConns connections (0: any).
func InFlightCost(f *results.File, cfg string, maxConns int) (InFlight, error) {
	d := data{f}
	var rows []*results.Row
	for _, r := range d.rows("io-wait", cfg) {
		if maxConns == 0 || r.Point.Conns <= maxConns {
			rows = append(rows, r)
		}
	}
	if len(rows) < 2 {
		return InFlight{}, missing(fmt.Sprintf("%s has %d io-wait point(s) at or below %s connections; the cost per in-flight request needs two", cfg, len(rows), Int(maxConns)))
	}
	a, b := rows[0], rows[1]
	fa, fb := FreshOf(a), FreshOf(b)
	dc := float64(b.Point.Conns - a.Point.Conns)
	return InFlight{Config: cfg, From: a.Point.Label, To: b.Point.Label,
		Threads: (fb.Threads - fa.Threads) / dc, RSSBytes: (fb.RSSBytes - fa.RSSBytes) / dc}, nil
}

// ThreadCap is blocking-os's configured thread cap: the concurrency under
// which its cost per in-flight request is a cost per thread.
func ThreadCap() int {
	c, _ := catalog.ConfigByName("blocking-os")
	return c.LimitN
}

func claim6(d data) Verdict {
	limit := ThreadCap()
	pred := fmt.Sprintf("below its %d-thread cap, blocking-os adds ≥ %s thread per in-flight request and ≥ %s× the event loop's memory per in-flight request",
		limit, Num(ThreadPerRequestMin), Num(MemRatioSignificant))
	os, err := InFlightCost(d.f, "blocking-os", limit)
	if err != nil {
		return notMeasured(pred, err)
	}
	el, err := InFlightCost(d.f, "eventloop-async", limit)
	if err != nil {
		return notMeasured(pred, err)
	}
	if os.From != el.From || os.To != el.To {
		return notMeasured(pred, missing(fmt.Sprintf("blocking-os (%s to %s) and eventloop-async (%s to %s) were measured at different points", os.From, os.To, el.From, el.To)))
	}
	memRatio := os.RSSBytes / math.Max(el.RSSBytes, MemFloorBytes)
	measured := fmt.Sprintf("from %s to %s, per added request (first repetitions): blocking-os %s thread(s) and %s; eventloop-async %s thread(s) and %s",
		os.From, os.To, Num(os.Threads), Bytes(os.RSSBytes), Num(el.Threads), Bytes(el.RSSBytes))
	if idle := d.commonLabels("idle-connections", 0, "blocking-os", "eventloop-async"); len(idle) > 0 {
		l := idle[len(idle)-1]
		io, _ := d.row("idle-connections", "blocking-os", l)
		ie, _ := d.row("idle-connections", "eventloop-async", l)
		measured += fmt.Sprintf("; per idle connection (%s): blocking-os %s, eventloop-async %s",
			l, Bytes(FreshOf(io).RSSPerConnBytes), Bytes(FreshOf(ie).RSSPerConnBytes))
	}
	threads := os.Threads >= ThreadPerRequestMin
	costly := memRatio >= MemRatioSignificant
	var bits []string
	n := 0
	if threads {
		n++
		bits = append(bits, fmt.Sprintf("blocking-os added %s OS thread(s) per in-flight request", Num(os.Threads)))
	} else {
		bits = append(bits, fmt.Sprintf("blocking-os added only %s OS thread(s) per in-flight request", Num(os.Threads)))
	}
	if costly {
		n++
		bits = append(bits, fmt.Sprintf("each cost %s, %s the event loop's", Bytes(os.RSSBytes), Times(memRatio)))
	} else {
		bits = append(bits, fmt.Sprintf("each cost %s, only %s the event loop's (%s needed for \"significant\")", Bytes(os.RSSBytes), Times(memRatio), Times(MemRatioSignificant)))
	}
	return Verdict{Outcome: count(n, 2), Prediction: pred, Measured: measured, Reason: strings.Join(bits, "; ")}
}

func claim7(d data) Verdict {
	pred := fmt.Sprintf("blocking-os makes ≥ %s× the event loop's context switches per request (voluntary + involuntary) at the same concurrency", Num(CtxRatioReproduced))
	labels := d.commonLabels("io-wait", 0, "blocking-os", "eventloop-async")
	if len(labels) == 0 {
		return notMeasured(pred, missing("io-wait has no concurrency measured on both blocking-os and eventloop-async"))
	}
	l := labels[len(labels)-1]
	o, _ := d.row("io-wait", "blocking-os", l)
	e, _ := d.row("io-wait", "eventloop-async", l)
	oc := plus(o.Server.CtxVolPerReq, o.Server.CtxInvolPerReq)
	ec := plus(e.Server.CtxVolPerReq, e.Server.CtxInvolPerReq)
	if oc.N == 0 || ec.N == 0 {
		return notMeasured(pred, missing("no context-switch counts at "+l))
	}
	r := oc.Median / math.Max(ec.Median, CtxFloor)
	measured := fmt.Sprintf("at %s: blocking-os %s, eventloop-async %s switches per request", l, Stat(oc, ""), Stat(ec, ""))
	if g, err := d.row("io-wait", "blocking-goroutine", l); err == nil {
		measured += fmt.Sprintf(", blocking-goroutine %s", Stat(plus(g.Server.CtxVolPerReq, g.Server.CtxInvolPerReq), ""))
	}
	out := Refuted
	switch {
	case r >= CtxRatioReproduced:
		out = Reproduced
	case r >= CtxRatioPartly:
		out = Partly
	}
	why := fmt.Sprintf("OS threads switched %s as often per request as the event loop at %s", Times(r), l)
	if out == Partly {
		why += fmt.Sprintf(": more, but under %s", Times(CtxRatioReproduced))
	}
	return Verdict{Outcome: out, Prediction: pred, Measured: measured, Reason: why}
}

// fraction is a row's share of its Little bound.
func fraction(r *results.Row) (results.Stat, bool) {
	if r.LittleFraction != nil && r.LittleFraction.N > 0 {
		return *r.LittleFraction, true
	}
	if r.LittleBoundRPS != nil && *r.LittleBoundRPS > 0 {
		return scale(r.RPS, 1 / *r.LittleBoundRPS), true
	}
	return results.Stat{}, false
}

func claim8(d data) Verdict {
	pred := fmt.Sprintf("eventloop-async (1 loop) at c ≥ %s: ≥ %s of Little's bound c ÷ %s ms, with ≤ %d threads",
		Int(ThousandsConns), Pct(LittleHeldFraction), Num(waitMs()), HandfulThreads)
	var rows []*results.Row
	var why []string
	for _, r := range d.allRows("io-wait", "eventloop-async") {
		if r.Point.Conns < ThousandsConns {
			continue
		}
		if _, err := d.row("io-wait", r.Config, r.Point.Label); err != nil {
			why = append(why, err.Error())
			continue
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		reason := fmt.Sprintf("io-wait has no eventloop-async row at %s connections or more", Int(ThousandsConns))
		if len(why) > 0 {
			reason = strings.Join(why, "; ")
		}
		return notMeasured(pred, missing(reason))
	}
	var ms, bits []string
	held, failed, maxThreads := 0, 0, 0.0
	for _, r := range rows {
		f, ok := fraction(r)
		if !ok {
			return notMeasured(pred, missing("no Little bound on "+r.Point.Label))
		}
		ms = append(ms, fmt.Sprintf("%s: %s rps = %s of the bound, p99 %s, %s threads", r.Point.Label,
			Stat(r.RPS, ""), StatWith(f, "", Pct), Stat(r.P99Ms, "ms"), Count(r.Server.ThreadsPeak.Median)))
		maxThreads = math.Max(maxThreads, r.Server.ThreadsPeak.Median)
		switch {
		case f.Median >= LittleHeldFraction:
			held++
			bits = append(bits, fmt.Sprintf("%s held (%s)", r.Point.Label, Pct(f.Median)))
		case r.Saturated:
			bits = append(bits, fmt.Sprintf("%s reached %s, but the load generator may have been the limit (%s)", r.Point.Label, Pct(f.Median), r.SaturationReason))
		case f.Median < LittleFailedFraction:
			failed++
			bits = append(bits, fmt.Sprintf("%s reached only %s", r.Point.Label, Pct(f.Median)))
		default:
			bits = append(bits, fmt.Sprintf("%s reached %s, short of %s", r.Point.Label, Pct(f.Median), Pct(LittleHeldFraction)))
		}
	}
	bits = append(bits, why...)
	fewThreads := maxThreads <= HandfulThreads
	if fewThreads {
		bits = append(bits, fmt.Sprintf("at most %s threads", Count(maxThreads)))
	} else {
		bits = append(bits, fmt.Sprintf("%s threads, more than a handful (%d)", Count(maxThreads), HandfulThreads))
	}
	var out Outcome
	switch {
	case held == len(rows) && fewThreads:
		out = Reproduced
	case failed == len(rows):
		out = Refuted
	default:
		out = Partly
	}
	return Verdict{Outcome: out, Prediction: pred, Measured: "eventloop-async " + strings.Join(ms, "; "), Reason: strings.Join(bits, "; ")}
}

// ---- claims 9 and 12: CPU-bound work --------------------------------------

// cpuLabel returns the cpu scenario's label for n server CPUs.
func cpuLabel(n int) (string, bool) {
	if sc, ok := catalog.ScenarioByName("cpu"); ok {
		for _, p := range sc.Points {
			if p.ServerCPUs == n {
				return p.Label, true
			}
		}
	}
	return "", false
}

func claim9(d data) Verdict {
	pred := fmt.Sprintf("on 2 cores: prefork-2 ≥ %s× prefork-1; eventloop-async (1 loop) ≤ %s× its 1-core throughput",
		Num(ParallelSpeedupMin), Num(OneLoopMaxGain))
	one, ok1 := cpuLabel(1)
	two, ok2 := cpuLabel(2)
	if !ok1 || !ok2 {
		return notMeasured(pred, missing("the catalog has no 1- and 2-core cpu points"))
	}
	p2, err := d.row("cpu", "prefork-2", two)
	if err != nil {
		return notMeasured(pred, err)
	}
	p1, err := d.row("cpu", "prefork-1", two)
	if err != nil {
		return notMeasured(pred, err)
	}
	e2, err := d.row("cpu", "eventloop-async", two)
	if err != nil {
		return notMeasured(pred, err)
	}
	e1, err := d.row("cpu", "eventloop-async", one)
	if err != nil {
		return notMeasured(pred, err)
	}
	speed := ratio(p2.RPS, p1.RPS)
	gain := ratio(e2.RPS, e1.RPS)
	measured := fmt.Sprintf("2 cores: prefork-2 %s rps, prefork-1 %s rps (%s); eventloop-async %s rps on 2 cores, %s on 1 (%s)",
		Stat(p2.RPS, ""), Stat(p1.RPS, ""), StatWith(speed, "", Times), Stat(e2.RPS, ""), Stat(e1.RPS, ""), StatWith(gain, "", Times))
	parallel := speed.Median >= ParallelSpeedupMin
	oneCore := gain.Median <= OneLoopMaxGain
	var bits []string
	n := 0
	if parallel {
		n++
		bits = append(bits, fmt.Sprintf("two workers gave %s one worker's throughput", Times(speed.Median)))
	} else {
		bits = append(bits, fmt.Sprintf("two workers gave only %s one worker's throughput (%s needed)", Times(speed.Median), Times(ParallelSpeedupMin)))
	}
	if oneCore {
		n++
		bits = append(bits, fmt.Sprintf("one loop gained %s from a second core", Times(gain.Median)))
	} else {
		bits = append(bits, fmt.Sprintf("one loop gained %s from a second core, more than %s", Times(gain.Median), Times(OneLoopMaxGain)))
	}
	if notes := rowNotes(p2, e2); notes != "" {
		bits = append(bits, "caveat: "+notes)
	}
	return Verdict{Outcome: count(n, 2), Prediction: pred, Measured: measured, Reason: strings.Join(bits, "; ")}
}

// rowNotes joins the distinct notes of rows, for caveats in a reason.
func rowNotes(rows ...*results.Row) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		for _, n := range r.Notes {
			if strings.HasPrefix(n, "rep ") || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// isAsync reports whether a configuration runs its handlers on an event loop.
func isAsync(c catalog.Config) bool { return c.Model == "event-loop" }

func claim12(d data) Verdict {
	pred := fmt.Sprintf("on 1 core every model within %s of the others (max ÷ min − 1 ≤ %s)", Pct(OneCoreSpread), Num(OneCoreSpread))
	one, ok := cpuLabel(1)
	if !ok {
		return notMeasured(pred, missing("the catalog has no 1-core cpu point"))
	}
	type m struct {
		cfg string
		rps results.Stat
	}
	var all []m
	var parts []string
	bestAsync, bestSync := m{}, m{}
	for _, cfg := range d.configsOf("cpu") {
		r, err := d.row("cpu", cfg, one)
		if err != nil {
			continue
		}
		all = append(all, m{cfg, r.RPS})
		parts = append(parts, fmt.Sprintf("%s %s", cfg, Stat(r.RPS, "")))
		if isAsync(config(r)) {
			if r.RPS.Median > bestAsync.rps.Median {
				bestAsync = m{cfg, r.RPS}
			}
		} else if r.RPS.Median > bestSync.rps.Median {
			bestSync = m{cfg, r.RPS}
		}
	}
	if len(all) < 2 || bestAsync.cfg == "" || bestSync.cfg == "" {
		return notMeasured(pred, missing("the 1-core cpu point needs at least one event-loop and one other configuration"))
	}
	lo, hi := all[0], all[0]
	for _, x := range all {
		if x.rps.Median < lo.rps.Median {
			lo = x
		}
		if x.rps.Median > hi.rps.Median {
			hi = x
		}
	}
	spread := hi.rps.Median/lo.rps.Median - 1
	measured := fmt.Sprintf("1 core, rps: %s; spread %s", strings.Join(parts, ", "), Pct(spread))
	asyncGain := bestAsync.rps.Median/bestSync.rps.Median - 1
	var out Outcome
	var why string
	switch {
	case spread <= OneCoreSpread:
		out = Reproduced
		why = fmt.Sprintf("all %d configurations within %s of each other (%s fastest, %s slowest)", len(all), Pct(spread), hi.cfg, lo.cfg)
	case asyncGain <= OneCoreSpread:
		out = Partly
		why = fmt.Sprintf("the spread is %s (%s against %s), more than %s, but async did not speed CPU work up: %s is %s against %s",
			Pct(spread), hi.cfg, lo.cfg, Pct(OneCoreSpread), bestAsync.cfg, signedPct(asyncGain), bestSync.cfg)
	default:
		out = Refuted
		why = fmt.Sprintf("%s beat the best non-async model (%s) by %s on one core", bestAsync.cfg, bestSync.cfg, Pct(asyncGain))
	}
	return Verdict{Outcome: out, Prediction: pred, Measured: measured, Reason: why}
}

func signedPct(x float64) string {
	if x >= 0 {
		return "+" + Pct(x)
	}
	return Pct(x)
}

// ---- claims 10–11: the seed tables ---------------------------------------

func claim10(d data) Verdict {
	rows := Metrics(d.f)
	pred := fmt.Sprintf("each model's measured limit (p99 ≤ %s× the %s ms wait, no errors) falls in the seed's range for it", Num(P99WaitFactor), Num(waitMs()))
	var outs []Outcome
	var ms, bits, undecided []string
	for _, r := range rows {
		switch r.Outcome {
		case Within:
			outs = append(outs, Reproduced)
		case Above, Below:
			outs = append(outs, Refuted)
		default:
			undecided = append(undecided, fmt.Sprintf("%s: %s (%s)", r.Seed, r.Outcome, r.Why))
			continue
		}
		ms = append(ms, fmt.Sprintf("%s %s: %s", r.Seed, r.SeedRange(), r.Measured.String()))
		bits = append(bits, fmt.Sprintf("%s %s", r.Seed, r.Outcome))
	}
	if len(undecided) > 0 {
		bits = append(bits, "undecided: "+strings.Join(undecided, "; "))
	}
	o := combine(outs)
	if o == NotMeasured {
		var why []string
		for _, r := range rows {
			why = append(why, r.Seed+": "+r.Measured.String())
		}
		return notMeasured(pred, missing(strings.Join(why, "; ")))
	}
	return Verdict{Outcome: o, Prediction: pred, Measured: strings.Join(ms, "; "), Reason: strings.Join(bits, "; ")}
}

func claim11(d data) Verdict {
	cells := Cells(d.f)
	pred := "each cell behaves as its code's style (async code → waits overlap; sync code → each slot held for the sum); async on async has the best throughput"
	var ms, bits []string
	passed, checks := 0, 0
	var best *Cell
	for i := range cells {
		c := &cells[i]
		if c.Missing != "" {
			return notMeasured(pred, missing(c.Missing))
		}
		checks++
		ms = append(ms, fmt.Sprintf("%s code on %s server (%s): %s rps, behaves %s", c.Code, c.Server, c.Config, Stat(c.Row.RPS, ""), c.BehavesAs))
		if c.Matches() {
			passed++
		} else {
			bits = append(bits, fmt.Sprintf("%s code on %s server behaves %s, the seed says %s", c.Code, c.Server, c.BehavesAs, c.SeedSays))
		}
		if best == nil || c.Row.RPS.Median > best.Row.RPS.Median {
			best = c
		}
	}
	if checks == 0 {
		return notMeasured(pred, missing("the catalog's code-x-server scenario has no cells"))
	}
	checks++
	if best.Code == "async" && best.Server == "async" {
		passed++
	} else {
		bits = append(bits, fmt.Sprintf("the best throughput is %s code on %s server (%s rps), not async on async", best.Code, best.Server, Num(best.Row.RPS.Median)))
	}
	o := Refuted
	switch {
	case passed == checks:
		o = Reproduced
		bits = append(bits, fmt.Sprintf("all %d cells behave as the seed says and async on async has the best throughput", checks-1))
	case passed*2 > checks:
		o = Partly
	}
	return Verdict{Outcome: o, Prediction: pred, Measured: strings.Join(ms, "; "), Reason: strings.Join(bits, "; ")}
}
