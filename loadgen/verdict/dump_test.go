package verdict

import (
	"os"
	"testing"

	"github.com/serverlab/lab/loadgen/results"
)

// TestDump prints every claim row of the results file named by
// VERDICT_DUMP (skipped without it): go test ./loadgen/verdict -run Dump -v.
func TestDump(t *testing.T) {
	path := os.Getenv("VERDICT_DUMP")
	if path == "" {
		t.Skip("set VERDICT_DUMP=path/to/results.json to print its claim rows")
	}
	f, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Claims(f) {
		t.Logf("claim %d: %s %s\n  seed: %s\n  prediction: %s\n  measured: %s\n  reason: %s\n  refute: %s\n  shown: %v\n",
			v.Claim.N, v.Outcome.Symbol(), v.Outcome, v.Seed, v.Prediction, v.Measured, v.Reason, v.Refute, v.Shown)
	}
	for _, a := range Agreements(f) {
		t.Logf("agreement %s vs %s: %s: %s", a.Real, a.Twin, a.Word, a.Reason)
	}
}
