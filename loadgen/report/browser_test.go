package report

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

// The HTML report, tested the way a reader uses it (STYLE.md 18): a real
// headless Chromium opens report.html in a 1280-pixel-wide window and
// checks that every chart displays and that no table is wider than the
// window. Screenshots of the one-page summary and of two charts go to
// $SCREENSHOT_DIR if set, else to the test's temporary folder; never into
// results/. REPORT_JSON=path/results.json adds one more run to check.

// chromium finds a Chromium or Chrome binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// pageCheck is what the page reports about itself.
type pageCheck struct {
	Images      int      `json:"images"`
	Broken      []string `json:"broken"`
	Tables      int      `json:"tables"`
	Overflowing []string `json:"overflowing"`
	PageWidth   float64  `json:"pageWidth"`
	Window      float64  `json:"window"`
}

const checkJS = `(() => {
  const w = window.innerWidth;
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0 || i.getBoundingClientRect().width < 100).map(i => i.alt || i.src.slice(0, 40));
  const tables = Array.from(document.querySelectorAll('table'));
  const over = tables.filter(t => t.getBoundingClientRect().right > w + 0.5 || t.scrollWidth > t.clientWidth + 1)
    .map(t => (t.querySelector('th') || t).textContent.slice(0, 60) + ' (' + Math.round(t.getBoundingClientRect().right) + ' px)');
  return {images: imgs.length, broken: broken, tables: tables.length, overflowing: over,
    pageWidth: document.documentElement.scrollWidth, window: w};
})()`

func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser: skipped with -short")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (looked for chromium, chromium-browser, google-chrome on PATH and /usr/bin/chromium): the HTML report is not checked in a browser")
	}
	shots := os.Getenv("SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	inputs := []struct{ name, json string }{{"full", fixtures[0].json}, {"partial", fixtures[1].json}}
	if _, err := os.Stat("../../results/latest.json"); err == nil {
		inputs = append(inputs, struct{ name, json string }{"latest", "../../results/latest.json"})
	}
	// REPORT_JSON checks one more results file (a trial run in /tmp, say).
	if p := os.Getenv("REPORT_JSON"); p != "" {
		inputs = append(inputs, struct{ name, json string }{"extra", p})
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1280, 900), chromedp.DisableGPU)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to sandbox as root
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	// The checks can fail: a page with a broken image and a table too wide
	// for the window must be caught.
	t.Run("detector", func(t *testing.T) {
		dir := t.TempDir()
		wide := "<table><tr><th>x</th><td><code>" + strings.Repeat("unbreakable", 300) + "</code></td></tr></table>"
		page := "<!DOCTYPE html><html><head><style>" + css + "code{white-space:pre}</style></head><body><main>" + wide + "<img src=\"missing.svg\" alt=\"gone\"></main></body></html>"
		p := filepath.Join(dir, "bad.html")
		if err := os.WriteFile(p, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate("file://"+p), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatal(err)
		}
		pc, err := chromedp.Run(bctx, chromedp.Evaluate[pageCheck](checkJS))
		if err != nil {
			t.Fatal(err)
		}
		if len(pc.Overflowing) == 0 || len(pc.Broken) == 0 {
			t.Errorf("the page check missed a wide table or a broken image: %+v", pc)
		}
	})

	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			dir := t.TempDir()
			raw, err := os.ReadFile(in.json)
			if err != nil {
				t.Fatal(err)
			}
			jsonPath := filepath.Join(dir, "results.json")
			if err := os.WriteFile(jsonPath, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			_, rep, err := RenderFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			// Self-contained: the page must not need charts/ beside it.
			if err := os.RemoveAll(filepath.Join(dir, ChartsDir)); err != nil {
				t.Fatal(err)
			}
			url := "file://" + filepath.Join(dir, "report.html")
			if err := chromedp.Do(bctx,
				chromedp.EmulateViewport(1280, 900),
				chromedp.Navigate(url),
				chromedp.WaitReady(chromedp.CSS("body")),
			); err != nil {
				t.Fatal(err)
			}
			pc, err := chromedp.Run(bctx, chromedp.Evaluate[pageCheck](checkJS))
			if err != nil {
				t.Fatal(err)
			}
			top, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if pc.Images != len(rep.Charts) {
				t.Errorf("the page shows %d images, want the %d charts", pc.Images, len(rep.Charts))
			}
			for _, b := range pc.Broken {
				t.Errorf("image does not display: %s", b)
			}
			if pc.Tables < 5 {
				t.Errorf("only %d tables on the page", pc.Tables)
			}
			for _, o := range pc.Overflowing {
				t.Errorf("table wider than the %g-px window: %s", pc.Window, o)
			}
			if pc.PageWidth > pc.Window+0.5 {
				t.Errorf("the page is %g px wide in a %g-px window: something overflows", pc.PageWidth, pc.Window)
			}
			save := func(name string, b []byte) {
				p := filepath.Join(shots, in.name+"-"+name+".png")
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Error(err)
				}
				t.Logf("screenshot: %s", p)
			}
			save("one-page", top)
			// The widest table: the one with the most columns.
			wide, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.JSPath(
				`Array.from(document.querySelectorAll('table')).reduce((a, b) => b.querySelectorAll('th').length > a.querySelectorAll('th').length ? b : a)`)))
			if err != nil {
				t.Fatal(err)
			}
			save("widest-table", wide)
			if in.name == "partial" {
				return
			}
			for i, n := range []int{1, 3} { // two charts: io-wait and the 2×2 come first in the page's order
				if n > len(rep.Charts) {
					break
				}
				b, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.JSPath(fmt.Sprintf("document.querySelectorAll('main img')[%d]", n-1))))
				if err != nil {
					t.Fatal(err)
				}
				save(fmt.Sprintf("chart-%d", i+1), b)
			}
		})
	}
}
