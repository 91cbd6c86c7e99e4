package main

import (
	"bytes"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procstat"
)

// children returns the master's live child pids.
func children(master int) []int { return procstat.Descendants(master) }

// waitNoChildren waits up to limit for every child to be dead: gone, or a
// zombie (an orphan waits for whichever process reaps orphans here to collect it).
func waitNoChildren(t *testing.T, kids []int, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		alive := 0
		for _, k := range kids {
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(k) + "/stat"); err == nil && !bytes.Contains(b, []byte(") Z ")) {
				alive++
			}
		}
		if alive == 0 {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("children %v still alive %v after the master was stopped", kids, limit)
	return 0
}

func TestMasterStopLeavesNoChildren(t *testing.T) {
	bin := labtest.Binary(t, "servers/prefork")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			p := labtest.Start(t, bin, "", "-workers", "2")
			kids := children(p.Pid())
			if len(kids) != 2 {
				t.Fatalf("master %d has children %v, want 2", p.Pid(), kids)
			}
			syscall.Kill(p.Pid(), sig)
			took := waitNoChildren(t, kids, time.Second)
			t.Logf("%v to the master: 0 children after %v", sig, took)
			select {
			case <-p.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("master did not exit")
			}
			if sig == syscall.SIGTERM && p.Cmd.ProcessState.ExitCode() != 0 {
				t.Errorf("master exit code %d after SIGTERM, want 0", p.Cmd.ProcessState.ExitCode())
			}
		})
	}
}

func TestKilledChildIsRespawned(t *testing.T) {
	p := labtest.Start(t, labtest.Binary(t, "servers/prefork"), "", "-workers", "2")
	kids := children(p.Pid())
	if len(kids) != 2 {
		t.Fatalf("children %v, want 2", kids)
	}
	syscall.Kill(kids[0], syscall.SIGKILL)
	start := time.Now()
	for {
		now := children(p.Pid())
		if len(now) == 2 && now[0] != kids[0] && now[1] != kids[0] {
			t.Logf("respawned %d as one of %v after %v", kids[0], now, time.Since(start))
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no respawn after 5s: children %v", now)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Service continues: fresh connections all succeed.
	for i := 0; i < 20; i++ {
		resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + p.Addr + "/plaintext")
		if err != nil {
			t.Fatalf("request %d after the respawn: %v", i, err)
		}
		resp.Body.Close()
	}
}

// TestCrashLoopStopsLoudly: fasthttp's RecoverThreshold would end the master
// silently after a fixed number of child deaths over its whole life; the
// master instead tolerates deaths spread over time and stops with a clear
// error only on a crash loop.
func TestCrashLoopStopsLoudly(t *testing.T) {
	p := labtest.Start(t, labtest.Binary(t, "servers/prefork"), "", "-workers", "1")
	limit := crashLoopPerCPU * 1
	for i := 0; i <= limit+1; i++ {
		var kid []int
		for start := time.Now(); time.Since(start) < 5*time.Second && !exited(p); time.Sleep(5 * time.Millisecond) {
			if kid = children(p.Pid()); len(kid) == 1 {
				break
			}
		}
		if len(kid) == 0 {
			break // the master has stopped respawning
		}
		syscall.Kill(kid[0], syscall.SIGKILL)
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("master still running after %d child deaths in a burst", limit+2)
	}
	if code := p.Cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("master exit code 0 after a crash loop")
	}
	if !strings.Contains(p.Stderr.String(), "crash loop") {
		t.Errorf("master did not say why it stopped:\n%s", p.Stderr.String())
	}
}

func exited(p *labtest.Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}
