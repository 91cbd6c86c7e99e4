package report

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// The opening page: the twelve claims in one table, three sentences on
// choosing a model, then the glossary and the sizing guidance. Everything
// here is computed from the run; the prose around the numbers is fixed.

// symbols are the verdict marks of the one-page table.
var symbols = map[verdict.Outcome]string{
	verdict.Reproduced:   "✔",
	verdict.Partly:       "◐",
	verdict.Refuted:      "✘",
	verdict.NotMeasured:  "–",
	verdict.Inconclusive: "?",
}

// mark writes a verdict as its symbol and word: "✔ reproduced".
func mark(o verdict.Outcome) string {
	s, ok := symbols[o]
	if !ok {
		s = "?"
	}
	return s + " " + string(o)
}

// shortClaims are the seeds' sentences in about ten words, for the one-page
// table; the full paraphrase is in the claims section.
var shortClaims = map[int]string{
	1:  "Three fetches: 1.02 s one after another, 0.12 s concurrently",
	2:  "Two 50 ms queries: 100 ms sync, 50 ms async",
	3:  "gather over 1 s and 2 s tasks takes 2 s, not 3",
	4:  "One blocking call in async code stalls the whole loop",
	5:  "A thread pool for blocking work keeps the loop responsive",
	6:  "Each OS thread costs memory: thread-per-request hits C10k",
	7:  "Many threads add context-switch overhead",
	8:  "One event-loop thread handles thousands of I/O-bound connections",
	9:  "Worker processes give true parallelism for CPU-bound work",
	10: "Connections: asyncio 1k–10k, threads ~100–500, nginx 1k–4k per worker",
	11: "Django: async code on an async server is fastest",
	12: "On one core, async does not speed up CPU-bound work",
}

func shortClaim(c catalog.Claim) string {
	if s, ok := shortClaims[c.N]; ok {
		return s
	}
	return c.Text
}

// figures returns a claim's deciding figures for the twins and for the
// real stacks, from the verdict's claim row (package verdict defines them;
// this only writes them compactly): at most two per side.
func figures(v verdict.Verdict) (twin, real string) {
	var tw, rl []string
	for _, f := range v.Figures {
		s := compactFigure(f)
		switch f.Side {
		case verdict.SideReal:
			if len(rl) < 2 {
				rl = append(rl, s)
			}
		default:
			if len(tw) < 2 {
				tw = append(tw, s)
			}
		}
	}
	if len(tw) == 0 {
		tw = append(tw, orDash(firstClause(v.Measured)))
	}
	if len(rl) == 0 {
		rl = append(rl, "not measured")
	}
	return strings.Join(tw, "; "), strings.Join(rl, "; ")
}

// compactFigure writes a figure as "what median [lo–hi]": the interval's
// kind is said once, above the table.
func compactFigure(f verdict.Figure) string {
	fm := f.Format
	if fm == nil {
		fm = num
	}
	u := ""
	if f.Unit != "" {
		u = " " + f.Unit
	}
	s := f.What + " " + fm(f.Value.Median) + u
	if f.Value.N > 1 {
		lo, hi := f.Value.Interval()
		if a, b := fm(lo), fm(hi); a != b {
			s += " [" + a + "–" + b + "]"
		}
	}
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}

// soWhat is the claim row's one line for a choice.
func soWhat(v verdict.Verdict) string {
	if v.SoWhat != "" {
		return v.SoWhat
	}
	return orDash(v.Explain)
}

// firstClause cuts a measured line at its first "; ".
func firstClause(s string) string {
	if i := strings.Index(s, "; "); i > 0 {
		return s[:i]
	}
	return s
}

func (r *renderer) onePage() {
	r.h(2, "The answer on one page")
	counts := map[verdict.Outcome]int{}
	for _, v := range r.claims {
		counts[v.Outcome]++
	}
	var tally []string
	for _, o := range []verdict.Outcome{verdict.Reproduced, verdict.Partly, verdict.Refuted, verdict.Inconclusive, verdict.NotMeasured} {
		if n := counts[o]; n > 0 {
			tally = append(tally, fmt.Sprintf("%d %s", n, mark(o)))
		}
	}
	r.p(fmt.Sprintf("The seeds' %d claims against this run (%s, %s on %s); figures are medians with their interval over repetitions (a 95 %% bootstrap interval with six or more repetitions, else the range). Of the %d: %s.",
		len(r.claims), plural(r.f.Options.Reps, "repetition"), r.windowText(), plural(r.f.Environment.Cores, "core"), len(r.claims), strings.Join(tally, ", ")))
	var rows [][]string
	for _, v := range r.claims {
		tw, real := figures(v)
		rows = append(rows, []string{fmt.Sprint(v.Claim.N), shortClaim(v.Claim), tw, real, bold(mark(v.Outcome)), soWhat(v)})
	}
	r.table([]string{"#", "the seed says", "deciding figures: twin", "real stack", "verdict", "so what"}, rows)
	r.p(r.loadgenLine())
	r.p(r.choosing()...)
	r.p("Terms are defined in the [glossary](#glossary); the sizing rules with this run's numbers are in [What should I pick](#what-should-i-pick).")
}

// loadgenLine is one paragraph on the load generator: its ceiling (or why
// the calibration's rps is not its own), and which rows were flagged
// saturated and why.
func (r *renderer) loadgenLine() string {
	c := r.f.Calibration
	var s string
	switch {
	case c.LoadgenCeilingRPS <= 0:
		s = "The load generator's ceiling was not calibrated, so a row counts as saturated only when the load generator's own CPU reached 90 %."
	case len(c.LoadgenCeilingCPUByPipeline) == 0:
		s = fmt.Sprintf("The load generator's ceiling: %s rps at c=64 against the stripped responder (its own CPU was not recorded, so this may be what the pair of them could do).", num(c.LoadgenCeilingRPS))
	case c.CeilingApplies(1):
		s = fmt.Sprintf("The load generator's ceiling is %s rps at c=64: in calibration it was the busy side (%s %% of its core), so a row at 90 %% of that is flagged saturated.",
			num(c.LoadgenCeilingRPS), num(100*c.LoadgenCeilingCPUByPipeline["1"]))
	default:
		s = fmt.Sprintf("Calibration reached %s rps at c=64 with the load generator at %s %% of its core and the server at %s %%: that is what the pair could do, not the load generator's ceiling, so rows are judged saturated by the load generator's own CPU (90 %% of its core).",
			num(c.LoadgenCeilingRPS), num(100*c.LoadgenCeilingCPUByPipeline["1"]), num(100*c.LoadgenCeilingServerCPUByPipeline["1"]))
	}
	var sat []string
	for _, sc := range r.f.Scenarios {
		for _, row := range sc.Rows {
			if row.Saturated {
				sat = append(sat, fmt.Sprintf("%s %s %s (%s)", sc.Name, row.Config, row.Point.Label, row.SaturationReason))
			}
		}
	}
	if len(sat) == 0 {
		return s + " No row was saturated: the server, not the load generator, set every row's pace."
	}
	return s + fmt.Sprintf(" %s saturated, where the load generator may have set the pace and the figure is a floor for the server: %s.",
		plural(len(sat), "row"), strings.Join(sat, "; "))
}

// windowText: "2 s each" from the options.
func (r *renderer) windowText() string {
	return num(r.f.Options.MeasureS) + " s each"
}

// choosing is at most three sentences on choosing a model, from the data.
func (r *renderer) choosing() []string {
	f := r.f
	var s []string
	if l := prefer(f, "io-wait", "c=1000", "eventloop-async", "blocking-os"); l != "" {
		el, os := get(f, "io-wait", "eventloop-async", l), get(f, "io-wait", "blocking-os", l)
		if el != nil && os != nil && os.RPS.Median > 0 {
			s = append(s, fmt.Sprintf("When requests mostly wait, what caps throughput is how many can wait at once: at %s with %d ms waits the event loop served %s the 200-thread server's rate (%s against %s rps) on %s threads.",
				l, el.Point.Ms, times(el.RPS.Median/os.RPS.Median), num(el.RPS.Median), num(os.RPS.Median), count(verdict.FreshOf(el).Threads)))
		}
	}
	if p1, p2 := get(f, "cpu", "prefork-1", "2 core(s)"), get(f, "cpu", "prefork-2", "2 core(s)"); p1 != nil && p2 != nil {
		if one := get(f, "cpu", "eventloop-async", "1 core(s)"); one != nil {
			s = append(s, fmt.Sprintf("CPU work does not care about the model: on one core every model served about %s rps, and only more processes or cores on the work can raise it (two workers reached %s one worker's rate here).",
				num(one.RPS.Median), times(p2.RPS.Median/p1.RPS.Median)))
		}
	}
	if lp, ok := loopLabel(f); ok {
		if inl := get(f, "blocking-in-loop", "eventloop-inline", lp); inl != nil && inl.Canary != nil {
			s = append(s, fmt.Sprintf("The one mistake that costs everything is a blocking call inside the loop: throughput fell to %s rps and a bystander %s.",
				num(inl.RPS.Median), canaryPhrase(inl)))
		}
	}
	if len(s) > 3 {
		s = s[:3]
	}
	return s
}

// ---- glossary ----------------------------------------------------------

// glossary is every term the report uses, one line each. The first use of
// each term elsewhere in the report links here (linkTerms).
var glossary = []struct{ term, def string }{
	{"twin", "a Go server configuration that reproduces one Python or Java stack's concurrency model (for example `blocking-os` for Spring MVC on Tomcat); the lab measures twins because they differ only in the model"},
	{"real stack", "the Python or Java framework itself (Django, FastAPI, Tomcat, nginx), run by the same suite beside its twin"},
	{"c", "the offered concurrency: how many connections each keep one request outstanding"},
	{"rps", "requests per second answered with a 2xx status, over the measured window"},
	{"p50 / p99", "the latency that half (p50) or 99 % (p99) of the requests stayed under"},
	{"closed loop", "each of c connections sends its next request only when the previous one is answered, so the load slows down with the server"},
	{"open loop", "requests are sent on a schedule whatever the server does; a late answer counts from when it was due"},
	{"Little's law", "in a steady system, requests inside = throughput × time each spends inside (L = λ × W)"},
	{"Little's bound", "the most rps a configuration can serve by Little's law: min(c, its slots) ÷ the time each request holds a slot (for /io, the wait)"},
	{"of bound", "(the Little fraction) measured rps as a share of Little's bound: near 100 % the model ran at its limit; far below, something else (CPU, a queue) held it back"},
	{"L", "the measured concurrency, rps × mean latency: how many requests were inside the server on average, queued or served"},
	{"L ÷ c", "L over the offered concurrency; in a closed loop about 1, and below 0.9 the window was too short for the latency"},
	{"slots", "what caps how many requests a server works on at once: its threads, pool threads, loops, or else the client's connections"},
	{"held per request", "slots ÷ rps: how long each slot stayed busy per request; about the sum of the waits means one wait at a time (sync), about the largest means they overlapped (async)"},
	{"window", "the seconds of load a repetition measures, after its warm-up; a repetition is one such window, and a point repeats it to get an interval"},
	{"first repetition", "threads and memory are read from each point's first repetition: a Go process keeps the threads and heap it grew, so later repetitions start from the points before them"},
	{"flags", "why a row cannot decide a verdict: errors (error rate over 0.1 %), window-too-short (L ÷ c under 0.9 because the window was short for the latency), reconnecting, connects-refused or loadgen-turnaround (L ÷ c under 0.9 for that named reason instead), saturated (the load generator may have been the limit)"},
	{"ceiling", "the most /plaintext rps the load generator drove on this machine against a stripped responder; rows near it may measure the load generator, not the server"},
	{"canary", "a slow probe (/plaintext, 50 a second, open loop) on its own connections while the scenario's load runs: what a bystander request feels"},
	{"saturated", "the load generator, not the server, may have been the limit: it used ≥ 90 % of its CPU or of its calibrated ceiling"},
	{"vol + invol", "context switches per request from /proc: voluntary (a thread gave up the CPU, usually to wait) + involuntary (the kernel preempted it)"},
	{"RSS", "resident memory of the server's whole process tree, the peak during the window"},
	{"GOMAXPROCS", "how many OS threads may run Go code at the same moment in a Go process; the lab sets it to the CPUs a server is pinned to"},
	{"nofile", "the per-process limit on open file descriptors; every connection needs one"},
	{"open s", "seconds the load generator took to open and prime all of a point's idle connections (not a server latency)"},
	{"interval", "the bracket after a median: a 95 % bootstrap interval of the median with six or more repetitions, else the [min–max] range of the repetitions"},
	{"error rate", "failed plus non-2xx answers ÷ requests; above 0.1 % a row cannot support a verdict"},
	{"thread-per-request", "each request holds an OS thread from start to end; a wait parks the thread (Tomcat, gunicorn gthread)"},
	{"event loop", "one thread runs every request's code between waits; a wait is a timer or a socket event, not a parked thread (asyncio, uvicorn, nginx)"},
	{"worker processes", "several copies of the server, each with its own loop or threads, sharing the listening port (uvicorn --workers, gunicorn -w)"},
	{"SO_REUSEPORT", "a socket option that gives each worker process its own listening socket, so the kernel spreads new connections across workers (`-reuseport`); without it one worker can take them all"},
	{"thread_sensitive", "Django's default for sync code called from async code: every such call runs on one shared thread, one at a time"},
	{"fan-out", "a request that calls a dependency several times, one after another (seq) or all at once (par)"},
}

func (r *renderer) glossarySection() {
	r.h(2, "Glossary")
	var rows [][]string
	for _, g := range glossary {
		rows = append(rows, []string{bold(g.term), g.def})
	}
	r.table([]string{"term", "meaning"}, rows)
}

// linkTerms links the first use of each glossary term outside the glossary
// itself to the glossary: in prose and table cells, never inside code
// spans, links or headings.
func linkTerms(md string) string {
	start := strings.Index(md, "\n## Glossary\n")
	end := -1
	if start >= 0 {
		end = strings.Index(md[start+1:], "\n## ")
		if end >= 0 {
			end += start + 1
		}
	}
	for _, g := range glossary {
		if len(g.term) < 2 {
			continue // "c" and "L" are too short to find safely
		}
		re := regexp.MustCompile(`(^|[\s(·])(` + regexp.QuoteMeta(g.term) + `)([\s,.;:)]|$)`)
		pos := 0
		for pos < len(md) {
			loc := re.FindStringSubmatchIndex(md[pos:])
			if loc == nil {
				break
			}
			ts, te := pos+loc[4], pos+loc[5]
			if (start >= 0 && ts >= start && (end < 0 || ts < end)) || !linkable(md, ts) {
				pos = te
				continue
			}
			md = md[:ts] + "[" + md[ts:te] + "](#glossary)" + md[te:]
			break
		}
	}
	return md
}

// linkable: the position is in prose or a table cell, not in a heading,
// code span, code block, link text or image.
func linkable(md string, i int) bool {
	ls := strings.LastIndex(md[:i], "\n") + 1
	le := strings.Index(md[i:], "\n")
	if le < 0 {
		le = len(md) - i
	}
	line := md[ls : i+le]
	before := md[ls:i]
	if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!") || strings.HasPrefix(line, "|---") {
		return false
	}
	if strings.Count(before, "`")%2 == 1 || strings.Count(before, "[") > strings.Count(before, "]") {
		return false
	}
	if strings.Count(md[:ls], "```")%2 == 1 {
		return false
	}
	// Not in a table's header row (the line after it starts with |---).
	if strings.HasPrefix(line, "|") && strings.HasPrefix(md[min(i+le+1, len(md)):], "|---") {
		return false
	}
	return true
}

// ---- what should I pick -------------------------------------------------

func (r *renderer) pick() {
	f := r.f
	r.h(2, "What should I pick")
	r.p("Rules of thumb, each worked through with this run's numbers. They follow from Little's law: requests in flight = throughput × time each one takes, so a server that can hold N requests at once, each taking W seconds, serves at most N ÷ W per second.")
	var items []string

	// Little's-law sizing with blocking-os.
	wait := waitOf(f)
	if n := verdict.ThreadCap(); n > 0 && wait > 0 {
		capRPS := float64(n) / (wait / 1000)
		t := fmt.Sprintf("%s A pool of %d threads whose requests each wait %s ms serves at most %d ÷ %s s = %s rps.",
			bold("Size a pool by rps × latency."), n, num(wait), n, num(wait/1000), num(capRPS))
		if x := get(f, "io-wait", "blocking-os", "c=1000"); x != nil {
			t += fmt.Sprintf(" Measured: %s rps at c=1000 (%s of that cap); the other %s connections queued, and the queue set its p99 of %s ms.",
				num(x.RPS.Median), pct(x.RPS.Median/capRPS), inum(x.Point.Conns-n), num(x.P99Ms.Median))
		}
		t += fmt.Sprintf(" To serve R rps at W seconds a request you need R × W slots: 10,000 rps at %s ms needs %s threads, or one event loop.", num(wait), inum(int(math.Ceil(10000*wait/1000))))
		items = append(items, t)
	}
	// When a thread pool is enough.
	if x := get(f, "io-wait", "blocking-os", "c=100"); x != nil {
		t := fmt.Sprintf("%s While rps × wait stays under the thread count, threads are not the limit: at c=100 the 200-thread server served %s rps, %s of c ÷ wait, with a p99 of %s ms.",
			bold("A thread pool (gunicorn gthread, Tomcat) is enough."), num(x.RPS.Median), pctOfC(x), num(x.P99Ms.Median))
		if ic, err := verdict.InFlightCost(f, "blocking-os", verdict.ThreadCap()); err == nil && ic.RSSBytes > 0 {
			t += fmt.Sprintf(" The price is memory and a thread per request in flight: %s and %s each here.", size(ic.RSSBytes), threads(ic.Threads))
		}
		items = append(items, t+" Most CRUD services live in this range, and sync code is simpler to write and debug.")
	}
	// When an event loop pays off.
	{
		var parts []string
		if seq, par := r.cell("sync", "sync"), r.cell("async", "async"); seq != nil && par != nil && seq.Row != nil && par.Row != nil {
			parts = append(parts, fmt.Sprintf("fan-out (three dependency calls per request from %s clients: %s rps async on async against %s sync on sync)",
				inum(par.Row.Point.Conns), num(par.Row.RPS.Median), num(seq.Row.RPS.Median)))
		}
		if l := highestCommon(f, "idle-connections", "blocking-os", "eventloop-async"); l != "" {
			o, e := get(f, "idle-connections", "blocking-os", l), get(f, "idle-connections", "eventloop-async", l)
			parts = append(parts, fmt.Sprintf("many idle or slow clients (%s held: %s RSS on the thread server, %s on the loop)",
				l, size(verdict.FreshOf(o).RSSBytes), size(verdict.FreshOf(e).RSSBytes)))
		}
		if x := get(f, "io-wait", "eventloop-async", "c=5000"); x != nil {
			parts = append(parts, fmt.Sprintf("long polls and thousands of waiting requests (c=5000: %s rps on %s threads)", num(x.RPS.Median), count(verdict.FreshOf(x).Threads)))
		}
		if len(parts) > 0 {
			items = append(items, bold("An event loop pays off")+" when far more requests wait than you would give threads: "+strings.Join(parts, "; ")+". It needs every wait to be awaitable all the way down; one blocking call stalls the loop (claim 4).")
		}
	}
	// CPU work needs processes.
	if p1, p2 := get(f, "cpu", "prefork-1", "2 core(s)"), get(f, "cpu", "prefork-2", "2 core(s)"); p1 != nil && p2 != nil {
		t := fmt.Sprintf("%s No model makes a CPU-bound handler faster on one core; more cores help only if processes (or threads outside a GIL) run on them. Here two worker processes reached %s one worker's rate on 2 cores (%s against %s rps)",
			bold("CPU work needs processes."), times(p2.RPS.Median/p1.RPS.Median), num(p2.RPS.Median), num(p1.RPS.Median))
		if e1, e2 := get(f, "cpu", "eventloop-async", "1 core(s)"), get(f, "cpu", "eventloop-async", "2 core(s)"); e1 != nil && e2 != nil {
			t += fmt.Sprintf(", and one loop got %s its one-core rate from a second core", times(e2.RPS.Median/e1.RPS.Median))
		}
		t += "; on this 2-core machine the load generator shares the second core, so the gain is understated. In Python, `uvicorn --workers N` or `gunicorn -w N` with N = cores."
		items = append(items, t)
	}
	// The dependency pool.
	if c := r.cell("sync", "async"); c != nil && c.Row != nil && c.SumMs > 0 {
		b := float64(c.Slots) / (c.SumMs / 1000)
		items = append(items, fmt.Sprintf("%s A request that holds one of %d slots for %s ms of dependency calls can never exceed %d ÷ %s s = %s rps, whatever the server model: the sync-on-async cell measured %s rps (%s of it). Size the database or HTTP client pool by the same rule, and model it with fan-out before blaming the framework.",
			bold("The real limit is often the dependency pool."), c.Slots, num(c.SumMs), c.Slots, num(c.SumMs/1000), num(b), num(c.Row.RPS.Median), pct(c.Row.RPS.Median/b)))
	}
	r.bullets(items)
}

// errShare is a row's error rate: failed plus non-2xx answers ÷ requests.
func errShare(x *results.Row) (float64, bool) { return x.ErrorShare() }
