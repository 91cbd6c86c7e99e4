package live

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/loadgen/catalog"
)

func lookupCatalog(name string) (catalog.Config, bool) { return catalog.ConfigByName(name) }

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   PaneSettings
		bad  string
	}{
		{"defaults", PaneSettings{Config: "eventloop-async"}, ""},
		{"unknown config", PaneSettings{Config: "nope"}, "unknown configuration"},
		{"bad route", PaneSettings{Config: "eventloop-async", Route: "/etc/passwd"}, "route"},
		{"wait too long", PaneSettings{Config: "eventloop-async", Route: RouteIO, Ms: 60_000}, "ms must be"},
		{"handler on blocking", PaneSettings{Config: "blocking-os", Handler: "inline"}, "no handler style"},
		{"bad handler", PaneSettings{Config: "eventloop-async", Handler: "threads"}, "handler"},
		{"rate too high", PaneSettings{Config: "eventloop-async", Rate: 1e9}, "rate must be"},
		{"cpus", PaneSettings{Config: "eventloop-async", CPUs: "0-3"}, "cpus"},
		{"nginx serves plaintext", PaneSettings{Config: "nginx"}, ""},
		{"nginx has no /io", PaneSettings{Config: "nginx", Route: RouteIO}, "serves only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.in
			err := s.normalize(lookupCatalog)
			if tc.bad == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)) {
				t.Fatalf("error %v, want one containing %q", err, tc.bad)
			}
		})
	}
}

func TestEffectiveAndLittle(t *testing.T) {
	async, _ := catalog.ConfigByName("eventloop-async")
	inline := effective(async, "inline")
	if inline.Name != "eventloop-async+inline" || !strings.Contains(strings.Join(inline.Args, " "), "-handler inline") {
		t.Fatalf("effective: %+v", inline)
	}
	if got := effective(async, "async"); got.Name != async.Name {
		t.Fatalf("same style renamed: %q", got.Name)
	}
	pool, _ := catalog.ConfigByName("eventloop-pool")
	os, _ := catalog.ConfigByName("blocking-os")
	for _, tc := range []struct {
		set  PaneSettings
		cfg  catalog.Config
		want float64 // 0: no bound
	}{
		{PaneSettings{Route: RouteIO, Ms: 50, Conns: 100}, async, 2000},
		{PaneSettings{Route: RouteIO, Ms: 50, Conns: 100}, inline, 20},
		{PaneSettings{Route: RouteIO, Ms: 50, Conns: 100}, pool, 800},
		{PaneSettings{Route: RouteIO, Ms: 100, Conns: 1000}, os, 2000},
		{PaneSettings{Route: RouteFanSeq, Ms: 100, Calls: 3, Conns: 30}, async, 100},
		{PaneSettings{Route: RouteIO, Ms: 50, Conns: 100, Rate: 500}, async, 500},
		{PaneSettings{Route: RoutePlaintext, Conns: 100}, async, 0},
	} {
		b, ok := littleBound(tc.set, tc.cfg)
		if (tc.want == 0) == ok || (ok && b != tc.want) {
			t.Errorf("%s %+v: bound %v %v, want %v", tc.cfg.Name, tc.set, b, ok, tc.want)
		}
	}
}

// fakeLauncher starts nothing: its processes are plain URLs that refuse
// connections. It records Stop calls.
type fakeLauncher struct {
	mu      sync.Mutex
	started []*fakeProc
}

type fakeProc struct {
	name    string
	stopped bool
}

func (f *fakeLauncher) Start(ctx context.Context, spec procman.Spec) (Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakeProc{name: spec.Config.Name}
	f.started = append(f.started, p)
	return p, nil
}

func (p *fakeProc) BaseURL() string { return "http://127.0.0.1:1" }
func (p *fakeProc) Addr() string    { return "127.0.0.1:1" }
func (p *fakeProc) Sample() (s procstat.Snapshot, err error) {
	return s, nil
}
func (p *fakeProc) Stop() error { p.stopped = true; return nil }

// serve starts a Server on a free port and stops it when the test ends.
// The channel gets Run's result (once).
func serve(t *testing.T, o Options) (*Server, <-chan error, context.CancelFunc) {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- s.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return 30 s after its context ended")
		}
	})
	return s, done, cancel
}

func TestRefusals(t *testing.T) {
	s, _, _ := serve(t, Options{Launcher: &fakeLauncher{}})
	base := "http://" + s.hosts[0]
	do := func(method, path, origin, host, headerToken string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(`{"panes":[]}`))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if host != "" {
			req.Host = host
		}
		if headerToken != "" {
			req.Header.Set("X-Live-Token", headerToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tok := s.Token()
	for _, tc := range []struct {
		name                   string
		method, path           string
		origin, host, hdrToken string
		want                   int
		body                   string
	}{
		{"page without token", "GET", "/", "", "", "", 403, "token"},
		{"page with a wrong token", "GET", "/?token=00" + tok[2:], "", "", "", 403, "token"},
		{"page with its token", "GET", "/?token=" + tok, "", "", "", 200, "Server models, live"},
		{"events without token", "GET", "/events", "", "", "", 403, "token"},
		{"export without token", "GET", "/api/session.json", "", "", "", 403, "token"},
		{"foreign Origin", "POST", "/api/panes", "http://evil.example", "", tok, 403, "Origin"},
		{"foreign Origin with the port", "POST", "/api/panes", "http://evil.example:" + strings.Split(s.hosts[0], ":")[1], "", tok, 403, "Origin"},
		{"foreign Host (DNS rebinding)", "GET", "/?token=" + tok, "", "evil.example:" + strings.Split(s.hosts[0], ":")[1], "", 403, "Host"},
		{"POST with the token in the query only", "POST", "/api/panes?token=" + tok, "", "", "", 403, "token"},
		{"POST from the page", "POST", "/api/panes", "http://" + s.hosts[0], "", tok, 400, "want 1 to 4 panes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(tc.method, tc.path, tc.origin, tc.host, tc.hdrToken)
			if code != tc.want || !strings.Contains(body, tc.body) {
				t.Fatalf("%s %s: %d %q, want %d and %q", tc.method, tc.path, code, body, tc.want, tc.body)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	if _, err := New(Options{Addr: "0.0.0.0:0", Launcher: &fakeLauncher{}}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("New on 0.0.0.0: %v, want a loopback refusal", err)
	}
}

func TestCaps(t *testing.T) {
	s, _, _ := serve(t, Options{Launcher: &fakeLauncher{}, MaxConns: 100})
	err := s.sess.apply([]PaneSettings{{Config: "eventloop-async", Conns: 60}, {Config: "blocking-os", Conns: 60}})
	if err == nil || !strings.Contains(err.Error(), "exceed the cap") {
		t.Fatalf("apply over the cap: %v", err)
	}
	if err := s.sess.apply(make([]PaneSettings, 5)); err == nil {
		t.Fatal("five panes accepted")
	}
}

// TestIdleExit: once the page is gone, Run stops by itself and stops
// every process it started.
func TestIdleExit(t *testing.T) {
	fl := &fakeLauncher{}
	s, done, _ := serve(t, Options{Launcher: fl, IdleExit: time.Second})
	// A page connects, asks for a pane, and goes away.
	resp, err := http.Get("http://" + s.hosts[0] + "/events?token=" + s.Token())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.sess.apply([]PaneSettings{{Config: "eventloop-async"}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still serving 10 s after the idle limit of 1 s")
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if len(fl.started) != 2 { // the dependency and the pane
		t.Fatalf("started %d processes, want 2", len(fl.started))
	}
	for _, p := range fl.started {
		if !p.stopped {
			t.Errorf("%s was not stopped", p.name)
		}
	}
}

// recordingLauncher is the real launcher, remembering every process so
// that the test can check none is left.
type recordingLauncher struct {
	ProcmanLauncher
	mu    sync.Mutex
	procs []*procman.Process
}

func (r *recordingLauncher) Start(ctx context.Context, spec procman.Spec) (Process, error) {
	p, err := r.ProcmanLauncher.Start(ctx, spec)
	if err == nil {
		r.mu.Lock()
		r.procs = append(r.procs, p.(pmProcess).p)
		r.mu.Unlock()
	}
	return p, err
}

func (r *recordingLauncher) leftovers(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.procs) == 0 {
		t.Fatal("no process was started")
	}
	for _, p := range r.procs {
		if left := p.Leftovers(); len(left) > 0 {
			t.Errorf("%s: processes %v left", p.Name, left)
		}
	}
}

func binDir(t *testing.T) string {
	labtest.Binary(t, "servers/blocking")
	return filepath.Dir(labtest.Binary(t, "servers/eventloop"))
}

// TestSessionEndToEnd starts a real server, runs load for a few seconds,
// checks the per-second points and the export, and that Ctrl-C (the
// context ending) leaves no process.
func TestSessionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and runs load")
	}
	rl := &recordingLauncher{ProcmanLauncher: ProcmanLauncher{BinDir: binDir(t)}}
	s, done, cancel := serve(t, Options{Launcher: rl})
	err := s.sess.apply([]PaneSettings{
		{Config: "eventloop-async", Route: RouteIO, Ms: 20, Conns: 20, Canary: true, Load: true},
		{Config: "eventloop-async", Route: RouteFanPar, Ms: 20, Calls: 2, Conns: 5, Handler: "pool", Load: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond)
	b, err := s.sess.export()
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		State  stateMsg `json:"state"`
		Points []Point  `json:"points"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.State.Panes[1].Config != "eventloop-async+pool" {
		t.Errorf("pane 2 runs %q, want the pool style", ex.State.Panes[1].Config)
	}
	seen := map[int]int{}
	for _, p := range ex.Points {
		if !p.Load {
			continue
		}
		seen[p.Pane]++
		if p.RPS <= 0 || p.P50 == nil || p.Threads == 0 || p.RSSMiB == 0 || p.BoundRPS == nil {
			t.Errorf("pane %d at %.1f s: %+v", p.Pane, p.T, p)
		}
		if p.Pane == 0 && p.P50 != nil && *p.P50 < 20 {
			t.Errorf("p50 %.1f ms below the 20 ms wait", *p.P50)
		}
		if p.Pane == 0 && p.RunS > 1 && p.CanaryP99 == nil {
			t.Errorf("pane 1 second %d: no canary p99", p.RunS)
		}
	}
	if seen[0] < 2 || seen[1] < 2 {
		t.Fatalf("points under load per pane: %v, want at least 2 each", seen)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	rl.leftovers(t)
}
