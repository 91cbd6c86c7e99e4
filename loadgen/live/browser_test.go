package live

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser the test drives; "" if none is installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the page in headless Chromium as a facilitator would:
// it checks that a page without the token and a script from another origin
// are refused, runs the "blocking call starves the loop" demo and the
// io-wait demo at c=1000, reads the numbers and charts off the page, takes
// screenshots (to $SCREENSHOT_DIR, or a temporary folder), closes the page
// and checks that live mode then stops every process it started.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and a browser")
	}
	exe := chromium()
	if exe == "" {
		t.Skip("chromium is not installed (apt-get install chromium); the browser test needs it")
	}
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "live-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rl := &recordingLauncher{ProcmanLauncher: ProcmanLauncher{BinDir: binDir(t)}}
	s, done, _ := serve(t, Options{Launcher: rl, IdleExit: 3 * time.Second, DemoSeconds: 6})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1600, 1000),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	base := "http://" + s.hosts[0] + "/"

	// Refusals: the page without its token, and another origin's script.
	do("open without token", chromedp.Navigate(base))
	if body := eval(`document.body.innerText`); !strings.Contains(body, "refused") {
		t.Fatalf("page without token: %q, want a refusal", body)
	}
	do("open another origin", chromedp.Navigate("about:blank"))
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"X-Live-Token": %q, "Content-Type": "application/json"},
		body: JSON.stringify({panes: [{config: "eventloop-async", load: true}]})}).then(r => "status " + r.status, e => "refused: " + e.message)`,
		base+"api/panes", s.Token()), chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(res, "refused") {
		t.Fatalf("cross-origin POST: %q %v, want it refused", res, err)
	}
	if st := s.sess.state(); len(st.Panes) != 0 {
		t.Fatalf("a cross-origin POST started panes: %+v", st.Panes)
	}

	// The page with its token.
	do("open the page", chromedp.Navigate(s.URL()),
		chromedp.WaitVisible(chromedp.CSS(`#demo-buttons button[data-id="4"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector("#conn").textContent === "live"`, chromedp.WithPollingTimeout(10*time.Second)))

	runDemo := func(id string) map[string]float64 {
		t.Helper()
		do("demo "+id, chromedp.SetValue(chromedp.CSS("#demo-secs"), "6"), chromedp.Click(chromedp.CSS(`#demo-buttons button[data-id="`+id+`"]`)),
			chromedp.Poll[chromedp.Void](`window.live.demo && window.live.demo.id === "`+id+`" && window.live.demo.state !== "running"`,
				chromedp.WithPollingTimeout(90*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)),
			chromedp.Sleep(1500*time.Millisecond)) // a few more points on the charts after the demo
		if st := eval(`window.live.demo.state`); st != "done" {
			t.Fatalf("demo %s ended %q: %s", id, st, eval(`window.live.demo.error || ""`))
		}
		vals, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`window.live.demo.values`))
		if err != nil {
			t.Fatal(err)
		}
		banner := eval(`document.querySelector("#banner").innerText`)
		d, _ := demoByID(id)
		if !strings.Contains(banner, d.sentence) || !strings.Contains(banner, "Measured:") {
			t.Errorf("demo %s: the banner reads %q, want the claim and the measured number", id, banner)
		}
		t.Logf("demo %s: %s", id, eval(`window.live.demo.result`))
		return vals
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	chartPoints := func(key string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.querySelector("#chart-`+key+` svg").dataset.points)`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Claim 4: the inline side's bystanders wait for the blocked loop.
	v := runDemo("4")
	inline, async := v["inline_canary_p99_ms"], v["async_canary_p99_ms"]
	if !(inline > 5*async && inline > 25) {
		t.Errorf("canary p99: inline %.1f ms, async %.1f ms; want inline far above async (over 5× and over half the 50 ms wait)", inline, async)
	}
	for _, k := range []string{"rps", "p99_ms", "canary_p99_ms", "threads", "cpu_pct"} {
		if n := chartPoints(k); n < 8 {
			t.Errorf("chart %s holds %d points, want at least 8 (two panes, several seconds)", k, n)
		}
	}
	if n := eval(`document.querySelector("#pane-0 .v[data-k=canary_p99_ms]").textContent`); n == "–" {
		t.Error("pane 1 shows no canary p99 number")
	}
	shot("live.png")

	// Claim 8: the thread-per-request twin against the async loop at c=1000.
	v = runDemo("8")
	if v["async_rps"] <= 0 || v["os_rps"] <= 0 || v["async_threads"] <= 0 {
		t.Errorf("demo 8 values: %v", v)
	}
	shot("live-io-wait.png")

	// Export: the session JSON holds the demo's seconds.
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("api/session.json", {headers: {"X-Live-Token": new URLSearchParams(location.search).get("token")}}).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.Contains(out, `"canary_p99_ms"`) {
		t.Errorf("session export: %v, %.200q", err, out)
	}

	// Closing the page: live mode stops everything by itself.
	cancel()
	acancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("live mode still runs 30 s after the page closed (idle limit 3 s)")
	}
	rl.leftovers(t)
}
