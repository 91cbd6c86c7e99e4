package procman

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/loadgen/catalog"
)

// pyServer is a stack configuration that serves {state}/plaintext with
// Python's http.server after running pre (shell) first. It needs only
// /usr/bin/python3 and sh.
func pyServer(t *testing.T, pre string) catalog.Config {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		t.Skipf("needs %s: %v", Python, err)
	}
	script := "echo ok > {state}/plaintext; " + pre + " exec " + Python + " -m http.server --bind {host} {port} --directory {state}"
	return catalog.Config{Name: "pytest", Kind: catalog.KindStack, Command: []string{"sh", "-c", script},
		Requires: []string{Python}}
}

func readPids(t *testing.T, p *Process) []int {
	t.Helper()
	b, err := os.ReadFile(p.State + "/pids")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func running(pid int) bool {
	st, ok := readStat(pid)
	return ok && st.state != "Z"
}

// TestStartStopTree starts a root that forks a child and an orphaned
// grandchild, samples the tree, and checks that Stop leaves none of them.
func TestStartStopTree(t *testing.T) {
	// A child in the background, and a grandchild whose parent exits at
	// once (it is reparented away from the tree, but stays in the group).
	cfg := pyServer(t, "sleep 300 & echo $! >> {state}/pids; (sleep 300 & echo $! >> {state}/pids) ;")
	ctx := context.Background()
	p, err := Start(ctx, Spec{Config: cfg, CPUs: "0"})
	if err != nil {
		t.Fatal(err)
	}
	kids := readPids(t, p)
	if len(kids) != 2 {
		t.Fatalf("want 2 background pids, got %v", kids)
	}
	for _, k := range kids {
		if !running(k) {
			t.Fatalf("pid %d not running before Stop", k)
		}
	}
	sm := p.Sample(ctx, 0)
	time.Sleep(50 * time.Millisecond)
	u := sm.Finish(ctx)
	if u.Samples < 1 || u.Processes < 2 || u.RSSPeak <= 0 || u.ThreadsPeak < 2 {
		t.Errorf("usage of the tree: %+v", u)
	}
	state := p.State
	if err := p.Stop(2 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	for _, k := range append(kids, p.Pid()) {
		if running(k) {
			t.Errorf("pid %d outlived Stop", k)
		}
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state dir %s not removed: %v", state, err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestStopNamesEscapee: a descendant that left the process group (setsid)
// and ignores SIGTERM survives the group's signals; Stop must say so, name
// it, and kill it.
func TestStopNamesEscapee(t *testing.T) {
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		t.Skip("needs setsid (util-linux)")
	}
	cfg := pyServer(t, "setsid sh -c 'trap \"\" TERM; exec sleep 300' & echo $! >> {state}/pids;")
	p, err := Start(context.Background(), Spec{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	pids := readPids(t, p)
	err = p.Stop(time.Second)
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(pids[0])) {
		t.Errorf("Stop = %v, want an error naming %d", err, pids[0])
	}
	time.Sleep(50 * time.Millisecond)
	if running(pids[0]) {
		syscall.Kill(pids[0], syscall.SIGKILL)
		t.Errorf("escapee %d still runs after Stop", pids[0])
	}
}

// TestReadinessFailsWithReason: a root that exits is reported at once, with
// its exit status and its last output.
func TestReadinessFailsWithReason(t *testing.T) {
	cfg := catalog.Config{Name: "dies", Kind: catalog.KindStack, Command: []string{"sh", "-c", "echo cannot bind >&2; exit 3"}}
	t0 := time.Now()
	_, err := Start(context.Background(), Spec{Config: cfg, ReadyTimeout: time.Minute})
	if err == nil {
		t.Fatal("Start succeeded for a command that exits")
	}
	for _, want := range []string{"exited before it was ready", "exit status 3", "cannot bind"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if time.Since(t0) > 30*time.Second {
		t.Errorf("took %s: the exit should end the wait", time.Since(t0))
	}
}

// TestExternalRefusedFailsFast: nothing listens at the URL.
func TestExternalRefusedFailsFast(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Spec{Config: catalog.Config{Name: "gone"}, URL: "http://" + addr, ReadyTimeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Start = %v, want connection refused", err)
	}
}

func TestNotInstalled(t *testing.T) {
	cfg := catalog.Config{Name: "ghost", Kind: catalog.KindStack, Command: []string{"true"},
		Requires: []string{"/nonexistent/lab/bin", "python3:no_such_module_for_the_lab"}}
	_, err := Start(context.Background(), Spec{Config: cfg})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Start = %v, want ErrNotInstalled", err)
	}
	var ni *NotInstalledError
	if !errors.As(err, &ni) || len(ni.Missing) != 2 {
		t.Fatalf("missing: %+v", ni)
	}
}

func TestExpand(t *testing.T) {
	got := Expand("{host}:{port} {addr} {x}", map[string]string{"host": "h", "port": "1", "addr": "h:1"})
	if got != "h:1 h:1 {x}" {
		t.Errorf("Expand = %q", got)
	}
}
