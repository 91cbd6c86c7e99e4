package suite

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// unixCPUSet reads this process's CPU affinity.
type unixCPUSet struct{}

// allowed returns the CPUs this process may run on, ascending.
func (unixCPUSet) allowed() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return []int{0}
	}
	var out []int
	for i := 0; i < 1024; i++ {
		if set.IsSet(i) {
			out = append(out, i)
		}
	}
	return out
}

// cpuList formats CPUs as a taskset list: "0", "0,1", "2-5".
func cpuList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i+1 {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, strconv.Itoa(cpus[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// parseCPUList parses a taskset list; it returns nil for a malformed one.
func parseCPUList(s string) []int {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
}

// ValidateCPUList checks a taskset list against the CPUs this process may use.
func ValidateCPUList(s string) error {
	cpus := parseCPUList(s)
	if len(cpus) == 0 {
		return fmt.Errorf("bad CPU list %q (want e.g. 0 or 0,1 or 2-5)", s)
	}
	var set unixCPUSet
	allowed := map[int]bool{}
	for _, c := range set.allowed() {
		allowed[c] = true
	}
	for _, c := range cpus {
		if !allowed[c] {
			return fmt.Errorf("CPU %d in %q is not available to this process (allowed: %s)", c, s, cpuList(set.allowed()))
		}
	}
	return nil
}

// uniqueSorted returns the distinct CPUs of xs, ascending.
func uniqueSorted(xs []int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Ints(out)
	return out
}

// AllowedCPUs is this process's CPU affinity as a taskset list.
func AllowedCPUs() string { return cpuList(unixCPUSet{}.allowed()) }
