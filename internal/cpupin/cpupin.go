// Package cpupin pins a whole process to a list of CPUs (owner: H).
//
// Docker Swarm ignores compose's cpuset, so the lab's binaries take a
// -cpus flag instead (RegisterFlag). sched_setaffinity applies to one
// thread, and a Go process already runs several (the runtime's), so Pin
// sets the mask on every thread in /proc/self/task — twice over, in case one
// appeared meanwhile — starting with the calling thread; threads created
// later inherit the mask of their creator, which is pinned. It then sets
// GOMAXPROCS to the number of CPUs. taskset -a does the same from outside;
// images FROM scratch have no taskset, hence this package.
package cpupin

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Parse parses a CPU list in taskset's syntax ("0", "1-3", "0,2-3").
func Parse(list string) (unix.CPUSet, int, error) {
	var set unix.CPUSet
	if strings.TrimSpace(list) == "" {
		return set, 0, fmt.Errorf("empty CPU list (example: 0,2-3)")
	}
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a || b >= 1024 {
			return set, 0, fmt.Errorf("bad CPU list %q at %q (example: 0,2-3)", list, part)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
		}
	}
	return set, set.Count(), nil
}

// All is the list that means "do not pin" (a stack file's default, for
// hosts the process has to itself).
const All = "all"

// Pin moves every thread of this process onto the CPUs in list and sets
// GOMAXPROCS to the number it may now use. List All changes nothing. A list
// with no CPU this process may use fails with the kernel's EINVAL, named.
func Pin(list string) error {
	if strings.TrimSpace(list) == All {
		return nil
	}
	set, _, err := Parse(list)
	if err != nil {
		return err
	}
	// The calling thread first: a thread it spawns while we walk the list
	// inherits the new mask.
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("-cpus %s: sched_setaffinity: %w", list, err)
	}
	for pass := 0; pass < 2; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("-cpus %s: %w", list, err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("-cpus %s: sched_setaffinity(thread %d): %w", list, tid, err)
			}
		}
	}
	// The kernel drops CPUs outside the cgroup's cpuset or offline: count
	// what is left.
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("-cpus %s: sched_getaffinity: %w", list, err)
	}
	runtime.GOMAXPROCS(set.Count())
	return nil
}

// RegisterFlag adds -cpus to fs. The process pins itself while fs parses
// the flag, so a main needs only this one line; a bad list or a failed pin
// is a flag error (the message names the flag).
func RegisterFlag(fs *flag.FlagSet) {
	fs.Func("cpus", "pin every thread of this process to these CPUs (taskset syntax: 0,2-3; \"all\": do not pin); for Docker Swarm, which ignores cpuset", Pin)
}
