package verdict

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
)

// Claim 3 (seed 002): "gather over task_a (1 s) and task_b (2 s) finishes
// in 2 s, not 3."
//
// Rows: fanout par points with unequal waits (ms=a,b: one wait per call),
// where the max and the sum differ by a whole wait, so "follows the max"
// can be told from "follows the sum". Equal-wait par points are shown
// beside them but do not decide: with equal waits max = each wait, and the
// seed's point is that the longest task sets the time.

const (
	// FollowsSumFraction: a gathered fan-out whose p50 interval lies at or
	// above 80 % of the sum of its waits follows the sum, not the max.
	FollowsSumFraction = 0.8
)

func init() {
	register(3, rule{
		seed:    "gather(task_a: 1 s, task_b: 2 s) finishes in 2 s, not 3",
		refute:  "the gathered p50 at or above 80 % of the sum of the unequal waits",
		explain: "gather returns when the slowest task does: overlapped waits cost their maximum, not their sum.",
		soWhat:  "A gathered request is as slow as its slowest call: speed that one up first.",
		decide:  claim3,
	})
}

// waitsOf returns a point's per-call waits (ms=a,b) and their max and sum.
func waitsOf(p catalog.Point) (max, sum float64, ok bool) {
	for _, f := range strings.Split(query(p, "ms"), ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return 0, 0, false
		}
		sum += float64(v)
		if float64(v) > max {
			max = float64(v)
		}
	}
	return max, sum, sum > 0
}

func claim3(d data) Verdict {
	var pars []catalog.Point
	for _, p := range d.points("fanout") {
		if p.Mode == "par" && unequalWaits(p) && !coldConn(p) {
			pars = append(pars, p)
		}
	}
	pred := "gathered unequal waits take the largest wait (within " + Pct(LatencyTolerance) + "), not the sum"
	if len(pars) == 0 {
		return failed(pred, nil, missing("the catalog has no fan-out point with unequal waits (ms=a,b), and equal waits cannot tell the max from each wait"))
	}
	var preds []string
	for _, p := range pars {
		mx, sum, _ := waitsOf(p)
		preds = append(preds, fmt.Sprintf("%s: ≈ %s ms, not %s", p.Label, Num(mx), Num(sum)))
	}
	pred += ": " + strings.Join(preds, "; ")
	var parts []part
	var figs []Figure
	for _, cfg := range primary(twinsOnly(d.configsOf("fanout"))) {
		var sub []part
		for _, p := range pars {
			mx, sum, ok := waitsOf(p)
			if !ok {
				continue
			}
			r, err := d.get("fanout", cfg, p.Label)
			if err != nil {
				if _, g := err.(gated); g {
					sub = append(sub, part{who: cfg, out: Inconclusive, note: err.Error()})
				}
				continue
			}
			if len(figs) < len(pars) {
				figs = append(figs, Figure{Side: SideTwin, What: p.Label + " p50 (" + cfg + ")", Value: r.P50Ms, Unit: "ms"})
			}
			o := Inconclusive
			switch {
			case near(r.P50Ms, mx, LatencyTolerance) == Inside:
				o = Reproduced
			case against(r.P50Ms, FollowsSumFraction*sum) == Above:
				o = Refuted
			case near(r.P50Ms, mx, LatencyTolerance) == Outside && against(r.P50Ms, FollowsSumFraction*sum) == Below:
				o = Partly
			}
			sub = append(sub, part{who: cfg, out: o, note: p.Label + " " + Stat(r.P50Ms, "ms")})
		}
		if len(sub) == 0 {
			parts = append(parts, part{who: cfg, out: NotMeasured})
			continue
		}
		var notes []string
		for _, s := range sub {
			notes = append(notes, s.note)
		}
		parts = append(parts, part{who: cfg, out: fold(sub), note: strings.Join(notes, ", ")})
	}
	if len(figs) == 0 {
		return failed(pred, nil, firstReason(parts, missing("no configuration has an unequal-wait parallel fan-out row")))
	}
	o, why := foldReason(parts, "gathered unequal waits took the largest wait")
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: why}
}
