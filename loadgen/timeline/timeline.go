// Package timeline measures and draws the report's per-model timelines: for
// each Go model it starts the server through internal/procman with
// LAB_SPANS set (internal/spans), sends three overlapping GET /io?ms=50
// requests on separate connections, stops the server, and renders what
// each OS thread did from the recorded spans (Render, svg.go). Run owns the
// servers it starts and stops each before the next.
package timeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/internal/spans"
	"github.com/serverlab/lab/loadgen/catalog"
)

// Models are the Go models drawn, in the report's order.
var Models = []string{"blocking-goroutine", "blocking-os", "eventloop-async", "eventloop-pool", "eventloop-inline", "prefork-2"}

// holdsThread says, per model, whether an /io wait holds its OS thread.
// This is the models' code, not a measurement: blocking -threads os and
// the event loop's pool and inline styles wait in nanosleep(2) on a locked
// thread (internal/blockingio.Sleep); blocking -threads goroutine and
// prefork park the goroutine (time.Sleep) and the async style puts the wait
// in the loop's timer wheel, so their thread is free meanwhile.
var holdsThread = map[string]bool{
	"blocking-os": true, "eventloop-pool": true, "eventloop-inline": true,
}

// onLoop marks the models whose every span event runs on the one event
// loop (servers/eventloop's async and inline styles, -loops 1): Render draws
// their threads as one row, the loop.
var onLoop = map[string]bool{"eventloop-async": true, "eventloop-inline": true}

// OnLoop reports whether model's requests all run on its one event loop.
func OnLoop(model string) bool { return onLoop[model] }

// Options configure Run. Zero values take the defaults.
type Options struct {
	Out      string        // directory for timeline-<model>.svg and .json (required)
	Models   []string      // default Models
	Requests int           // overlapping requests (default 3)
	WaitMs   int           // each request's /io wait (default 50)
	Stagger  time.Duration // between sends (default 10 ms)
	CPUs     string        // taskset list for the servers ("" unpinned)
	BinDir   string        // twin binaries (procman's default: bin/)
	// Binary, when set, returns the executable for a twin binary name
	// ("blocking"); else procman looks in bin/ under the module root.
	Binary func(name string) string
}

// Request is one client request as the runner saw it: CLOCK_MONOTONIC
// nanoseconds, the same clock as the spans.
type Request struct {
	SentNs     int64  `json:"sent_ns"`
	ReceivedNs int64  `json:"received_ns"`
	Status     int    `json:"status"`
	Err        string `json:"error,omitempty"`
}

// Timeline is one model's measurement: what Run writes as
// timeline-<model>.json and draws as timeline-<model>.svg.
type Timeline struct {
	Model       string       `json:"model"`
	WaitMs      int          `json:"wait_ms"`
	HoldsThread bool         `json:"wait_holds_thread"`
	Requests    []Request    `json:"requests"` // in send order
	Spans       []spans.Span `json:"spans"`    // the /io spans, by start time
}

// SVGName and JSONName are the files Run writes for model.
func SVGName(model string) string  { return "timeline-" + model + ".svg" }
func JSONName(model string) string { return "timeline-" + model + ".json" }

// Run measures and draws every model of o in turn.
func Run(ctx context.Context, o Options) ([]Timeline, error) {
	if o.Out == "" {
		return nil, fmt.Errorf("timeline: no output directory")
	}
	if len(o.Models) == 0 {
		o.Models = Models
	}
	if o.Requests <= 0 {
		o.Requests = 3
	}
	if o.WaitMs <= 0 {
		o.WaitMs = 50
	}
	if o.Stagger <= 0 {
		o.Stagger = 10 * time.Millisecond
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var out []Timeline
	for _, m := range o.Models {
		tl, err := measure(ctx, o, m)
		if err != nil {
			return out, fmt.Errorf("timeline %s: %w", m, err)
		}
		js, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(o.Out, JSONName(m)), append(js, '\n'), 0o644); err != nil {
			return out, err
		}
		if err := os.WriteFile(filepath.Join(o.Out, SVGName(m)), Render(tl), 0o644); err != nil {
			return out, err
		}
		out = append(out, tl)
	}
	return out, nil
}

func measure(ctx context.Context, o Options, model string) (Timeline, error) {
	tl := Timeline{Model: model, WaitMs: o.WaitMs, HoldsThread: holdsThread[model]}
	cfg, ok := catalog.ConfigByName(model)
	if !ok {
		return tl, fmt.Errorf("no such configuration")
	}
	f, err := os.CreateTemp("", "lab-spans-*.jsonl")
	if err != nil {
		return tl, err
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	spec := procman.Spec{Config: cfg, CPUs: o.CPUs, BinDir: o.BinDir, Env: []string{spans.Env + "=" + path}}
	if o.Binary != nil {
		spec.Binary = o.Binary(cfg.Binary)
	}
	p, err := procman.Start(ctx, spec)
	if err != nil {
		return tl, err
	}
	tl.Requests = send(ctx, p.BaseURL+"/io?ms="+strconv.Itoa(o.WaitMs), o.Requests, o.Stagger)
	if err := p.Stop(procman.DefaultGrace); err != nil {
		return tl, err
	}
	for i, r := range tl.Requests {
		if r.Err != "" || r.Status != http.StatusOK {
			return tl, fmt.Errorf("request %d: status %d %s", i+1, r.Status, r.Err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return tl, err
	}
	all, err := spans.Read(bytes.NewReader(b))
	if err != nil {
		return tl, err
	}
	for _, s := range all {
		if s.Route == "io" && s.EndNs != 0 {
			tl.Spans = append(tl.Spans, s)
		}
	}
	sort.Slice(tl.Spans, func(i, j int) bool { return tl.Spans[i].StartNs < tl.Spans[j].StartNs })
	if len(tl.Spans) != o.Requests {
		return tl, fmt.Errorf("recorded %d /io spans for %d requests", len(tl.Spans), o.Requests)
	}
	return tl, nil
}

// send sends n GETs of url, each on its own connection, stagger apart, and
// waits for all of them (each bounded by 10 s).
func send(ctx context.Context, url string, n int, stagger time.Duration) []Request {
	reqs := make([]Request, n)
	var wg sync.WaitGroup
	for i := range reqs {
		if i > 0 {
			time.Sleep(stagger)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
			r := &reqs[i]
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				r.Err = err.Error()
				return
			}
			r.SentNs = Mono()
			resp, err := c.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				r.Status = resp.StatusCode
			}
			r.ReceivedNs = Mono()
			if err != nil {
				r.Err = err.Error()
			}
		}()
	}
	wg.Wait()
	return reqs
}

// Mono is CLOCK_MONOTONIC in nanoseconds, the spans' clock.
func Mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
