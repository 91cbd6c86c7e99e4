// Package procman is the lab's one process manager. It starts a catalog
// configuration (a Go twin from bin/, a real stack from stacks/, the fan-out
// dependency) as a process tree, or reaches an external URL, and owns that
// tree until Stop proves nothing of it is left:
//
//   - the configuration is data (catalog.Config): a twin's Binary and Args,
//     or a stack's Command and Env with placeholders, expanded here;
//   - CPU pinning with taskset, an own process group, Pdeathsig from a
//     thread locked for the manager's whole life;
//   - exec.CommandContext with Cancel (SIGTERM to the group) and WaitDelay,
//     so no process outlives its owner's context;
//   - readiness by polling, failing fast with the reason when the process
//     exits or an external target refuses connections;
//   - a /proc sampler for the whole tree (internal/procstat);
//   - Stop: SIGTERM to the group, SIGKILL after a grace period, then a check
//     that no process of the tree is left, with an error naming survivors.
//
// The suite, labtest (and through it the servers' and conformance tests),
// live mode and the stacks' conformance all start processes here. The
// pattern follows cmd/go/internal/script's startCommand (STYLE.md 15).
package procman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/internal/syncbuf"
	"github.com/serverlab/lab/loadgen/catalog"
)

// Python is the interpreter the Debian stack packages belong to. The
// python3 first on PATH may be another one (a pyenv) without them.
const Python = "/usr/bin/python3"

// Defaults.
const (
	DefaultGrace        = 5 * time.Second
	DefaultReadyTwin    = 10 * time.Second
	DefaultReadyStack   = 60 * time.Second // a JVM or a Django import on a busy core
	DefaultReadyRefused = time.Second      // how long an external target may refuse
	logLimit            = 64 << 10
)

// Spec says what to start and how. Only Config is required for a twin whose
// binary lies in bin/ under the working directory.
type Spec struct {
	Config catalog.Config
	// BinDir holds twin binaries (default "bin", relative to Root).
	BinDir string
	// Binary overrides the twin's executable path (tests build their own).
	Binary string
	// Root is the repository root: a stack's working directory, and the
	// base of {stack} (default: the working directory).
	Root string
	// CPUs is a taskset list ("0", "0,1"); empty runs unpinned.
	CPUs string
	// Addr is the host:port to listen on; empty picks a free loopback port
	// (and retries on a port taken in between).
	Addr string
	// Dependency is the fan-out dependency's host:port ("" none): a twin gets
	// -dependency, a stack the {dependency} placeholder.
	Dependency string
	// URL makes this an external target: nothing is started, readiness is
	// polled at URL, and Snapshot asks its /stats.
	URL string
	// ReadyPath is polled until it answers 200 (default /plaintext).
	ReadyPath string
	// ReadyTimeout bounds the readiness wait (default 10 s for a twin,
	// 60 s for a stack).
	ReadyTimeout time.Duration
	// Env is added to the environment (KEY=value), after the config's Env.
	Env []string
	// ExtraArgs are appended to a twin's command line.
	ExtraArgs []string
	// Vars are extra placeholders for a stack's or client's Command ({n},
	// {ms}: an outbound client's settings).
	Vars map[string]string
}

// Process is one started configuration (or a reached external target). It
// is owned by whoever called Start; Stop, Snapshot, Done and the accessors
// are safe to call from any goroutine.
type Process struct {
	Name    string
	Addr    string // host:port it listens on
	BaseURL string // http://host:port
	CPUs    string // taskset list it was pinned to ("" unpinned or external)
	State   string // its private {state} directory ("" for twins and external)
	Cmd     *exec.Cmd
	Logs    *syncbuf.Buffer // stdout and stderr, first 64 KiB
	spec    Spec

	cancel context.CancelFunc
	done   chan struct{}
	err    error // the exit error, set before done closes

	mu   sync.Mutex
	seen map[int]uint64 // every pid ever seen in the tree → its start time, for the final check

	stopOnce sync.Once
	stopErr  error
}

// ErrNotInstalled is the sentinel of NotInstalledError.
var ErrNotInstalled = errors.New("not installed")

// NotInstalledError says what a stack needs that this machine lacks.
type NotInstalledError struct {
	Name    string
	Missing []string
}

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("%s: not installed: missing %s (run scripts/install-stacks.sh)", e.Name, strings.Join(e.Missing, ", "))
}

// Is makes errors.Is(err, ErrNotInstalled) true.
func (e *NotInstalledError) Is(target error) bool { return target == ErrNotInstalled }

// Check returns a *NotInstalledError when something cfg.Requires is
// missing, relative paths being relative to the repository root (found
// from the working directory).
func Check(cfg catalog.Config) error { return CheckIn(ModuleRoot(), cfg) }

// CheckIn is Check with relative paths relative to root.
func CheckIn(root string, cfg catalog.Config) error {
	if m := MissingIn(root, cfg.Requires); len(m) > 0 {
		return &NotInstalledError{Name: cfg.Name, Missing: m}
	}
	return nil
}

// ModuleRoot is the repository root: the nearest folder at or above the
// working directory that holds go.mod (the working directory if none).
func ModuleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

var (
	moduleMu    sync.Mutex
	moduleCache = map[string]bool{}
)

// Missing returns the requirements that are not met: a path that does not
// exist (relative: to the working directory), or "python3:<module>" that
// /usr/bin/python3 cannot import. A bare command name (no slash) is looked
// up on PATH.
func Missing(requires []string) []string { return MissingIn("", requires) }

// MissingIn is Missing with relative paths relative to root.
func MissingIn(root string, requires []string) []string {
	var out []string
	for _, r := range requires {
		if mod, ok := strings.CutPrefix(r, "python3:"); ok {
			if !pythonHas(mod) {
				out = append(out, r)
			}
			continue
		}
		if !strings.Contains(r, "/") {
			if _, err := exec.LookPath(r); err != nil {
				out = append(out, r)
			}
			continue
		}
		path := r
		if root != "" && !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if _, err := os.Stat(path); err != nil {
			out = append(out, r)
		}
	}
	return out
}

func pythonHas(mod string) bool {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	if ok, cached := moduleCache[mod]; cached {
		return ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok := exec.CommandContext(ctx, Python, "-c", "import "+mod).Run() == nil
	moduleCache[mod] = ok
	return ok
}

// FreeAddr returns a loopback address whose port was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Expand replaces the placeholders {addr} {host} {port} {dependency}
// {stack} {state} {python} in s.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// Start starts spec (or, with spec.URL, reaches it) and waits until it is
// ready. A stack whose Requires are missing yields a *NotInstalledError
// (errors.Is ErrNotInstalled). On any failure nothing is left running. ctx
// bounds the process's whole life: when it ends the group gets SIGTERM.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	if spec.URL != "" {
		return reach(ctx, spec)
	}
	if spec.Root == "" {
		spec.Root = ModuleRoot()
	}
	if err := CheckIn(spec.Root, spec.Config); err != nil {
		return nil, err
	}
	var last error
	attempts := 3
	if spec.Addr != "" {
		attempts = 1
	}
	for i := 0; i < attempts; i++ {
		p, err := start(ctx, spec)
		if err == nil {
			return p, nil
		}
		last = err
		if ctx.Err() != nil || errors.Is(err, errNoRetry) {
			break
		}
	}
	return nil, last
}

var errNoRetry = errors.New("not retried")

func reach(ctx context.Context, spec Spec) (*Process, error) {
	u := strings.TrimRight(spec.URL, "/")
	host := strings.TrimPrefix(u, "http://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	p := &Process{Name: spec.Config.Name, Addr: host, BaseURL: u, spec: spec, done: nil}
	if err := p.WaitReady(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func start(ctx context.Context, spec Spec) (*Process, error) {
	p, logsDone, err := launch(ctx, spec, nil)
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx); err != nil {
		p.Stop(2 * time.Second)
		select { // the last words, once every writer has closed the pipe
		case <-logsDone:
		case <-time.After(time.Second):
		}
		return nil, fmt.Errorf("%w\n%s", err, tail(p.Logs.String(), 2048))
	}
	return p, nil
}

// launch spawns spec's process tree; stdout, when set, gets the command's
// standard output (Logs then gets only its standard error). logsDone closes
// when every writer of the output pipes has closed them.
func launch(ctx context.Context, spec Spec, stdout io.Writer) (*Process, <-chan struct{}, error) {
	cfg := spec.Config
	addr := spec.Addr
	if addr == "" {
		a, err := FreeAddr()
		if err != nil {
			return nil, nil, err
		}
		addr = a
	}
	host, port, _ := net.SplitHostPort(addr)
	root := spec.Root
	p := &Process{Name: cfg.Name, Addr: addr, BaseURL: "http://" + addr, CPUs: spec.CPUs, spec: spec,
		Logs: &syncbuf.Buffer{Limit: logLimit}, done: make(chan struct{}), seen: map[int]uint64{}}

	var argv, env []string
	switch cfg.Kind {
	case catalog.KindStack, catalog.KindClient:
		if len(cfg.Command) == 0 {
			return nil, nil, fmt.Errorf("%s: %w: a stack needs a Command", cfg.Name, errNoRetry)
		}
		state, err := os.MkdirTemp("", "lab-"+cfg.Name+"-")
		if err != nil {
			return nil, nil, err
		}
		p.State = state
		stackDir := cfg.StackDir
		if stackDir == "" {
			stackDir = filepath.Join("stacks", cfg.Name)
		}
		if !filepath.IsAbs(stackDir) {
			stackDir = filepath.Join(root, stackDir)
		}
		vars := map[string]string{"addr": addr, "host": host, "port": port, "dependency": spec.Dependency,
			"stack": stackDir, "state": state, "python": Python, "root": root}
		for k, v := range spec.Vars {
			vars[k] = v
		}
		for _, a := range cfg.Command {
			argv = append(argv, Expand(a, vars))
		}
		for _, e := range cfg.Env {
			env = append(env, Expand(e, vars))
		}
	default: // a twin or the dependency: a Go binary from bin/
		bin := spec.Binary
		if bin == "" {
			dir := spec.BinDir
			if dir == "" {
				dir = "bin"
			}
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(root, dir)
			}
			bin = filepath.Join(dir, cfg.Binary)
		}
		if _, err := os.Stat(bin); err != nil {
			return nil, nil, fmt.Errorf("%s: %w (run make build): %w", cfg.Name, err, errNoRetry)
		}
		argv = append([]string{bin, "-addr", addr}, cfg.Args...)
		if spec.Dependency != "" {
			argv = append(argv, "-dependency", spec.Dependency)
		}
		argv = append(argv, spec.ExtraArgs...)
	}
	env = append(env, spec.Env...)
	if spec.CPUs != "" && runtime.NumCPU() > 1 {
		ts, err := exec.LookPath("taskset")
		if err != nil {
			p.removeState()
			return nil, nil, fmt.Errorf("%s: pinning to CPUs %s needs taskset (util-linux): %w", cfg.Name, spec.CPUs, errNoRetry)
		}
		argv = append([]string{ts, "-c", spec.CPUs}, argv...)
	}

	pctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	cmd := exec.CommandContext(pctx, argv[0], argv[1:]...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	// Output goes through a pipe of our own rather than os/exec's copying
	// goroutine: Wait (and so Done) then means "the root exited", not "every
	// process holding the pipe exited", which a leftover would delay.
	pr, pw, err := os.Pipe()
	if err != nil {
		cancel()
		p.removeState()
		return nil, nil, err
	}
	logsDone := make(chan struct{})
	go func() { io.Copy(p.Logs, pr); pr.Close(); close(logsDone) }()
	cmd.Stdout, cmd.Stderr = pw, pw
	var opw *os.File
	outDone := make(chan struct{})
	if stdout != nil {
		var opr *os.File
		opr, opw, err = os.Pipe()
		if err != nil {
			pw.Close()
			cancel()
			p.removeState()
			return nil, nil, err
		}
		go func() { io.Copy(stdout, opr); opr.Close(); close(outDone) }()
		cmd.Stdout = opw
	} else {
		close(outDone)
	}
	both := make(chan struct{})
	go func() { <-logsDone; <-outDone; close(both) }()
	// Own process group: stop signals reach every worker (prefork's
	// children, gunicorn's and uvicorn's workers, nginx's), and a Ctrl-C at
	// the terminal reaches only the owner, which then stops its processes in
	// order. Pdeathsig: the root dies with the thread that forked it (see
	// spawn), so a killed owner leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// When the owner's context ends: SIGTERM to the whole group, and
	// SIGKILL to the root if it has not exited WaitDelay later. Stop is the
	// orderly path; this is the safety net.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = DefaultGrace
	p.Cmd = cmd
	err = spawn(cmd)
	pw.Close() // the child holds its own copy
	if opw != nil {
		opw.Close()
	}
	if err != nil {
		cancel()
		p.removeState()
		return nil, nil, fmt.Errorf("%s: start %s: %w", cfg.Name, argv[0], err)
	}
	p.note(cmd.Process.Pid)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, both, nil
}

// tail returns the last n bytes of s, cut at a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…\n" + s
}

// spawnc feeds the spawner goroutine. Pdeathsig is tied to the OS thread
// that forked the child, not to the process: if that thread ever exited, the
// server would be killed mid-run. The spawner locks itself to one thread for
// the process's whole life, so servers die with their owner and only then.
var (
	spawnOnce sync.Once
	spawnc    = make(chan func())
)

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for f := range spawnc {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawnc <- func() { errc <- cmd.Start() }
	return <-errc
}

// External reports whether p is a target the manager did not start.
func (p *Process) External() bool { return p.Cmd == nil }

// Pid is the root process's id (prefork, gunicorn, nginx: the master;
// taskset execs in place), or 0 for an external target.
func (p *Process) Pid() int {
	if p.Cmd == nil || p.Cmd.Process == nil {
		return 0
	}
	return p.Cmd.Process.Pid
}

// Done is closed when the root process has exited and been reaped (never,
// for an external target).
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the root's exit error, valid once Done is closed.
func (p *Process) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Exited reports whether the root process has exited.
func (p *Process) Exited() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *Process) note(pids ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pid := range pids {
		if _, ok := p.seen[pid]; ok {
			continue
		}
		if st, ok := readStat(pid); ok {
			p.seen[pid] = st.start
		}
	}
}

func (p *Process) removeState() {
	if p.State != "" {
		os.RemoveAll(p.State)
	}
}

// Stop ends the process tree: SIGTERM to the group, SIGKILL to the group if
// the root has not exited after grace, then a check that no process of the
// tree (the group, and every pid the sampler ever saw in it) is left. It
// returns an error naming any survivor (which it then kills). It removes
// the {state} directory. Calling it again returns the first result; for an
// external target it does nothing.
func (p *Process) Stop(grace time.Duration) error {
	if p.Cmd == nil {
		return nil
	}
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	defer p.removeState()
	defer p.cancel()
	pid := p.Pid()
	p.note(procstat.Descendants(pid)...)
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	// Workers (prefork's children, gunicorn's) exit with their master or
	// just after; give them the grace too, then insist.
	deadline := time.Now().Add(max(grace, 2*time.Second))
	for {
		alive := p.Leftovers()
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			for _, q := range alive {
				syscall.Kill(q, syscall.SIGKILL)
			}
			syscall.Kill(-pid, syscall.SIGKILL)
			return fmt.Errorf("%s: processes %v outlived their root %d; killed", p.Name, alive, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Leftovers returns the live processes of the tree: members of its process
// group, and every process ever seen in it that still runs (same pid, same
// start time: a reused pid is someone else's). Zombies count as gone: they
// have exited and wait only for their reaper.
func (p *Process) Leftovers() []int {
	if p.Cmd == nil {
		return nil
	}
	pid := p.Pid()
	set := map[int]bool{}
	for _, q := range groupMembers(pid) {
		set[q] = true
	}
	p.mu.Lock()
	for q, start := range p.seen {
		if st, ok := readStat(q); ok && st.start == start {
			set[q] = true
		}
	}
	p.mu.Unlock()
	var out []int
	for q := range set {
		if st, ok := readStat(q); ok && st.state != "Z" && st.state != "X" {
			out = append(out, q)
		}
	}
	sort.Ints(out)
	return out
}

type stat struct {
	state string
	pgrp  int
	start uint64 // clock ticks after boot
}

func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state), f[2] pgrp, f[19] starttime
	if len(f) < 20 {
		return stat{}, false
	}
	pg, _ := strconv.Atoi(f[2])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return stat{state: f[0], pgrp: pg, start: start}, true
}

// groupMembers scans /proc for the processes of group pgid.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.pgrp == pgid {
			out = append(out, pid)
		}
	}
	return out
}

// Output is what a one-shot command (Run) left: its standard output, the
// tree's resource use while it ran, and its exit error.
type Output struct {
	Stdout []byte
	Usage  Usage
	Err    error // the exit error (nil: exit status 0)
}

// Run runs spec's command (a client: Kind catalog.KindClient, or any
// Command) to its end, pinned and in its own process group like a server,
// samples its tree meanwhile, and then proves nothing of the tree is left.
// ctx bounds it: when ctx ends the tree gets SIGTERM, then SIGKILL.
func Run(ctx context.Context, spec Spec) (*Output, error) {
	if spec.Root == "" {
		spec.Root = ModuleRoot()
	}
	if err := CheckIn(spec.Root, spec.Config); err != nil {
		return nil, err
	}
	var stdout syncbuf.Buffer
	stdout.Limit = 1 << 20
	p, outDone, err := launch(ctx, spec, &stdout)
	if err != nil {
		return nil, err
	}
	sm := p.Sample(ctx, 0)
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	u := sm.Finish(ctx)
	stopErr := p.Stop(DefaultGrace)
	select {
	case <-outDone:
	case <-time.After(time.Second):
	}
	out := &Output{Stdout: []byte(stdout.String()), Usage: u, Err: p.Err()}
	if stopErr != nil {
		return out, stopErr
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	if out.Err != nil {
		return out, fmt.Errorf("%s: %v\n%s", spec.Config.Name, out.Err, tail(p.Logs.String(), 2048))
	}
	return out, nil
}
