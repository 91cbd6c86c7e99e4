package suite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// server is a configuration the suite reaches: a process tree it started
// through internal/procman, or (external mode) a URL it was given. Owned by
// the runner's goroutine; Stop may also be called from the interrupt path,
// under procsMu.
type server struct {
	cfg catalog.Config
	*procman.Process
}

// external reports whether the suite did not start this server.
func (s *server) external() bool { return s.Process.External() }

// startServer starts cfg pinned to cpus through the process manager and
// waits until it answers. A stack whose requirements are missing returns an
// error matching procman.ErrNotInstalled.
func (r *runner) startServer(ctx context.Context, cfg catalog.Config, cpus, dependency string) (*server, error) {
	p, err := procman.Start(ctx, procman.Spec{Config: cfg, BinDir: r.o.BinDir, Root: r.root, CPUs: cpus, Dependency: dependency})
	if err != nil {
		return nil, err
	}
	return &server{cfg: cfg, Process: p}, nil
}

// reach waits for an external target (fails fast when nothing listens).
func reach(ctx context.Context, cfg catalog.Config, url string) (*server, error) {
	p, err := procman.Start(ctx, procman.Spec{Config: cfg, URL: url})
	if err != nil {
		return nil, err
	}
	return &server{cfg: cfg, Process: p}, nil
}

// stop stops the tree and proves nothing of it is left (procman.Stop).
func (s *server) stop(grace time.Duration) error { return s.Process.Stop(grace) }

// repoRoot finds the repository root from the binary folder (bin/ lies in
// it) or the working directory: a stack's Command runs from there.
func repoRoot(binDir string) string {
	for _, dir := range []string{filepath.Dir(absPath(binDir)), absPath(".")} {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return absPath(".")
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// sampleOf converts the process manager's usage to the results schema.
func sampleOf(u procman.Usage) results.ServerSample {
	return results.ServerSample{RSSBefore: u.RSSBefore, RSSPeak: u.RSSPeak, ThreadsPeak: u.ThreadsPeak, FDsPeak: u.FDsPeak,
		Processes: u.Processes, CPUUserS: u.CPUUserS, CPUSysS: u.CPUSysS, CtxVoluntary: u.CtxVoluntary,
		CtxInvoluntary: u.CtxInvoluntary, WallS: u.WallS, Samples: u.Samples, GOMAXPROCS: u.GOMAXPROCS}
}

func isNotInstalled(err error) bool { return errors.Is(err, procman.ErrNotInstalled) }
