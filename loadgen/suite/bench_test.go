package suite

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverlab/lab/loadgen/results"
)

// TestCommittedRunIsFull: results/latest.json, the committed reference
// run, is a full run (not -quick, every scenario of its day, complete) from
// a clean tree (issue 18).
func TestCommittedRunIsFull(t *testing.T) {
	path := filepath.Join(repoRoot("."), "results", "latest.json")
	f, err := results.Read(path)
	if os.IsNotExist(err) {
		t.Skip("no committed run yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	if f.Options.Quick || !f.Complete || f.Environment.GitDirty || f.Environment.External {
		t.Errorf("%s: quick=%v complete=%v dirty=%v external=%v: the committed run must be a full, complete run from a clean tree",
			path, f.Options.Quick, f.Complete, f.Environment.GitDirty, f.Environment.External)
	}
	if strings.Contains(f.Options.Command, "-scenarios") {
		t.Errorf("%s: a scenario subset (%s) is not a full run", path, f.Options.Command)
	}
}

// fakeLoadgen stands in for bin/loadgen: it writes a results.json and a
// report.md into its -out folder, as the suite does.
const fakeLoadgen = `#!/bin/sh
out=
while [ $# -gt 0 ]; do
  case "$1" in -out) out=$2; shift ;; esac
  shift
done
mkdir -p "$out/charts"
echo '{"fake": "new run"}' > "$out/results.json"
echo 'new report' > "$out/report.md"
echo 'new chart' > "$out/charts/a.svg"
`

// benchRepo makes a git repository holding scripts/bench.sh, the
// .gitignore, a fake bin/loadgen and a committed results/latest.*.
func benchRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	root := repoRoot(".")
	dir := t.TempDir()
	copyFile := func(src, dst string, mode os.FileMode) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(root, "scripts", "bench.sh"), filepath.Join(dir, "scripts", "bench.sh"), 0o755)
	copyFile(filepath.Join(root, ".gitignore"), filepath.Join(dir, ".gitignore"), 0o644)
	os.MkdirAll(filepath.Join(dir, "results", "charts"), 0o755)
	for _, f := range []string{"results/latest.json", "results/latest.md", "results/charts/a.svg"} {
		os.WriteFile(filepath.Join(dir, f), []byte("committed\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "bin", "loadgen"), []byte(fakeLoadgen), 0o755); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=lab", "-c", "user.email=lab@example.invalid", "commit", "-q", "-m", "committed run")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func bench(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("scripts/bench.sh", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BENCH_OUT=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench.sh %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestBenchQuickKeepsCommittedResults: make bench-quick (bench.sh -quick),
// a scenario subset, and a full run from a dirty tree write to
// results/quick/ and leave the committed results and git status untouched;
// only a full run from a clean tree replaces them (issue 18).
func TestBenchQuickKeepsCommittedResults(t *testing.T) {
	dir := benchRepo(t)
	for _, args := range [][]string{{"-quick"}, {"-scenarios", "fanout"}, {"-quick", "-scenarios=cpu"}} {
		out := bench(t, dir, args...)
		if st := git(t, dir, "status", "--porcelain"); st != "" {
			t.Errorf("bench.sh %v changed the tree:\n%s\n%s", args, st, out)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "results", "quick", "results.json")); !strings.Contains(string(b), "new run") {
			t.Errorf("bench.sh %v did not write results/quick/results.json:\n%s", args, out)
		}
	}
	// A dirty tree: even a full run goes to results/quick/.
	script := filepath.Join(dir, "scripts", "bench.sh")
	orig := must(os.ReadFile(script))
	os.WriteFile(script, append(append([]byte{}, orig...), "\n# edited\n"...), 0o755)
	out := bench(t, dir)
	if b, _ := os.ReadFile(filepath.Join(dir, "results", "latest.json")); string(b) != "committed\n" {
		t.Errorf("a run from a dirty tree replaced results/latest.json:\n%s", out)
	}
	os.WriteFile(script, orig, 0o755)
	// A full run from a clean tree publishes: the test can fail.
	out = bench(t, dir)
	if b, _ := os.ReadFile(filepath.Join(dir, "results", "latest.json")); !strings.Contains(string(b), "new run") {
		t.Errorf("a full run from a clean tree did not publish results/latest.json:\n%s", out)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
