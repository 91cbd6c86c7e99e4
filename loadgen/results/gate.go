package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The gate: what keeps a row from supporting a verdict. A gated row is
// shown, with its flag, but never decides one. The suite calls Judge on
// every row it summarises, so that results.json carries L ÷ c and the
// flags; the verdicts call Gate, which recomputes them from the row's own
// numbers and so also works on a file written before the flags existed.

// Flags.
const (
	FlagErrors    = "errors"           // error rate above ErrorRateMax
	FlagWindow    = "window-too-short" // closed loop with L ÷ c below WindowLOverCMin
	FlagSaturated = "saturated"        // the load generator may have been the limit
)

const (
	// ErrorRateMax: a row with more than 0.1 % failed or non-2xx answers
	// cannot support a verdict; a server that answers 503 fast is not fast.
	ErrorRateMax = 0.001
	// WindowLOverCMin: in a closed loop every connection has a request in
	// the server at all times, so L = rps × mean latency ≈ c. Below 0.9 c,
	// requests still in flight when the window closed were left out and
	// the latencies describe only the lucky ones: the window was too short
	// for this latency.
	WindowLOverCMin = 0.9
)

// OfferedConcurrency is c for a closed-loop row: connections × pipeline
// depth (0 for idle and open-loop rows).
func (r *Row) OfferedConcurrency() int {
	if r.LoadModel != "closed" || r.Point.Conns <= 0 {
		return 0
	}
	return r.Point.Conns * max(r.Point.Pipeline, 1)
}

// ErrorShare is the share of failed or non-2xx answers over all
// repetitions: pooled (total errors ÷ total requests) where the raw
// repetitions exist, a non-2xx status counting even when the engine did
// not count it as an error; the median of ErrorRate otherwise. ok is false
// when nothing says.
func (r *Row) ErrorShare() (share float64, ok bool) {
	var errs, reqs float64
	for _, rp := range r.Reps {
		var non2xx int64
		for code, n := range rp.Status {
			if c, err := strconv.Atoi(code); err == nil && (c < 200 || c >= 400) {
				non2xx += n
			}
		}
		errs += float64(max(rp.Errors, non2xx))
		reqs += float64(max(rp.Requests, rp.Errors))
	}
	if reqs > 0 {
		return errs / reqs, true
	}
	if r.ErrorRate.N > 0 {
		return r.ErrorRate.Median, true
	}
	return 0, false
}

// LOverCStat computes L ÷ c from the row's Concurrency (nil where c is
// not defined: idle and open-loop rows).
func (r *Row) LOverCStat() *Stat {
	c := r.OfferedConcurrency()
	if c == 0 || r.Concurrency.N == 0 {
		return nil
	}
	s := Scale(r.Concurrency, 1/float64(c))
	return &s
}

// Gate says why the row cannot support a verdict ("" when it can): its
// errors, or a closed-loop window too short for its latency. It reads the
// row's numbers, not its stored flags.
func (r *Row) Gate() string {
	var why []string
	if share, ok := r.ErrorShare(); ok && share > ErrorRateMax {
		why = append(why, fmt.Sprintf("%s errors", pct(share)))
	}
	if l := r.LOverCStat(); l != nil && l.Median < WindowLOverCMin {
		why = append(why, fmt.Sprintf("window too short for this latency (L = rps × mean latency = %s, %.2f of c = %d)",
			strconv.FormatFloat(r.Concurrency.Median, 'f', 1, 64), l.Median, r.OfferedConcurrency()))
	}
	return strings.Join(why, "; ")
}

// Judge fills the row's LOverC and Flags from its numbers. The suite calls
// it after summarising a row; calling it twice gives the same row.
func (r *Row) Judge() {
	r.LOverC = r.LOverCStat()
	r.Flags = nil
	if share, ok := r.ErrorShare(); ok && share > ErrorRateMax {
		r.Flags = append(r.Flags, FlagErrors)
	}
	if r.LOverC != nil && r.LOverC.Median < WindowLOverCMin {
		r.Flags = append(r.Flags, FlagWindow)
	}
	if r.Saturated {
		r.Flags = append(r.Flags, FlagSaturated)
	}
}

// pct formats a share as a percentage with sensible precision.
func pct(x float64) string {
	p := 100 * x
	switch {
	case p >= 10:
		return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + " %"
	case p >= 1:
		return strconv.FormatFloat(p, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(p, 'f', 2, 64) + " %"
}
