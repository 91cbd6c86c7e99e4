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
	"github.com/serverlab/lab/loadgen/verdict"
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
			if fx.name == "full" && len(shown) < 4 {
				t.Errorf("the full fixture shows %d charts, want at least 4", len(shown))
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

// TestSections: the report has its sections in order, the one-page table
// has one row per claim with a verdict symbol, and the claims section has
// one row per claim with a verdict.
func TestSections(t *testing.T) {
	md := string(render(t, fixtures[0].json).Markdown)
	last := -1
	for _, h := range []string{"## The answer on one page", "## Glossary", "## What should I pick", "## Environment and caveats", "## The WSGI/ASGI 2×2", "## Spring MVC against FastAPI",
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
	page := md[strings.Index(md, "## The answer on one page"):strings.Index(md, "## Glossary")]
	marks := regexp.MustCompile(`(?m)^\| (\d+) \|.*\| \*\*[✔◐✘?–] (reproduced|refuted|partly|inconclusive|not measured)\*\* \|`).FindAllStringSubmatch(page, -1)
	if len(marks) != 12 {
		t.Errorf("one-page table has %d claim rows with a verdict symbol, want 12", len(marks))
	}
	// At most three sentences on choosing a model after the table.
	after := page[strings.LastIndex(page, "|\n")+2:]
	para := strings.SplitN(strings.TrimSpace(after), "\n\n", 2)[0]
	if n := len(regexp.MustCompile(`[.!?](\s|$)`).FindAllString(para, -1)); n > 3 {
		t.Errorf("%d sentences on choosing a model, want at most 3:\n%s", n, para)
	}
	rows := regexp.MustCompile(`(?m)^\| (\d+) \|.*\| \*\*(reproduced|refuted|partly|inconclusive|not measured)\*\* \|`).FindAllStringSubmatch(md, -1)
	if len(rows) != 12 {
		t.Errorf("%d claim rows with a verdict, want 12", len(rows))
	}
}

// TestGlossary: every glossary term is defined once, and the words the
// issue named as undefined jargon are among them.
func TestGlossary(t *testing.T) {
	md := string(render(t, fixtures[0].json).Markdown)
	g := md[strings.Index(md, "## Glossary"):]
	g = g[:strings.Index(g[3:], "\n## ")+3]
	for _, term := range []string{"twin", "slots", "held per request", "L", "closed loop", "open loop", "canary", "saturated", "vol + invol", "GOMAXPROCS", "nofile", "open s", "Little's bound"} {
		if !strings.Contains(g, "| **"+term+"** |") {
			t.Errorf("glossary lacks %q", term)
		}
	}
	if !strings.Contains(md, "](#glossary)") {
		t.Error("no term links to the glossary")
	}
}

// TestLeftovers scans every rendered report, and the committed one when it
// exists, for template leftovers: "(s)" plurals, "only 0", a gain below
// one, sentences cut off, negative sizes or counts.
func TestLeftovers(t *testing.T) {
	check := func(name, md string) {
		for _, l := range Leftovers {
			for _, loc := range l.Re.FindAllStringIndex(md, 3) {
				lo, hi := max(0, loc[0]-60), min(len(md), loc[1]+20)
				t.Errorf("%s: %s: …%s…", name, l.What, md[lo:hi])
			}
		}
	}
	for _, fx := range fixtures {
		check(fx.name, string(render(t, fx.json).Markdown))
	}
	if _, err := os.Stat("../../results/latest.json"); err == nil {
		check("results/latest.json", string(render(t, "../../results/latest.json").Markdown))
	}
	// The committed report itself, once it was rendered by this code.
	if b, err := os.ReadFile("../../results/latest.md"); err == nil {
		if strings.Contains(string(b), "## The answer on one page") {
			check("results/latest.md", string(b))
		} else {
			t.Log("results/latest.md predates the one-page report: re-render it (loadgen report) before trusting its text")
		}
	}
}

// TestLeftoverPatternsFire: each leftover pattern finds what it is for, so
// that TestLeftovers can fail.
func TestLeftoverPatternsFire(t *testing.T) {
	bad := []string{"1 thread(s)", "answers to only 0 of its 300 probes", "one loop gained 0.973× from", "overlap the load CPUs 1: this machine has 2\n",
		"3.53 KiB [-1.48 KiB–19.6 KiB]", "held -3 connections", "a note that ends with the\n"}
	for _, b := range bad {
		hit := false
		for _, l := range Leftovers {
			hit = hit || l.Re.MatchString(b)
		}
		if !hit {
			t.Errorf("no leftover pattern matches %q", b)
		}
	}
	if got := tidy("on 1 core(s) and 2 core(s); one loop gained 0.973× here"); got != "on 1 core and 2 cores; one loop changed by 0.973× (a loss, not a gain) here" {
		t.Errorf("tidy: %q", got)
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

// TestCompare: -compare lists exactly the claims whose verdicts differ,
// with both runs' words; comparing a run with itself lists none.
func TestCompare(t *testing.T) {
	full, err := results.Read(fixtures[0].json)
	if err != nil {
		t.Fatal(err)
	}
	partial, err := results.Read(fixtures[1].json)
	if err != nil {
		t.Fatal(err)
	}
	self, err := RenderWith(full, Options{Compare: full, ComparePath: "self/results.json"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(self.Markdown), "Every claim has the same verdict in both runs.") {
		t.Error("a run compared with itself should report no differences")
	}
	r, err := RenderWith(full, Options{Compare: partial, ComparePath: "partial/results.json"})
	if err != nil {
		t.Fatal(err)
	}
	md := string(r.Markdown)
	sec := md[strings.Index(md, "## Against another run"):]
	sec = sec[:strings.Index(sec[3:], "\n## ")+3]
	ds := Differences(verdict.Claims(full), verdict.Claims(partial))
	if len(ds) == 0 {
		t.Fatal("the fixtures should differ in some verdict")
	}
	rows := regexp.MustCompile(`(?m)^\| \d+ \|`).FindAllString(sec, -1)
	if len(rows) != len(ds) {
		t.Errorf("the section lists %d claims, want the %d that differ:\n%s", len(rows), len(ds), sec)
	}
	for _, d := range ds {
		if d.This.Outcome == d.That.Outcome {
			t.Errorf("claim %d listed with the same verdict %s", d.Claim, d.This.Outcome)
		}
	}
	if strings.Contains(string(render(t, fixtures[0].json).Markdown), "## Against another run") {
		t.Error("the section appears without -compare")
	}
}

// TestHTMLSelfContained: report.html embeds every chart and refers to no
// file beside it, has the report's headings as anchors the glossary links
// use, and carries a print style.
func TestHTMLSelfContained(t *testing.T) {
	r := render(t, fixtures[0].json)
	h := string(r.HTML)
	if !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.Contains(h, "</html>") {
		t.Fatal("report.html is not a whole HTML document")
	}
	if n := strings.Count(h, `src="data:image/svg+xml;base64,`); n != len(r.Charts) {
		t.Errorf("%d embedded charts, want %d", n, len(r.Charts))
	}
	if strings.Contains(h, `src="charts/`) {
		t.Error("report.html refers to charts/ instead of embedding them")
	}
	for _, id := range []string{`id="glossary"`, `id="what-should-i-pick"`, `href="#glossary"`, "@media print"} {
		if !strings.Contains(h, id) {
			t.Errorf("report.html lacks %s", id)
		}
	}
}
