package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// The seeds' tables, rebuilt. The seed's side of each row is a paraphrase
// of its seed file; the measured side and every judgement come from the
// data (package verdict).

func (r *renderer) cell(code, server string) *verdict.Cell {
	for i := range r.cells {
		if r.cells[i].Code == code && r.cells[i].Server == server {
			return &r.cells[i]
		}
	}
	return nil
}

func outcome(o verdict.Outcome) string { return bold(string(o)) }

func (r *renderer) twoByTwo() {
	r.h(2, "The WSGI/ASGI 2×2: sync or async code on a sync or async server")
	sc, ok := catalog.ScenarioByName("code-x-server")
	if !ok || len(sc.Points) == 0 || len(r.cells) == 0 {
		r.p("The catalog has no code-x-server scenario: this table cannot be built.")
		return
	}
	pt := sc.Points[0]
	r.p("Seed 000 (\"Django server stats\") sorts Django deployments by the style of the view's code and of the server, and says the result follows the code: async code on a sync (WSGI) server still runs async inside the request, sync code on an async (ASGI) server is pushed to a thread pool and stays sync, and async on async is \"true async all the way\" with the best throughput.",
		fmt.Sprintf("The lab measures the four cells on one workload: each request makes %d calls of %d ms to a dependency, from %s connections at once.", pt.Calls, pt.Ms, inum(pt.Conns)),
		fmt.Sprintf("Sequential calls stand for sync code and gathered calls for async code; the thread-per-request server (%s) stands for a sync server, and the event loop, with or without its %s, for an async one.",
			capText("blocking-os"), strings.TrimPrefix(capText("eventloop-pool"), "a ")))
	r.p("\"Behaves as\" is computed, not asserted. Little's law applied to a server's slots (its threads, pool threads, or connections when nothing lower caps it) gives how long each slot was held per request: slots ÷ throughput.",
		"A slot held for the sum of the waits handled one wait at a time (sync); a slot held for about the largest wait let the waits overlap (async).",
		"The measured concurrency, throughput × mean latency, is about c in a closed loop by construction; beyond the slots it counts the requests that queued for one.")

	var missing []string
	grid := func(c *verdict.Cell) string {
		if c == nil {
			return "not in the catalog"
		}
		if c.Missing != "" {
			if !contains(missing, c.Missing) {
				missing = append(missing, c.Missing)
			}
			return "not measured"
		}
		return fmt.Sprintf("behaves %s (seed: %s) · %s rps · p99 %s ms · %s", bold(c.BehavesAs), c.SeedSays, num(c.Row.RPS.Median), num(c.Row.P99Ms.Median), code(c.Config))
	}
	r.table([]string{"", "sync server (WSGI)", "async server (ASGI)"}, [][]string{
		{bold("sync code"), grid(r.cell("sync", "sync")), grid(r.cell("sync", "async"))},
		{bold("async code"), grid(r.cell("async", "sync")), grid(r.cell("async", "async"))},
	})
	var rows [][]string
	var whys []string
	for _, c := range r.cells {
		if c.Row == nil {
			continue
		}
		rows = append(rows, []string{c.Code, c.Server, code(c.Config), stat(c.Row.RPS, ""), stat(c.Row.P50Ms, ""), stat(c.Row.P99Ms, ""),
			fmt.Sprintf("%s %s", inum(c.Slots), c.SlotKind), verdict.StatWith(c.HoldMs, "ms", num),
			fmt.Sprintf("sum %s, max %s", num(c.SumMs), num(c.MaxMs)), stat(c.Concurrency, ""), bold(c.BehavesAs), c.SeedSays})
		whys = append(whys, fmt.Sprintf("%s code on %s server (%s): %s.", capitalize(c.Code), c.Server, code(c.Config), c.Why))
	}
	if len(rows) > 0 {
		r.table([]string{"code", "server", "configuration", "rps", "p50 ms", "p99 ms", "slots", "held per request", "waits, ms", "in the server (L)", "behaves as", "the seed says"}, rows)
		r.bullets(whys)
	}
	if len(missing) > 0 {
		r.p("Not measured: " + strings.Join(missing, "; ") + ".")
	}
	r.chart(chartTwoByTwo, "The four cells' throughput with its interval, and each cell's Little bound: its slots (threads, pool threads or connections) ÷ the time a request holds one (the sum of the waits for sequential calls, the largest for gathered ones).")
	v := r.claim(11)
	r.p(fmt.Sprintf("Claim 11 is %s: %s.", outcome(v.Outcome), strings.TrimPrefix(v.Reason, "not measured: ")),
		"The lesson for a Django audience: the style of the code decides whether one request's waits overlap, and the server's slots decide how many requests run at once; only async code on an async server lifts both limits.")
}

// ---- Spring MVC against FastAPI (seed 004) --------------------------------

func (r *renderer) springFastAPI() {
	f := r.f
	r.h(2, "Spring MVC against FastAPI")
	r.p("Seed 004 contrasts Spring MVC's thread-per-request model with FastAPI's event loop, aspect by aspect. Each aspect below has the seed's prose beside the number the lab measured for its twin:",
		code("blocking-os")+" (every handler holds a locked OS thread, "+capText("blocking-os")+", like Tomcat's maxThreads) for Spring MVC;",
		code("eventloop-async")+" (one loop, waits are timers) for an "+code("async def")+" endpoint, "+code("eventloop-pool")+" ("+capText("eventloop-pool")+") for a "+code("def")+" endpoint or "+code("run_in_threadpool")+", and "+code("prefork-N")+" for "+code("uvicorn --workers N")+".")

	const os, el = "blocking-os", "eventloop-async"
	lowL := prefer(f, "io-wait", "c=100", os, el)
	hiL := prefer(f, "io-wait", "c=1000", os, el)
	row := func(cfg, l string) *results.Row {
		if l == "" {
			return nil
		}
		return get(f, "io-wait", cfg, l)
	}
	na := "not measured"
	threadsAt := func(cfg, l string) string {
		if x := row(cfg, l); x != nil {
			return fmt.Sprintf("%s threads at %s", count(verdict.FreshOf(x).Threads), l)
		}
		return na
	}
	growth := func(cfg string) string {
		rows := rowsOf(f, "io-wait", cfg)
		if len(rows) < 2 {
			return na
		}
		a, b := rows[0], rows[len(rows)-1]
		return fmt.Sprintf("threads %s at %s, %s at %s", count(verdict.FreshOf(a).Threads), a.Point.Label, count(verdict.FreshOf(b).Threads), b.Point.Label)
	}
	tput := func(cfg string) string {
		x := row(cfg, hiL)
		if x == nil {
			return na
		}
		s := fmt.Sprintf("%s rps at %s, %s of c ÷ wait", stat(x.RPS, ""), hiL, pctOfC(x))
		if c, ok := catalog.ConfigByName(cfg); ok && c.Limit != catalog.LimitNone && x.LittleBoundRPS != nil {
			s += fmt.Sprintf("; its %d %s cap it at %s", c.LimitN, c.Limit, num(*x.LittleBoundRPS))
		}
		return s
	}
	capOf := func(cfg string) string {
		for _, c := range r.caps {
			if c.Config == cfg {
				return "holds " + c.Active.String() + " requests in flight"
			}
		}
		return na
	}
	mem := func(cfg string) string {
		var parts []string
		if ic, err := verdict.InFlightCost(f, cfg, verdict.ThreadCap()); err == nil {
			parts = append(parts, fmt.Sprintf("%s and %s per request in flight (%s to %s)",
				size(ic.RSSBytes), threads(ic.Threads), ic.From, ic.To))
		}
		if l := highestCommon(f, "idle-connections", os, el); l != "" {
			if x := get(f, "idle-connections", cfg, l); x != nil {
				parts = append(parts, fmt.Sprintf("%s (%s)", perConn(verdict.FreshOf(x).RSSPerConnBytes), l))
			}
		}
		if len(parts) == 0 {
			return na
		}
		return strings.Join(parts, "; ")
	}
	ctxs := func(cfg string) string {
		x := row(cfg, hiL)
		if x == nil || x.Server.CtxVolPerReq.N == 0 {
			return na
		}
		return fmt.Sprintf("%s voluntary + %s involuntary per request at %s", num(x.Server.CtxVolPerReq.Median), num(x.Server.CtxInvolPerReq.Median), hiL)
	}
	cpuOf := func(cfg string) string {
		var parts []string
		for _, l := range []string{"1 core(s)", "2 core(s)"} {
			if x := get(f, "cpu", cfg, l); x != nil {
				parts = append(parts, fmt.Sprintf("%s rps on %s", num(x.RPS.Median), coresText(x.Point.ServerCPUs)))
			}
		}
		if len(parts) == 0 {
			return na
		}
		return code(cfg) + ": " + strings.Join(parts, ", ")
	}
	idleCPU := func(cfg string) string {
		x := row(cfg, hiL)
		if x == nil || x.Server.CPUUtil.N == 0 {
			return na
		}
		return fmt.Sprintf("at %s: the server's CPU was %s busy while it served %s of c ÷ wait", hiL, pct(x.Server.CPUUtil.Median), pctOfC(x))
	}
	scaleOf := func(cfg string) string {
		rows := rowsOf(f, "io-wait", cfg)
		if len(rows) < 2 {
			return na
		}
		a, b := rows[0], rows[len(rows)-1]
		if a.RPS.Median <= 0 {
			return na
		}
		return fmt.Sprintf("from %s to %s (%s the clients), throughput grew %s (%s to %s rps)", a.Point.Label, b.Point.Label,
			times(float64(b.Point.Conns)/float64(a.Point.Conns)), times(b.RPS.Median/a.RPS.Median), num(a.RPS.Median), num(b.RPS.Median))
	}
	offloaded := func() string {
		x := row("eventloop-pool", hiL)
		if x == nil {
			return na
		}
		s := fmt.Sprintf("%s (the `def` endpoint's twin) at %s: %s rps", code("eventloop-pool"), hiL, stat(x.RPS, ""))
		if x.LittleBoundRPS != nil {
			s += fmt.Sprintf(", %s of its pool's bound of %s", pct(x.RPS.Median / *x.LittleBoundRPS), num(*x.LittleBoundRPS))
		}
		return s + ": the pool, not the loop, sets the limit"
	}
	fastCPU := cpuOf(el)
	if x := get(f, "cpu", "prefork-2", "2 core(s)"); x != nil {
		fastCPU += fmt.Sprintf("; %s (uvicorn --workers 2): %s rps on 2 cores", code("prefork-2"), num(x.RPS.Median))
	}
	pitfall := na
	if lp, ok := loopLabel(f); ok {
		var parts []string
		for _, cfg := range []string{"eventloop-inline", "eventloop-pool", "eventloop-async"} {
			if x := get(f, "blocking-in-loop", cfg, lp); x != nil && x.Canary != nil {
				parts = append(parts, fmt.Sprintf("%s: %s", strings.TrimPrefix(cfg, "eventloop-"), verdict.CanaryText(x)))
			}
		}
		if len(parts) > 0 {
			pitfall = "a bystander canary, by handler style: " + strings.Join(parts, "; ")
		}
	}
	r.table([]string{"aspect", "Spring MVC, per the seed", "measured: " + code(os), "FastAPI, per the seed", "measured: FastAPI's twins"}, [][]string{
		{"core unit", "OS threads", threadsAt(os, lowL), "coroutines on one event-loop thread", threadsAt(el, lowL)},
		{"request handling", "a pool thread is dedicated to each request from start to finish", growth(os), "the loop schedules a coroutine per request", growth(el)},
		{"I/O handling, I/O-bound throughput", "blocking: the thread sits idle while it waits", tput(os), "non-blocking: the loop serves others while a coroutine awaits", tput(el)},
		{"concurrency", "as many requests as threads (200–400)", capOf(os), "one thread handles thousands of I/O-bound connections", capOf(el)},
		{"memory per connection", "each OS thread costs significant stack memory", mem(os), "coroutines are lightweight", mem(el)},
		{"context switching", "overhead grows with the number of threads", ctxs(os), "far lower than threads", ctxs(el)},
		{"parallelism, CPU-bound throughput", "threads run on every core; good for CPU-bound handlers", cpuOf("blocking-goroutine") + " (stand-in: the cpu scenario runs goroutines, not the 200-thread mode)", "one loop is one core; parallelism needs worker processes", fastCPU},
		{"the blocking pitfall", "blocking is the model: a blocked handler holds only its own thread", "not applicable: a thread-per-request server has no loop to block", "a blocking call inside async def stalls every request on the loop; run_in_threadpool avoids it", pitfall},
		{"I/O-bound bottleneck (Spring's con)", "threads sit idle while waiting for I/O, wasting server resources", idleCPU(os), "–", idleCPU(el)},
		{"scalability (FastAPI's pro)", "–", scaleOf(os), "more scalable for I/O-intensive workloads", scaleOf(el)},
		{"`def` endpoints, auto-offloaded", "–", "–", "a plain `def` endpoint runs in FastAPI's thread pool (anyio, 40 threads)", offloaded()},
		{"`def` dependencies of an `async def` endpoint, auto-offloaded", "–", "–", "a `def` dependency is also run in the thread pool", "not measurable here: the Go twins have no dependency injection; an offloaded dependency holds a pool thread for its own duration, as the `eventloop-pool` row above does for a whole handler"},
		{"simple mental model (Spring's pro); programming model shift (FastAPI's con)", "code flows sequentially, easy to read and debug", "not measurable here: readability is a property of source code, and a load test has no number for it", "requires understanding async/await", "not measurable here: same reason"},
		{"threads: 200–400 in the pool", "a pool of many threads (e.g. 200–400)", fmt.Sprintf("measured at %d threads only; 400 is not a point of this run's catalog", verdict.ThreadCap()), "–", "–"},
		{"`uvicorn --workers 4`", "–", "–", "4 worker processes use 4 cores", "not measurable here: this machine has " + plural(f.Environment.Cores, "core") + "; `prefork-2` on 2 cores is the largest test of the rule (see the parallelism row)"},
	})

	var s []string
	if o, e := row(os, hiL), row(el, hiL); o != nil && e != nil {
		s = append(s, fmt.Sprintf("The trade shows in a few numbers. With %s connections each waiting %d ms, Spring MVC's twin served %s rps on %s threads, %s of what the clients allowed: being %s is the limit, not the CPU.",
			inum(o.Point.Conns), o.Point.Ms, num(o.RPS.Median), count(verdict.FreshOf(o).Threads), pctOfC(o), capText(os)),
			fmt.Sprintf("FastAPI's twin served %s rps (%s) on %s threads.", num(e.RPS.Median), pctOfC(e), count(verdict.FreshOf(e).Threads)))
	}
	ico, err1 := verdict.InFlightCost(f, os, verdict.ThreadCap())
	ice, err2 := verdict.InFlightCost(f, el, verdict.ThreadCap())
	if err1 == nil && err2 == nil {
		s = append(s, fmt.Sprintf("Each extra request in flight cost the thread-per-request server %s and %s, against %s and %s on the event loop.",
			size(ico.RSSBytes), threads(ico.Threads), size(ice.RSSBytes), threads(ice.Threads)))
	}
	if lp, ok := loopLabel(f); ok {
		inl, as := get(f, "blocking-in-loop", "eventloop-inline", lp), get(f, "blocking-in-loop", el, lp)
		if inl != nil && as != nil && inl.Canary != nil && as.Canary != nil {
			s = append(s, fmt.Sprintf("The event loop's weak spot is the one the seed names: on the async loop a bystander canary saw a p99 of %s ms, while with a blocking call inside the loop it %s.",
				num(as.Canary.P99Ms.Median), canaryPhrase(inl)))
		}
	}
	r.p(s...)
	r.chart(chartIOWait, "Measured throughput (solid, with its interval over repetitions as error bars) against Little's bound (dashed), on linear axes with every tested concurrency marked. Each bound is labelled with the configurations it belongs to: c ÷ wait where nothing caps the server, the configured threads or pool ÷ wait where they are fewer than c.")
	r.chart(chartCanary, "A slow /plaintext canary on its own connections while the loop serves /io load, on a linear axis: its p99 with the interval over repetitions on the pool and async styles; where most probes went unanswered (the blocked loop), how long the oldest unanswered one had waited, a lower bound.")
}

// ---- METRICS (seed 000) -------------------------------------------------------

func (r *renderer) metricsTable() {
	f := r.f
	r.h(2, "The METRICS connection table")
	// The points this run tested, from the data: -quick tests fewer.
	pts := func(scn string) string {
		var l []string
		if s := scenario(f, scn); s != nil {
			var rows []*results.Row
			for i := range s.Rows {
				rows = append(rows, &s.Rows[i])
			}
			sort.SliceStable(rows, func(i, j int) bool { return concOf(rows[i]) < concOf(rows[j]) })
			for _, r := range rows {
				if !contains(l, r.Point.Label) {
					l = append(l, r.Point.Label)
				}
			}
		}
		if len(l) == 0 {
			return "not run"
		}
		return strings.Join(l, ", ")
	}
	r.p("Seed 000 quotes how many connections each kind of system handles. Here a model holds a concurrency when its p99 stays within "+
		fmt.Sprintf("%s× the wait (%s ms) and no request fails", num(verdict.P99WaitFactor), num(verdict.P99WaitFactor*waitOf(f))),
		fmt.Sprintf("(io-wait: %s), or, for idle keep-alive connections, when every connection stays open and a probe's p99 stays within the same %s ms (idle-connections: %s).",
			pts("io-wait"), num(verdict.P99WaitFactor*waitOf(f)), pts("idle-connections")),
		"A bracket such as \"≥ 1,000, < 5,000\" means the model held the first point and not the next: the tested points are as fine as the measurement gets.",
		fmt.Sprintf("Nothing here can exceed the nofile cap of %s descriptors per process.", inum(int(f.Environment.NofileLimit))))
	var rows [][]string
	for _, m := range r.metrics {
		seed := m.Seed
		if m.SeedNote != "" {
			seed += " (" + m.SeedNote + ")"
		}
		rows = append(rows, []string{seed, m.SeedRange(), m.StandIn, m.Measured.String(), bold(string(m.Outcome)) + ": " + m.Why})
	}
	rows = append(rows, r.metricsExtra()...)
	r.table([]string{"seed's row", "seed's range", "stand-in here", "measured", "outcome"}, rows)
	var crow [][]string
	for _, c := range r.caps {
		crow = append(crow, []string{code(c.Config), c.Active.String(), c.Idle.String()})
	}
	if len(crow) > 0 {
		r.p("Every configuration's brackets:")
		r.table([]string{"configuration", "requests in flight held (io-wait)", "idle connections held"}, crow)
	}
	v := r.claim(10)
	r.p(fmt.Sprintf("Claim 10 is %s, from the outcome column above (the claims section gives its reason once).", outcome(v.Outcome)))
	r.p(r.metricsArgument()...)
	r.chart(chartIdle, "Server RSS while holding idle keep-alive connections, from each point's first repetition, the same repetition as the tables; the error bars span every repetition's peak RSS, and the first point of each line is the RSS before the connections were opened.")
}

// metricsArgument explains, from the brackets, what set each limit.
func (r *renderer) metricsArgument() []string {
	f := r.f
	s := []string{"The seed's numbers describe configurations, not the operating system."}
	capOf := func(cfg string) (verdict.Capacity, bool) {
		for _, c := range r.caps {
			if c.Config == cfg {
				return c, true
			}
		}
		return verdict.Capacity{}, false
	}
	wait := waitOf(f)
	if c, ok := capOf("blocking-os"); ok && c.Active.None == "" && c.Active.Failed > 0 && wait > 0 {
		n := verdict.ThreadCap()
		agrees := "as"
		if 2*n < c.Active.Held || 2*n >= c.Active.Failed {
			agrees = "while"
		}
		s = append(s, fmt.Sprintf("Thread-per-request stopped holding between %s and %s requests in flight, %s Little's law predicts for its %d threads: at most %d ÷ %s ms = %s rps, so beyond about 2 × %d = %s requests in flight the queue alone takes p99 past %s ms.",
			inum(c.Active.Held), inum(c.Active.Failed), agrees, n, n, num(wait), num(float64(n)/(wait/1000)), n, inum(2*n), num(verdict.P99WaitFactor*wait)))
	}
	if c, ok := capOf("eventloop-async"); ok && c.Active.None == "" && c.Active.Failed > 0 {
		if x := get(f, "io-wait", "eventloop-async", fmt.Sprintf("c=%d", c.Active.Failed)); x != nil && x.Server.CPUUtil.N > 0 {
			t := fmt.Sprintf("One event loop stopped between %s and %s, with its CPU %s busy at %s", inum(c.Active.Held), inum(c.Active.Failed), pct(x.Server.CPUUtil.Median), x.Point.Label)
			if x.Server.CPUUtil.Median >= verdict.CPUBoundUtil {
				t += ": the CPU, not the number of connections, is its limit"
			}
			s = append(s, t+".")
		}
	}
	most := 0
	for _, c := range r.caps {
		if c.Idle.None == "" {
			most = max(most, c.Idle.Held)
		}
	}
	if most > 0 {
		s = append(s, fmt.Sprintf("Idle connections cost memory and file descriptors, not threads: the servers held up to %s idle keep-alive connections, the most tested under the nofile cap of %s.",
			inum(most), inum(int(f.Environment.NofileLimit))))
	}
	return s
}

func waitOf(f *results.File) float64 {
	if sc, ok := catalog.ScenarioByName("io-wait"); ok {
		for _, p := range sc.Points {
			if p.Ms > 0 {
				return float64(p.Ms)
			}
		}
	}
	return 0
}

// ---- sync against async per task type (seed 002) ------------------------------

func (r *renderer) taskTypes() {
	f := r.f
	r.h(2, "Sync against async, per task type")
	r.p("Seed 002 ends with a seven-row table contrasting synchronous and asynchronous code. Every row is below: measured where a run can measure it, and marked \"not measurable here\" with the reason where it cannot. The seed's \"best for\" row is measured twice, once per task type.",
		fmt.Sprintf("\"Best\" is the higher median throughput; within %s of each other is a tie.", pct(verdict.OneCoreSpread)))
	nm := func(why string) string { return "not measurable here: " + why }
	var rows [][]string
	// Definition: one task at a time, or several concurrently, from the 2×2.
	def := []string{"definition", "executes one task at a time", "can handle multiple tasks concurrently", "not measured", "not measured", "–"}
	if sc, ac := r.cell("sync", "sync"), r.cell("async", "sync"); sc != nil && ac != nil && sc.Row != nil && ac.Row != nil {
		def[3] = fmt.Sprintf("sequential calls: each thread held a request %s, ≈ the %s ms sum of its waits: one wait at a time", verdict.StatWith(sc.HoldMs, "ms", num), num(sc.SumMs))
		def[4] = fmt.Sprintf("gathered calls: %s per request, ≈ the %s ms largest wait: the waits ran concurrently", verdict.StatWith(ac.HoldMs, "ms", num), num(ac.MaxMs))
		def[5] = bold("yes")
		if !sc.Matches() || !ac.Matches() {
			def[5] = bold("no")
		}
	}
	rows = append(rows, def)
	rows = append(rows,
		[]string{"syntax", "`def function():`", "`async def function():`", nm("syntax is a property of the source, not of a run; the Go twins write sync and async as sequential and gathered calls"), "–", "–"},
		[]string{"calling", "`result = function()`", "`result = await function()`", nm("the same: how a call is written has no run-time number"), "–", "–"})
	blk := []string{"blocking", "blocks until complete", "non-blocking, can switch tasks", "not measured", "not measured", "–"}
	if len(r.tasks) > 1 && r.tasks[1].Missing == "" {
		o, e := r.tasks[1].SyncRow, r.tasks[1].AsyncRow
		blk[3] = fmt.Sprintf("%s at %s: %s threads, one per request up to its cap", code("blocking-os"), o.Point.Label, count(verdict.FreshOf(o).Threads))
		blk[4] = fmt.Sprintf("%s at %s: %s threads for all of them", code("eventloop-async"), e.Point.Label, count(verdict.FreshOf(e).Threads))
		blk[5] = bold("yes")
	}
	rows = append(rows, blk)
	for _, t := range r.tasks {
		seedSync, seedAsync := "best for CPU-bound tasks", "–"
		if t.SeedBest == "async" {
			seedSync, seedAsync = "–", "best for I/O-bound tasks"
		}
		if t.Missing != "" {
			rows = append(rows, []string{"best for: " + t.Task, seedSync, seedAsync, "not measured", "not measured", bold(string(verdict.NotMeasured)) + ": " + t.Missing})
			continue
		}
		rows = append(rows, []string{fmt.Sprintf("best for: %s (%s)", t.Task, t.Where), seedSync, seedAsync,
			code(t.Sync) + ": " + stat(t.SyncRow.RPS, "rps"), code(t.Async) + ": " + stat(t.AsyncRow.RPS, "rps"),
			fmt.Sprintf("%s; best here: %s (async ÷ sync = %s)", agreement(t), t.Best, times(t.Ratio))})
	}
	rows = append(rows, []string{"complexity", "simpler to understand", "more complex flow", nm("how hard code is to follow is a judgement about reading it; a load test has no number for it"), "–", "–"})
	perf := []string{"performance", "slower for I/O tasks", "faster for concurrent I/O", "not measured", "not measured", "–"}
	if seq, par := get(f, "fanout", "eventloop-async", "calls=3 seq"), get(f, "fanout", "eventloop-async", "calls=3 par"); seq != nil && par != nil {
		perf[3] = fmt.Sprintf("3 sequential %d ms calls: p50 %s ms", seq.Point.Ms, stat(seq.P50Ms, ""))
		perf[4] = fmt.Sprintf("3 gathered calls: p50 %s ms", stat(par.P50Ms, ""))
		perf[5] = bold("yes") + fmt.Sprintf(": %s faster per request", times(seq.P50Ms.Median/par.P50Ms.Median))
		if seq.P50Ms.Median <= par.P50Ms.Median {
			perf[5] = bold("no")
		}
	}
	rows = append(rows, perf)
	r.table([]string{"aspect", "synchronous, per the seed", "asynchronous, per the seed", "measured: sync", "measured: async", "agrees with the seed?"}, rows)
	ioLabel := "c=1000"
	if len(r.tasks) > 1 && r.tasks[1].SyncRow != nil {
		ioLabel = r.tasks[1].SyncRow.Point.Label
	}
	if g := get(f, "io-wait", "blocking-goroutine", ioLabel); g != nil {
		r.p(fmt.Sprintf("Go's own answer sits between the columns: %s runs sync-looking code on a runtime that parks goroutines instead of threads, and served %s rps at %s on %s threads.",
			code("blocking-goroutine"), num(g.RPS.Median), g.Point.Label, count(verdict.FreshOf(g).Threads)))
	}
	r.chart(chartCPU, "CPU-bound throughput per configuration on 1 and 2 server cores, with the interval over repetitions; the red dashes mark the ideal on 2 cores, twice the configuration's 1-core rate. On this machine the second core is shared with the load generator.")
	r.chart(chartFanout, "p50 latency of fan-out requests by configuration, with intervals; the red dashes mark the prediction: the sum of the waits for sequential calls, the largest wait for parallel ones.")
}

func agreement(t verdict.TaskRow) string {
	switch t.Outcome {
	case verdict.Reproduced:
		return bold("yes")
	case verdict.Partly:
		return bold("partly") + ": a tie, no side is best"
	case verdict.Refuted:
		return bold("no") + ": the other side is faster"
	}
	return string(t.Outcome)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func coresText(n int) string {
	if n == 1 {
		return "1 core"
	}
	return fmt.Sprintf("%d cores", n)
}

// threads writes "1 thread", "0.98 threads".
func threads(x float64) string {
	if x == 1 {
		return "1 thread"
	}
	return count(x) + " threads"
}

// metricsExtra are the rows of seed 000's METRICS passage that its table
// leaves out: "up to ~60000 TCP connections can be made" and "in reality
// around 100 network calls at max". They are judged here from the same
// brackets as the table's rows.
func (r *renderer) metricsExtra() [][]string {
	f := r.f
	nofile := int(f.Environment.NofileLimit)
	most, mostCfg, active, activeCfg := 0, "", 0, ""
	failed := 0
	for _, c := range r.caps {
		if c.Idle.None == "" && c.Idle.Held > most {
			most, mostCfg = c.Idle.Held, c.Config
		}
		if c.Active.None == "" && c.Active.Held > most {
			most, mostCfg = c.Active.Held, c.Config
		}
		if c.Active.None == "" && c.Active.Held > active {
			active, activeCfg, failed = c.Active.Held, c.Config, c.Active.Failed
		}
	}
	var rows [][]string
	tcp := []string{"\"upto ~60000 TCP connections can be made\" (the OS, non-blocking sockets)", "~60,000", "the most connections one server process held here", "not measured", ""}
	if most > 0 {
		tcp[3] = fmt.Sprintf("≥ %s (%s; the most tested)", inum(most), mostCfg)
	}
	if nofile > 0 && nofile < 60000 {
		tcp[4] = fmt.Sprintf("%s: one process may open only %s file descriptors here (the hard nofile cap), so no point can reach 60,000; the ~60,000 figure is the 16-bit port space of one client address talking to one server address, a client-side limit", bold("not measurable here"), inum(nofile))
	} else {
		tcp[4] = bold("not measured") + ": no point of this run opened more than " + inum(most) + " connections"
	}
	rows = append(rows, tcp)
	calls := []string{"\"in reality we can have around 100 network calls at max\"", "~100", "the most requests in flight any server held with p99 within the limit (io-wait)", "not measured", bold("not measured")}
	if active > 0 {
		calls[3] = fmt.Sprintf("≥ %s (%s)", inum(active), activeCfg)
		if failed > 0 {
			calls[3] = fmt.Sprintf("≥ %s, < %s (%s)", inum(active), inum(failed), activeCfg)
		}
		if active > 100 {
			calls[4] = fmt.Sprintf("%s: %s held %s requests in flight, %s the seed's ~100", bold("above the seed's figure"), activeCfg, inum(active), times(float64(active)/100))
		} else {
			calls[4] = fmt.Sprintf("%s: the most held was %s", bold("within the seed's figure"), inum(active))
		}
	}
	rows = append(rows, calls)
	return rows
}
