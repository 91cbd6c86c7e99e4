package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// ---- every measurement, slim ------------------------------------------------
//
// One table per scenario with only the columns a reader compares across
// rows. What a configuration is lives once, in the configurations table;
// how each row's Little bound was derived is listed once under its table,
// with the configurations it belongs to.

func (r *renderer) detailTables() {
	r.h(2, "Every measurement")
	r.p("One table per scenario, one row per configuration and point; what each configuration is and which stack it stands for is in the configurations table above.",
		"rps and latencies are medians over repetitions with their [interval](#glossary); \"of bound\" is rps as a share of [Little's bound](#glossary), whose formula is listed under each table with the configurations it applies to.",
		"Every row shows its error rate and L ÷ c (1 in a healthy closed loop; below 0.9 the window was too short for the latency).",
		"Threads and RSS come from each point's first repetition: a Go process keeps the threads and heap it grew, so later repetitions start from the high-water mark of the points before them.")
	for i := range r.f.Scenarios {
		r.detailScenario(&r.f.Scenarios[i])
	}
}

func (r *renderer) detailScenario(s *results.Scenario) {
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
	if lm := loadModels(s); lm != "" {
		intro = append(intro, "Load: "+lm+".")
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
	idle, canary := sc.Kind == catalog.KindIdle, sc.Canary
	for _, row := range s.Rows {
		idle = idle || row.Idle != nil
		canary = canary || row.Canary != nil
	}
	var notes []string
	var rows [][]string
	bounds := map[string][]string{}
	var boundOrder []string
	for i := range s.Rows {
		row := &s.Rows[i]
		notes = append(notes, noteLines(row)...)
		if idle {
			rows = append(rows, slimIdleRow(row))
			continue
		}
		rows = append(rows, slimLoadRow(row, canary))
		if row.LittleFormula != "" && measured(row) {
			key := row.LittleFormula
			if _, ok := bounds[key]; !ok {
				boundOrder = append(boundOrder, key)
			}
			if !contains(bounds[key], code(row.Config)) {
				bounds[key] = append(bounds[key], code(row.Config))
			}
		}
	}
	if idle {
		r.table([]string{"configuration", "point", "held", "RSS per connection (1st rep)", "RSS held (1st rep)", "threads held", "probe p50 / p99 ms", "open s", "errors", "flags"}, rows)
	} else {
		head := []string{"configuration", "point", "rps", "p50 ms", "p99 ms"}
		if canary {
			head = append(head, "canary p99 ms")
		}
		head = append(head, "of bound", "L ÷ c", "errors", "threads", "RSS", "CPU µs per request: server · load generator", "vol + invol per request", "flags")
		r.table(head, rows)
	}
	if len(boundOrder) > 0 {
		var b []string
		for _, k := range boundOrder {
			b = append(b, fmt.Sprintf("%s: %s", k, strings.Join(bounds[k], ", ")))
		}
		r.p("Little's bound, by formula: " + strings.Join(b, "; ") + ".")
	}
	if len(notes) > 0 {
		r.bullets(dedupeNotes(notes))
	}
}

// loadModels names the load models of a scenario's rows: "closed loop".
func loadModels(s *results.Scenario) string {
	var ms []string
	for _, row := range s.Rows {
		m := row.LoadModel
		switch m {
		case "closed", "open":
			m += " loop"
		case "idle":
			m = "idle keep-alive connections, probed"
		}
		if m != "" && !contains(ms, m) {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

// noteLines are a row's caveats, one line each.
func noteLines(row *results.Row) []string {
	var out []string
	id := fmt.Sprintf("%s at %s", code(row.Config), row.Point.Label)
	if row.Prevented != "" {
		out = append(out, fmt.Sprintf("%s was prevented: %s.", id, row.Prevented))
	}
	if row.Saturated && row.SaturationReason != "" {
		out = append(out, fmt.Sprintf("%s saturated: %s.", id, row.SaturationReason))
	}
	if g := row.Gate(); g != "" {
		out = append(out, fmt.Sprintf("%s cannot support a verdict: %s.", id, g))
	}
	for _, n := range row.Notes {
		out = append(out, fmt.Sprintf("%s: %s", id, n))
	}
	return out
}

// dedupeNotes merges notes that differ only in the row they are about:
// "`a` at 2 cores: X" and "`b` at 2 cores: X" become one line.
func dedupeNotes(notes []string) []string {
	type group struct {
		ids  []string
		text string
	}
	var order []string
	byText := map[string]*group{}
	for _, n := range notes {
		i := strings.Index(n, ": ")
		if i < 0 {
			if _, ok := byText[n]; !ok {
				order = append(order, n)
				byText[n] = &group{text: n}
			}
			continue
		}
		id, text := n[:i], n[i+2:]
		g, ok := byText[text]
		if !ok {
			g = &group{text: text}
			byText[text] = g
			order = append(order, text)
		}
		g.ids = append(g.ids, id)
	}
	var out []string
	for _, t := range order {
		g := byText[t]
		if len(g.ids) == 0 {
			out = append(out, g.text)
			continue
		}
		out = append(out, strings.Join(g.ids, ", ")+": "+g.text)
	}
	return out
}

func flagsOf(row *results.Row) string {
	var f []string
	for _, fl := range row.Flags {
		if !contains(f, fl) {
			f = append(f, fl)
		}
	}
	if row.Saturated && !contains(f, results.FlagSaturated) {
		f = append(f, results.FlagSaturated)
	}
	if len(row.Flags) == 0 && row.Gate() != "" {
		// A file written before the flags existed: recompute them.
		if share, ok := row.ErrorShare(); ok && share > results.ErrorRateMax {
			f = append(f, results.FlagErrors)
		}
		if l := row.LOverCStat(); l != nil && l.Median < results.WindowLOverCMin {
			flag, _ := results.LowLCause(row.Reps, row.OfferedConcurrency())
			f = append(f, flag)
		}
	}
	if len(f) == 0 {
		return "–"
	}
	return bold(strings.Join(f, ", "))
}

// errorCell is a row's error rate, with the count when there were errors.
func errorCell(row *results.Row) string {
	share, ok := row.ErrorShare()
	if !ok {
		return "–"
	}
	if share == 0 {
		return "0 %"
	}
	s := strings.Replace(pct(share), "%", " %", 1)
	if row.Errors.N > 0 && row.Errors.Median > 0 {
		s += " (" + count(row.Errors.Median) + " per repetition)"
	}
	return s
}

func lOverC(row *results.Row) string {
	l := row.LOverC
	if l == nil {
		l = row.LOverCStat()
	}
	if l == nil || l.N == 0 {
		return "–"
	}
	return verdict.StatWith(*l, "", func(x float64) string { return num(math.Round(x*100) / 100) })
}

func slimLoadRow(row *results.Row, canary bool) []string {
	out := []string{code(row.Config), row.Point.Label}
	n := 12
	if canary {
		n++
	}
	if !measured(row) {
		why := "no successful repetition"
		if row.Prevented != "" {
			why = "prevented: " + row.Prevented
		}
		out = append(out, why)
		for len(out) < n+1 {
			out = append(out, "–")
		}
		return out
	}
	out = append(out, stat(row.RPS, ""), stat(row.P50Ms, ""), stat(row.P99Ms, ""))
	if canary {
		c := "–"
		if row.Canary != nil {
			a := canaryAnswers(row)
			if a.Starved {
				c = fmt.Sprintf("%s answered of %s; oldest waited ≈ %s ms", answeredText(a.Answered), inum(a.Scheduled), num(a.OldestWaitMs))
			} else {
				c = stat(row.Canary.P99Ms, "")
			}
		}
		out = append(out, c)
	}
	of := "–"
	if row.LittleFraction != nil && row.LittleBoundRPS != nil {
		of = verdict.StatWith(*row.LittleFraction, "", pct) + " of " + num(*row.LittleBoundRPS)
	}
	fr := verdict.FreshOf(row)
	cpu := "–"
	if row.Server.CPUUsPerRequest.N > 0 {
		cpu = stat(row.Server.CPUUsPerRequest, "")
	}
	if row.Loadgen.CPUUsPerRequest.N > 0 {
		cpu += " · " + stat(row.Loadgen.CPUUsPerRequest, "")
	}
	ctx := "–"
	if row.Server.CtxVolPerReq.N > 0 {
		ctx = fmt.Sprintf("%s + %s", num(row.Server.CtxVolPerReq.Median), num(row.Server.CtxInvolPerReq.Median))
	}
	return append(out, of, lOverC(row), errorCell(row), count(fr.Threads), size(math.Max(fr.RSSBytes, 0)), cpu, ctx, flagsOf(row))
}

func slimIdleRow(row *results.Row) []string {
	out := []string{code(row.Config), row.Point.Label}
	if !measured(row) || row.Idle == nil {
		why := "not measured"
		if row.Prevented != "" {
			why = "prevented: " + row.Prevented
		}
		out = append(out, why)
		for len(out) < 10 {
			out = append(out, "–")
		}
		return out
	}
	id := row.Idle
	fr := verdict.FreshOf(row)
	held := fmt.Sprintf("%s of %s", stat(id.Held, ""), inum(id.Wanted))
	return append(out, held, perConnCell(fr.RSSPerConnBytes), size(fr.RSSBytes), count(fr.Threads),
		fmt.Sprintf("%s / %s", num(id.ProbeP50Ms.Median), stat(id.ProbeP99Ms, "")), stat(id.OpenS, ""), errorCell(row), flagsOf(row))
}

// perConnCell is a memory cost per connection for a table: never negative
// (RSS that did not grow means the heap had room already).
func perConnCell(b float64) string {
	if b <= 0 {
		return "none measurable"
	}
	return size(b)
}

// ---- the canary's answers ---------------------------------------------------

// canaryAnswers is how many of a row's canary probes were answered.
func canaryAnswers(row *results.Row) verdict.CanaryAnswers { return verdict.CanaryOf(row) }

// answeredText is "none", or the count.
func answeredText(n int) string {
	if n == 0 {
		return "none"
	}
	return inum(n)
}
