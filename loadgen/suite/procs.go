package suite

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/internal/syncbuf"
	"github.com/serverlab/lab/loadgen/catalog"
)

// server is a configuration the suite reaches: a process it started, or
// (external mode) a URL it was given. Owned by the runner's goroutine;
// Stop may also be called from the interrupt path, under procsMu.
type server struct {
	cfg     catalog.Config
	baseURL string // http://host:port
	addr    string
	cpus    string    // taskset list it was pinned to ("" external)
	cmd     *exec.Cmd // nil in external mode
	done    chan struct{}
	stderr  *syncbuf.Buffer
}

// pid is the server's root process (prefork: the master), or 0 in external mode.
func (s *server) pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServer starts cfg from binDir pinned to cpus and waits until it
// answers. It retries on a port taken in between.
func startServer(ctx context.Context, binDir string, cfg catalog.Config, cpus, dependency string) (*server, error) {
	bin := filepath.Join(binDir, cfg.Binary)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s: %w (run make build)", cfg.Name, err)
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args := append([]string{"-addr", addr}, cfg.Args...)
		if dependency != "" {
			args = append(args, "-dependency", dependency)
		}
		argv := append([]string{bin}, args...)
		if cpus != "" {
			argv = append([]string{"taskset", "-c", cpus}, argv...)
		}
		s := &server{cfg: cfg, addr: addr, baseURL: "http://" + addr, cpus: cpus, done: make(chan struct{}), stderr: &syncbuf.Buffer{Limit: 64 << 10}}
		s.cmd = exec.Command(argv[0], argv[1:]...)
		s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
		// Own process group: stop signals reach prefork's children too, and
		// a Ctrl-C at the terminal reaches only the suite, which then stops
		// the servers in order.
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := startPinnedThread(s.cmd); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name, err)
		}
		go func() { s.cmd.Wait(); close(s.done) }()
		if err := waitReady(ctx, s.baseURL, 10*time.Second, s.done); err != nil {
			s.stop(2 * time.Second)
			last = fmt.Errorf("%s: %w\n%s", cfg.Name, err, s.stderr.String())
			continue
		}
		return s, nil
	}
	return nil, last
}

// spawnc feeds the spawner goroutine. Pdeathsig is tied to the OS thread
// that forked the child, not to the process: if that thread ever exited, the
// server would be killed mid-run. The spawner locks itself to one thread for
// the suite's whole life, so servers die with the suite and only then.
var (
	spawnOnce sync.Once
	spawnc    = make(chan func())
)

func startPinnedThread(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the suite
			for f := range spawnc {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnc <- func() { errc <- cmd.Start() }
	return <-errc
}

// waitReady polls GET /plaintext until it answers 200: readiness, not a sleep.
func waitReady(ctx context.Context, baseURL string, timeout time.Duration, done <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("exited before it was ready")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(baseURL + "/plaintext"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", baseURL, timeout)
}

// stop sends SIGTERM to the server's process group, SIGKILLs it after
// grace, and then checks that the process and every descendant it had are
// gone. It returns an error naming any survivor.
func (s *server) stop(grace time.Duration) error {
	if s.cmd == nil {
		return nil
	}
	pid := s.cmd.Process.Pid
	tree := append([]int{pid}, procstat.Descendants(pid)...)
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(grace):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
	// Children of prefork die with their master (Pdeathsig); give the
	// kernel a moment, then make sure.
	deadline := time.Now().Add(2 * time.Second)
	for {
		alive := liveOf(tree)
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, p := range alive {
				syscall.Kill(p, syscall.SIGKILL)
			}
			return fmt.Errorf("%s: processes %v outlived their server; killed", s.cfg.Name, alive)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveOf returns the pids that still run (zombies count as gone: they have
// exited and wait only for their reaper).
func liveOf(pids []int) []int {
	var alive []int
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			continue
		}
		alive = append(alive, p)
	}
	return alive
}
