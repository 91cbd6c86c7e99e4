package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverlab/lab/loadgen/engine"
)

func helloServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World!")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func runArgs(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runContext(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestRunWritesDesignKeys checks the JSON keys DESIGN.md promises, for both
// load models and both engines.
func TestRunWritesDesignKeys(t *testing.T) {
	url := helloServer(t) + "/plaintext"
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		open bool
	}{
		{"fast closed", []string{"-c", "4", "-n", "500"}, false},
		{"fast open", []string{"-c", "2", "-rate", "500", "-d", "400ms"}, true},
		{"hey", []string{"-engine", "hey", "-c", "4", "-n", "200"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			code, stdout, stderr := runArgs(t, context.Background(), append([]string{"run", "-url", url, "-json", path}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, want := range []string{"Requests/sec:", "Latency (ms)", "Status code distribution:", "[200]", "Errors: 0", "Load model:"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("summary lacks %q:\n%s", want, stdout)
				}
			}
			m := readJSON(t, path)
			for _, k := range []string{"requests", "rps", "errors", "status", "latency_ms", "errors_by_class", "duration_s", "load_model", "conns", "engine"} {
				if _, ok := m[k]; !ok {
					t.Errorf("JSON lacks %q", k)
				}
			}
			lat := m["latency_ms"].(map[string]any)
			for _, k := range []string{"p50", "p90", "p99", "p999", "max"} {
				if _, ok := lat[k]; !ok {
					t.Errorf("latency_ms lacks %q", k)
				}
			}
			if _, ok := m["latency_uncorrected_ms"]; ok != tc.open {
				t.Errorf("latency_uncorrected_ms present = %v, want %v", ok, tc.open)
			}
			if m["requests"].(float64) == 0 || m["status"].(map[string]any)["200"] == nil {
				t.Errorf("no successful requests: %v", m)
			}
		})
	}
}

func TestRunTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, eng := range []string{"fast", "hey"} {
		start := time.Now()
		code, _, stderr := runArgs(t, context.Background(), "run", "-engine", eng, "-url", "http://"+addr+"/", "-d", "10s")
		if code != exitFail || !strings.Contains(stderr, "target is down") || !strings.Contains(stderr, addr) {
			t.Errorf("%s: exit %d, stderr %q", eng, code, stderr)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v, want < 1s", eng, d)
		}
	}
}

func TestRunTooManyConnections(t *testing.T) {
	code, _, stderr := runArgs(t, context.Background(), "run", "-url", "http://127.0.0.1:1/", "-c", "10000000", "-d", "1s")
	if code != exitFail || !strings.Contains(stderr, strconv.Itoa(engine.NofileCap())) {
		t.Fatalf("exit %d, stderr %q: want the cap %d named", code, stderr, engine.NofileCap())
	}
}

// TestRunInterrupted simulates Ctrl-C: the partial result is printed and
// written, and the exit status is non-zero.
func TestRunInterrupted(t *testing.T) {
	url := helloServer(t)
	path := filepath.Join(t.TempDir(), "partial.json")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	code, stdout, stderr := runArgs(t, ctx, "run", "-url", url, "-c", "2", "-d", "30s", "-json", path)
	if code != exitInterrupted || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %v; stderr %q", code, time.Since(start), stderr)
	}
	if !strings.Contains(stdout, "INTERRUPTED") || !strings.Contains(stdout, "Requests/sec:") {
		t.Errorf("summary:\n%s", stdout)
	}
	m := readJSON(t, path)
	if m["interrupted"] != true || m["requests"].(float64) == 0 {
		t.Fatalf("JSON interrupted %v requests %v", m["interrupted"], m["requests"])
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{
		{"run"},
		{"run", "-url", "http://127.0.0.1:1/", "-engine", "wrk"},
		{"run", "-bogus"},
		{"run", "-url", "http://127.0.0.1:1/", "-engine", "hey", "-rate", "10"},
		{"nosuchcommand"},
	} {
		if code, _, _ := runArgs(t, context.Background(), args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
	code, _, stderr := runArgs(t, context.Background(), "-h")
	if code != exitOK || !strings.Contains(stderr, "run ") {
		t.Errorf("help: exit %d, %q", code, stderr)
	}
	code, _, stderr = runArgs(t, context.Background(), "run", "-h")
	if code != exitOK || !strings.Contains(stderr, "-pipeline") {
		t.Errorf("run -h: exit %d, %q", code, stderr)
	}
}

func TestProgressPlainWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, time.Minute)
	p.update(engine.Snapshot{Elapsed: 5 * time.Second, RPS: 10})
	p.update(engine.Snapshot{Elapsed: 11 * time.Second, RPS: 10, P99: time.Millisecond})
	p.update(engine.Snapshot{Elapsed: 12 * time.Second, RPS: 10})
	p.done()
	if strings.Count(buf.String(), "\n") != 1 || strings.Contains(buf.String(), "\x1b[") {
		t.Fatalf("want one plain line, got %q", buf.String())
	}
}
