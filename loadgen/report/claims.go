package report

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
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

// ---- per-scenario detail ----------------------------------------------------------

func (r *renderer) details() {
	r.h(2, "Every measurement")
	r.p("One table per scenario, one row per configuration and point. rps and latencies are medians over repetitions with the [min–max] spread.",
		"The Little bound is the throughput that the row's concurrency allows by Little's law (throughput = concurrency ÷ time in the system), with the formula that produced it; \"of bound\" is the measured share of it.",
		"A saturated row is one where the load generator, not the server, may have been the limit.",
		"Threads and RSS are peaks during the measurement. Each server runs every point of its scenario in turn, and a Go process keeps the threads and heap it grew, so a repetition after the first can start from the high-water mark of a larger point: a wide [min–max] on a small point shows it. The seed tables above therefore use each point's first repetition for threads and memory.")
	for i := range r.f.Scenarios {
		r.scenario(&r.f.Scenarios[i])
	}
}

func (r *renderer) scenario(s *results.Scenario) {
	title := s.Title
	if title == "" {
		title = s.Name
	}
	r.h(3, fmt.Sprintf("%s (%s)", title, code(s.Name)))
	var intro []string
	if s.Question != "" {
		intro = append(intro, s.Question)
	}
	if len(s.Claims) > 0 {
		var cs []string
		for _, c := range s.Claims {
			cs = append(cs, fmt.Sprint(c))
		}
		word := "Claims "
		if len(cs) == 1 {
			word = "Claim "
		}
		intro = append(intro, word+strings.Join(cs, ", ")+".")
	}
	r.p(intro...)
	if s.Skipped != "" {
		r.p(bold("Skipped:") + " " + s.Skipped + ".")
		return
	}
	if len(s.Rows) == 0 {
		r.p("No rows were measured.")
		return
	}
	sc, _ := catalog.ScenarioByName(s.Name)
	idle := sc.Kind == catalog.KindIdle
	canary := sc.Canary
	for _, row := range s.Rows {
		idle = idle || row.Idle != nil
		canary = canary || row.Canary != nil
	}
	var notes []string
	if idle {
		var rows [][]string
		for _, row := range s.Rows {
			rows = append(rows, idleRow(&row))
			notes = append(notes, rowNotes(&row)...)
		}
		r.table([]string{"configuration", "twin", "point", "load", "held", "RSS per connection", "RSS held", "threads held", "probe p50 / p99 ms", "open s", "errors", "saturated"}, rows)
	} else {
		head := []string{"configuration", "twin", "point", "load", "rps", "p50 ms", "p99 ms", "Little bound, rps", "of bound", "errors", "threads", "RSS", "ctx switches per request (vol + invol)", "saturated"}
		if canary {
			head = append(head[:7], append([]string{"canary p99 ms"}, head[7:]...)...)
		}
		var rows [][]string
		for _, row := range s.Rows {
			rows = append(rows, loadRow(&row, canary))
			notes = append(notes, rowNotes(&row)...)
		}
		r.table(head, rows)
	}
	if len(notes) > 0 {
		r.bullets(notes)
	}
}

func rowNotes(row *results.Row) []string {
	var out []string
	id := fmt.Sprintf("%s at %s", code(row.Config), row.Point.Label)
	if row.Prevented != "" {
		out = append(out, fmt.Sprintf("%s was prevented: %s.", id, row.Prevented))
	}
	if row.Saturated && row.SaturationReason != "" {
		out = append(out, fmt.Sprintf("%s saturated: %s.", id, row.SaturationReason))
	}
	if g := row.Gate(); g != "" && row.Prevented == "" {
		out = append(out, fmt.Sprintf("%s is flagged and decides no verdict: %s.", id, g))
	}
	for _, n := range row.Notes {
		out = append(out, fmt.Sprintf("%s: %s", id, n))
	}
	return out
}

func saturated(row *results.Row) string {
	if row.Saturated {
		return bold("yes")
	}
	return "no"
}

func loadRow(row *results.Row, canary bool) []string {
	head := []string{code(row.Config), row.Twin, row.Point.Label, row.LoadModel}
	if !measured(row) {
		why := "no successful repetition"
		if row.Prevented != "" {
			why = "prevented: " + row.Prevented
		}
		out := append(head, why)
		n := 10
		if canary {
			n++
		}
		for i := 0; i < n-1; i++ {
			out = append(out, "–")
		}
		return out
	}
	bound, of := "–", "–"
	if row.LittleBoundRPS != nil {
		bound = fmt.Sprintf("%s (%s)", num(*row.LittleBoundRPS), row.LittleFormula)
	} else if row.LittleFormula != "" {
		bound = row.LittleFormula
	}
	if row.LittleFraction != nil {
		of = verdict.StatWith(*row.LittleFraction, "", pct)
	}
	ctx := "–"
	if row.Server.CtxVolPerReq.N > 0 {
		ctx = fmt.Sprintf("%s + %s", num(row.Server.CtxVolPerReq.Median), num(row.Server.CtxInvolPerReq.Median))
	}
	out := append(head, stat(row.RPS, ""), stat(row.P50Ms, ""), stat(row.P99Ms, ""))
	if canary {
		c := "–"
		if row.Canary != nil {
			c = stat(row.Canary.P99Ms, "")
			if a := verdict.CanaryOf(row); a.Starved {
				c += fmt.Sprintf(" (answered %s of %s probes)", inum(a.Answered), inum(a.Scheduled))
			}
		}
		out = append(out, c)
	}
	return append(out, bound, of, errorsOf(row), verdict.StatWith(row.Server.ThreadsPeak, "", count),
		verdict.StatWith(row.Server.RSSPeakBytes, "", size), ctx, saturated(row))
}

func errorsOf(row *results.Row) string {
	if row.Errors.N == 0 {
		return "–"
	}
	s := stat(row.Errors, "")
	if row.ErrorRate.N > 0 && row.ErrorRate.Median > 0 {
		s += " (" + pct(row.ErrorRate.Median) + ")"
	}
	return s
}

func idleRow(row *results.Row) []string {
	head := []string{code(row.Config), row.Twin, row.Point.Label, row.LoadModel}
	if !measured(row) || row.Idle == nil {
		why := "not measured"
		if row.Prevented != "" {
			why = "prevented: " + row.Prevented
		}
		out := append(head, why)
		for i := 0; i < 7; i++ {
			out = append(out, "–")
		}
		return out
	}
	id := row.Idle
	held := fmt.Sprintf("%s of %s", stat(id.Held, ""), inum(id.Wanted))
	return append(head, held, verdict.StatWith(id.RSSPerConnBytes, "", size), verdict.StatWith(row.Server.RSSPeakBytes, "", size),
		verdict.StatWith(id.ThreadsHeld, "", count), fmt.Sprintf("%s / %s", num(id.ProbeP50Ms.Median), stat(id.ProbeP99Ms, "")), stat(id.OpenS, ""),
		errorsOf(row), saturated(row))
}
