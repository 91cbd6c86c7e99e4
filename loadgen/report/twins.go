package report

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// ---- the twins against the real stacks (issue 12, item 4) ----------------
//
// For each real stack with a twin: every scenario point measured on both,
// side by side, and the agreement word that package verdict computes
// (same shape, diverges, inconclusive). A stack that could not be installed
// or started reads so, with the reason its rows carry.

func (r *renderer) twinsReal() {
	ags := verdict.Agreements(r.f)
	r.h(2, "The twins against the real stacks")
	if len(ags) == 0 {
		r.p("The catalog has no real stacks, so the twins stand alone in this run.")
		return
	}
	r.p("Each twin is a Go stand-in for a Python or Java stack's model. Here the real stack ran beside it under the same load, pinning and sampling. Each cell reads \"twin · real\".",
		fmt.Sprintf("The agreement is computed: %s when at every common point the Little fractions agree within ±%s of the bound, the thread regimes match (both under %d threads, or both growing with concurrency) and the canary starves in both or neither; %s says where and by how much; %s when an interval straddles a line or a row cannot decide.",
			bold(verdict.AgreeSame), pct(verdict.AgreeFraction), verdict.FewThreads, bold(verdict.AgreeDiverges), bold(verdict.AgreeInconclusive)))
	var sum [][]string
	for _, a := range ags {
		word := a.Word
		why := a.Reason
		if n := notInstalled(r.f, a.Real); n != "" && len(a.Points) == 0 {
			word, why = "not measured", n
			if strings.Contains(n, "not installed") {
				word = "not installed"
			}
		}
		sum = append(sum, []string{code(a.Real), code(a.Twin), stackWhat(a.Real), bold(word), orDash(why)})
	}
	r.table([]string{"real stack", "twin", "what runs", "agreement", "why"}, sum)
	for _, a := range ags {
		if len(a.Points) == 0 {
			continue
		}
		r.h(3, fmt.Sprintf("%s against %s: %s", code(a.Real), code(a.Twin), a.Word))
		var rows [][]string
		for _, pt := range a.Points {
			t, x := pt.Twin, pt.Real
			pair := func(f func(*results.Row) string) string { return f(t) + " · " + f(x) }
			rows = append(rows, []string{
				pt.Scenario + ", " + pt.Label,
				pair(func(r *results.Row) string { return num(r.RPS.Median) }),
				pair(func(r *results.Row) string { return num(r.P50Ms.Median) + " / " + num(r.P99Ms.Median) }),
				pair(func(r *results.Row) string {
					if r.LittleFraction == nil {
						return "–"
					}
					return pct(r.LittleFraction.Median)
				}),
				pair(func(r *results.Row) string { return count(verdict.FreshOf(r).Threads) }),
				pair(func(r *results.Row) string { return size(verdict.FreshOf(r).RSSBytes) }),
				pair(func(r *results.Row) string {
					if r.Server.CPUUsPerRequest.N == 0 {
						return "–"
					}
					return num(r.Server.CPUUsPerRequest.Median)
				}),
				pair(canaryCell),
				strings.TrimSpace(pt.Word + " " + parens(pt.Note)),
			})
		}
		r.table([]string{"point", "rps", "p50 / p99 ms", "of bound", "threads", "RSS", "CPU µs per request", "canary", "agrees"}, rows)
		if len(a.Where) > 0 {
			r.p("Where they diverge: " + strings.Join(a.Where, "; ") + ".")
		}
	}
}

func parens(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func canaryCell(x *results.Row) string {
	if x.Canary == nil || x.Canary.P99Ms.N == 0 {
		return "–"
	}
	if a := canaryAnswers(x); a.Starved {
		return "starved (" + answeredText(a.Answered) + " of " + inum(a.Scheduled) + ")"
	}
	return num(x.Canary.P99Ms.Median) + " ms"
}

// stackWhat describes a real stack: its twin text, else its command.
func stackWhat(name string) string {
	c, ok := catalog.ConfigByName(name)
	if !ok {
		return "–"
	}
	if c.Twin != "" {
		return c.Twin
	}
	if c.Style != "" {
		return c.Style
	}
	return "–"
}

// notInstalled returns why a stack's rows were not measured when every one
// of them was prevented (a stack not installed, or that did not start).
func notInstalled(f *results.File, cfg string) string {
	why := ""
	any := false
	for _, s := range f.Scenarios {
		for _, row := range s.Rows {
			if row.Config != cfg {
				continue
			}
			any = true
			if measured(&row) {
				return ""
			}
			if why == "" && row.Prevented != "" {
				why = row.Prevented
			}
		}
	}
	if !any {
		return "no rows in this run (the suite did not run this stack)"
	}
	return why
}
