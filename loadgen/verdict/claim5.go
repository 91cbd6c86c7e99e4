package verdict

import (
	"fmt"
	"math"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Claim 5 (seed 004): "Explicitly offload the blocking function to a
// separate thread pool" (run_in_threadpool) keeps the event loop free.
//
// Rows: blocking-in-loop, eventloop-pool against eventloop-async, at the
// sleeping /io point (the claim's case) and, where the catalog has it, at a
// /cpu point (CPU work offloaded to the pool, on the same cores). Checks:
// the pool's canary p99 interval lies under the allowance beside async's,
// and throughput sits at about pool size ÷ wait.

const (
	// CanaryNearFactor and CanaryNearSlackMs: the pool's canary p99 is
	// "near the async style's" when at most 2× it or 5 ms above it,
	// whichever is larger: a bare /plaintext p99 is about a millisecond,
	// where 2× alone would be noise.
	CanaryNearFactor  = 2.0
	CanaryNearSlackMs = 5.0
	// PoolCapLow and PoolCapHigh: pool throughput is "capped at about pool
	// size ÷ wait" when its interval lies within 70 %–110 % of that bound.
	PoolCapLow  = 0.70
	PoolCapHigh = 1.10
)

func init() {
	register(5, rule{
		seed:    "offloading the blocking call to a thread pool (run_in_threadpool) keeps the loop responsive",
		refute:  "the pool's canary p99 clearly above max(2× async's, async's + 5 ms), or a starved canary",
		explain: "A pool moves the blocking call off the loop, so the loop keeps answering others; the pool's size now caps throughput at size ÷ wait. CPU work offloaded to a pool still competes for the same cores.",
		soWhat:  "Offload blocking calls to a pool sized for rps × wait; CPU-heavy work needs more cores or processes, not a pool.",
		decide:  claim5,
	})
}

// allowance is the canary limit beside async's p99, as an interval.
func allowance(as results.Stat) results.Stat {
	lo, hi := as.Interval()
	f := func(x float64) float64 { return math.Max(CanaryNearFactor*x, x+CanaryNearSlackMs) }
	return results.Stat{Median: f(as.Median), Min: f(as.Min), Max: f(as.Max), Lo: f(lo), Hi: f(hi), N: as.N, Kind: as.IntervalKind()}
}

// canaryNear decides whether pool's canary stayed near async's.
func canaryNear(pool, as *results.Row) (Pos, string) {
	if CanaryOf(pool).Starved {
		return Above, fmt.Sprintf("the pool's canary was starved (%s)", CanaryText(pool))
	}
	lim := allowance(as.Canary.P99Ms)
	p := versus(pool.Canary.P99Ms, lim)
	return p, fmt.Sprintf("canary p99 %s against %s allowed beside async's %s", Stat(pool.Canary.P99Ms, "ms"), Stat(lim, "ms"), Stat(as.Canary.P99Ms, "ms"))
}

func claim5(d data) Verdict {
	p, ok := d.loopPoint()
	if !ok {
		return failed("", nil, missing("the catalog has no blocking-in-loop /io point"))
	}
	cfg, _ := catalog.ConfigByName("eventloop-pool")
	bound := float64(slots(cfg, p)) / (float64(p.Ms) / 1000)
	pred := fmt.Sprintf("pool: canary p99 ≤ max(%s× async's, async's + %s ms); throughput ≈ %d ÷ %d ms = %s rps (%s–%s of it)",
		Num(CanaryNearFactor), Num(CanaryNearSlackMs), slots(cfg, p), p.Ms, Num(bound), Pct(PoolCapLow), Pct(PoolCapHigh))
	pool, err1 := d.get("blocking-in-loop", "eventloop-pool", p.Label)
	as, err2 := d.get("blocking-in-loop", "eventloop-async", p.Label)
	var figs []Figure
	if pool != nil && pool.Canary != nil {
		figs = append(figs, Figure{Side: SideTwin, What: "pool canary p99, sleep offloaded", Value: pool.Canary.P99Ms, Unit: "ms", Note: starvedNote(pool)})
	}
	if as != nil && as.Canary != nil {
		figs = append(figs, Figure{Side: SideTwin, What: "async canary p99", Value: as.Canary.P99Ms, Unit: "ms"})
	}
	figs = append(figs, realFigures(d, "blocking-in-loop", "eventloop-pool", p.Label, func(r *results.Row) (string, results.Stat, func(float64) string, string) {
		if r.Canary != nil {
			return "canary p99", r.Canary.P99Ms, Num, "ms"
		}
		return "rps", r.RPS, Num, "rps"
	})...)
	if err := firstErr(err1, err2); err != nil {
		return failed(pred, figs, err)
	}
	if pool.Canary == nil || as.Canary == nil || pool.Canary.P99Ms.N == 0 || as.Canary.P99Ms.N == 0 {
		return failed(pred, figs, missing("the pool or async row has no canary"))
	}
	passed, undecided, of := 0, 0, 2
	var bits []string
	pos, text := canaryNear(pool, as)
	blocked := pos == Above // the claim's core: a blocked loop refutes it whatever the throughput
	switch pos {
	case Below:
		passed++
		bits = append(bits, "the loop stayed responsive: "+text)
	case Above:
		bits = append(bits, "the loop did not stay responsive: "+text)
	default:
		undecided++
		bits = append(bits, "the intervals overlap the allowance, so responsiveness is undecided: "+text)
	}
	frac := scale(pool.RPS, 1/bound)
	figs = append(figs, Figure{Side: SideTwin, What: "pool rps ÷ (pool ÷ wait)", Value: frac, Format: Pct})
	switch inBand(frac, PoolCapLow, PoolCapHigh) {
	case Inside:
		passed++
		bits = append(bits, fmt.Sprintf("throughput %s of pool ÷ wait", StatWith(frac, "", Pct)))
	case Outside:
		bits = append(bits, fmt.Sprintf("throughput %s of pool ÷ wait, outside %s–%s", StatWith(frac, "", Pct), Pct(PoolCapLow), Pct(PoolCapHigh)))
	default:
		undecided++
		bits = append(bits, fmt.Sprintf("throughput %s of pool ÷ wait straddles %s–%s", StatWith(frac, "", Pct), Pct(PoolCapLow), Pct(PoolCapHigh)))
	}
	// CPU work offloaded to the pool, beside the sleep.
	cp, okc := d.findPoint("blocking-in-loop", func(q catalog.Point) bool { return strings.HasPrefix(q.Target, "/cpu") })
	if !okc {
		bits = append(bits, "CPU work offloaded to the pool: not measured (the catalog has no blocking-in-loop /cpu point)")
	} else {
		pc, e1 := d.get("blocking-in-loop", "eventloop-pool", cp.Label)
		ac, e2 := d.get("blocking-in-loop", "eventloop-async", cp.Label)
		switch err := firstErr(e1, e2); {
		case err != nil:
			if _, g := err.(gated); g {
				of++
				undecided++
				bits = append(bits, "CPU work offloaded to the pool cannot decide: "+err.Error())
			} else {
				bits = append(bits, "CPU work offloaded to the pool: not measured in this run ("+err.Error()+")")
			}
		case pc.Canary == nil || ac.Canary == nil:
			bits = append(bits, "CPU work offloaded to the pool: no canary")
		default:
			of++
			figs = append(figs, Figure{Side: SideTwin, What: "pool canary p99, CPU work offloaded (" + cp.Label + ")", Value: pc.Canary.P99Ms, Unit: "ms", Note: starvedNote(pc)})
			pos, text := canaryNear(pc, ac)
			switch pos {
			case Below:
				passed++
				bits = append(bits, "with CPU work offloaded the loop stayed responsive too: "+text)
			case Above:
				bits = append(bits, "with CPU work offloaded the loop did not stay responsive (the pool's threads take the loop's core): "+text)
			default:
				undecided++
				bits = append(bits, "with CPU work offloaded, undecided: "+text)
			}
		}
	}
	o := checks(passed, undecided, of)
	if blocked {
		o = Refuted
	}
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: strings.Join(bits, "; ")}
}
