package live

import (
	"context"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/internal/procstat"
)

// Process is one configuration that live mode reaches: a process tree it
// started, or an external target. Its methods are safe for concurrent use.
type Process interface {
	BaseURL() string                    // http://host:port
	Addr() string                       // host:port, what servers take as -dependency
	Sample() (procstat.Snapshot, error) // the tree's resource use
	// Stop stops the tree and returns an error naming any process that was
	// left (and then killed). It is idempotent; for an external target it
	// does nothing.
	Stop() error
}

// Launcher starts configurations. The production one, ProcmanLauncher, is
// the lab's one process manager (internal/procman); tests may pass another.
type Launcher interface {
	// Start starts spec (a twin, a stack, the dependency, or an external
	// URL) and returns when it answers. The process lives until Stop or
	// until ctx ends.
	Start(ctx context.Context, spec procman.Spec) (Process, error)
}

// ProcmanLauncher starts configurations with internal/procman, twins from
// BinDir.
type ProcmanLauncher struct{ BinDir string }

// stopGrace is how long a stopped server gets to finish before SIGKILL.
const stopGrace = 3 * time.Second

// Start implements Launcher.
func (l ProcmanLauncher) Start(ctx context.Context, spec procman.Spec) (Process, error) {
	if spec.BinDir == "" {
		spec.BinDir = l.BinDir
	}
	p, err := procman.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return pmProcess{p}, nil
}

type pmProcess struct{ p *procman.Process }

func (m pmProcess) BaseURL() string { return m.p.BaseURL }
func (m pmProcess) Addr() string    { return m.p.Addr }
func (m pmProcess) Stop() error     { return m.p.Stop(stopGrace) }
func (m pmProcess) Sample() (procstat.Snapshot, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return m.p.Snapshot(ctx)
}
