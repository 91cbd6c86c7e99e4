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

// fallbackWidth is the width assumed on a terminal that reports 0 columns
// (under script(1), in some CI terminals), where mpb would draw nothing.
const fallbackWidth = 80

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
	redraw   chan any      // terminal mode: asks mpb for a frame
}

func newProgress(w io.Writer, total time.Duration) *progress {
	pr := &progress{w: w, total: total, line: "running..."}
	f, ok := w.(*os.File)
	if !ok {
		return pr
	}
	width, ok := terminalWidth(f)
	if !ok {
		return pr
	}
	// One frame per engine snapshot (manual refresh): mpb's own ticker,
	// out of step with the engine's, drew some frames twice.
	pr.redraw = make(chan any, 1)
	out := w
	if width == 0 {
		// mpb sizes its frame from the terminal and draws nothing at 0
		// columns. Handed the terminal as a plain writer it uses the
		// width given here, and still redraws in place.
		width = fallbackWidth
		out = struct{ io.Writer }{w}
	}
	pr.p = mpb.New(mpb.WithOutput(out), mpb.WithWidth(width), mpb.WithManualRefresh(pr.redraw))
	pr.bar = pr.p.New(0, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			pr.mu.Lock()
			defer pr.mu.Unlock()
			// A line wider than the terminal wraps, and the redraw then
			// moves the cursor up one line too few: every frame would be
			// left on screen twice.
			return truncate(pr.line, width-1)
		})))
	return pr
}

// terminalWidth reports whether f is a terminal and its width in columns
// (0 when the terminal does not say).
func terminalWidth(f *os.File) (int, bool) {
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return 0, false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, true
	}
	return int(ws.Col), true
}

func truncate(s string, n int) string {
	if n > 0 && len(s) > n {
		return s[:n]
	}
	return s
}

// update receives a snapshot from the engine (the hey engine sends none).
func (pr *progress) update(s engine.Snapshot) {
	elapsed := s.Elapsed.Truncate(100 * time.Millisecond)
	of := ""
	if pr.total > 0 {
		of = " / " + pr.total.String()
	}
	line := fmt.Sprintf("%v%s  %.0f ok/s  p99 %v  errors %d  conns %d",
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
	if pr.bar != nil {
		select {
		case pr.redraw <- nil:
		default: // a frame is already due; it will show this line
		}
	}
}

// done ends the live line, leaving its last frame (the engine's final
// snapshot) on screen; the summary follows on stdout.
func (pr *progress) done() {
	if pr.bar == nil {
		return
	}
	pr.bar.Abort(false)
	pr.p.Wait()
}
