package verdict

import (
	"fmt"
	"sort"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// data looks rows up in a results file and says why one is missing.
type data struct{ f *results.File }

// scenario returns the named scenario, or why it has no rows.
func (d data) scenario(name string) (*results.Scenario, error) {
	if d.f == nil {
		return nil, missing("no results")
	}
	for i := range d.f.Scenarios {
		s := &d.f.Scenarios[i]
		if s.Name != name {
			continue
		}
		if s.Skipped != "" {
			return nil, missing(fmt.Sprintf("scenario %s was skipped: %s", name, s.Skipped))
		}
		return s, nil
	}
	return nil, missing(fmt.Sprintf("scenario %s is not in this run", name))
}

// row returns the (scenario, config, label) row if it was measured: present,
// not prevented by a machine limit, and with at least one repetition.
func (d data) row(scn, cfg, label string) (*results.Row, error) {
	s, err := d.scenario(scn)
	if err != nil {
		return nil, err
	}
	for i := range s.Rows {
		r := &s.Rows[i]
		if r.Config != cfg || r.Point.Label != label {
			continue
		}
		if r.Prevented != "" {
			return nil, missing(fmt.Sprintf("%s %s at %s was prevented: %s", scn, cfg, label, r.Prevented))
		}
		if r.Idle == nil && r.RPS.N == 0 {
			return nil, missing(fmt.Sprintf("%s %s at %s has no successful repetition", scn, cfg, label))
		}
		if r.Idle != nil && r.Idle.Held.N == 0 {
			return nil, missing(fmt.Sprintf("%s %s at %s held no connections", scn, cfg, label))
		}
		return r, nil
	}
	return nil, missing(fmt.Sprintf("%s has no row for %s at %s", scn, cfg, label))
}

// get is row, gated: a measured row that cannot support a verdict (its
// errors, a closed-loop window too short for its latency) comes back with
// a gated error, which makes the claim inconclusive.
func (d data) get(scn, cfg, label string) (*results.Row, error) {
	r, err := d.row(scn, cfg, label)
	if err != nil {
		return nil, err
	}
	if err := usable(r); err != nil {
		return r, err
	}
	return r, nil
}

// usable is nil when r can decide a verdict, a gated error otherwise.
func usable(r *results.Row) error {
	if why := r.Gate(); why != "" {
		return gated(fmt.Sprintf("%s %s at %s: %s", r.Scenario, r.Config, r.Point.Label, why))
	}
	return nil
}

// rows returns the measured rows of scenario scn for cfg, by ascending
// concurrency (connections, or idle connections).
func (d data) rows(scn, cfg string) []*results.Row {
	s, err := d.scenario(scn)
	if err != nil {
		return nil
	}
	var out []*results.Row
	for i := range s.Rows {
		r := &s.Rows[i]
		if r.Config != cfg {
			continue
		}
		if _, err := d.row(scn, cfg, r.Point.Label); err == nil {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return conc(out[i].Point) < conc(out[j].Point) })
	return out
}

// allRows returns every row of scenario scn for cfg, measured or not, by
// ascending concurrency.
func (d data) allRows(scn, cfg string) []*results.Row {
	s, err := d.scenario(scn)
	if err != nil {
		return nil
	}
	var out []*results.Row
	for i := range s.Rows {
		if s.Rows[i].Config == cfg {
			out = append(out, &s.Rows[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return conc(out[i].Point) < conc(out[j].Point) })
	return out
}

// conc is a point's concurrency: its connections, or its idle connections.
func conc(p catalog.Point) int {
	if p.Idle > 0 {
		return p.Idle
	}
	return p.Conns
}

// configsOf lists the configurations with at least one row in scenario scn,
// in the catalog's order for that scenario, then any others by name.
func (d data) configsOf(scn string) []string { return ConfigsIn(d.f, scn) }

// ConfigsIn lists the configurations with at least one row in scenario scn
// of f: the catalog's order for the scenario, then any others by name. The
// report orders its charts and tables with it.
func ConfigsIn(f *results.File, scn string) []string {
	var s *results.Scenario
	for i := range f.Scenarios {
		if f.Scenarios[i].Name == scn {
			s = &f.Scenarios[i]
		}
	}
	if s == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range s.Rows {
		seen[r.Config] = true
	}
	var out []string
	if sc, ok := catalog.ScenarioByName(scn); ok {
		for _, c := range sc.Configs {
			if seen[c] {
				out = append(out, c)
				delete(seen, c)
			}
		}
	}
	var rest []string
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// waitMs is the io-wait scenario's wait per request in milliseconds, from
// the catalog (50 ms): the yardstick of "p99 ≤ 2× the wait".
func waitMs() float64 {
	if sc, ok := catalog.ScenarioByName("io-wait"); ok {
		for _, p := range sc.Points {
			if p.Ms > 0 {
				return float64(p.Ms)
			}
		}
	}
	return 50
}
