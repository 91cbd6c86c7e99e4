package report

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// Number formats, shared with the verdicts so that a number reads the same
// in a reason and in a table.
var (
	num   = verdict.Num
	pct   = verdict.Pct
	times = verdict.Times
	size  = verdict.Bytes
	stat  = verdict.Stat
	inum  = verdict.Int
	count = verdict.Count
)

// renderer holds what the sections share: the file, the computed tables
// and the charts that exist.
type renderer struct {
	b strings.Builder
	f *results.File
	// other is a second run to compare verdicts with (-compare), or nil.
	other     *results.File
	otherPath string
	charts    map[string]Chart
	claims    []verdict.Verdict
	cells     []verdict.Cell
	metrics   []verdict.MetricsRow
	caps      []verdict.Capacity
	tasks     []verdict.TaskRow
}

func markdown(f *results.File, cs []Chart, o Options) []byte {
	r := &renderer{f: f, other: o.Compare, otherPath: o.ComparePath, charts: map[string]Chart{}, claims: verdict.Claims(f), cells: verdict.Cells(f),
		metrics: verdict.Metrics(f), caps: verdict.Capacities(f), tasks: verdict.TaskTypes(f)}
	for _, c := range cs {
		r.charts[c.Name] = c
	}
	r.header()
	r.onePage()
	r.glossarySection()
	r.pick()
	r.timelinesSection(o.Timelines)
	r.environment()
	r.twoByTwo()
	r.springFastAPI()
	r.metricsTable()
	r.taskTypes()
	r.twinsReal()
	r.compareSection()
	r.claimsTable()
	r.detailTables()
	r.reproduce()
	md := tidy(linkTerms(r.b.String()))
	return []byte(strings.TrimRight(md, "\n") + "\n")
}

// ---- markdown primitives ---------------------------------------------------

func (r *renderer) h(level int, s string) {
	r.b.WriteString(strings.Repeat("#", level) + " " + s + "\n\n")
}

// p writes a paragraph; empty sentences are dropped.
func (r *renderer) p(sentences ...string) {
	var keep []string
	for _, s := range sentences {
		if s = strings.TrimSpace(s); s != "" {
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		return
	}
	r.b.WriteString(strings.Join(keep, " ") + "\n\n")
}

func (r *renderer) bullets(items []string) {
	for _, it := range items {
		r.b.WriteString("- " + it + "\n")
	}
	if len(items) > 0 {
		r.b.WriteString("\n")
	}
}

func (r *renderer) table(head []string, rows [][]string) {
	esc := func(s string) string {
		s = strings.ReplaceAll(s, "|", "\\|")
		s = strings.ReplaceAll(s, "\n", " ")
		if s == "" {
			return " "
		}
		return s
	}
	var b strings.Builder
	b.WriteString("|")
	for _, h := range head {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for range head {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, row := range rows {
		b.WriteString("|")
		for i := range head {
			c := ""
			if i < len(row) {
				c = row[i]
			}
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteString("\n")
	}
	r.b.WriteString(b.String() + "\n")
}

// chart embeds a chart if it was drawn, with its caption.
func (r *renderer) chart(name, caption string) {
	c, ok := r.charts[name]
	if !ok {
		return
	}
	r.b.WriteString(fmt.Sprintf("![%s](%s)\n\n", c.Title, path.Join(ChartsDir, c.Name)))
	if caption != "" {
		r.b.WriteString("*" + caption + "*\n\n")
	}
}

func code(s string) string { return "`" + s + "`" }

func bold(s string) string { return "**" + s + "**" }

// ---- header, summary ----------------------------------------------------

func (r *renderer) header() {
	e := r.f.Environment
	r.h(1, "Server models under load: the seeds' claims against measurements")
	commit := e.GitCommit
	if commit == "" {
		commit = "unknown"
	}
	dirty := ""
	if e.GitDirty {
		dirty = " with uncommitted changes"
	}
	r.p(fmt.Sprintf("Measured %s on %s (%s, %s, Linux %s, %s) at commit %s%s; rendered from results.json by %s.",
		orDash(e.Date), orDash(e.Hostname), orDash(e.CPUModel), plural(e.Cores, "core"), orDash(e.Kernel), orDash(e.GoVersion), code(commit), dirty, code("loadgen report")))
	if !r.f.Complete {
		r.p("> " + bold("Incomplete run.") + " The suite was interrupted: what is below was measured, but scenarios or rows are missing, and claims that depend on them read \"not measured\".")
	}
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// prefer returns want if it was measured on every cfg, else the highest
// point measured on all of them.
func prefer(f *results.File, scn, want string, cfgs ...string) string {
	ok := true
	for _, c := range cfgs {
		if get(f, scn, c, want) == nil {
			ok = false
		}
	}
	if ok {
		return want
	}
	return highestCommon(f, scn, cfgs...)
}

func (r *renderer) claim(n int) verdict.Verdict {
	for _, v := range r.claims {
		if v.Claim.N == n {
			return v
		}
	}
	return verdict.Verdict{Outcome: verdict.NotMeasured}
}

func overLoopback(e results.Environment) string {
	if e.Loopback {
		return " over loopback"
	}
	return ""
}

// canaryPhrase says what a row's canary saw, as a verb phrase.
func canaryPhrase(x *results.Row) string {
	a := canaryAnswers(x)
	if a.Starved {
		if a.Answered == 0 {
			return fmt.Sprintf("got no answer to any of its %s probes (the oldest had waited ≈ %s ms when the window closed)", inum(a.Scheduled), num(a.OldestWaitMs))
		}
		return fmt.Sprintf("got answers to just %s of its %s probes (the oldest unanswered had waited ≈ %s ms)", inum(a.Answered), inum(a.Scheduled), num(a.OldestWaitMs))
	}
	return fmt.Sprintf("saw a p99 of %s ms", num(x.Canary.P99Ms.Median))
}

// which lists the claims with outcome o: " (claims 8, 9)", or "".
func (r *renderer) which(o verdict.Outcome) string {
	var ns []string
	for _, v := range r.claims {
		if v.Outcome == o {
			ns = append(ns, fmt.Sprint(v.Claim.N))
		}
	}
	switch len(ns) {
	case 0:
		return ""
	case 1:
		return " (claim " + ns[0] + ")"
	}
	return " (claims " + strings.Join(ns, ", ") + ")"
}

// plural writes "1 loop", "3 loops".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// perConn phrases a memory cost per connection; RSS that did not grow
// (the heap had room already) reads as such, not as a negative cost.
func perConn(b float64) string {
	if b <= 0 {
		return fmt.Sprintf("nothing measurable per connection (RSS changed by %s)", size(b))
	}
	return size(b) + " per connection"
}

// pctOfC is a row's throughput as a share of c ÷ wait: what the clients'
// concurrency allows, whatever caps the configuration has.
func pctOfC(x *results.Row) string {
	if x.Point.Ms <= 0 || x.Point.Conns <= 0 {
		return "–"
	}
	return pct(x.RPS.Median / (float64(x.Point.Conns) / (float64(x.Point.Ms) / 1000)))
}

// capText describes a configuration's concurrency cap.
func capText(cfg string) string {
	c, ok := catalog.ConfigByName(cfg)
	if !ok || c.Limit == catalog.LimitNone {
		return "no cap"
	}
	switch c.Limit {
	case catalog.LimitThreads:
		return fmt.Sprintf("capped at %d threads", c.LimitN)
	case catalog.LimitPool:
		return fmt.Sprintf("a pool of %d", c.LimitN)
	case catalog.LimitLoops:
		return fmt.Sprintf("%s, blocked by each handler", plural(c.LimitN, "loop"))
	}
	return fmt.Sprintf("%d %s", c.LimitN, c.Limit)
}

// loopLabel is the blocking-in-loop point the prose quotes: the first
// catalog point measured on the inline loop, else the first measured row's.
func loopLabel(f *results.File) (string, bool) {
	if sc, ok := catalog.ScenarioByName("blocking-in-loop"); ok {
		for _, p := range sc.Points {
			if get(f, "blocking-in-loop", "eventloop-inline", p.Label) != nil && p.Ms > 0 {
				return p.Label, true
			}
		}
	}
	if s := scenario(f, "blocking-in-loop"); s != nil {
		for i := range s.Rows {
			if measured(&s.Rows[i]) && s.Rows[i].Point.Ms > 0 {
				return s.Rows[i].Point.Label, true
			}
		}
	}
	return "", false
}

// ---- environment and caveats ---------------------------------------------

func (r *renderer) environment() {
	f := r.f
	e, o, c := f.Environment, f.Options, f.Calibration
	r.h(2, "Environment and caveats")
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	mode := "full"
	if o.Quick {
		mode = "quick (-quick: one repetition, short phases, fewer points)"
	}
	if e.External {
		mode += ", external targets (servers not started by the suite)"
	}
	commit := orDash(e.GitCommit)
	if e.GitDirty {
		commit += " (uncommitted changes)"
	}
	ceiling := ceilingText(c)
	cpuCost := "not measured"
	if c.CPUMsPerRequest > 0 {
		cpuCost = fmt.Sprintf("%s ms per /cpu?work=%d request", num(c.CPUMsPerRequest), c.CPUWork)
	}
	r.table([]string{"what", "this run"}, [][]string{
		{"Date", orDash(e.Date)},
		{"Machine", fmt.Sprintf("%s: %s, %s, Linux %s", orDash(e.Hostname), orDash(e.CPUModel), plural(e.Cores, "core"), orDash(e.Kernel))},
		{"Go", orDash(e.GoVersion)},
		{"Commit", commit},
		{"CPUs", cpusRow(e)},
		{"File descriptors", fmt.Sprintf("nofile %s per process (the hard cap here; raised to it)", inum(int(e.NofileLimit)))},
		{"Network", "loopback only: " + yesNo(e.Loopback)},
		{"Mode", mode},
		{"Repetitions", fmt.Sprintf("%d × %s s measured after %s s of warm-up, interleaved across configurations", o.Reps, num(o.MeasureS), num(o.WarmupS))},
		{"Load generator ceiling", ceiling},
		{"Load engine", loadEngineText(f)},
		{"CPU work", cpuCost},
		{"Wall time", num(f.WallS) + " s"},
	})

	var cav []string
	if !f.Complete {
		cav = append(cav, bold("Incomplete run:")+" the suite was interrupted; missing rows are reported as missing, never filled in.")
	}
	if o.Quick {
		cav = append(cav, bold("Quick run:")+" short phases and fewer points, so the brackets below are coarser.")
	}
	if o.Reps == 1 {
		cav = append(cav, bold("One repetition:")+" no [min–max] spread was measured.")
	}
	split := fmt.Sprintf("The servers get %s and the load generator %s, so a server never competes with its load, except where a note below says otherwise.",
		cpusText(e.ServerCPUs), cpusText(e.LoadCPUs))
	if e.External || e.ServerCPUs == "" {
		split = fmt.Sprintf("The servers were not started by the suite, so it could not pin them: they may share CPUs with the load generator (on %s).", cpusText(e.LoadCPUs))
	}
	network := bold("Loopback.") + " No network latency or bandwidth limit: waits are the handlers' own timers, and the dependency for fan-out runs on the load generator's CPU."
	if !e.Loopback {
		network = bold("Not loopback.") + " Some targets are not on 127.0.0.0/8 (a container network, say): network overhead is part of every latency here."
	}
	cav = append(cav,
		bold(plural(e.Cores, "core")+".")+" "+split,
		network,
		fmt.Sprintf("%s One process may hold %s file descriptors, so no point opens more than about that many connections; a point the cap prevents is listed as prevented, not dropped.",
			bold("nofile cap."), inum(int(e.NofileLimit))),
		bold("Latency")+" is the median over repetitions of each repetition's percentile. The bracket after a median is its interval: a 95 % bootstrap interval of the median with six or more repetitions, else the [min–max] range of the repetitions. A number derived from two rows carries the widest interval its inputs allow, and never an impossible value such as a negative size.",
	)
	var sat, prev, skipped []string
	notes := map[string][]string{}
	var noteOrder []string
	for _, s := range f.Scenarios {
		if s.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("%s: %s", s.Name, s.Skipped))
		}
		for _, row := range s.Rows {
			id := fmt.Sprintf("%s %s %s", s.Name, row.Config, row.Point.Label)
			if row.Saturated {
				sat = append(sat, id+": "+row.SaturationReason)
			}
			if row.Prevented != "" {
				prev = append(prev, id+": "+row.Prevented)
			}
			for _, n := range row.Notes {
				if _, ok := notes[n]; !ok {
					noteOrder = append(noteOrder, n)
				}
				notes[n] = append(notes[n], id)
			}
		}
	}
	if len(sat) == 0 {
		what := "of its CPU and of its calibrated ceiling"
		if c.LoadgenCeilingRPS <= 0 {
			what = "of its CPU (no ceiling was calibrated)"
		} else if len(c.LoadgenCeilingCPUByPipeline) > 0 && !c.CeilingApplies(1) {
			what = "of its CPU (the calibrated ceiling was the pair's, not the load generator's, so it was not applied)"
		}
		cav = append(cav, bold("Saturation:")+" no row was flagged: the load generator stayed under 90 % "+what+" everywhere.")
	} else {
		cav = append(cav, bold("Saturated rows")+" (the load generator, not the server, may have been the limit): "+strings.Join(sat, "; ")+".")
	}
	if len(prev) > 0 {
		cav = append(cav, bold("Prevented by a machine limit:")+" "+strings.Join(prev, "; ")+".")
	}
	if len(skipped) > 0 {
		cav = append(cav, bold("Skipped scenarios:")+" "+strings.Join(skipped, "; ")+".")
	}
	for _, n := range noteOrder {
		cav = append(cav, bold("Note")+" on "+strings.Join(notes[n], ", ")+": "+sentence(n))
	}
	for _, n := range e.Notes {
		cav = append(cav, bold("Note:")+" "+sentence(n))
	}
	if e.ContainerHint != "" {
		cav = append(cav, bold("Container:")+" "+e.ContainerHint)
	}
	r.bullets(cav)

	r.h(3, "The configurations and their twins")
	var rows [][]string
	for _, name := range configsMeasured(f) {
		c, ok := catalog.ConfigByName(name)
		if !ok {
			rows = append(rows, []string{code(name), "", "", "", "", "", ""})
			continue
		}
		gmp := "–"
		if n, ok := e.GOMAXPROCS[name]; ok {
			gmp = fmt.Sprint(n)
		}
		cmd := strings.TrimSpace("bin/" + c.Binary + " " + strings.Join(c.Args, " "))
		if c.Kind == catalog.KindStack || c.Binary == "" {
			cmd = strings.Join(c.Command, " ")
		}
		rows = append(rows, []string{code(name), c.Model, c.Style, capText(name), c.Twin, code(cmd), gmp})
	}
	r.table([]string{"configuration", "model", "style", "concurrency cap", "twin in the seeds", "started as", "GOMAXPROCS"}, rows)
	if aff := sortedKeys(e.Affinity); len(aff) > 0 {
		var a []string
		for _, k := range aff {
			a = append(a, fmt.Sprintf("%s → %s", k, e.Affinity[k]))
		}
		r.p("CPU affinity as pinned: " + strings.Join(a, ", ") + ".")
	}
}

func cpusRow(e results.Environment) string {
	if e.External || e.ServerCPUs == "" {
		return fmt.Sprintf("servers not pinned by the suite (external targets); load generator and dependency on %s (load generator GOMAXPROCS %d)", orDash(e.LoadCPUs), e.LoadgenProcs)
	}
	return fmt.Sprintf("servers on %s, load generator and dependency on %s (load generator GOMAXPROCS %d)", e.ServerCPUs, orDash(e.LoadCPUs), e.LoadgenProcs)
}

func cpusText(list string) string {
	if list == "" {
		return "unpinned CPUs"
	}
	return "CPU " + list
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// ---- how to reproduce -------------------------------------------------------

func (r *renderer) reproduce() {
	e, o := r.f.Environment, r.f.Options
	r.h(2, "How to reproduce")
	cmd := o.Command
	if cmd == "" {
		cmd = "loadgen suite"
	}
	commit := e.GitCommit
	if commit == "" {
		commit = "<commit: not recorded>"
	}
	r.p("On a Linux machine with Go, from the repository root:")
	r.b.WriteString("```sh\n")
	r.b.WriteString("git checkout " + commit + "\n")
	r.b.WriteString("make build\n")
	if strings.HasPrefix(cmd, "loadgen ") {
		cmd = "bin/" + cmd // make build puts the binaries in bin/
	}
	r.b.WriteString(cmd + "\n")
	r.b.WriteString("```\n\n")
	var extra []string
	if e.GitDirty {
		extra = append(extra, "The run had uncommitted changes on top of that commit, so the checkout alone may not reproduce it exactly.")
	}
	extra = append(extra, "The suite writes results.json and this report into its -out folder; "+code("bin/loadgen report DIR/results.json")+" renders the report again from the JSON alone.")
	r.p(extra...)
}

// sentence ends s with a full stop unless it ends with punctuation.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?:)") {
		return s
	}
	return s + "."
}

// ceilingText says what calibration measured at each pipeline depth and
// whether that rps was applied as the load generator's ceiling (only where
// its own CPU showed it to be the bottleneck: results.CeilingApplies).
func ceilingText(c results.Calibration) string {
	if c.LoadgenCeilingRPS <= 0 {
		if c.LoadgenCeilingRef != "" {
			return c.LoadgenCeilingRef
		}
		return "not measured"
	}
	ref := ""
	if c.LoadgenCeilingRef != "" {
		ref = " (" + c.LoadgenCeilingRef + ")"
	}
	if len(c.LoadgenCeilingCPUByPipeline) == 0 {
		return num(c.LoadgenCeilingRPS) + " rps" + ref + "; the calibration did not record the load generator's CPU, so it may be the pair's ceiling"
	}
	var depths []string
	for d := range c.LoadgenCeilingByPipeline {
		depths = append(depths, d)
	}
	sort.Slice(depths, func(i, j int) bool { return atoi(depths[i]) < atoi(depths[j]) })
	var parts []string
	for _, d := range depths {
		what := "the pair's ceiling (the load generator was not the busy side), not applied: saturation there is judged by the load generator's CPU alone"
		if c.CeilingApplies(atoi(d)) {
			what = "the load generator's own ceiling (it was the busy side), applied: a row at 90 % of it is flagged saturated"
		}
		parts = append(parts, fmt.Sprintf("%s rps at pipeline %s, load generator CPU %s %%, server CPU %s %%: %s",
			num(c.LoadgenCeilingByPipeline[d]), d, num(100*c.LoadgenCeilingCPUByPipeline[d]), num(100*c.LoadgenCeilingServerCPUByPipeline[d]), what))
	}
	return strings.Join(parts, "; ") + ref
}

// loadEngineText names the load engine and its I/O backend over the rows:
// "fast, io_uring on every row", or the rows per backend.
func loadEngineText(f *results.File) string {
	count := map[string]int{}
	var order []string
	rows := 0
	engineName := ""
	for _, s := range f.Scenarios {
		for _, row := range s.Rows {
			if len(row.Reps) == 0 || row.LoadModel == "idle" || row.LoadModel == "outbound" {
				continue
			}
			rows++
			b := row.Loadgen.IOBackend
			if b == "" {
				b = "backend not recorded"
			}
			if count[b] == 0 {
				order = append(order, b)
			}
			count[b]++
			if engineName == "" {
				engineName = engineOf(row)
			}
		}
	}
	if engineName == "" {
		engineName = "fast"
	}
	if rows == 0 {
		return engineName
	}
	if len(order) == 1 && order[0] == "backend not recorded" {
		return engineName + " (its I/O backend was not recorded)"
	}
	if len(order) == 1 {
		return fmt.Sprintf("%s, %s on every row", engineName, order[0])
	}
	var parts []string
	for _, b := range order {
		parts = append(parts, fmt.Sprintf("%s on %s", b, plural(count[b], "row")))
	}
	return engineName + ", " + strings.Join(parts, ", ")
}

// engineOf reads the engine's name from a row's first repetition.
func engineOf(row results.Row) string {
	var e struct {
		Engine string `json:"engine"`
	}
	if len(row.Reps) > 0 && json.Unmarshal(row.Reps[0].Engine, &e) == nil {
		return e.Engine
	}
	return ""
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
