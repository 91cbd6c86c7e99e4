package verdict

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// CanaryAnsweredMin: a canary that got answers to fewer than half of the
// probes it scheduled was starved. The load engine drops requests still in
// flight when a timed run ends, so the canary's percentiles describe only
// the probes that were answered: on a blocked loop, the lucky few. Its
// answered share says what its p99 cannot (claims 4 and 5).
const CanaryAnsweredMin = 0.5

// CanaryAnswers is how many of the canary's scheduled probes were answered,
// from the raw repetitions (each carries the canary's engine result).
type CanaryAnswers struct {
	Known     bool // the repetitions carried the canary's results
	Scheduled int  // over all repetitions: rate × duration
	Answered  int  // responses over all repetitions
	Starved   bool // Answered < CanaryAnsweredMin × Scheduled
	// OldestWaitMs: when starved, about how long the oldest unanswered
	// probe had waited when the window closed (probes are answered in
	// order), the smallest over the starved repetitions: a lower bound on
	// the latency the canary's p99 leaves out.
	OldestWaitMs float64
}

// CanaryOf reads the canary's answers from r's repetitions.
func CanaryOf(r *results.Row) CanaryAnswers {
	var a CanaryAnswers
	if r == nil || r.Canary == nil {
		return a
	}
	rate := r.Canary.Rate
	if rate <= 0 {
		rate = catalog.CanaryRate
	}
	a.OldestWaitMs = math.Inf(1)
	for _, rp := range r.Reps {
		if len(rp.Canary) == 0 {
			continue
		}
		var e struct {
			Responses int64   `json:"responses"`
			DurationS float64 `json:"duration_s"`
			Scheduled int     `json:"scheduled"` // what the engine scheduled, where it says
		}
		if json.Unmarshal(rp.Canary, &e) != nil || e.DurationS <= 0 {
			continue
		}
		a.Known = true
		sched := int(math.Round(rate * e.DurationS))
		if e.Scheduled > 0 {
			sched = e.Scheduled // a 2 s window at 50/s schedules 99 probes, not 100
		}
		a.Scheduled += sched
		a.Answered += int(e.Responses)
		if float64(e.Responses) < CanaryAnsweredMin*float64(sched) {
			a.OldestWaitMs = math.Min(a.OldestWaitMs, math.Max(0, e.DurationS-float64(e.Responses)/rate)*1000)
		}
	}
	a.Starved = a.Known && float64(a.Answered) < CanaryAnsweredMin*float64(a.Scheduled)
	if !a.Starved || math.IsInf(a.OldestWaitMs, 1) {
		a.OldestWaitMs = 0
	}
	return a
}

// CanaryText describes a row's canary for prose and tables: its p99, or,
// when it was starved, how few probes were answered.
func CanaryText(r *results.Row) string {
	if r == nil || r.Canary == nil || r.Canary.P99Ms.N == 0 {
		return "–"
	}
	a := CanaryOf(r)
	if a.Starved {
		return fmt.Sprintf("answered %s of %s probes (the oldest unanswered had waited ≈ %s ms)", Int(a.Answered), Int(a.Scheduled), Num(a.OldestWaitMs))
	}
	return "p99 " + Stat(r.Canary.P99Ms, "ms")
}
