package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"

	"github.com/serverlab/lab/loadgen/engine"
)

// plainEvery is how often a plain progress line is printed when stderr is
// not a terminal (logs, CI, the suite): rarely, so logs stay readable.
const plainEvery = 10 * time.Second

// progress shows the engine's snapshots on stderr: a live line redrawn by
// mpb on a terminal, an occasional plain line otherwise.
//
// update is called from the engine's progress goroutine, the mpb decorator
// from mpb's render goroutine, done from the caller's; mu guards the state
// they share.
type progress struct {
	w        io.Writer
	total    time.Duration // planned duration, 0 when bounded by -n only
	bar      *mpb.Bar      // nil when not on a terminal
	p        *mpb.Progress //
	mu       sync.Mutex    //
	line     string        // latest rendered snapshot
	lastShow time.Duration // plain mode: elapsed time of the last printed line
}

func newProgress(w io.Writer, total time.Duration) *progress {
	pr := &progress{w: w, total: total, line: "running..."}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		pr.p = mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond))
		pr.bar = pr.p.New(0, mpb.NopStyle(),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
				pr.mu.Lock()
				defer pr.mu.Unlock()
				return pr.line
			})))
	}
	return pr
}

// isTerminal reports whether f is a terminal with a known width (mpb stops
// drawing when it cannot read the size, as under a bare pty).
func isTerminal(f *os.File) bool {
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil && ws.Col > 0
}

// update receives a snapshot from the engine (the hey engine sends none).
func (pr *progress) update(s engine.Snapshot) {
	elapsed := s.Elapsed.Truncate(100 * time.Millisecond)
	of := ""
	if pr.total > 0 {
		of = " / " + pr.total.String()
	}
	line := fmt.Sprintf("%v%s  %.0f req/s  p99 %v  errors %d  conns %d",
		elapsed, of, s.RPS, s.P99, s.Errors, s.Conns)
	pr.mu.Lock()
	pr.line = line
	show := pr.bar == nil && s.Elapsed-pr.lastShow >= plainEvery
	if show {
		pr.lastShow = s.Elapsed
	}
	pr.mu.Unlock()
	if show {
		fmt.Fprintf(pr.w, "progress: %s\n", line)
	}
}

// done removes the live line; the summary follows on stdout.
func (pr *progress) done() {
	if pr.bar == nil {
		return
	}
	pr.bar.Abort(true)
	pr.p.Wait()
}
