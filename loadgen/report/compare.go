package report

import (
	"fmt"
	"path/filepath"

	"github.com/serverlab/lab/loadgen/verdict"
)

// Diff is one claim whose verdict differs between two runs.
type Diff struct {
	Claim      int
	This, That verdict.Verdict
}

// Differences lists the claims whose outcome differs between this run's
// verdicts and another's, both computed with the current verdict code.
func Differences(this, that []verdict.Verdict) []Diff {
	by := map[int]verdict.Verdict{}
	for _, v := range that {
		by[v.Claim.N] = v
	}
	var out []Diff
	for _, v := range this {
		o, ok := by[v.Claim.N]
		if !ok {
			o = verdict.Verdict{Claim: v.Claim, Outcome: verdict.NotMeasured, Reason: "not in the other run"}
		}
		if o.Outcome != v.Outcome {
			out = append(out, Diff{Claim: v.Claim.N, This: v, That: o})
		}
	}
	return out
}

// compareSection lists every verdict that differs from the other run's,
// when the report was rendered with -compare.
func (r *renderer) compareSection() {
	if r.other == nil {
		return
	}
	name := filepath.Base(filepath.Dir(r.otherPath)) + "/" + filepath.Base(r.otherPath)
	r.h(2, "Against another run")
	e := r.other.Environment
	r.p(fmt.Sprintf("Both runs' verdicts recomputed with this code: this run against %s (measured %s on %s, %s; containers: %s).",
		code(name), orDash(e.Date), orDash(e.Hostname), plural(e.Cores, "core"), orDash(e.ContainerHint)))
	ds := Differences(r.claims, verdict.Claims(r.other))
	if len(ds) == 0 {
		r.p("Every claim has the same verdict in both runs.")
		return
	}
	var rows [][]string
	for _, d := range ds {
		rows = append(rows, []string{fmt.Sprint(d.Claim), shortClaim(d.This.Claim), bold(mark(d.This.Outcome)) + ": " + orDash(d.This.Reason), bold(mark(d.That.Outcome)) + ": " + orDash(d.That.Reason)})
	}
	r.table([]string{"#", "claim", "this run", "the other run"}, rows)
}
