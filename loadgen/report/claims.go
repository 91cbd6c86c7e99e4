package report

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/verdict"
)

// ---- the claims table ----------------------------------------------------------

func (r *renderer) claimsTable() {
	r.h(2, "The twelve claims")
	r.p("Each claim of the seeds, paraphrased, with the prediction that theory makes for this lab's workload, the deciding figures (medians with their interval over repetitions: the [min–max] range with fewer than six repetitions, a 95 % bootstrap interval of the median with six or more; \"twin\" for the Go stand-ins, \"real\" for the real stacks), the verdict computed from those figures, and what would refute the claim.",
		"Every comparison uses the intervals: where an interval straddles a threshold the verdict is \"inconclusive\", never \"reproduced\". A row with more than 0.1 % errors, or a closed-loop window too short for its latency (L < 0.9 c), is shown but never decides.",
		"The thresholds are named constants in "+code("loadgen/verdict")+", one file per claim; a claim whose rows are missing reads \"not measured\" with the reason, never a guess.")
	var rows [][]string
	for _, v := range r.claims {
		c := v.Claim
		claim := fmt.Sprintf("%s (seed %s; %s)", c.Text, c.Seed, strings.Join(c.Scenarios, ", "))
		if v.Seed != "" {
			claim += "; the seed: " + v.Seed
		}
		rows = append(rows, []string{fmt.Sprint(c.N), claim, orDash(v.Prediction), orDash(v.Measured), outcome(v.Outcome), v.Reason, orDash(v.Refute)})
	}
	r.table([]string{"#", "claim (seed; scenarios)", "prediction", "deciding figures", "verdict", "why", "what would refute it"}, rows)

	var ex []string
	for _, v := range r.claims {
		if v.Explain != "" {
			ex = append(ex, fmt.Sprintf("Claim %d: %s", v.Claim.N, v.Explain))
		}
	}
	if len(ex) > 0 {
		r.p("For the workshop, the mechanism behind each claim, whichever way the numbers came out:")
		r.bullets(ex)
	}
	var off, inc, nm, shown []string
	for _, v := range r.claims {
		switch v.Outcome {
		case verdict.Refuted, verdict.Partly:
			off = append(off, fmt.Sprintf("Claim %d, %s: %s.", v.Claim.N, outcome(v.Outcome), v.Reason))
		case verdict.Inconclusive:
			inc = append(inc, fmt.Sprintf("Claim %d: %s.", v.Claim.N, strings.TrimPrefix(v.Reason, "inconclusive: ")))
		case verdict.NotMeasured:
			nm = append(nm, fmt.Sprintf("Claim %d: %s.", v.Claim.N, strings.TrimPrefix(v.Reason, "not measured: ")))
		}
		for _, s := range v.Shown {
			shown = append(shown, fmt.Sprintf("Claim %d: %s.", v.Claim.N, s))
		}
	}
	if len(off) > 0 {
		r.p("Where the numbers disagree with the seeds, in whole or in part:")
		r.bullets(off)
	} else if len(nm)+len(inc) < len(r.claims) {
		r.p("Every claim that could be decided was reproduced.")
	}
	if len(inc) > 0 {
		r.p("Inconclusive in this run (the numbers cannot tell):")
		r.bullets(inc)
	}
	if len(nm) > 0 {
		r.p("Not measured in this run:")
		r.bullets(nm)
	}
	if len(shown) > 0 {
		r.p("Rows shown in the tables but kept out of the verdicts:")
		r.bullets(shown)
	}
}
