package verdict

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverlab/lab/loadgen/results"
)

// The adversarial fixtures (testdata/, built by make-fixtures.py from the
// committed run): base.json decides each targeted claim cleanly; every
// other file changes one thing a skeptic would try, and must flip that
// claim away from the base's verdict.
func TestAdversarialFixtures(t *testing.T) {
	base := readFixture(t, "base.json")
	for _, tc := range []struct {
		file     string
		claim    int
		base     Outcome
		want     Outcome
		sayWhy   string // the reason must say this
		whatFlip string
	}{
		{"errors-50pct.json", 8, Reproduced, Inconclusive, "50 % errors", "half the answers are 503"},
		{"overlapping-intervals.json", 12, Reproduced, Inconclusive, "straddles", "async's interval crosses the ±10 % line"},
		{"window-too-short.json", 4, Reproduced, Inconclusive, "window too short", "L = 0.29 c"},
		{"one-core-parallel.json", 9, Reproduced, Inconclusive, "do not test parallelism", "two workers used one core"},
		{"bracket-overlaps.json", 10, Partly, Inconclusive, "only overlaps", "[100, 1000) against 100–200"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if got := claimOf(base, tc.claim); got.Outcome != tc.base {
				t.Fatalf("base: claim %d = %s, want %s (%s)", tc.claim, got.Outcome, tc.base, got.Reason)
			}
			v := claimOf(readFixture(t, tc.file), tc.claim)
			if v.Outcome != tc.want {
				t.Errorf("%s: claim %d = %s, want %s\n  reason: %s", tc.whatFlip, tc.claim, v.Outcome, tc.want, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.sayWhy) {
				t.Errorf("reason does not say %q: %s", tc.sayWhy, v.Reason)
			}
		})
	}
}

// TestEveryClaimRow: on the committed run's base, every claim row carries
// a refutation line, a workshop line, a "so what" line, and (unless not
// measured) a figure with its interval named.
func TestEveryClaimRow(t *testing.T) {
	for _, v := range Claims(readFixture(t, "base.json")) {
		if v.Refute == "" || v.Explain == "" || v.SoWhat == "" || v.Seed == "" {
			t.Errorf("claim %d lacks a seed, refutation, explanation or so-what line: %+v", v.Claim.N, v)
		}
		if v.Outcome == NotMeasured {
			continue
		}
		if !strings.Contains(v.Measured, "range") && !strings.Contains(v.Measured, "CI") && !strings.Contains(v.Measured, "no spread") &&
			!strings.Contains(v.Measured, "≥") {
			t.Errorf("claim %d's figures carry no interval: %s", v.Claim.N, v.Measured)
		}
	}
}

func readFixture(t *testing.T, name string) *results.File {
	t.Helper()
	f, err := results.Read(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func claimOf(f *results.File, n int) Verdict {
	for _, v := range Claims(f) {
		if v.Claim.N == n {
			return v
		}
	}
	return Verdict{}
}
