package procman

import (
	"context"
	"sync"
	"time"

	"github.com/serverlab/lab/internal/procstat"
)

// Usage is a process tree's resource use over one sampling window: deltas
// of the counters between the first and last sample, and peaks of the
// levels.
type Usage struct {
	RSSBefore      int64 // at the first sample
	RSSPeak        int64
	ThreadsPeak    int
	FDsPeak        int
	Processes      int // at the last sample
	CPUUserS       float64
	CPUSysS        float64
	CtxVoluntary   int64
	CtxInvoluntary int64
	WallS          float64 // from the first sample to the last
	Samples        int
	GOMAXPROCS     int // from /stats (external twins); 0 from /proc
}

// Sampler samples a process tree at about 1 Hz. It is owned by the
// goroutine that called Sample until Finish returns.
type Sampler struct {
	p      *Process
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // guards the fields below, written by the sampler goroutine
	start   time.Time
	first   procstat.Snapshot
	last    procstat.Snapshot
	peakRSS int64
	peakThr int
	peakFDs int
	n       int
}

// Sample takes a first sample after delay (a warm-up) and then one a second
// until Finish.
func (p *Process) Sample(ctx context.Context, delay time.Duration) *Sampler {
	sm := &Sampler{p: p}
	sctx, cancel := context.WithCancel(ctx)
	sm.cancel = cancel
	sm.wg.Add(1)
	go func() {
		defer sm.wg.Done()
		select {
		case <-sctx.Done():
			return
		case <-time.After(delay):
		}
		sm.mu.Lock()
		sm.start = time.Now()
		sm.mu.Unlock()
		sm.take(sctx)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				sm.take(sctx)
			}
		}
	}()
	return sm
}

func (sm *Sampler) take(ctx context.Context) {
	snap, err := sm.p.Snapshot(ctx)
	if err != nil {
		return
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.n == 0 {
		sm.first = snap
	}
	sm.last = snap
	sm.peakRSS = max(sm.peakRSS, snap.RSSBytes)
	sm.peakThr = max(sm.peakThr, snap.Threads)
	sm.peakFDs = max(sm.peakFDs, snap.OpenFDs)
	sm.n++
}

// Finish takes a last sample and returns the window's usage.
func (sm *Sampler) Finish(ctx context.Context) Usage {
	sm.cancel()
	sm.wg.Wait()
	sm.take(ctx)
	sm.mu.Lock()
	defer sm.mu.Unlock()
	u := Usage{
		RSSBefore:      sm.first.RSSBytes,
		RSSPeak:        sm.peakRSS,
		ThreadsPeak:    sm.peakThr,
		FDsPeak:        sm.peakFDs,
		Processes:      sm.last.Processes,
		CPUUserS:       sm.last.CPUUserS - sm.first.CPUUserS,
		CPUSysS:        sm.last.CPUSysS - sm.first.CPUSysS,
		CtxVoluntary:   sm.last.CtxVoluntary - sm.first.CtxVoluntary,
		CtxInvoluntary: sm.last.CtxInvoluntary - sm.first.CtxInvoluntary,
		Samples:        sm.n,
		GOMAXPROCS:     sm.last.GOMAXPROCS,
	}
	if !sm.start.IsZero() {
		u.WallS = time.Since(sm.start).Seconds()
	}
	return u
}
