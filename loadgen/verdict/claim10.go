package verdict

import (
	"fmt"
	"strings"
)

// Claim 10 (seed 000, METRICS): "Typical Linux system 1000–65000; Python
// asyncio + aiohttp 1000–10000; Thread-based (e.g., requests) ~100–500;
// Nginx default (worker_connections) 1024–4096 per worker; approx 100–200
// connections can be made parallel."
//
// Rows: Metrics (tables.go): each seed row's bracket [held, failed) of
// the concurrency a model held with p99 ≤ P99WaitFactor × the wait and no
// errors. The aiohttp and requests rows count outbound client calls from
// one process (the outbound-connections scenario; without it they are
// stand-ins and say so); the nginx row is judged on the real nginx where
// it was measured. A bracket that only overlaps the seed's range is
// inconclusive; one whose most tested point is under the range's top can
// never come out above, and says so.

const (
	// P99WaitFactor: a concurrency is "held" while p99 ≤ 2× the wait and no
	// request fails.
	P99WaitFactor = 2.0
)

func init() {
	register(10, rule{
		seed:    "typical Linux 1000–65000; asyncio + aiohttp 1000–10000; thread-based ~100–500; nginx 1024–4096 per worker; ~100–200 in parallel",
		refute:  "a bracket [held, failed) lying wholly above or below the seed's range for its row",
		explain: "How many connections a process holds is set by file descriptors, memory and its own caps (threads, pools, worker_connections), not by one number for the OS.",
		soWhat:  "Size for your own caps (threads, pool, worker_connections, nofile); the seed's ranges are orders of magnitude, not limits.",
		decide:  claim10,
	})
}

func claim10(d data) Verdict {
	rows := Metrics(d.f)
	pred := fmt.Sprintf("each row's measured limit (p99 ≤ %s× the wait, no errors) lies in the seed's range for it", Num(P99WaitFactor))
	var parts []part
	var ms []string
	for _, r := range rows {
		var o Outcome
		switch r.Outcome {
		case FitWithin:
			o = Reproduced
		case FitAbove, FitBelow:
			o = Refuted
		case FitInconclusive:
			o = Inconclusive
		default:
			o = NotMeasured
		}
		parts = append(parts, part{who: r.Seed, out: o, note: r.Why})
		if o != NotMeasured {
			ms = append(ms, fmt.Sprintf("%s %s: %s", r.Seed, r.SeedRange(), r.Measured.String()))
		}
	}
	o := fold(parts)
	if o == NotMeasured {
		var why []string
		for _, r := range rows {
			why = append(why, r.Seed+": "+r.Measured.String())
		}
		return failed(pred, nil, missing(strings.Join(why, "; ")))
	}
	var bits []string
	for _, p := range parts {
		bits = append(bits, fmt.Sprintf("%s: %s (%s)", p.who, p.out, p.note))
	}
	return Verdict{Outcome: o, Prediction: pred, Measured: strings.Join(ms, "; "), Reason: strings.Join(bits, "; ")}
}
