package verdict

import (
	"fmt"
	"strings"
)

// Claim 7 (seed 004): "Context Switching Overhead: The OS incurs overhead
// when switching between a large number of active threads."
//
// Rows: io-wait at every concurrency measured on both blocking-os and
// eventloop-async: context switches per request (voluntary +
// involuntary), with the server's CPU µs per request beside them. The
// claim is about many threads, so it must hold where there are many; the
// verdict is judged across concurrency, not at one point.

const (
	// CtxRatioReproduced and CtxRatioPartly: thread-per-request must make at
	// least 2× the event loop's context switches per request (the ratio's
	// interval at or above it), or at least 1.2× for partly.
	CtxRatioReproduced = 2.0
	CtxRatioPartly     = 1.2
	// CtxFloor: context switches per request below 0.01 count as none.
	CtxFloor = 0.01
)

func init() {
	register(7, rule{
		seed:    "the OS incurs overhead when switching between a large number of active threads",
		refute:  "blocking-os switching no more per request than the event loop at high concurrency, with no more CPU per request",
		explain: "Every blocking wait parks a thread and wakes it again; an event loop collects many wake-ups in one epoll_wait, but only when many are ready at once.",
		soWhat:  "Context switches cost CPU per request only when many threads are active; at low concurrency a loop switches as much.",
		decide:  claim7,
	})
}

func claim7(d data) Verdict {
	pred := fmt.Sprintf("at every concurrency, blocking-os makes ≥ %s× the event loop's context switches per request, and pays for them in CPU µs per request", Num(CtxRatioReproduced))
	labels := d.commonLabels("io-wait", 0, "blocking-os", "eventloop-async")
	if len(labels) == 0 {
		return failed(pred, nil, missing("io-wait has no concurrency measured on both blocking-os and eventloop-async"))
	}
	var parts []part
	var figs []Figure
	var shownRows []string
	for _, l := range labels {
		o, err1 := d.get("io-wait", "blocking-os", l)
		e, err2 := d.get("io-wait", "eventloop-async", l)
		if err := firstErr(err1, err2); err != nil {
			parts = append(parts, part{who: l, out: Inconclusive, note: err.Error()})
			shownRows = append(shownRows, err.Error())
			continue
		}
		oc := plus(o.Server.CtxVolPerReq, o.Server.CtxInvolPerReq)
		ec := plus(e.Server.CtxVolPerReq, e.Server.CtxInvolPerReq)
		if oc.N == 0 || ec.N == 0 {
			parts = append(parts, part{who: l, out: NotMeasured})
			continue
		}
		if ec.Median < CtxFloor {
			ec = one(CtxFloor)
		}
		r := ratio(oc, ec)
		figs = append(figs, Figure{Side: SideTwin, What: "switches per request, blocking-os ÷ eventloop-async at " + l, Value: r, Format: Times,
			Note: fmt.Sprintf("CPU µs per request %s against %s", Stat(o.Server.CPUUsPerRequest, ""), Stat(e.Server.CPUUsPerRequest, ""))})
		out := Inconclusive
		switch {
		case against(r, CtxRatioReproduced) == Above:
			out = Reproduced
		case against(r, CtxRatioPartly) == Below:
			out = Refuted
		case against(r, CtxRatioPartly) == Above && against(r, CtxRatioReproduced) == Below:
			out = Partly
		}
		parts = append(parts, part{who: l, out: out, note: fmt.Sprintf("%s against %s switches per request", Stat(oc, ""), Stat(ec, ""))})
	}
	o, why := foldReason(parts, fmt.Sprintf("OS threads switched ≥ %s as often per request", Times(CtxRatioReproduced)))
	why = strings.Replace(why, "configurations", "concurrencies", -1)
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: why, Shown: shownRows}
}
