package verdict

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/results"
)

// Claim 12 (seeds 003, 004, 002's table): "concurrency, not necessarily
// true parallelism"; on one core, async does not speed up CPU-bound work
// (002: sync is best for CPU-bound tasks).
//
// Rows: cpu at 1 server core, every twin. The claim is judged two-sided:
// the best event loop's throughput ÷ the best other model's must lie
// within ±OneCoreSpread. Async clearly faster refutes it; async clearly
// slower refutes it too (every model should pay the same hashing). The
// Little bound of each row is calibrated on the server's own CPU cost per
// request (/proc), not on the load generator's measurement of one digest.

const (
	// OneCoreSpread: on one core the models land within 10 % of each
	// other (the ratio's interval within 0.9–1.1), and the tie line of the
	// per-task-type table.
	OneCoreSpread = 0.10
)

func init() {
	register(12, rule{
		seed:    "async is concurrency, not parallelism: on one core it does not speed up CPU-bound work (sync is best for CPU-bound)",
		refute:  "on one core the best event loop's throughput clearly outside 0.9–1.1× the best other model's, either way",
		explain: "On one core CPU work is serial however it is scheduled: async only reorders it, and every model pays the same hashing.",
		soWhat:  "Async buys nothing for CPU-heavy handlers; only more cores (processes) do.",
		decide:  claim12,
	})
}

func claim12(d data) Verdict {
	pred := fmt.Sprintf("on 1 core, best event loop ÷ best other model within %s–%s (two-sided)", Times(1-OneCoreSpread), Times(1+OneCoreSpread))
	one, ok := d.cpuLabel(1)
	if !ok {
		return failed(pred, nil, missing("the catalog has no 1-core cpu point"))
	}
	var bestAsync, bestSync *results.Row
	var shownRows []string
	var parts []string
	for _, cfg := range twinsOnly(d.configsOf("cpu")) {
		r, err := d.get("cpu", cfg, one)
		if err != nil {
			if _, g := err.(gated); g {
				shownRows = append(shownRows, err.Error())
			}
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s rps at %s µs of server CPU per request", cfg, Stat(r.RPS, ""), Num(r.Server.CPUUsPerRequest.Median)))
		if isAsync(config(r)) {
			if bestAsync == nil || r.RPS.Median > bestAsync.RPS.Median {
				bestAsync = r
			}
		} else if bestSync == nil || r.RPS.Median > bestSync.RPS.Median {
			bestSync = r
		}
	}
	if bestAsync == nil || bestSync == nil {
		err := error(missing("the 1-core cpu point needs at least one usable event-loop and one other configuration"))
		if len(shownRows) > 0 {
			err = gated(strings.Join(shownRows, "; "))
		}
		return failed(pred, nil, err)
	}
	r := ratio(bestAsync.RPS, bestSync.RPS)
	figs := []Figure{{Side: SideTwin, What: fmt.Sprintf("%s ÷ %s rps on 1 core", bestAsync.Config, bestSync.Config), Value: r, Format: Times}}
	if us := bestSync.Server.CPUUsPerRequest; us.N > 0 {
		bound := inverse(1e6, us)
		figs = append(figs, Figure{Side: SideTwin, What: bestSync.Config + "'s share of one core ÷ its own server CPU per request", Value: ratio(bestSync.RPS, bound), Format: Pct,
			Note: "the bound calibrated on the server's CPU (/proc)"})
	}
	for _, real := range realsOf(bestAsync.Config) {
		if x, err := d.row("cpu", real, one); err == nil {
			figs = append(figs, Figure{Side: SideReal, What: real + " rps on 1 core", Value: x.RPS, Unit: "rps"})
		}
	}
	var o Outcome
	var why string
	switch inBand(r, 1-OneCoreSpread, 1+OneCoreSpread) {
	case Inside:
		o = Reproduced
		why = fmt.Sprintf("the best event loop (%s) served %s the best other model (%s) on one core: async did not speed CPU work up", bestAsync.Config, StatWith(r, "", Times), bestSync.Config)
	case Outside:
		o = Refuted
		dir := "faster"
		if r.Median < 1 {
			dir = "slower"
		}
		why = fmt.Sprintf("the best event loop (%s) was %s than the best other model (%s) on one core: %s", bestAsync.Config, dir, bestSync.Config, StatWith(r, "", Times))
	default:
		o = Inconclusive
		why = fmt.Sprintf("%s ÷ %s = %s straddles the %s–%s band", bestAsync.Config, bestSync.Config, StatWith(r, "", Times), Times(1-OneCoreSpread), Times(1+OneCoreSpread))
	}
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: why + "; " + strings.Join(parts, ", "), Shown: shownRows}
}
