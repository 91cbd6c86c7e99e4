// Package labtest starts the lab's server binaries as real processes on
// loopback for tests and benchmarks. A Process is owned by the test that
// started it; its methods are safe to call from that test's goroutine.
package labtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/syncbuf"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Process is a server started by Start.
type Process struct {
	Addr   string
	Cmd    *exec.Cmd
	Stderr *syncbuf.Buffer
	done   chan struct{}
	err    error
}

// Start runs bin with -addr and args on a free loopback port, in its own
// process group, pinned with taskset to cpus when cpus is not empty and
// taskset exists. It waits until GET /plaintext answers 200 and registers a
// cleanup that stops the group and waits for it.
func Start(tb testing.TB, bin, cpus string, args ...string) *Process {
	tb.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := start(bin, FreeAddr(tb), cpus, args)
		if err == nil {
			tb.Cleanup(func() {
				p.Stop(5 * time.Second)
				if strings.Contains(p.Stderr.String(), "WARNING: DATA RACE") {
					tb.Errorf("%s %v: the race detector fired in the server:\n%s", filepath.Base(bin), args, p.Stderr.String())
				}
			})
			return p
		}
		lastErr = err
	}
	tb.Fatalf("start %s %v: %v", filepath.Base(bin), args, lastErr)
	return nil
}

func start(bin, addr, cpus string, args []string) (*Process, error) {
	argv := append([]string{bin, "-addr", addr}, args...)
	if cpus != "" && runtime.NumCPU() > 1 {
		if ts, err := exec.LookPath("taskset"); err == nil {
			argv = append([]string{ts, "-c", cpus}, argv...)
		}
	}
	p := &Process{Addr: addr, Stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.Cmd = exec.Command(argv[0], argv[1:]...)
	// Race-built servers would otherwise sleep a second at exit
	// (atexit_sleep_ms), which shutdown-timing tests would count.
	p.Cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p.Cmd.Stderr = p.Stderr
	p.Cmd.Stdout = p.Stderr
	p.Cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	if err := WaitReady("http://"+addr+"/plaintext", 10*time.Second, p.done); err != nil {
		p.Stop(time.Second)
		return nil, fmt.Errorf("%w; stderr:\n%s", err, p.Stderr.String())
	}
	return p, nil
}

// WaitReady polls url until it answers 200, the process exits (done closes),
// or the timeout passes.
func WaitReady(url string, timeout time.Duration, done <-chan struct{}) error {
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("server exited before it was ready")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}

// Pid is the server's process id (the master, for prefork; taskset execs in place).
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs
// the group. It returns the process's exit error. Calling it twice is safe.
func (p *Process) Stop(grace time.Duration) error {
	pgid := p.Cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group, if any
	return p.err
}
