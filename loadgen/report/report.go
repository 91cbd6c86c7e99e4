// Package report renders DIR/report.md and DIR/charts/*.svg from a
// results.json: the seeds' tables rebuilt from measurements, the twelve
// claims with their verdicts, and every row in detail. The verdicts and the
// judgements inside the tables come from package verdict; this package only
// writes them down. Rendering is deterministic: the same results.json gives
// the same bytes (no clock, no map order, fixed float formats), which the
// golden tests rely on.
package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// ChartsDir is the charts' folder, relative to report.md.
const ChartsDir = "charts"

// Report is a rendered report: the markdown, the same report as one
// self-contained HTML page, and the charts they show. It owns its byte
// slices.
type Report struct {
	Markdown []byte
	HTML     []byte
	Charts   []Chart
}

// Options change what a report shows. The zero value renders one run.
type Options struct {
	// Compare is another run whose verdicts are recomputed with this code
	// and listed where they differ ("Against another run"); ComparePath
	// names it in the report.
	Compare     *results.File
	ComparePath string
	// Timelines are the per-model timeline SVGs found beside the run
	// (timelines.go); RenderFileWith loads them.
	Timelines []Chart
}

// Render renders the report for f, which it only reads.
func Render(f *results.File) (*Report, error) { return RenderWith(f, Options{}) }

// RenderWith renders the report for f with options o; it only reads both
// files.
func RenderWith(f *results.File, o Options) (*Report, error) {
	cs, err := charts(f)
	if err != nil {
		return nil, err
	}
	md := markdown(f, cs, o)
	html, err := toHTML(md, append(cs[:len(cs):len(cs)], o.Timelines...))
	if err != nil {
		return nil, err
	}
	return &Report{Markdown: md, HTML: html, Charts: cs}, nil
}

// Write writes dir/report.md, dir/report.html and dir/charts/*.svg, each
// through a temporary file and a rename, so that a reader never sees half
// a file.
func (r *Report) Write(dir string) error {
	if len(r.Charts) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, ChartsDir), 0o755); err != nil {
			return err
		}
	}
	for _, c := range r.Charts {
		if err := writeAtomic(filepath.Join(dir, ChartsDir, c.Name), c.SVG); err != nil {
			return err
		}
	}
	if len(r.HTML) > 0 {
		if err := writeAtomic(filepath.Join(dir, "report.html"), r.HTML); err != nil {
			return err
		}
	}
	return writeAtomic(filepath.Join(dir, "report.md"), r.Markdown)
}

// RenderFile reads jsonPath and writes report.md, report.html and the
// charts beside it. It returns the report's path.
func RenderFile(jsonPath string) (string, *Report, error) { return RenderFileWith(jsonPath, "") }

// RenderFileWith is RenderFile that also compares the verdicts with those
// of the results file at comparePath ("" for none).
func RenderFileWith(jsonPath, comparePath string) (string, *Report, error) {
	f, err := results.Read(jsonPath)
	if err != nil {
		return "", nil, err
	}
	var o Options
	if o.Timelines, err = loadTimelines(filepath.Dir(jsonPath)); err != nil {
		return "", nil, err
	}
	if comparePath != "" {
		if o.Compare, err = results.Read(comparePath); err != nil {
			return "", nil, err
		}
		o.ComparePath = comparePath
	}
	r, err := RenderWith(f, o)
	if err != nil {
		return "", nil, err
	}
	dir := filepath.Dir(jsonPath)
	if err := r.Write(dir); err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "report.md"), r, nil
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// measured reports whether a row has numbers: not prevented, and with at
// least one repetition (or idle connections held).
func measured(r *results.Row) bool {
	if r == nil || r.Prevented != "" {
		return false
	}
	if r.Idle != nil {
		return r.Idle.Held.N > 0
	}
	return r.RPS.N > 0
}

// get returns the measured row, or nil.
func get(f *results.File, scn, cfg, label string) *results.Row {
	r := f.Row(scn, cfg, label)
	if !measured(r) {
		return nil
	}
	return r
}

// scenario returns the named scenario of f, or nil.
func scenario(f *results.File, name string) *results.Scenario {
	for i := range f.Scenarios {
		if f.Scenarios[i].Name == name {
			return &f.Scenarios[i]
		}
	}
	return nil
}

// configsIn lists the configurations with rows in scenario scn, in the
// catalog's order for the scenario, then any others by name.
func configsIn(f *results.File, scn string) []string { return verdict.ConfigsIn(f, scn) }

// configsMeasured lists every configuration with a row anywhere, in
// catalog order, then any others by name.
func configsMeasured(f *results.File) []string {
	seen := map[string]bool{}
	for _, s := range f.Scenarios {
		for _, r := range s.Rows {
			seen[r.Config] = true
		}
	}
	var out []string
	for _, c := range catalog.Configs {
		if seen[c.Name] {
			out = append(out, c.Name)
			delete(seen, c.Name)
		}
	}
	var rest []string
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// highestCommon returns the label of the highest-concurrency point of scn
// measured on every cfg, or "".
func highestCommon(f *results.File, scn string, cfgs ...string) string {
	if len(cfgs) == 0 {
		return ""
	}
	best, bestC := "", -1
	for _, r := range rowsOf(f, scn, cfgs[0]) {
		ok := true
		for _, c := range cfgs[1:] {
			if get(f, scn, c, r.Point.Label) == nil {
				ok = false
			}
		}
		if ok && concOf(r) > bestC {
			best, bestC = r.Point.Label, concOf(r)
		}
	}
	return best
}
