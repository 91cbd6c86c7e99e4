package verdict

import "fmt"

// Claim 2 (seed 003): "You need to make two database queries… Each query
// takes 50ms… With a synchronous program… total time 100ms. With an
// asynchronous program… total time 50ms."
//
// Rows: fanout calls=2 seq and calls=2 par (ms=50, pooled connections) on
// every twin. Both p50 intervals must lie within LatencyTolerance of the
// prediction; an interval that crosses the band's edge is inconclusive.

func init() {
	register(2, rule{
		seed:    "two 50 ms queries: 100 ms synchronously, 50 ms asynchronously",
		refute:  "par p50 near the 100 ms sum (no overlap), or seq p50 near 50 ms (the calls were not sequential)",
		explain: "Concurrency saves waiting time, not work: two overlapped 50 ms queries cost one wait.",
		soWhat:  "Independent queries in one request should be awaited together; the saving is the shorter waits.",
		decide:  claim2,
	})
}

func claim2(d data) Verdict {
	seqP, ok1 := d.fanPoint("fanout", 2, "seq")
	parP, ok2 := d.fanPoint("fanout", 2, "par")
	if !ok1 || !ok2 {
		return failed("", nil, missing("the catalog has no calls=2 fan-out points"))
	}
	ms := float64(parP.Ms)
	sum := float64(seqP.Calls) * float64(seqP.Ms)
	pred := fmt.Sprintf("seq ≈ %s ms, par ≈ %s ms (each within %s)", Num(sum), Num(ms), Pct(LatencyTolerance))
	var parts []part
	var figs []Figure
	for _, cfg := range primary(twinsOnly(d.configsOf("fanout"))) {
		seq, err1 := d.get("fanout", cfg, seqP.Label)
		par, err2 := d.get("fanout", cfg, parP.Label)
		if err := firstErr(err1, err2); err != nil {
			if _, g := err.(gated); g {
				parts = append(parts, part{who: cfg, out: Inconclusive, note: err.Error()})
			} else {
				parts = append(parts, part{who: cfg, out: NotMeasured})
			}
			continue
		}
		if len(figs) == 0 {
			figs = append(figs, Figure{Side: SideTwin, What: "seq p50 (" + cfg + ")", Value: seq.P50Ms, Unit: "ms"},
				Figure{Side: SideTwin, What: "par p50 (" + cfg + ")", Value: par.P50Ms, Unit: "ms"})
		}
		passed, undecided := 0, 0
		for _, b := range []Band{near(seq.P50Ms, sum, LatencyTolerance), near(par.P50Ms, ms, LatencyTolerance)} {
			switch b {
			case Inside:
				passed++
			case Across:
				undecided++
			}
		}
		parts = append(parts, part{who: cfg, out: checks(passed, undecided, 2),
			note: fmt.Sprintf("seq %s, par %s", Stat(seq.P50Ms, "ms"), Stat(par.P50Ms, "ms"))})
	}
	if len(figs) == 0 {
		return failed(pred, nil, firstReason(parts, missing("no configuration has both fanout calls=2 rows")))
	}
	o, why := foldReason(parts, fmt.Sprintf("seq ≈ %s ms and par ≈ %s ms", Num(sum), Num(ms)))
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: why}
}
