// Package limits raises the process's open-file limit and reports what the
// hard cap still prevents. Servers and the load generator call RaiseNofile at
// start; it is safe to call from any goroutine, once.
package limits

import (
	"fmt"
	"syscall"
)

// RaiseNofile raises the soft RLIMIT_NOFILE to the hard limit and returns the
// resulting soft limit. On these machines the hard limit is 20,000 and even
// root cannot raise it, so callers compare what they need against the result
// and say what the cap prevents instead of failing later with EMFILE.
func RaiseNofile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit nofile: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, fmt.Errorf("setrlimit nofile to %d: %w", rl.Max, err)
		}
	}
	return rl.Cur, nil
}
