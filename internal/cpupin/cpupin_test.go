package cpupin

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// allowedLists reads Cpus_allowed_list of every thread of this process.
func allowedLists(t *testing.T) map[string]string {
	t.Helper()
	dirs, err := filepath.Glob("/proc/self/task/*/status")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no /proc/self/task/*/status: %v", err)
	}
	out := map[string]string{}
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
				out[filepath.Base(filepath.Dir(f))] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// TestPinEveryThread: after Pin (through the flag), every thread of the
// process — those that existed, and one started afterwards — allows only
// the chosen CPU, and GOMAXPROCS follows.
func TestPinEveryThread(t *testing.T) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	last := -1
	for c := 0; c < 1024; c++ {
		if orig.IsSet(c) {
			last = c
		}
	}
	if orig.Count() < 2 {
		t.Skip("this process may use one CPU only: pinning cannot be told apart")
	}
	// Several threads exist before the pin: the runtime's, plus a few
	// locked ones.
	stop := make(chan struct{})
	var wg, locked sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		locked.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			locked.Done()
			<-stop
		}()
	}
	locked.Wait()
	defer func() {
		close(stop)
		wg.Wait()
		restore(t, orig)
	}()
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	if n := len(allowedLists(t)); n < 4 {
		t.Fatalf("only %d threads before pinning; the test needs several", n)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	RegisterFlag(fs)
	want := strconv.Itoa(last)
	if err := fs.Parse([]string{"-cpus", want}); err != nil {
		t.Fatal(err)
	}
	// A thread created after the pin inherits it.
	wg.Add(1)
	locked.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		locked.Done()
		<-stop
	}()
	locked.Wait()
	for tid, l := range allowedLists(t) {
		if l != want {
			t.Errorf("thread %s: Cpus_allowed_list %q, want %q", tid, l, want)
		}
	}
	if g := runtime.GOMAXPROCS(0); g != 1 {
		t.Errorf("GOMAXPROCS = %d, want 1", g)
	}
}

func TestParse(t *testing.T) {
	if _, n, err := Parse("0,2-3"); err != nil || n != 3 {
		t.Fatalf("Parse(0,2-3) = %d, %v", n, err)
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0,,1", "5000"} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) did not fail", bad)
		}
	}
	if err := Pin(All); err != nil {
		t.Fatalf("Pin(all) = %v, want nil (no pinning)", err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	RegisterFlag(fs)
	if err := fs.Parse([]string{"-cpus", "x"}); err == nil || !strings.Contains(err.Error(), "-cpus") {
		t.Fatalf("bad -cpus: err = %v, want one that names -cpus", err)
	}
}

// restore puts every thread back on the original mask.
func restore(t *testing.T, orig unix.CPUSet) {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, tk := range tasks {
		tid, err := strconv.Atoi(tk.Name())
		if err != nil {
			continue
		}
		unix.SchedSetaffinity(tid, &orig)
	}
}
