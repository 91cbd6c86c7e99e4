package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/loadgen/results"
)

var statsClient = &http.Client{Timeout: 3 * time.Second}

// snapshot reads the server tree's resource use: from /proc for a process
// the suite started (never blocked by the server itself, which matters when
// a blocked event loop could not answer /stats), from /stats otherwise.
func (s *server) snapshot(ctx context.Context) (procstat.Snapshot, error) {
	if s.cmd != nil {
		return procstat.Tree(s.pid())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/stats", nil)
	if err != nil {
		return procstat.Snapshot{}, err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return procstat.Snapshot{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return procstat.Snapshot{}, fmt.Errorf("/stats answered %d", resp.StatusCode)
	}
	var snap procstat.Snapshot
	err = json.NewDecoder(resp.Body).Decode(&snap)
	return snap, err
}

// sampling is one measurement's /stats or /proc sampling at about 1 Hz. It
// is owned by the goroutine that called startSampling until finish returns.
type sampling struct {
	srv    *server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time

	mu      sync.Mutex // guards the fields below, written by the sampler goroutine
	first   procstat.Snapshot
	last    procstat.Snapshot
	peakRSS int64
	peakThr int
	peakFDs int
	n       int
}

func (sm *sampling) add(snap procstat.Snapshot) {
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

// startSampling takes a first sample after delay (the warm-up) and then one
// a second until finish.
func startSampling(ctx context.Context, srv *server, delay time.Duration) *sampling {
	sm := &sampling{srv: srv}
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
		if snap, err := srv.snapshot(sctx); err == nil {
			sm.add(snap)
		}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if snap, err := srv.snapshot(sctx); err == nil {
					sm.add(snap)
				}
			}
		}
	}()
	return sm
}

// finish takes a last sample and returns the deltas and peaks.
func (sm *sampling) finish(ctx context.Context) results.ServerSample {
	sm.cancel()
	sm.wg.Wait()
	if snap, err := sm.srv.snapshot(ctx); err == nil {
		sm.add(snap)
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return results.ServerSample{
		RSSBefore:      sm.first.RSSBytes,
		RSSPeak:        sm.peakRSS,
		ThreadsPeak:    sm.peakThr,
		FDsPeak:        sm.peakFDs,
		Processes:      sm.last.Processes,
		CPUUserS:       sm.last.CPUUserS - sm.first.CPUUserS,
		CPUSysS:        sm.last.CPUSysS - sm.first.CPUSysS,
		CtxVoluntary:   sm.last.CtxVoluntary - sm.first.CtxVoluntary,
		CtxInvoluntary: sm.last.CtxInvoluntary - sm.first.CtxInvoluntary,
		WallS:          wallSince(sm.start),
		Samples:        sm.n,
		GOMAXPROCS:     sm.last.GOMAXPROCS,
	}
}

func wallSince(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return time.Since(t).Seconds()
}
