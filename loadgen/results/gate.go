package results

import (
	"encoding/json"
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
	// L < 0.9 c for a reason other than the window (LowLCause): the flag
	// names the cause, and the row is gated all the same.
	FlagRefused    = "connects-refused"   // connection attempts failed: the server refused or dropped them
	FlagReconnects = "reconnecting"       // the server closed connections and the load generator was reconnecting
	FlagTurnaround = "loadgen-turnaround" // the load generator's CPU was busy: its turnaround, not the server, held requests back
)

// Thresholds for naming the cause of L < 0.9 c.
const (
	// ReconnectShareMin: reconnects in the window of at least this share
	// of c (median over repetitions). A reconnecting connection carries no
	// request, so L falls short of c however long the window.
	ReconnectShareMin = 0.10
	// TurnaroundCPU: the load generator's CPU share (of its cores) at which
	// its own turnaround, not the window, explains L < 0.9 c.
	TurnaroundCPU = 0.90
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

// engineConns is the part of a repetition's engine result that names
// why connections were not carrying requests.
type engineConns struct {
	Connects      int64 `json:"connects"`
	ConnectErrors int64 `json:"connect_errors"`
}

// LowLCause says why repetitions at offered concurrency c measured L < 0.9 c:
// the flag (FlagRefused, FlagReconnects, FlagTurnaround, else FlagWindow)
// and a sentence with the figures. It reads the engine results (connects
// and failed connects in the window) and the load generator's CPU; a
// repetition without an engine result can only be judged by its window.
// The suite lengthens a window only where the cause is FlagWindow.
func LowLCause(reps []Rep, c int) (flag, why string) {
	var connects, refused, cpu []float64
	for _, rp := range reps {
		var e engineConns
		if len(rp.Engine) > 0 && json.Unmarshal(rp.Engine, &e) == nil {
			connects = append(connects, float64(e.Connects))
			refused = append(refused, float64(e.ConnectErrors))
		}
		if rp.Idle == nil && rp.LoadgenCPU > 0 {
			cpu = append(cpu, rp.LoadgenCPU)
		}
	}
	switch {
	case len(refused) > 0 && Of(refused).Max > 0:
		return FlagRefused, fmt.Sprintf("connection attempts failed (up to %.0f per window): the server refused or dropped connections, so some of the c = %d were not carrying requests", Of(refused).Max, c)
	case len(connects) > 0 && c > 0 && Of(connects).Median >= ReconnectShareMin*float64(c):
		return FlagReconnects, fmt.Sprintf("connections were reconnecting (median %.0f connects per window for c = %d): the server closed keep-alive connections, and a connection that is reconnecting carries no request, whatever the window", Of(connects).Median, c)
	case len(cpu) > 0 && Of(cpu).Max >= TurnaroundCPU:
		return FlagTurnaround, fmt.Sprintf("the load generator's CPU reached %s of its cores: its turnaround between an answer and the next request, not the window, kept requests out of the server", pct(Of(cpu).Max))
	}
	return FlagWindow, "window too short for this latency"
}

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
		_, cause := LowLCause(r.Reps, r.OfferedConcurrency())
		why = append(why, fmt.Sprintf("%s (L = rps × mean latency = %s, %.2f of c = %d)",
			cause, strconv.FormatFloat(r.Concurrency.Median, 'f', 1, 64), l.Median, r.OfferedConcurrency()))
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
		flag, _ := LowLCause(r.Reps, r.OfferedConcurrency())
		r.Flags = append(r.Flags, flag)
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
