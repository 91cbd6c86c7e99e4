package procman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/procstat"
	"github.com/serverlab/lab/loadgen/catalog"
)

// readyClient has its own transport: readiness polls must not share
// keep-alive connections with anything else.
var readyClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func (s Spec) readyPath() string {
	if s.ReadyPath != "" {
		return s.ReadyPath
	}
	if len(s.Config.Routes) > 0 {
		return s.Config.Routes[0]
	}
	return "/plaintext"
}

func (s Spec) readyTimeout() time.Duration {
	switch {
	case s.ReadyTimeout > 0:
		return s.ReadyTimeout
	case s.Config.Kind == catalog.KindStack:
		return DefaultReadyStack
	case s.URL != "":
		return 60 * time.Second
	}
	return DefaultReadyTwin
}

// WaitReady polls the ready path until it answers 200. It fails at once,
// with the reason and the exit status, when the process exits; for an
// external target, when connections are refused for DefaultReadyRefused
// (nothing listens there; a target that is starting accepts and answers
// late, and is waited for). Otherwise it gives up after the spec's
// readiness timeout, saying what the last attempt got.
func (p *Process) WaitReady(ctx context.Context) error {
	url := p.BaseURL + p.spec.readyPath()
	timeout := p.spec.readyTimeout()
	deadline := time.Now().Add(timeout)
	var refusedSince time.Time
	last := "no answer yet"
	for {
		if p.done != nil {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited before it was ready (%v)", p.Name, p.err)
			default:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := readyClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("GET %s answered %d", url, resp.StatusCode)
			refusedSince = time.Time{}
		} else {
			last = err.Error()
			if errors.Is(err, syscall.ECONNREFUSED) && p.External() {
				if refusedSince.IsZero() {
					refusedSince = time.Now()
				} else if time.Since(refusedSince) >= DefaultReadyRefused {
					return fmt.Errorf("%s: nothing listens at %s: connection refused (is it running?)", p.Name, p.BaseURL)
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s at %s: %s", p.Name, timeout, url, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var statsClient = &http.Client{Timeout: 3 * time.Second}

// Snapshot reads the tree's resource use: from /proc for a process the
// manager started (never blocked by the server itself, which matters when a
// blocked event loop could not answer /stats), from the target's /stats
// otherwise (twins only: stacks have none).
func (p *Process) Snapshot(ctx context.Context) (procstat.Snapshot, error) {
	if p.Cmd != nil {
		s, err := procstat.Tree(p.Pid())
		if err == nil {
			p.note(s.PIDs...)
		}
		return s, err
	}
	return p.Stats(ctx)
}

// Stats asks the server's own /stats (twins report GOMAXPROCS there,
// which /proc cannot tell).
func (p *Process) Stats(ctx context.Context) (procstat.Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.BaseURL+"/stats", nil)
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
