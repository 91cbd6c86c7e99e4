// Package labtest starts the lab's server binaries as real processes on
// loopback for tests and benchmarks, through the lab's one process manager
// (internal/procman). A Process is owned by the test that started it; its
// methods are safe to call from that test's goroutine.
package labtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/internal/syncbuf"
	"github.com/serverlab/lab/loadgen/catalog"
)

// ModuleRoot returns the repository root (the folder holding go.mod).
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := string(bytes.TrimSpace(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the lab's module")
	}
	return filepath.Dir(gomod), nil
}

var (
	buildMu    sync.Mutex
	buildCache = map[string]string{}
	buildDir   string
)

// Binary builds a main package (a path relative to the module root, such as
// servers/blocking) once per test process and returns the executable's path.
// With LABTEST_RACE=1 in the environment it builds with -race.
func Binary(tb testing.TB, pkg string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildCache[pkg]; ok {
		return p
	}
	root, err := ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	if buildDir == "" {
		if buildDir, err = os.MkdirTemp("", "labtest-bin-"); err != nil {
			tb.Fatal(err)
		}
	}
	out := filepath.Join(buildDir, filepath.Base(pkg))
	args := []string{"build", "-o", out}
	if os.Getenv("LABTEST_RACE") == "1" {
		// make test sets this: the servers run under the race detector while
		// the conformance cases drive them.
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./%s: %v\n%s", pkg, err, b)
	}
	buildCache[pkg] = out
	return out
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := procman.FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// Process is a server started by Start: a procman.Process (Addr, Cmd,
// Pid, Done, Logs) whose output is also Stderr.
type Process struct {
	*procman.Process
	Stderr *syncbuf.Buffer // the server's stdout and stderr (the first 64 KiB)
}

// Start runs bin with -addr and args on a free loopback port, in its own
// process group, pinned with taskset to cpus when cpus is not empty. It
// waits until GET /plaintext answers 200 and registers a cleanup that stops
// the tree and fails the test if any process of it was left, or if the race
// detector fired in the server.
func Start(tb testing.TB, bin, cpus string, args ...string) *Process {
	tb.Helper()
	spec := procman.Spec{Config: catalog.Config{Name: filepath.Base(bin)}, Binary: bin, CPUs: cpus, ExtraArgs: args,
		// Race-built servers would otherwise sleep a second at exit
		// (atexit_sleep_ms), which shutdown-timing tests would count.
		Env: []string{"GORACE=atexit_sleep_ms=0"}}
	pp, err := procman.Start(context.Background(), spec)
	if err != nil {
		tb.Fatalf("start %s %v: %v", filepath.Base(bin), args, err)
	}
	p := &Process{Process: pp, Stderr: pp.Logs}
	tb.Cleanup(func() {
		if err := p.Stop(5 * time.Second); err != nil && errors.Is(err, errLeftovers) {
			tb.Errorf("%s %v: %v", filepath.Base(bin), args, err)
		}
		if strings.Contains(p.Stderr.String(), "WARNING: DATA RACE") {
			tb.Errorf("%s %v: the race detector fired in the server:\n%s", filepath.Base(bin), args, p.Stderr.String())
		}
	})
	return p
}

var errLeftovers = errors.New("left processes behind")

// Stop stops the tree (SIGTERM to its group, SIGKILL after grace). It
// returns an error wrapping errLeftovers when a process of the tree was
// left, and otherwise the root's exit error. Calling it twice is safe.
func (p *Process) Stop(grace time.Duration) error {
	if err := p.Process.Stop(grace); err != nil {
		return fmt.Errorf("%w: %v", errLeftovers, err)
	}
	return p.Err()
}
