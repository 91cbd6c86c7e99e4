package suite

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// binDir builds the binaries the suite starts into one folder, as make build does.
func binDir(t *testing.T) string {
	dir := t.TempDir()
	for _, pkg := range []string{"servers/blocking", "servers/prefork", "servers/eventloop", "benchref/stripped"} {
		src := labtest.Binary(t, pkg)
		if err := os.Symlink(src, filepath.Join(dir, filepath.Base(pkg))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// processesRunning returns the pids whose executable lies under dir.
func processesRunning(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + e.Name() + "/exe")
		if err == nil && strings.HasPrefix(exe, dir) && running(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// running reports whether pid runs (a zombie does not).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// TestStacksStartAndStop starts one Python stack and one JVM stack
// through the process manager, as the suite does, checks that each answers
// /plaintext, then stops it and checks that no process of its tree is left
// (gunicorn's or uvicorn's workers, Tomcat's JVM).
func TestStacksStartAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real stacks")
	}
	root := repoRoot(".")
	for _, name := range []string{"fastapi-async", "gunicorn-sync-2", "tomcat-200"} {
		t.Run(name, func(t *testing.T) {
			cfg, ok := catalog.ConfigByName(name)
			if !ok {
				t.Skipf("%s is not in the catalog", name)
			}
			if err := procman.CheckIn(root, cfg); err != nil {
				t.Skipf("not installed here: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			server, _ := DefaultCPUs()
			p, err := procman.Start(ctx, procman.Spec{Config: cfg, Root: root, CPUs: server})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(p.BaseURL + "/plaintext")
			if err != nil {
				p.Stop(5 * time.Second)
				t.Fatal(err)
			}
			resp.Body.Close()
			snap, err := p.Snapshot(ctx)
			if err != nil || snap.Processes < 1 || snap.RSSBytes <= 0 {
				t.Errorf("snapshot of the tree: %+v, %v", snap, err)
			}
			state := p.State
			tree := append([]int{}, snap.PIDs...)
			if err := p.Stop(10 * time.Second); err != nil {
				t.Errorf("stop: %v", err)
			}
			for _, pid := range tree {
				if running(pid) {
					t.Errorf("pid %d of %s's tree still runs after Stop", pid, name)
				}
			}
			if left := p.Leftovers(); len(left) > 0 {
				t.Errorf("leftovers: %v", left)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state dir %s not removed", state)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("/plaintext answered %d", resp.StatusCode)
			}
		})
	}
}

// TestSuiteEndToEnd runs two scenarios with tiny durations, validates the
// results file, and checks that no process the suite started is left. It
// asserts structure, never timing.
func TestSuiteEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every server configuration")
	}
	bins := binDir(t)
	built := filepath.Dir(labtest.Binary(t, "servers/blocking"))
	out := t.TempDir()
	server, load := DefaultCPUs()
	o := Options{BinDir: bins, OutDir: out, Quick: true, Reps: 2, Scenarios: []string{"fanout", "idle-connections"},
		ServerCPUs: server, LoadCPUs: load, Warmup: 50 * time.Millisecond, Measure: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if left := processesRunning(built); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	read, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !read.Complete || len(read.Scenarios) != 2 || f.Environment.GitCommit == "" && read.Environment.CPUModel == "" {
		t.Fatalf("results: complete=%v scenarios=%d", read.Complete, len(read.Scenarios))
	}
	for _, sc := range read.Scenarios {
		cat, _ := catalog.ScenarioByName(sc.Name)
		if sc.Skipped != "" {
			t.Errorf("%s skipped: %s", sc.Name, sc.Skipped)
		}
		want := 0 // -quick: the twins only, on the quick points
		for _, p := range cat.Points {
			if len(cat.QuickPoints) == 0 || contains(cat.QuickPoints, p.Label) {
				for _, c := range cat.Configs {
					if cfg, _ := catalog.ConfigByName(c); cfg.Kind != catalog.KindStack && cat.Runs(c, p) {
						want++
					}
				}
			}
		}
		if len(sc.Rows) != want {
			t.Errorf("%s: %d rows, want %d", sc.Name, len(sc.Rows), want)
		}
		for _, r := range sc.Rows {
			if len(r.Reps) != 2 || r.Twin == "" || r.LoadModel == "" {
				t.Errorf("%s %s %s: reps %d twin %q model %q notes %v", sc.Name, r.Config, r.Point.Label, len(r.Reps), r.Twin, r.LoadModel, r.Notes)
			}
			switch sc.Name {
			case "fanout":
				if r.LittleBoundRPS == nil || r.RPS.Median <= 0 || r.Server.Samples < 2 {
					t.Errorf("fanout %s %s: bound %v rps %v samples %d", r.Config, r.Point.Label, r.LittleBoundRPS, r.RPS, r.Server.Samples)
				}
			case "idle-connections":
				if r.Idle == nil || r.Idle.Held.Median != float64(r.Point.Idle) {
					t.Errorf("idle %s %s: %+v", r.Config, r.Point.Label, r.Idle)
				}
			}
		}
	}
}

// TestInterruptKeepsPartialResults cancels a run midway: the results file
// is valid JSON, marked incomplete, and no process is left.
func TestInterruptKeepsPartialResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	bins := binDir(t)
	built := filepath.Dir(labtest.Binary(t, "servers/blocking"))
	out := t.TempDir()
	server, load := DefaultCPUs()
	ctx, cancel := context.WithCancel(context.Background())
	o := Options{BinDir: bins, OutDir: out, Quick: true, Reps: 1, Scenarios: []string{"fanout", "io-wait"},
		ServerCPUs: server, LoadCPUs: load, Warmup: 50 * time.Millisecond, Measure: 300 * time.Millisecond}
	go func() {
		// Cancel once the first scenario has been written.
		for {
			if _, err := os.Stat(filepath.Join(out, "results.json")); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	_, err := Run(ctx, o)
	if err == nil {
		t.Fatal("Run returned no error after its context was cancelled")
	}
	if left := processesRunning(built); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
	read, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if read.Complete || len(read.Scenarios) == 0 {
		t.Errorf("partial results: complete=%v scenarios=%d", read.Complete, len(read.Scenarios))
	}
}
