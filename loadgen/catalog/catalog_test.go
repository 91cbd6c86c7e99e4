package catalog

import "testing"

// TestCatalogIsConsistent: every claim is tested by a scenario that names
// it, every configuration a scenario uses exists, labels are unique.
func TestCatalogIsConsistent(t *testing.T) {
	if len(Claims) != 12 {
		t.Fatalf("%d claims, CLAIMS.md has 12", len(Claims))
	}
	tested := map[int]bool{}
	for _, s := range Scenarios {
		for _, c := range s.Claims {
			tested[c] = true
		}
		for _, n := range s.Configs {
			if _, ok := ConfigByName(n); !ok {
				t.Errorf("scenario %s: unknown configuration %q", s.Name, n)
			}
		}
		labels := map[string]bool{}
		for _, p := range s.Points {
			if labels[p.Label] {
				t.Errorf("scenario %s: duplicate point label %q", s.Name, p.Label)
			}
			labels[p.Label] = true
			if p.Target == "" {
				t.Errorf("scenario %s %s: no target", s.Name, p.Label)
			}
		}
		for _, list := range [][]string{s.QuickPoints, s.StackPoints, s.Headline} {
			for _, q := range list {
				if !labels[q] {
					t.Errorf("scenario %s: %q is not a point", s.Name, q)
				}
			}
		}
		for cfg, ls := range s.Cells {
			if !contains(s.Configs, cfg) {
				t.Errorf("scenario %s: cell for %q, which it does not run", s.Name, cfg)
			}
			for _, l := range ls {
				if !labels[l] {
					t.Errorf("scenario %s: cell %s/%q is not a point", s.Name, cfg, l)
				}
			}
		}
	}
	for i, c := range Claims {
		if c.N != i+1 {
			t.Errorf("claim %d numbered %d", i+1, c.N)
		}
		if !tested[c.N] {
			t.Errorf("claim %d is tested by no scenario", c.N)
		}
		for _, sn := range c.Scenarios {
			s, ok := ScenarioByName(sn)
			if !ok {
				t.Errorf("claim %d names unknown scenario %q", c.N, sn)
				continue
			}
			found := false
			for _, n := range s.Claims {
				found = found || n == c.N
			}
			if !found {
				t.Errorf("claim %d names scenario %s, which does not list it", c.N, sn)
			}
		}
	}
}
