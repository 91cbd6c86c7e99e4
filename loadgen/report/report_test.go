package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/serverlab/lab/loadgen/results"
)

// go test ./loadgen/report -update rewrites testdata/*.golden from the
// fixtures; review the diff before committing it.
var update = flag.Bool("update", false, "rewrite the golden files")

// The fixtures: hand-made results files in the suite's schema. full is a
// complete run of the whole catalog; partial is an interrupted quick run
// with a skipped scenario and a row the nofile cap prevented.
var fixtures = []struct{ name, json, golden string }{
	{"full", "testdata/results.json", "testdata/report.golden"},
	{"partial", "testdata/partial/results.json", "testdata/partial.golden"},
}

func render(t *testing.T, path string) *Report {
	t.Helper()
	f, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			got := render(t, fx.json).Markdown
			if *update {
				if err := os.WriteFile(fx.golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(fx.golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s (run go test -update and review the diff):\n%s", fx.golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return "(no line differs)"
}

// TestDeterministic: the same input renders the same bytes, markdown and
// charts alike, so that golden files and committed reports are stable.
func TestDeterministic(t *testing.T) {
	for _, fx := range fixtures {
		a, b := render(t, fx.json), render(t, fx.json)
		if !bytes.Equal(a.Markdown, b.Markdown) {
			t.Errorf("%s: markdown differs between two renders", fx.name)
		}
		if len(a.Charts) != len(b.Charts) {
			t.Fatalf("%s: %d charts, then %d", fx.name, len(a.Charts), len(b.Charts))
		}
		for i := range a.Charts {
			if a.Charts[i].Name != b.Charts[i].Name || !bytes.Equal(a.Charts[i].SVG, b.Charts[i].SVG) {
				t.Errorf("%s: chart %s differs between two renders", fx.name, a.Charts[i].Name)
			}
		}
	}
}

var imgSrc = regexp.MustCompile(`<img src="([^"]+)"`)

// TestHTMLChartsResolve renders report.md to HTML, as a reader's viewer
// would, and checks that every image it shows is an SVG written beside it,
// that every chart written is shown, and that the tables are tables.
func TestHTMLChartsResolve(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir := t.TempDir()
			raw, err := os.ReadFile(fx.json)
			if err != nil {
				t.Fatal(err)
			}
			jsonPath := filepath.Join(dir, "results.json")
			if err := os.WriteFile(jsonPath, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			mdPath, rep, err := RenderFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			md, err := os.ReadFile(mdPath)
			if err != nil {
				t.Fatal(err)
			}
			var html bytes.Buffer
			if err := goldmark.New(goldmark.WithExtensions(extension.GFM)).Convert(md, &html); err != nil {
				t.Fatal(err)
			}
			shown := map[string]bool{}
			for _, m := range imgSrc.FindAllStringSubmatch(html.String(), -1) {
				src := m[1]
				if filepath.IsAbs(src) || strings.Contains(src, "://") {
					t.Errorf("image %q is not a relative reference", src)
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(src)))
				if err != nil {
					t.Errorf("image %q does not resolve: %v", src, err)
					continue
				}
				if !bytes.Contains(b, []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</svg>")) {
					t.Errorf("image %q is not a complete SVG", src)
				}
				shown[src] = true
			}
			for _, c := range rep.Charts {
				if !shown[ChartsDir+"/"+c.Name] {
					t.Errorf("chart %s was written but the report does not show it", c.Name)
				}
			}
			if fx.name == "full" && len(shown) != 4 {
				t.Errorf("the full fixture shows %d charts, want 4", len(shown))
			}
			if n := strings.Count(html.String(), "<table>"); n < 5 {
				t.Errorf("only %d HTML tables: a markdown table did not render", n)
			}
			if strings.Contains(html.String(), "raw HTML omitted") {
				t.Error("the report contains raw HTML that a viewer drops")
			}
		})
	}
}

// TestSections: the report has its sections in order, and the claims table
// has one row per claim with a verdict.
func TestSections(t *testing.T) {
	md := string(render(t, fixtures[0].json).Markdown)
	last := -1
	for _, h := range []string{"## Summary", "## Environment and caveats", "## The WSGI/ASGI 2×2", "## Spring MVC against FastAPI",
		"## The METRICS connection table", "## Sync against async, per task type", "## The twelve claims", "## Every measurement", "## How to reproduce"} {
		i := strings.Index(md, h)
		if i < 0 {
			t.Errorf("no section %q", h)
			continue
		}
		if i < last {
			t.Errorf("section %q out of order", h)
		}
		last = i
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|.*\| \*\*(reproduced|refuted|partly|not measured)\*\* \|`).FindAllStringSubmatch(md, -1)
	if len(rows) != 12 {
		t.Errorf("%d claim rows with a verdict, want 12", len(rows))
	}
	sum := md[strings.Index(md, "## Summary")+len("## Summary") : strings.Index(md, "## Environment")]
	if n := len(regexp.MustCompile(`[.;] [A-Z]|\.\n`).FindAllString(sum, -1)); n < 5 || n > 8 {
		t.Errorf("summary has %d sentences, want 5–8:\n%s", n, sum)
	}
}

// TestPartialRun: an interrupted run says so, and a missing scenario makes
// claims "not measured" with the reason, never a verdict.
func TestPartialRun(t *testing.T) {
	md := string(render(t, fixtures[1].json).Markdown)
	for _, want := range []string{
		"**Incomplete run.**",
		"**Quick run:**",
		"**One repetition:**",
		"**Skipped scenarios:** blocking-in-loop",
		"was prevented: loadgen: 5064 connections",
		"| 4 |",
		"**not measured**",
		"uncommitted changes",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("partial report lacks %q", want)
		}
	}
}
