// Package catalog is the lab's scenario catalog, as data: the server
// configurations, the scenarios that measure them, and the claims of
// CLAIMS.md each scenario tests. The suite runs it and the report explains
// it; neither holds a second copy. Everything here is read-only after init
// and safe for concurrent use.
package catalog

import (
	"fmt"
	"strings"
	"time"
)

// Limit kinds: what bounds a configuration's concurrency, for Little's law.
const (
	LimitNone    = ""        // no cap below the client's connections
	LimitThreads = "threads" // OS threads (Tomcat's maxThreads)
	LimitPool    = "pool"    // a fixed worker pool (anyio's 40)
	LimitLoops   = "loops"   // the event loops themselves: a blocked loop serves one request at a time
)

// Config is one server configuration: a binary under bin/ and its flags.
type Config struct {
	Name   string   // stable identifier, used in -targets and in results
	Binary string   // bin/<Binary>
	Args   []string // flags besides -addr and -dependency
	Model  string   // thread-per-request, goroutine-per-request, event-loop, worker-processes
	Style  string   // handler style or mode, for the report
	Twin   string   // the Python/Java twin from DESIGN.md
	// Limit and LimitN: the configured concurrency cap (LimitNone: none).
	Limit  string
	LimitN int
	// Parallelism is how many CPUs the configuration can use at most for
	// CPU work: loops, workers, or 0 for "every CPU it is given" (GOMAXPROCS).
	Parallelism int

	// Kind says what runs: KindTwin (a Go server under bin/, Binary+Args),
	// KindStack (a real stack from stacks/, Command+Env), or KindDependency.
	Kind string
	// Command is a real stack's command line (KindStack), run from the
	// repository root. Placeholders, replaced by the process manager
	// (internal/procman): {addr} host:port, {host}, {port}, {dependency}
	// host:port of the fan-out dependency, {stack} the stack's folder
	// (StackDir, absolute), {root} the repository root, {python}
	// /usr/bin/python3, {state} a fresh private directory for this start
	// (logs, pid files, CATALINA_BASE), removed when it stops.
	Command []string
	// Env is added to the environment of Command (KEY=value, same placeholders).
	Env []string
	// Requires lists what must be installed for a stack to run: absolute
	// paths of files or executables, or "python3:<module>" for a module that
	// /usr/bin/python3 must import. Anything missing makes the stack's rows
	// read "not installed" instead of failing the run.
	Requires []string
	// TwinOf names the Go twin configuration a real stack is checked
	// against (the report's "twins against the real stacks").
	TwinOf string
	// StackDir is the stack's folder for {stack}, relative to the
	// repository root (default stacks/<Name>); configurations of one app
	// share it (stacks/django for all four Django cells).
	StackDir string
	// Routes limits which contract routes a stack serves (nginx: only
	// "/plaintext"); empty means every 200 path of the contract.
	Routes []string
}

// Configuration kinds.
const (
	KindTwin       = ""      // a Go server in bin/ (the zero value)
	KindStack      = "stack" // a real stack from stacks/
	KindDependency = "dependency"
	// KindClient is a one-shot client process (Command), run to its end
	// by the outbound scenario; it prints one JSON object.
	KindClient = "client"
)

// Clients are the outbound scenario's client processes: one process
// holding N concurrent outbound calls to the dependency (claim 10: the
// seed's "asyncio + aiohttp" and "thread-based (requests)" rows count
// outbound client connections). Placeholders {n} and {ms}: the calls and
// the dependency's wait per call. They are not servers, so not in Configs;
// ConfigByName finds them.
var Clients = []Config{
	{Name: "outbound-aiohttp", Kind: KindClient, Model: "event-loop", Style: "aiohttp, one asyncio loop, no connector cap",
		Twin:     "Python asyncio + aiohttp (the seed's METRICS row)",
		Command:  []string{"{python}", "{root}/stacks/clients/outbound.py", "--client", "async", "-n", "{n}", "--ms", "{ms}", "--dependency", "{dependency}", "--deadline", "30"},
		Requires: []string{"/usr/bin/python3", "python3:aiohttp", "stacks/clients/outbound.py"}},
	{Name: "outbound-requests", Kind: KindClient, Model: "thread-per-request", Style: "requests, one thread per call",
		Twin:     "thread-based clients, e.g. requests (the seed's METRICS row)",
		Command:  []string{"{python}", "{root}/stacks/clients/outbound.py", "--client", "threads", "-n", "{n}", "--ms", "{ms}", "--dependency", "{dependency}", "--deadline", "30"},
		Requires: []string{"/usr/bin/python3", "python3:requests", "stacks/clients/outbound.py"}},
}

// The configurations. Names are fixed: docker-compose.yml and -targets use them.
var Configs = []Config{
	{Name: "blocking-goroutine", Binary: "blocking", Args: []string{"-threads", "goroutine"},
		Model: "goroutine-per-request", Style: "goroutine", Twin: "Go's own model: blocking code on an event-loop runtime"},
	{Name: "blocking-os", Binary: "blocking", Args: []string{"-threads", "os", "-max-threads", "200"},
		Model: "thread-per-request", Style: "os threads, max 200", Twin: "Spring MVC on Tomcat (maxThreads 200), WSGI thread workers",
		Limit: LimitThreads, LimitN: 200},
	{Name: "eventloop-async", Binary: "eventloop", Args: []string{"-handler", "async", "-loops", "1"},
		Model: "event-loop", Style: "async", Twin: "FastAPI async def with await, uvicorn, asyncio", Parallelism: 1},
	{Name: "eventloop-async-2", Binary: "eventloop", Args: []string{"-handler", "async", "-loops", "2"},
		Model: "event-loop", Style: "async, 2 loops", Twin: "two asyncio loops (uvicorn --workers 2, in one process)", Parallelism: 2},
	{Name: "eventloop-pool", Binary: "eventloop", Args: []string{"-handler", "pool", "-pool-size", "40"},
		Model: "event-loop", Style: "pool of 40", Twin: "FastAPI def endpoint / run_in_threadpool (anyio limit 40)",
		Limit: LimitPool, LimitN: 40},
	{Name: "eventloop-inline", Binary: "eventloop", Args: []string{"-handler", "inline", "-loops", "1"},
		Model: "event-loop", Style: "inline (blocking)", Twin: "a blocking call inside async def",
		Limit: LimitLoops, LimitN: 1, Parallelism: 1},
	{Name: "prefork-1", Binary: "prefork", Args: []string{"-workers", "1"},
		Model: "worker-processes", Style: "1 worker", Twin: "uvicorn --workers 1, gunicorn -w 1", Parallelism: 1},
	{Name: "prefork-2", Binary: "prefork", Args: []string{"-workers", "2"},
		Model: "worker-processes", Style: "2 workers", Twin: "uvicorn --workers 2, gunicorn -w 2", Parallelism: 2},
	// Claim 9: each worker its own SO_REUSEPORT listener, so the kernel
	// spreads connections instead of one child taking them all.
	{Name: "prefork-2-reuseport", Binary: "prefork", Args: []string{"-workers", "2", "-reuseport"},
		Model: "worker-processes", Style: "2 workers, reuseport", Twin: "gunicorn --reuse-port -w 2, uvicorn --workers 2 on SO_REUSEPORT", Parallelism: 2},
}

// init puts the real stacks (stacks.go) after the twins: Configs is every
// configuration, and ConfigByName finds each.
func init() { Configs = append(Configs, Stacks...) }

// EmulatedHandshakeMs is the dependency's emulated WAN handshake, charged
// to the first request of every new connection (-emulate-connect-ms):
// pooled calls pay it once per connection, conn=new calls on every call.
// It stands for the DNS, TCP and TLS round trips the seed's internet
// fetches paid (claim 1); it is a stated model, not a measured network.
const EmulatedHandshakeMs = 40

// Dependency is the /fanout dependency every server calls: an async event
// loop, so that it is never the bottleneck.
var Dependency = Config{Name: "dependency", Kind: KindDependency, Binary: "eventloop",
	Args:  []string{"-handler", "async", "-loops", "1", "-emulate-connect-ms", fmt.Sprint(EmulatedHandshakeMs)},
	Model: "event-loop", Style: "async", Twin: "a remote API"}

// ConfigByName returns the named configuration.
func ConfigByName(name string) (Config, bool) {
	for _, list := range [][]Config{Configs, Clients} {
		for _, c := range list {
			if c.Name == name {
				return c, true
			}
		}
	}
	return Config{}, false
}

// Kind says how a scenario's points are measured.
type Kind string

const (
	KindLoad     Kind = "load"     // closed-loop load on a target, one point per Point
	KindIdle     Kind = "idle"     // hold idle keep-alive connections, then probe
	KindOutbound Kind = "outbound" // a client process holding N concurrent outbound calls
)

// Settle metrics: what a headline point's repetitions must pin down.
const (
	SettleRPS        = "rps"          // throughput (the default)
	SettleP50        = "p50"          // median latency (fan-out)
	SettleCanaryP99  = "canary-p99"   // the canary's p99 (blocking-in-loop)
	SettleRSSPerConn = "rss-per-conn" // memory per idle connection
)

// Point is one measurement of a scenario: the load shape and the request.
// Unused fields are zero.
type Point struct {
	Label    string  `json:"label"`           // short, unique within the scenario: "c=1000"
	Target   string  `json:"target"`          // request path and query
	Conns    int     `json:"conns,omitempty"` // closed loop: connections (= concurrency)
	Pipeline int     `json:"pipeline,omitempty"`
	Rate     float64 `json:"rate,omitempty"` // open loop: requests per second
	// Idle: connections to hold.
	Idle int `json:"idle,omitempty"`
	// Request parameters, repeated for Little's law and the report.
	Ms    int    `json:"ms,omitempty"`
	Work  int    `json:"work,omitempty"`
	Calls int    `json:"calls,omitempty"`
	Mode  string `json:"mode,omitempty"`
	// Waits are per-call waits in ms where they differ (ms=50,100); Ms is
	// then the largest.
	Waits []int `json:"waits,omitempty"`
	// ConnNew: every dependency call dials a fresh connection (conn=new)
	// and pays the dependency's emulated handshake.
	ConnNew bool `json:"conn_new,omitempty"`
	// Clients: outbound points, how many concurrent calls the client
	// process holds.
	Clients int `json:"clients,omitempty"`
	// ServerCPUs: how many CPUs the server gets for this point (cpu
	// scenario); 0 means the suite's default split.
	ServerCPUs int `json:"server_cpus,omitempty"`
	// Only, where set, names the configurations that run this point (the
	// budget's cut: a new point on the twins a verdict reads).
	Only []string `json:"-"`
}

// Scenario is one entry of the catalog.
type Scenario struct {
	Name        string
	Title       string
	Question    string // what it asks, for the report
	Kind        Kind
	Configs     []string // configuration names, in report order
	Points      []Point
	QuickPoints []string // labels kept by -quick; empty keeps all
	Canary      bool     // run a slow open-loop /plaintext probe on its own connections
	Claims      []int    // CLAIMS.md numbers this scenario tests
	// Cells maps a configuration to the points it runs, where not every
	// configuration runs every point (code × server). Empty: all run all.
	Cells map[string][]string
	// StackPoints are the point labels the real stacks run (beside their
	// twins); empty: every point. A stack named in Cells follows Cells.
	StackPoints []string
	// Headline are the point labels a verdict reads: each repeats until the
	// 95 % interval of its median (of Settle) is within ±5 %, or 9
	// repetitions (results.NeedsMoreReps). Other points keep the base count.
	Headline []string
	// Settle is the headline metric (Settle* constants; default rps).
	Settle string
	// HeadlineConfigs narrows the headline rows to these configurations
	// (the twins the verdicts read); empty: every twin.
	HeadlineConfigs []string
	// Reps lowers the suite's base repetition count (0: the default).
	Reps int
	// Window shortens the suite's base window for this scenario's points
	// (0: the default), where latency is short and steady (fan-out's
	// sleeps): the budget goes to the points that need it.
	Window time.Duration
}

// CanaryRate is the canary's open-loop rate (requests per second over its
// own two connections): slow enough to add no load, fast enough for a p99
// over a 2-second measurement.
const CanaryRate = 50

// CPUWork is the /cpu work per request: about 1 ms of SHA-256 here
// (10,000 rounds at about 90 ns), long enough to dwarf the HTTP overhead.
const CPUWork = 10_000

func ioPoint(c int) Point {
	return Point{Label: fmt.Sprintf("c=%d", c), Target: "/io?ms=50", Conns: c, Ms: 50}
}

func fanPoint(calls int, mode string, c int) Point {
	return Point{Label: fmt.Sprintf("calls=%d %s", calls, mode), Target: fmt.Sprintf("/fanout?calls=%d&ms=50&mode=%s", calls, mode),
		Conns: c, Ms: 50, Calls: calls, Mode: mode}
}

// OutboundWaitMs is the dependency's wait per outbound call: long enough
// that every call is open at once when the client holds them all.
const OutboundWaitMs = 1000

// outPoint: a client process holding n concurrent outbound calls.
func outPoint(n int) Point {
	return Point{Label: fmt.Sprintf("c=%d", n), Target: fmt.Sprintf("/io?ms=%d", OutboundWaitMs), Conns: n, Clients: n, Ms: OutboundWaitMs}
}

// fanNew are the twins that run the fan-out's newer points (cold
// connections, unequal waits): the asyncio twin the verdicts read, and the
// two thread models beside it.
var fanNew = []string{"eventloop-async", "blocking-goroutine", "blocking-os"}

// only restricts a point to the named configurations.
func only(p Point, configs ...string) Point {
	p.Only = configs
	return p
}

// coldPoint: a fresh connection per dependency call (claim 1).
func coldPoint(calls int, mode string, c int) Point {
	p := fanPoint(calls, mode, c)
	p.Label += " conn=new"
	p.Target += "&conn=new"
	p.ConnNew = true
	return p
}

// unequalPoint: one wait per call, scaled down from the seed's 1 s and
// 2 s to 50 and 100 ms (claim 3).
func unequalPoint(mode string, c int, waits ...int) Point {
	ms := make([]string, len(waits))
	top := 0
	for i, w := range waits {
		ms[i] = fmt.Sprint(w)
		top = max(top, w)
	}
	list := strings.Join(ms, ",")
	return Point{Label: fmt.Sprintf("calls=%d %s ms=%s", len(waits), mode, list),
		Target: fmt.Sprintf("/fanout?calls=%d&ms=%s&mode=%s", len(waits), list, mode),
		Conns:  c, Ms: top, Waits: waits, Calls: len(waits), Mode: mode}
}

// WaitSum is the sum of a point's dependency waits when called one after
// another (seq), and its largest wait otherwise.
func (p Point) WaitSum() int {
	if p.Mode != "seq" || p.Calls == 0 {
		return p.Ms
	}
	if len(p.Waits) > 0 {
		t := 0
		for _, w := range p.Waits {
			t += w
		}
		return t
	}
	return p.Calls * p.Ms
}

func cpuPoint(cpus int) Point {
	return Point{Label: fmt.Sprintf("%d core(s)", cpus), Target: fmt.Sprintf("/cpu?work=%d", CPUWork), Conns: 16, Work: CPUWork, ServerCPUs: cpus}
}

// Scenarios is the catalog, in run and report order. Each real stack runs
// beside its twin (TwinOf) on the points StackPoints names; a stack that is
// not installed gets rows that say so.
var Scenarios = []Scenario{
	{
		Name: "plaintext", Title: "Plaintext ceiling", Kind: KindLoad,
		Question: "How many trivial requests per second does each model serve on one core, with and without pipelining?",
		Configs: []string{"blocking-goroutine", "blocking-os", "eventloop-async", "prefork-1",
			"tomcat-200", "django-wsgi-sync", "fastapi-async", "nginx"},
		Points: []Point{
			{Label: "c=64", Target: "/plaintext", Conns: 64, Pipeline: 1},
			{Label: "c=64 pipeline=16", Target: "/plaintext", Conns: 64, Pipeline: 16},
		},
		QuickPoints: []string{"c=64"},
		StackPoints: []string{"c=64"},
		Reps:        2, // no verdict reads it
	},
	{
		Name: "io-wait", Title: "I/O waits", Kind: KindLoad, Claims: []int{6, 7, 8, 10},
		Question: "What happens when every request waits 50 ms, as on a database call, at rising concurrency?",
		Configs: []string{"blocking-goroutine", "blocking-os", "eventloop-async", "eventloop-pool", "prefork-1",
			"django-wsgi-sync", "tomcat-200", "fastapi-async", "fastapi-def"},
		Points: []Point{ioPoint(10), ioPoint(100),
			// At c=1000 the pool of 40 holds a request 1.25 s: its twin
			// row is enough (fastapi-def is compared at c=100).
			only(ioPoint(1000), "blocking-goroutine", "blocking-os", "eventloop-async", "eventloop-pool", "prefork-1",
				"django-wsgi-sync", "tomcat-200", "fastapi-async"),
			// The pool of 40 would need a 30 s window at c=5000 (latency
			// 6 s) and no claim reads it there: the budget leaves it out.
			only(ioPoint(5000), "blocking-goroutine", "blocking-os", "eventloop-async", "prefork-1")},
		QuickPoints:     []string{"c=1000"},
		StackPoints:     []string{"c=100", "c=1000"},
		Headline:        []string{"c=1000", "c=5000"}, // claim 8 (and 6, 7 across c)
		HeadlineConfigs: []string{"eventloop-async"},
	},
	{
		Name: "blocking-in-loop", Title: "A blocking call inside the event loop", Kind: KindLoad, Claims: []int{4, 5}, Canary: true,
		Question: "What does one blocking call in a handler do to every other request on the same loop?",
		Configs:  []string{"eventloop-inline", "eventloop-pool", "eventloop-async", "fastapi-inline", "fastapi-def", "fastapi-async"},
		// c=60 sleeps (above the pool's 40, so that it caps; the inline
		// loop's latency, 3 s, still fits a window), and CPU work (about
		// 1 ms a request) that the pool offloads and the other two run on
		// the loop (claim 5).
		Points: []Point{ioPoint(60),
			{Label: "cpu c=16", Target: fmt.Sprintf("/cpu?work=%d", CPUWork), Conns: 16, Work: CPUWork,
				Only: []string{"eventloop-inline", "eventloop-pool", "eventloop-async"}}},
		StackPoints: []string{"c=60"},
		Headline:    []string{"c=60", "cpu c=16"},
		Settle:      SettleCanaryP99,
	},
	{
		Name: "cpu", Title: "CPU-bound work", Kind: KindLoad, Claims: []int{9, 12},
		Question: "Does async help CPU-bound work, and do worker processes give true parallelism?",
		Configs: []string{"eventloop-async", "eventloop-async-2", "prefork-1", "prefork-2", "prefork-2-reuseport", "blocking-goroutine",
			"fastapi-async", "uvicorn-workers-2", "gunicorn-sync-2"},
		Points:          []Point{cpuPoint(1), cpuPoint(2)},
		Headline:        []string{"1 core(s)", "2 core(s)"},
		HeadlineConfigs: []string{"eventloop-async", "prefork-1", "prefork-2", "prefork-2-reuseport"},
		Window:          1500 * time.Millisecond,
	},
	{
		Name: "fanout", Title: "Fan-out to a dependency", Kind: KindLoad, Claims: []int{1, 2, 3},
		Question: "Do concurrent calls take the max of the waits and sequential ones the sum?",
		Configs: []string{"eventloop-async", "blocking-goroutine", "blocking-os", "eventloop-pool", "prefork-1",
			"fastapi-async", "fastapi-def", "django-wsgi-sync", "tomcat-200"},
		Points: []Point{fanPoint(2, "seq", 10), fanPoint(2, "par", 10), fanPoint(3, "seq", 10), fanPoint(3, "par", 10),
			only(coldPoint(3, "seq", 10), fanNew...), only(coldPoint(3, "par", 10), fanNew...),
			only(unequalPoint("seq", 10, 50, 100), fanNew...), only(unequalPoint("par", 10, 50, 100), fanNew...)},
		QuickPoints:     []string{"calls=3 seq", "calls=3 par", "calls=3 seq conn=new", "calls=2 par ms=50,100"},
		StackPoints:     []string{"calls=3 seq", "calls=3 par"},
		Headline:        []string{"calls=2 seq", "calls=2 par", "calls=3 seq", "calls=3 par", "calls=3 seq conn=new", "calls=3 par conn=new", "calls=2 par ms=50,100"},
		HeadlineConfigs: []string{"eventloop-async"},
		Settle:          SettleP50,
		Window:          time.Second,
	},
	{
		Name: "idle-connections", Title: "Many idle connections", Kind: KindIdle, Claims: []int{6, 10},
		Question: "What does an idle keep-alive connection cost each model, and how many can it hold?",
		Configs: []string{"blocking-goroutine", "blocking-os", "eventloop-async", "prefork-1",
			"nginx", "fastapi-async", "tomcat-200", "django-wsgi-sync"},
		Points: []Point{
			{Label: "1k idle", Idle: 1000, Target: "/plaintext"},
			// nginx at 5k: past its default worker_connections (1024).
			{Label: "5k idle", Idle: 5000, Target: "/plaintext",
				Only: []string{"blocking-goroutine", "blocking-os", "eventloop-async", "prefork-1", "nginx"}},
			{Label: "10k idle", Idle: 10000, Target: "/plaintext"},
		},
		QuickPoints: []string{"1k idle"},
		// Memory per idle connection barely varies between repetitions;
		// two keep the budget for the load points.
		Reps: 2,
	},
	{
		Name: "outbound-connections", Title: "Outbound connections from one process", Kind: KindOutbound, Claims: []int{10},
		Question: "How many concurrent outbound calls does one process hold: one thread per call (requests) against one asyncio loop (aiohttp)?",
		Configs:  []string{"outbound-aiohttp", "outbound-requests"},
		Points:   []Point{outPoint(100), outPoint(1000), outPoint(5000)},
		// One process's outbound connections barely vary between runs
		// (two repetitions agreed within 3 %); one keeps the budget.
		Reps:        1,
		QuickPoints: []string{"c=1000"},
	},
	{
		Name: "code-x-server", Title: "Sync or async code on a sync or async server", Kind: KindLoad, Claims: []int{11},
		Question: "Django's 2×2: how does each mix of code and server behave under the same fan-out load?",
		Configs: []string{"blocking-os", "eventloop-pool", "eventloop-async",
			"django-wsgi-sync", "django-wsgi-async", "django-asgi-sync", "django-asgi-async"},
		// c=20: Django's sync views on ASGI share one thread by default
		// (thread_sensitive), about 6 requests a second for three 50 ms
		// calls; at c=400 one request would wait a minute and no window in
		// the budget could hold L ≥ 0.9 c (at c=20: 3 s, in a 15 s window).
		Points: []Point{fanPoint(3, "seq", 20), fanPoint(3, "par", 20)},
		Cells: map[string][]string{
			// sync server: sync code (seq) and async code run inside the request (par)
			"blocking-os": {"calls=3 seq", "calls=3 par"},
			// async server: sync code offloaded to the pool (seq); async code all the way (par)
			"eventloop-pool":  {"calls=3 seq"},
			"eventloop-async": {"calls=3 par"},
			// the real Django 2×2: sync views call one after another, async views gather
			"django-wsgi-sync":  {"calls=3 seq"},
			"django-wsgi-async": {"calls=3 par"},
			"django-asgi-sync":  {"calls=3 seq"},
			"django-asgi-async": {"calls=3 par"},
		},
		Headline: []string{"calls=3 seq", "calls=3 par"},
	},
}

// ScenarioByName returns the named scenario.
func ScenarioByName(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Names lists the scenario names, comma-separated, for help texts.
func Names() string {
	var n []string
	for _, s := range Scenarios {
		n = append(n, s.Name)
	}
	return strings.Join(n, ",")
}

// Runs reports whether config runs point p of s: as Cells say where they
// name it, else every point for a twin and StackPoints for a real stack.
func (s Scenario) Runs(config string, p Point) bool {
	if len(p.Only) > 0 && !contains(p.Only, config) {
		return false
	}
	if cell, ok := s.Cells[config]; ok {
		return contains(cell, p.Label)
	}
	if len(s.Cells) > 0 {
		return false
	}
	if c, ok := ConfigByName(config); ok && c.Kind == KindStack && len(s.StackPoints) > 0 {
		return contains(s.StackPoints, p.Label)
	}
	return true
}

// IsHeadline reports whether point p of s is one a verdict reads.
func (s Scenario) IsHeadline(p Point) bool { return contains(s.Headline, p.Label) }

// IsHeadlineRow reports whether config's row at p is a headline row: a
// headline point on a twin that HeadlineConfigs (when set) names.
func (s Scenario) IsHeadlineRow(config string, p Point) bool {
	if !s.IsHeadline(p) {
		return false
	}
	if c, ok := ConfigByName(config); ok && c.Kind == KindStack {
		return false
	}
	return len(s.HeadlineConfigs) == 0 || contains(s.HeadlineConfigs, config)
}

// SettleMetric is the metric a headline point's repetitions pin down.
func (s Scenario) SettleMetric() string {
	if s.Settle == "" {
		return SettleRPS
	}
	return s.Settle
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Claim is one row of CLAIMS.md.
type Claim struct {
	N         int
	Seed      string // seed file number
	Text      string // the claim, paraphrased
	Scenarios []string
	Decides   string // what decides the verdict
}

// Claims are the twelve claims of CLAIMS.md.
var Claims = []Claim{
	{1, "002", "Fetching 3 URLs one after another took 1.02 s; concurrently 0.12 s", []string{"fanout"},
		"per-request latency: seq ≈ sum of the waits, par ≈ the largest wait; the ratio ≈ calls"},
	{2, "003", "Two 50 ms database queries take 100 ms synchronously and 50 ms asynchronously", []string{"fanout"},
		"calls=2, ms=50: seq ≈ 100 ms, par ≈ 50 ms"},
	{3, "002", "gather over tasks of 1 s and 2 s finishes in 2 s, not 3", []string{"fanout"},
		"par latency follows the max of the waits, not the sum"},
	{4, "004, 000", "One blocking call inside an async handler blocks the whole event loop", []string{"blocking-in-loop"},
		"inline: throughput ≈ loops ÷ wait; the canary's p99 on other connections rises to about the wait or more"},
	{5, "004", "Offloading blocking work to a thread pool keeps the loop responsive", []string{"blocking-in-loop"},
		"pool: canary p99 near the async style's; throughput capped at pool size ÷ wait"},
	{6, "004", "Each OS thread costs significant memory: thread-per-request hits the C10k wall", []string{"io-wait", "idle-connections"},
		"RSS and threads per connection: OS threads against goroutines against the event loop"},
	{7, "004", "Many threads add context-switch overhead", []string{"io-wait"},
		"voluntary and involuntary context switches per request, per model"},
	{8, "004", "One event-loop thread handles thousands of concurrent I/O-bound connections", []string{"io-wait"},
		"eventloop async, 1 loop, c=1000 and 5000: throughput ≈ c ÷ wait with a handful of threads"},
	{9, "004", "Worker processes give true parallelism for CPU-bound work", []string{"cpu"},
		"prefork 2 workers ≈ 2× prefork 1 worker on 2 cores; one loop stays at about one core"},
	{10, "000", "Connection METRICS: asyncio 1000–10000, thread-based ~100–500, nginx 1024–4096 per worker", []string{"idle-connections", "io-wait", "outbound-connections"},
		"the highest concurrency each model holds with p99 ≤ 2× the wait and no errors, within the 20k nofile cap"},
	{11, "000", "Django: async on async is 'true async all the way' with the best throughput; sync on async is offloaded to threads", []string{"code-x-server"},
		"four cells on fan-out; 'behaves as' computed from measured concurrency (throughput × latency)"},
	{12, "003, 004, 002", "Concurrency is not parallelism: on one core async does not speed up CPU-bound work", []string{"cpu"},
		"on one core, every model within about 10 % of the others"},
}
