package catalog

// The real stacks beside the twins: Django, FastAPI, gunicorn, uvicorn,
// Tomcat and nginx from Debian's packages, each app a folder under stacks/
// (stacks/README.md has the launch lines and what each one tunes). They are
// configurations like the twins, with a command line instead of a binary.
//
// Python runs on /usr/bin/python3 ({python}), the interpreter Debian's
// packages belong to. Every stack listens on loopback only ({host}:{port})
// and takes its fan-out dependency and timeout from the environment:
// LAB_DEPENDENCY (host:port; empty: /fanout answers 503) and
// LAB_DEPENDENCY_TIMEOUT (seconds per call, default 15, as the Go servers'
// -dependency-timeout). Relative Requires paths are relative to the
// repository root.

// Requirements shared by the Python stacks.
var (
	pythonBase  = []string{"/usr/bin/python3", "python3:requests", "python3:aiohttp"}
	pythonWSGI  = withArgs(pythonBase, "python3:django", "python3:gunicorn")
	pythonASGI  = withArgs(pythonBase, "python3:uvicorn", "python3:uvloop", "python3:httptools")
	djangoASGI  = withArgs(pythonASGI, "python3:django")
	fastapiASGI = withArgs(pythonASGI, "python3:fastapi")
)

// gunicorn's command line, without the worker settings.
var gunicorn = []string{"{python}", "-m", "gunicorn", "labsite.wsgi:application", "--bind", "{addr}", "--log-level", "warning"}

// uvicornApp is uvicorn's command line for app (module:attribute in
// {stack}), tuned as uvicorn's deployment docs advise: uvloop, httptools,
// no access log.
func uvicornApp(app string, args ...string) []string {
	return withArgs([]string{"{python}", "-m", "uvicorn", app, "--app-dir", "{stack}", "--host", "{host}", "--port", "{port}",
		"--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"}, args...)
}

func djangoEnv(views string) []string {
	return []string{"PYTHONPATH={root}/stacks/common:{stack}", "DJANGO_SETTINGS_MODULE=labsite.settings",
		"LAB_VIEWS=" + views, "LAB_DEPENDENCY={dependency}"}
}

var fastapiEnv = []string{"PYTHONPATH={root}/stacks/common:{stack}", "LAB_DEPENDENCY={dependency}"}

// withArgs returns a new slice: base followed by args (base is not modified).
func withArgs(base []string, args ...string) []string {
	return append(base[:len(base):len(base)], args...)
}

// Stacks are the real stacks, in report order. Names are fixed: results and
// -targets use them.
var Stacks = []Config{
	{Name: "django-wsgi-sync", Kind: KindStack, StackDir: "stacks/django", TwinOf: "blocking-os",
		Command:  withArgs(gunicorn, "--worker-class", "gthread", "--workers", "1", "--threads", "200"),
		Env:      djangoEnv("sync"),
		Requires: pythonWSGI,
		Model:    "thread-per-request", Style: "Django sync views, gunicorn gthread, 1 worker × 200 threads",
		Twin:  "Django sync code on a sync server (WSGI)",
		Limit: LimitThreads, LimitN: 200, Parallelism: 1},
	// Under WSGI Django runs an async view with async_to_sync: a new event
	// loop per request, in a thread made for it, and an aiohttp session
	// that lives for that request only (new connections every request).
	{Name: "django-wsgi-async", Kind: KindStack, StackDir: "stacks/django", TwinOf: "blocking-os",
		Command:  withArgs(gunicorn, "--worker-class", "gthread", "--workers", "1", "--threads", "200"),
		Env:      djangoEnv("async"),
		Requires: pythonWSGI,
		Model:    "thread-per-request", Style: "Django async views (aiohttp gather) under async_to_sync, gunicorn gthread 1 × 200",
		Twin:  "Django async code on a sync server (WSGI)",
		Limit: LimitThreads, LimitN: 200, Parallelism: 1},
	// Django runs a sync view under ASGI with sync_to_async(thread_sensitive=True):
	// every sync view of the process on one shared thread, so the cap is
	// one request at a time, not anyio's 40 (stacks/README.md).
	{Name: "django-asgi-sync", Kind: KindStack, StackDir: "stacks/django", TwinOf: "eventloop-pool",
		Command:  uvicornApp("labsite.asgi:application", "--lifespan", "off"),
		Env:      djangoEnv("sync"),
		Requires: djangoASGI,
		Model:    "event-loop", Style: "Django sync views on uvicorn: sync_to_async(thread_sensitive=True), one shared thread",
		Twin:  "Django sync code on an async server (ASGI)",
		Limit: LimitPool, LimitN: 1, Parallelism: 1},
	{Name: "django-asgi-async", Kind: KindStack, StackDir: "stacks/django", TwinOf: "eventloop-async",
		Command:  uvicornApp("labsite.asgi:application", "--lifespan", "off"),
		Env:      djangoEnv("async"),
		Requires: djangoASGI,
		Model:    "event-loop", Style: "Django async views (aiohttp) on uvicorn, uvloop",
		Twin:        "Django async code on an async server (ASGI)",
		Parallelism: 1},
	{Name: "fastapi-async", Kind: KindStack, StackDir: "stacks/fastapi", TwinOf: "eventloop-async",
		Command:  uvicornApp("app_async:app"),
		Env:      fastapiEnv,
		Requires: fastapiASGI,
		Model:    "event-loop", Style: "FastAPI async def + await (aiohttp), uvicorn uvloop httptools, 1 worker",
		Twin:        "FastAPI async def with await, uvicorn, asyncio",
		Parallelism: 1},
	{Name: "fastapi-def", Kind: KindStack, StackDir: "stacks/fastapi", TwinOf: "eventloop-pool",
		Command:  uvicornApp("app_def:app"),
		Env:      fastapiEnv,
		Requires: fastapiASGI,
		Model:    "event-loop", Style: "FastAPI def endpoints on anyio's thread pool (limit 40), uvicorn",
		Twin:  "FastAPI def endpoint / run_in_threadpool (anyio limit 40)",
		Limit: LimitPool, LimitN: 40, Parallelism: 1},
	{Name: "fastapi-inline", Kind: KindStack, StackDir: "stacks/fastapi", TwinOf: "eventloop-inline",
		Command:  uvicornApp("app_inline:app"),
		Env:      fastapiEnv,
		Requires: fastapiASGI,
		Model:    "event-loop", Style: "FastAPI async def calling time.sleep / requests (blocks the loop), uvicorn",
		Twin:  "a blocking call inside async def",
		Limit: LimitLoops, LimitN: 1, Parallelism: 1},
	{Name: "uvicorn-workers-2", Kind: KindStack, StackDir: "stacks/fastapi", TwinOf: "prefork-2",
		Command:  uvicornApp("app_async:app", "--workers", "2"),
		Env:      fastapiEnv,
		Requires: fastapiASGI,
		Model:    "worker-processes", Style: "the FastAPI async app on uvicorn --workers 2",
		Twin:        "uvicorn --workers 2",
		Parallelism: 2},
	// gunicorn's sync worker serves one request at a time and closes the
	// connection after each answer (it has no keep-alive): the cap is the
	// two workers' one thread each.
	{Name: "gunicorn-sync-2", Kind: KindStack, StackDir: "stacks/django", TwinOf: "prefork-2",
		Command:  withArgs(gunicorn, "--worker-class", "sync", "--workers", "2"),
		Env:      djangoEnv("sync"),
		Requires: pythonWSGI,
		Model:    "worker-processes", Style: "Django sync views, gunicorn 2 sync workers (no keep-alive)",
		Twin:  "gunicorn -w 2 (sync workers)",
		Limit: LimitThreads, LimitN: 2, Parallelism: 2},
	// Spring MVC's container and thread model, not Spring: Spring is not
	// packaged in Debian, Tomcat 10 is.
	{Name: "tomcat-200", Kind: KindStack, StackDir: "stacks/tomcat", TwinOf: "blocking-os",
		Command: []string{"{stack}/run.sh", "{host}", "{port}", "{state}"},
		Env:     []string{"LAB_DEPENDENCY={dependency}"},
		Requires: []string{"/usr/share/tomcat10/bin/catalina.sh", "/usr/bin/tomcat10-instance-create",
			"/usr/share/java/tomcat10-servlet-api.jar", "stacks/tomcat/build/webapp/WEB-INF/classes/lab/Routes.class"},
		Model: "thread-per-request", Style: "a plain servlet on Tomcat 10 (NIO connector, maxThreads 200), OpenJDK 17",
		Twin:  "Spring MVC's container and thread model (Tomcat, maxThreads 200), not Spring itself",
		Limit: LimitThreads, LimitN: 200},
	// The seed's METRICS row; no Go twin.
	{Name: "nginx", Kind: KindStack, StackDir: "stacks/nginx", Routes: []string{"/plaintext"},
		Command:  []string{"{stack}/run.sh", "{host}", "{port}", "{state}"},
		Requires: []string{"/usr/sbin/nginx"},
		Model:    "event-loop", Style: "nginx, worker_processes 1, worker_connections 1024, return 200 for /plaintext",
		Twin:        "the seed's METRICS row \"Nginx default (worker_connections)\"",
		Parallelism: 1},
}
