package verdict

import (
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Helpers shared by several claims: finding points in the catalog, real
// stacks beside their twins, and the first-repetition view of resources.

// points lists scenario scn's points: those the results file measured
// (as they were measured, which an older file may have done differently
// from today's catalog), then the catalog's points the file lacks.
func (d data) points(scn string) []catalog.Point {
	var out []catalog.Point
	seen := map[string]bool{}
	if d.f != nil {
		for _, s := range d.f.Scenarios {
			if s.Name != scn {
				continue
			}
			for _, r := range s.Rows {
				if !seen[r.Point.Label] {
					seen[r.Point.Label] = true
					out = append(out, r.Point)
				}
			}
		}
	}
	if sc, ok := catalog.ScenarioByName(scn); ok {
		for _, p := range sc.Points {
			if !seen[p.Label] {
				seen[p.Label] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// findPoint returns the first point of scenario scn that ok accepts.
func (d data) findPoint(scn string, ok func(catalog.Point) bool) (catalog.Point, bool) {
	for _, p := range d.points(scn) {
		if ok(p) {
			return p, true
		}
	}
	return catalog.Point{}, false
}

// query returns a parameter of a point's target ("" when absent).
func query(p catalog.Point, key string) string {
	u, err := url.Parse(p.Target)
	if err != nil {
		return ""
	}
	return u.Query().Get(key)
}

// coldConn reports whether a fan-out point dials a fresh connection per
// call (conn=new).
func coldConn(p catalog.Point) bool { return query(p, "conn") == "new" }

// unequalWaits reports whether a fan-out point gives each call its own
// wait (ms=1000,2000).
func unequalWaits(p catalog.Point) bool { return strings.Contains(query(p, "ms"), ",") }

// fanPoint returns the catalog's plain fan-out point with calls and mode:
// equal waits, pooled connections.
func (d data) fanPoint(scn string, calls int, mode string) (catalog.Point, bool) {
	return d.findPoint(scn, func(p catalog.Point) bool {
		return p.Calls == calls && p.Mode == mode && !coldConn(p) && !unequalWaits(p)
	})
}

// primary orders configurations so that the asyncio twin (eventloop-async),
// the one the seeds' fan-out examples ran on, comes first.
func primary(cfgs []string) []string {
	out := make([]string, 0, len(cfgs))
	for _, c := range cfgs {
		if c == "eventloop-async" {
			out = append(out, c)
		}
	}
	for _, c := range cfgs {
		if c != "eventloop-async" {
			out = append(out, c)
		}
	}
	return out
}

// twinsOnly drops real stacks from a configuration list.
func twinsOnly(cfgs []string) []string {
	var out []string
	for _, c := range cfgs {
		if cfg, ok := catalog.ConfigByName(c); ok && cfg.Kind == catalog.KindStack {
			continue
		}
		out = append(out, c)
	}
	return out
}

// realsOf lists the real stacks that the catalog checks against twin.
func realsOf(twin string) []string {
	var out []string
	for _, c := range catalog.Configs {
		if c.Kind == catalog.KindStack && c.TwinOf == twin {
			out = append(out, c.Name)
		}
	}
	return out
}

// realFigures gives, for each real stack of twin measured at (scn, label),
// the figure pick computes from its row. A gated row is shown with its
// flag as the figure's note.
func realFigures(d data, scn, twin, label string, pick func(r *results.Row) (string, results.Stat, func(float64) string, string)) []Figure {
	var out []Figure
	for _, cfg := range realsOf(twin) {
		r, err := d.row(scn, cfg, label)
		if err != nil {
			continue
		}
		what, s, f, unit := pick(r)
		fig := Figure{Side: SideReal, What: what + " (" + cfg + ")", Value: s, Format: f, Unit: unit}
		if g := r.Gate(); g != "" {
			fig.Note = "does not decide: " + g
		}
		out = append(out, fig)
	}
	return out
}

// slots is the configured concurrency cap of cfg at p: its threads, pool
// or loops, or the client's connections when nothing lower caps it.
func slots(c catalog.Config, p catalog.Point) int {
	n := p.Conns
	if c.Limit != catalog.LimitNone && c.LimitN > 0 && (n == 0 || c.LimitN < n) {
		n = c.LimitN
	}
	return n
}

// config returns the catalog configuration named by a row, or one built from
// the row's own fields when the catalog no longer has it.
func config(r *results.Row) catalog.Config {
	if c, ok := catalog.ConfigByName(r.Config); ok {
		return c
	}
	return catalog.Config{Name: r.Config, Model: r.Model, Style: r.Style, Twin: r.Twin}
}

// isAsync reports whether a configuration runs its handlers on an event loop.
func isAsync(c catalog.Config) bool { return c.Model == "event-loop" }

// fraction is a row's share of its Little bound.
func fraction(r *results.Row) (results.Stat, bool) {
	if r.LittleFraction != nil && r.LittleFraction.N > 0 {
		return *r.LittleFraction, true
	}
	if r.LittleBoundRPS != nil && *r.LittleBoundRPS > 0 {
		return scale(r.RPS, 1 / *r.LittleBoundRPS), true
	}
	return results.Stat{}, false
}

// rowNotes joins the distinct notes of rows, for caveats in a reason.
func rowNotes(rows ...*results.Row) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		for _, n := range r.Notes {
			if strings.HasPrefix(n, "rep ") || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func signedPct(x float64) string {
	if x >= 0 {
		return "+" + Pct(x)
	}
	return Pct(x)
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// commonLabels returns the labels of scenario scn measured for every cfg,
// by ascending concurrency, at most maxConns connections (0: any).
func (d data) commonLabels(scn string, maxConns int, cfgs ...string) []string {
	if len(cfgs) == 0 {
		return nil
	}
	var out []string
	for _, r := range d.rows(scn, cfgs[0]) {
		if maxConns > 0 && r.Point.Conns > maxConns {
			continue
		}
		ok := true
		for _, c := range cfgs[1:] {
			if _, err := d.row(scn, c, r.Point.Label); err != nil {
				ok = false
			}
		}
		if ok {
			out = append(out, r.Point.Label)
		}
	}
	return out
}

// shown describes a gated row for a claim's Shown list.
func shown(err error) string { return fmt.Sprint(err) }

// PointT is a catalog point, named short for the claim files' filters.
type PointT = catalog.Point

// catalogConfig is catalog.ConfigByName, short.
func catalogConfig(name string) (catalog.Config, bool) { return catalog.ConfigByName(name) }

// things writes a quantity with its noun, singular for exactly one:
// "1 OS thread", "0.95 OS threads".
func things(x float64, noun string) string {
	if Num(x) == "1" {
		return "1 " + noun
	}
	return Num(x) + " " + noun + "s"
}
