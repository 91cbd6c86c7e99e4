package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/internal/syncbuf"
)

// TestSIGTERMDuringStartup sends SIGTERM to the master at a random moment
// of its start-up, while it is forking its workers, and checks that the
// master always exits, 0, leaving no process of its group behind: a child
// started in the window between "not stopping" and "registered" would be
// missed by the stop and, with -workers 1, hang the master forever.
// PREFORK_SIGTERM_TRIES sets the number of tries (200 for the check).
func TestSIGTERMDuringStartup(t *testing.T) {
	tries := 16
	if testing.Short() {
		tries = 4
	}
	if v := os.Getenv("PREFORK_SIGTERM_TRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PREFORK_SIGTERM_TRIES=%q: want a positive integer", v)
		}
		tries = n
	}
	bin := labtest.Binary(t, "servers/prefork")
	const hang = 15 * time.Second // far beyond a start plus a drain (grace 2 s)
	hangs, nonzero := 0, 0
	for i := 0; i < tries; i++ {
		workers := 1 + i%2
		delay := time.Duration(rand.IntN(40_000)) * time.Microsecond
		cmd := exec.Command(bin, "-addr", labtest.FreeAddr(t), "-workers", strconv.Itoa(workers), "-shutdown-grace", "2s")
		var stderr syncbuf.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, &stderr
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				// A SIGTERM before the master installs its handler kills it
				// by the default action: not a hang, and not a clean stop.
				var ee *exec.ExitError
				if !(errorsAs(err, &ee) && ee.ExitCode() == -1) {
					nonzero++
					t.Errorf("try %d (workers %d, SIGTERM after %v): master exited with %v:\n%s", i, workers, delay, err, stderr.String())
				}
			}
		case <-time.After(hang):
			hangs++
			t.Errorf("try %d (workers %d, SIGTERM after %v): master still running after %v:\n%s", i, workers, delay, hang, stderr.String())
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if left := waitGroupGone(cmd.Process.Pid, 3*time.Second); len(left) > 0 {
			t.Errorf("try %d: processes %v of the master's group outlived it", i, left)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	t.Logf("%d SIGTERMs during start-up (0–40 ms after exec): %d hangs, %d unclean exits", tries, hangs, nonzero)
}

func errorsAs(err error, target **exec.ExitError) bool {
	ee, ok := err.(*exec.ExitError)
	if ok {
		*target = ee
	}
	return ok
}

// waitGroupGone waits up to limit for every live (non-zombie) member of
// process group pgid to be gone and returns those that remain.
func waitGroupGone(pgid int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		left := groupMembers(pgid)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:])) // state ppid pgrp ...
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

// TestCleanStopLogs: a normal stop says only what happened. Every worker
// logs its clean exit, and fasthttp's internal "recovery doCommand …
// shutting down" (how the master ends the supervision loop) is not logged.
func TestCleanStopLogs(t *testing.T) {
	p := labtest.Start(t, labtest.Binary(t, "servers/prefork"), "", "-workers", "2")
	kids := children(p.Pid())
	if len(kids) != 2 {
		t.Fatalf("children %v, want 2", kids)
	}
	// A worker handles signals once it says "serving"; before that, a
	// SIGTERM ends it by the default action, without a drain.
	for start := time.Now(); strings.Count(p.Stderr.String(), ": serving") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("workers did not both say serving:\n%s", p.Stderr.String())
		}
	}
	p.Stop(10 * time.Second)
	logs := p.Stderr.String()
	for _, bad := range []string{"doCommand", "command producer", errShuttingDown.Error()} {
		if strings.Contains(logs, bad) {
			t.Errorf("a normal stop logged %q:\n%s", bad, logs)
		}
	}
	for _, k := range kids {
		if want := fmt.Sprintf("prefork worker %d: exited cleanly", k); strings.Count(logs, want) != 1 {
			t.Errorf("want %q once in the logs:\n%s", want, logs)
		}
	}
}

// TestStatsCountsConnections: /stats counts the open connections of every
// worker, never -1, whichever worker answers.
func TestStatsCountsConnections(t *testing.T) {
	// -reuseport spreads the connections over both workers.
	p := labtest.Start(t, labtest.Binary(t, "servers/prefork"), "", "-workers", "2", "-reuseport")
	const idle = 20
	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < idle; i++ {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		// One request each, so that a worker has accepted it.
		fmt.Fprintf(c, "GET /plaintext HTTP/1.1\r\nHost: lab\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conns = append(conns, c)
	}
	for i := 0; i < 4; i++ { // fresh connections: either worker may answer
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Get("http://" + p.Addr + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		var s procstat.Snapshot
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// At least the idle ones held and this request's own. More may
		// count: the harness's readiness connections and earlier /stats
		// connections while they close, however long that takes here.
		t.Logf("/stats open_connections %d with %d idle connections and this one open", s.OpenConnections, idle)
		if s.OpenConnections < idle+1 {
			t.Errorf("/stats open_connections %d with %d idle connections and this one open: not every worker's connections are counted", s.OpenConnections, idle)
		}
	}
}

// TestReuseport: with -reuseport every worker binds its own listening
// socket on the port (the kernel spreads new connections across them),
// where by default the workers share the master's one socket.
func TestReuseport(t *testing.T) {
	bin := labtest.Binary(t, "servers/prefork")
	for _, tc := range []struct {
		args      []string
		listeners int
	}{{nil, 1}, {[]string{"-reuseport"}, 2}} {
		t.Run(fmt.Sprint(tc.listeners), func(t *testing.T) {
			p := labtest.Start(t, bin, "", append([]string{"-workers", "2"}, tc.args...)...)
			_, port, _ := net.SplitHostPort(p.Addr)
			n, _ := strconv.Atoi(port)
			// The first worker answers readiness; the second may still be binding.
			got := listeners(n)
			for start := time.Now(); got != tc.listeners && time.Since(start) < 10*time.Second; got = listeners(n) {
				time.Sleep(20 * time.Millisecond)
			}
			if got != tc.listeners {
				t.Errorf("%v: %d listening sockets on port %d, want %d", tc.args, got, n, tc.listeners)
			}
			for i := 0; i < 8; i++ {
				resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Get("http://" + p.Addr + "/plaintext")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}

// listeners counts the LISTEN (0A) sockets on port in /proc/net/tcp.
func listeners(port int) int {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], ":"+hexPort(port)) && f[3] == "0A" {
			n++
		}
	}
	return n
}

// TestRepeatedSignals: every signal is handled. A second SIGTERM during
// the drain is logged and passed on; the master still drains and exits 0.
func TestRepeatedSignals(t *testing.T) {
	p := labtest.Start(t, labtest.Binary(t, "servers/prefork"), "", "-workers", "2", "-shutdown-grace", "5s")
	for start := time.Now(); strings.Count(p.Stderr.String(), ": serving") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("workers did not both say serving:\n%s", p.Stderr.String())
		}
	}
	// A request in flight keeps the drain open while the signals arrive.
	done := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + p.Addr + "/io?ms=600")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(150 * time.Millisecond)
	for i := 0; i < 3; i++ {
		syscall.Kill(p.Pid(), syscall.SIGTERM)
		time.Sleep(50 * time.Millisecond)
	}
	if st := <-done; st != 200 {
		t.Errorf("in-flight request during repeated SIGTERMs: status %d, want 200", st)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("master did not exit")
	}
	logs := p.Stderr.String()
	if n := strings.Count(logs, "terminated again"); n != 2 {
		t.Errorf("want the 2nd and 3rd SIGTERM logged as repeats, got %d:\n%s", n, logs)
	}
}
