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

	"golang.org/x/sys/unix"

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

// TestBadInput is the CLI's table of bad inputs: each gets the documented
// exit code and a short message (no usage dump) that names the flag and
// the fix.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want []string // in stderr
	}{
		{[]string{"run", "-url", "http//127.0.0.1:8082/plaintext"}, exitUsage, []string{"-url", "did you mean http://127.0.0.1:8082/plaintext"}},
		{[]string{"run", "127.0.0.1:8082/plaintext"}, exitUsage, []string{"-url", "no scheme", "http://127.0.0.1:8082/plaintext"}},
		{[]string{"run", "-url", "localhost:8082"}, exitUsage, []string{"-url", "http://localhost:8082"}},
		{[]string{"run", "-url", "https://127.0.0.1:8082/"}, exitUsage, []string{"-url", "http://127.0.0.1:8082/", "-engine hey"}},
		{[]string{"run", "-url", "ftp://127.0.0.1/"}, exitUsage, []string{"-url", "http://"}},
		{[]string{"run", "-url", "http://127.0.0.1:99999/"}, exitUsage, []string{"-url", "1-65535"}},
		{[]string{"run"}, exitUsage, []string{"-url is required", "-url http://"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-rate", "-5"}, exitUsage, []string{"-rate is negative", "-rate 2000"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-d", "ten"}, exitUsage, []string{`-d "ten"`, "-d 10s"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-d"}, exitUsage, []string{"-d needs a value", "-d 10s"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-n", "lots"}, exitUsage, []string{`-n "lots"`, "-n 10000"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-c", "0"}, exitUsage, []string{"-c", "-c 64"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-engine", "wrk"}, exitUsage, []string{"-engine", "-engine fast", "-engine hey"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-engine", "hey", "-rate", "10"}, exitUsage, []string{"-engine hey", "-engine fast for -rate"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "-engine", "hey", "-n", "2", "-c", "4"}, exitUsage, []string{"-n >= -c"}},
		{[]string{"run", "-bogus"}, exitUsage, []string{"unknown flag -bogus", "loadgen run -h"}},
		{[]string{"run", "-url", "http://127.0.0.1:1/", "extra"}, exitUsage, []string{"unexpected arguments", "loadgen run -c 64"}},
		{[]string{"nosuchcommand"}, exitUsage, []string{`unknown command "nosuchcommand"`, "run, suite, report", "loadgen -h"}},
		{[]string{"suite", "-bogus"}, exitUsage, []string{"-bogus", "loadgen suite -h"}},
		{[]string{"suite", "-scenarios", "nosuch"}, exitUsage, []string{"-scenarios", "nosuch"}},
		{[]string{"suite", "-measure", "-1s"}, exitUsage, []string{"-measure", "2s"}},
		{[]string{"report"}, exitUsage, []string{"Usage: loadgen report", "DIR/results.json"}},
		{[]string{"report", filepath.Join(dir, "missing.json")}, exitFail, []string{"missing.json"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runArgs(t, context.Background(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			// No arguments at all asks for the usage; anything else gets
			// the error and one line.
			if n := strings.Count(stderr, "\n"); n > 3 && len(tc.args) > 1 {
				t.Errorf("%d lines on stderr, want the error and a pointer to -h:\n%s", n, stderr)
			}
		})
	}
}

// TestNothingSucceeded: a run whose every request fails exits 3 (both
// engines) and says why, with the hey engine's errors classed as the fast
// engine's.
func TestNothingSucceeded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				c.Read(buf) // read the request, answer nothing
				c.Close()
			}()
		}
	}()
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer unavailable.Close()
	for _, tc := range []struct {
		engine, url, class string
	}{
		{"fast", "http://" + ln.Addr().String() + "/", "eof"},
		{"hey", "http://" + ln.Addr().String() + "/", "eof"},
		{"fast", unavailable.URL, "http_5xx"},
		{"hey", unavailable.URL, "http_5xx"},
	} {
		t.Run(tc.engine+" "+tc.class, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, context.Background(), "run", "-engine", tc.engine, "-url", tc.url, "-c", "2", "-n", "10")
			if code != exitNoSuccess || !strings.Contains(stderr, "no request succeeded") || !strings.Contains(stderr, tc.class+" 10") {
				t.Errorf("exit %d, stderr %q; want exit %d naming %s", code, stderr, exitNoSuccess, tc.class)
			}
			if !strings.Contains(stdout, "Requests/sec: 0.00") || !strings.Contains(stdout, "100.00% of requests") {
				t.Errorf("summary:\n%s", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runArgs(t, context.Background(), "-h")
	if code != exitOK || !strings.Contains(stdout, "run ") || !strings.Contains(stdout, "Exit status") || !strings.Contains(stdout, "130") {
		t.Errorf("help: exit %d, %q", code, stdout)
	}
	code, _, stderr := runArgs(t, context.Background())
	if code != exitUsage || !strings.Contains(stderr, "Usage") {
		t.Errorf("no arguments: exit %d, %q", code, stderr)
	}
	code, stdout, _ = runArgs(t, context.Background(), "run", "-h")
	if code != exitOK || !strings.Contains(stdout, "-pipeline") || !strings.Contains(stdout, "Exit status") {
		t.Errorf("run -h: exit %d, %q", code, stdout)
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

// openPty returns both ends of a new pseudo-terminal. A fresh pty reports
// a width of 0, as under script(1).
func openPty(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pty number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pty: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestProgressOnZeroWidthTerminal: a terminal that reports 0 columns still
// gets the live line (at a fixed width), one frame per snapshot, and the
// last frame shows the connections of the load, not of the teardown.
func TestProgressOnZeroWidthTerminal(t *testing.T) {
	master, tty := openPty(t)
	if ws, err := unix.IoctlGetWinsize(int(tty.Fd()), unix.TIOCGWINSZ); err != nil || ws.Col != 0 {
		t.Skipf("pty width %v (%v), want 0", ws, err)
	}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&out, master)
		close(done)
	}()
	p := newProgress(tty, 10*time.Second)
	if p.bar == nil {
		t.Fatal("no live line on a zero-width terminal")
	}
	for i := 1; i <= 3; i++ {
		p.update(engine.Snapshot{Elapsed: time.Duration(i) * time.Second, RPS: 1000, Conns: 7})
		time.Sleep(300 * time.Millisecond)
	}
	p.done()
	tty.Close()
	master.Close()
	<-done
	got := out.String()
	for i := 1; i <= 3; i++ {
		frame := strconv.Itoa(i) + "s / 10s  1000 ok/s"
		if n := strings.Count(got, frame); n != 1 {
			t.Errorf("frame %q drawn %d times, want once:\n%q", frame, n, got)
		}
	}
	if !strings.Contains(got, "conns 7") {
		t.Errorf("no conns in %q", got)
	}
}
