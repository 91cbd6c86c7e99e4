// Package verdict decides, from a results file, whether each claim of
// CLAIMS.md was reproduced, partly reproduced, refuted, is inconclusive or
// was not measured, and computes the seeds' tables that carry a judgement
// (the WSGI/ASGI 2×2, METRICS, sync against async per task type, and the
// twins against the real stacks).
//
// One claim, one file: claimN.go holds the seed's sentence, the rows the
// claim reads, its thresholds as named constants, what would refute it,
// and its inconclusive path. Three rules hold for every claim:
//
//   - errors gate: a row with more than 0.1 % failed or non-2xx answers,
//     or a closed-loop window too short for its latency (L < 0.9 c), never
//     decides; the claim reads "inconclusive" with the reason
//     (results.Row.Gate);
//   - intervals decide: every comparison uses the interval of
//     results/interval.go, and an interval that straddles a threshold
//     makes the claim inconclusive, never reproduced (compare.go);
//   - a missing row makes the claim "not measured" with the reason, never a
//     guess.
//
// Everything here is a pure function of its *results.File argument, which
// it only reads; it is safe for concurrent use on a file nobody mutates.
package verdict

import (
	"errors"
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Outcome is a claim's verdict word (CLAIMS.md).
type Outcome string

// The outcomes. A refutation backed by numbers is as good a result as a
// reproduction; "inconclusive" is a result too: the numbers cannot tell.
const (
	Reproduced   Outcome = "reproduced"
	Partly       Outcome = "partly"
	Refuted      Outcome = "refuted"
	Inconclusive Outcome = "inconclusive"
	NotMeasured  Outcome = "not measured"
)

// Symbol is the outcome's mark for a one-page table.
func (o Outcome) Symbol() string {
	switch o {
	case Reproduced:
		return "✔"
	case Partly:
		return "◐"
	case Refuted:
		return "✘"
	case Inconclusive:
		return "?"
	}
	return "–"
}

// Sides of a figure: the Go twin, or the real stack it stands in for.
const (
	SideTwin = "twin"
	SideReal = "real"
)

// Figure is one deciding number of a claim row, with its interval.
type Figure struct {
	Side   string       // SideTwin or SideReal
	What   string       // what it is: "seq ÷ par p50 (eventloop-async)"
	Value  results.Stat // median and interval
	Format func(float64) string
	Unit   string // appended to the numbers: "ms", "rps"; "" for a ratio formatted by Times
	Note   string // a caveat that travels with the number (a clamp, a flag)
}

// String reads "twin: seq ÷ par p50 (eventloop-async) 3.01× (range 2.9×–3.1×, n=3)".
func (f Figure) String() string {
	s := f.Side + ": " + f.What + " " + Interval(f.Value, f.Unit, f.Format)
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}

// Verdict is one claim row: the one format the report renders.
type Verdict struct {
	Claim      catalog.Claim
	Outcome    Outcome
	Seed       string   // the seed's own sentence or numbers
	Prediction string   // the theory for this lab's workload, with numbers
	Measured   string   // the deciding figures in a line (Figures, joined)
	Figures    []Figure // the deciding figures, twin and real, with intervals
	Reason     string   // one line: why this outcome
	Refute     string   // one line: what would refute the claim
	Explain    string   // a short workshop explanation: the mechanism
	SoWhat     string   // one line for the one-page summary: what it means for a choice
	// Shown lists rows that were shown but did not decide, with why
	// (errors, a short window, a saturated load generator).
	Shown []string
}

// rule is one claim's decision; each lives in its claimN.go.
type rule struct {
	seed, refute, explain, soWhat string
	decide                        func(data) Verdict
}

var rules = map[int]rule{}

func register(n int, r rule) { rules[n] = r }

// Claims evaluates the twelve claims, in CLAIMS.md order.
func Claims(f *results.File) []Verdict {
	d := data{f}
	var out []Verdict
	for _, c := range catalog.Claims {
		v := Verdict{Outcome: NotMeasured, Reason: "not measured: no rule decides this claim"}
		r, ok := rules[c.N]
		if ok {
			v = r.decide(d)
			v.Seed, v.Refute, v.Explain, v.SoWhat = r.seed, r.refute, r.explain, r.soWhat
		}
		v.Claim = c
		if v.Measured == "" {
			v.Measured = figuresText(v.Figures)
		}
		if v.Measured == "" {
			v.Measured = "–"
		}
		out = append(out, v)
	}
	return out
}

func figuresText(fs []Figure) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.String())
	}
	return strings.Join(s, "; ")
}

// ---- errors: missing rows and gated rows ----------------------------------

// missing is the reason a number could not be measured.
type missing string

func (m missing) Error() string { return string(m) }

// gated is the reason a measured row cannot decide: errors, a short window.
type gated string

func (g gated) Error() string { return string(g) }

// failed turns the error of a row lookup into the claim's verdict: gated →
// inconclusive, anything else → not measured.
func failed(pred string, figs []Figure, err error) Verdict {
	var g gated
	if errors.As(err, &g) {
		return Verdict{Outcome: Inconclusive, Prediction: pred, Figures: figs, Reason: "inconclusive: " + err.Error()}
	}
	return Verdict{Outcome: NotMeasured, Prediction: pred, Figures: figs, Reason: "not measured: " + err.Error()}
}

// ---- folding parts --------------------------------------------------------

// part is one configuration's (or one check's) outcome within a claim.
type part struct {
	who  string
	out  Outcome
	note string
}

// fold combines parts: every measured part reproduced → reproduced; every
// one refuted → refuted; reproduced and inconclusive only → inconclusive
// (a straddle never counts as a reproduction); any other mix → partly.
// Not-measured parts are left out; none measured → not measured.
func fold(parts []part) Outcome {
	n := map[Outcome]int{}
	total := 0
	for _, p := range parts {
		if p.out == NotMeasured {
			continue
		}
		n[p.out]++
		total++
	}
	switch {
	case total == 0:
		return NotMeasured
	case n[Reproduced] == total:
		return Reproduced
	case n[Refuted] == total:
		return Refuted
	case n[Inconclusive] == total, n[Reproduced]+n[Inconclusive] == total:
		return Inconclusive
	}
	return Partly
}

// foldReason writes the reason of a claim decided over several parts.
func foldReason(parts []part, okText string) (Outcome, string) {
	o := fold(parts)
	var good, other, skipped []string
	for _, p := range parts {
		switch p.out {
		case Reproduced:
			good = append(good, p.who)
		case NotMeasured:
			skipped = append(skipped, p.who)
		default:
			other = append(other, fmt.Sprintf("%s %s (%s)", p.who, p.out, p.note))
		}
	}
	measured := len(parts) - len(skipped)
	var why string
	switch o {
	case NotMeasured:
		why = "not measured: no configuration has the rows"
	case Reproduced:
		why = fmt.Sprintf("%s on all %d configurations", okText, measured)
	default:
		why = fmt.Sprintf("%s on %d of %d configurations; %s", okText, len(good), measured, strings.Join(other, "; "))
	}
	if len(skipped) > 0 && o != NotMeasured {
		why += fmt.Sprintf(" (not measured on %s)", strings.Join(skipped, ", "))
	}
	return o, why
}

// checks maps how many of a claim's checks held to an outcome: all →
// reproduced, none → refuted, some → partly; any undecided check (a
// straddle) with no failed one → inconclusive.
func checks(passed, undecided, of int) Outcome {
	switch {
	case passed == of:
		return Reproduced
	case undecided > 0 && passed+undecided == of:
		return Inconclusive
	case passed == 0 && undecided == 0:
		return Refuted
	}
	return Partly
}
