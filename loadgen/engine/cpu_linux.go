package engine

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// cpuWindow measures the process's CPU time over the measured window: from
// the end of the warm-up (loop 0 marks it; Run marks it at the start when
// there is no warm-up) until the last loop stops its load, before the
// sockets are closed. Shared by the run's loops; guarded by mu.
type cpuWindow struct {
	mu         sync.Mutex
	start, end time.Duration
	live       int // loops that have not ended yet
}

// processCPU is the process's user + system CPU time (getrusage).
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (w *cpuWindow) markStart() {
	v := processCPU()
	w.mu.Lock()
	w.start = v
	w.mu.Unlock()
}

func (w *cpuWindow) loopEnded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.live--; w.live == 0 {
		w.end = processCPU()
	}
}

func (w *cpuWindow) used() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(w.end-w.start, 0)
}
