package verdict

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Claim 4 (seeds 004, 000): "If you call a blocking function inside an
// async def… it will block the entire event loop", and 000's "async to the
// lowest level".
//
// Rows: blocking-in-loop at its /io point, eventloop-inline (the blocking
// call inside the loop) with its canary; eventloop-async beside it. Two
// checks: throughput collapses to about loops ÷ wait, and the canary on
// other connections waits about the wait or more (or is starved).

const (
	// InlineCollapseFactor: a blocked loop "collapses to loops ÷ wait" when
	// its throughput interval lies under 1.5× that bound; an unblocked
	// loop serves c ÷ wait, 100× more at c=100.
	InlineCollapseFactor = 1.5
	// CanaryBlockedFactor: the canary "rises to about the wait or more"
	// when its p99 interval lies at or above 1.0× the handler's wait.
	CanaryBlockedFactor = 1.0
)

func init() {
	register(4, rule{
		seed:    "a blocking call inside async def blocks the entire event loop",
		refute:  "inline throughput well above loops ÷ wait, or a canary p99 well under the wait with its probes answered",
		explain: "A blocking call inside the loop stops every connection on that loop: it serves one request per wait, and bystanders queue behind it.",
		soWhat:  "One blocking call in an async handler costs every user of that process; find them before they reach production.",
		decide:  claim4,
	})
}

// loopPoint is the blocking-in-loop scenario's sleeping (/io) load point.
func (d data) loopPoint() (catalog.Point, bool) {
	return d.findPoint("blocking-in-loop", func(p catalog.Point) bool { return strings.HasPrefix(p.Target, "/io") })
}

func claim4(d data) Verdict {
	p, ok := d.loopPoint()
	if !ok {
		return failed("", nil, missing("the catalog has no blocking-in-loop /io point"))
	}
	cfg, _ := catalog.ConfigByName("eventloop-inline")
	bound := float64(slots(cfg, p)) / (float64(p.Ms) / 1000)
	wait := float64(p.Ms)
	pred := fmt.Sprintf("inline at %s: throughput ≈ %d loop(s) ÷ %d ms = %s rps (under %s× it); the canary's p99 ≥ %s ms, or fewer than %s of its probes answered",
		p.Label, slots(cfg, p), p.Ms, Num(bound), Num(InlineCollapseFactor), Num(CanaryBlockedFactor*wait), Pct(CanaryAnsweredMin))
	inl, err := d.get("blocking-in-loop", "eventloop-inline", p.Label)
	var figs []Figure
	if inl != nil {
		figs = append(figs, Figure{Side: SideTwin, What: "inline rps", Value: inl.RPS, Unit: "rps"})
		if inl.Canary != nil {
			figs = append(figs, Figure{Side: SideTwin, What: "inline canary p99", Value: inl.Canary.P99Ms, Unit: "ms", Note: starvedNote(inl)})
		}
	}
	figs = append(figs, realFigures(d, "blocking-in-loop", "eventloop-inline", p.Label, func(r *results.Row) (string, results.Stat, func(float64) string, string) {
		if r.Canary != nil {
			return "canary p99", r.Canary.P99Ms, Num, "ms"
		}
		return "rps", r.RPS, Num, "rps"
	})...)
	if err != nil {
		return failed(pred, figs, err)
	}
	if inl.Canary == nil || inl.Canary.P99Ms.N == 0 {
		return failed(pred, figs, missing("the inline row has no canary"))
	}
	passed, undecided := 0, 0
	var bits []string
	switch against(inl.RPS, InlineCollapseFactor*bound) {
	case Below:
		passed++
		bits = append(bits, fmt.Sprintf("throughput %s rps stayed under %s× the %s rps bound", Stat(inl.RPS, ""), Num(InlineCollapseFactor), Num(bound)))
	case Above:
		bits = append(bits, fmt.Sprintf("throughput %s rps did not collapse to the %s rps bound", Stat(inl.RPS, ""), Num(bound)))
	default:
		undecided++
		bits = append(bits, fmt.Sprintf("throughput %s rps straddles %s× the bound", Stat(inl.RPS, ""), Num(InlineCollapseFactor)))
	}
	ans := CanaryOf(inl)
	switch {
	case ans.Starved:
		passed++
		bits = append(bits, fmt.Sprintf("the canary got answers to %s of %s probes, the oldest unanswered after ≈ %s ms: the loop held them back",
			Int(ans.Answered), Int(ans.Scheduled), Num(ans.OldestWaitMs)))
	case against(inl.Canary.P99Ms, CanaryBlockedFactor*wait) == Above:
		passed++
		bits = append(bits, fmt.Sprintf("the canary's p99 %s reached the %s ms wait", Stat(inl.Canary.P99Ms, "ms"), Num(wait)))
	case against(inl.Canary.P99Ms, CanaryBlockedFactor*wait) == Below:
		bits = append(bits, fmt.Sprintf("the canary's p99 %s stayed under the %s ms wait", Stat(inl.Canary.P99Ms, "ms"), Num(wait)))
	default:
		undecided++
		bits = append(bits, fmt.Sprintf("the canary's p99 %s straddles the %s ms wait", Stat(inl.Canary.P99Ms, "ms"), Num(wait)))
	}
	if a, err := d.row("blocking-in-loop", "eventloop-async", p.Label); err == nil && a.Canary != nil {
		figs = append(figs, Figure{Side: SideTwin, What: "async canary p99 (for comparison)", Value: a.Canary.P99Ms, Unit: "ms"})
	}
	return Verdict{Outcome: checks(passed, undecided, 2), Prediction: pred, Figures: figs, Reason: strings.Join(bits, "; ")}
}

// starvedNote says when a canary's p99 describes only the probes answered.
func starvedNote(r *results.Row) string {
	if a := CanaryOf(r); a.Starved {
		return fmt.Sprintf("starved: answered %s of %s probes", Int(a.Answered), Int(a.Scheduled))
	}
	return ""
}
