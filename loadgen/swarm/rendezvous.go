// Package swarm runs one load point on N load generators at once and
// merges what they measured exactly (owner: H).
//
// The mechanism is a long-poll broadcast barrier over HTTP. The coordinator
// (the suite process; Coordinator) serves a small HTTP API on the cluster's
// overlay network. Each agent (`loadgen agent`, a replicated Docker Swarm
// service; RunAgent) registers, then parks in a long poll for work. To
// measure a point the coordinator waits until N registered agents are
// parked, then answers all N parked polls at once with the same job: that
// answer is the start signal, so no agent needs a clock that agrees with
// anyone else's (the engine's warm-up absorbs the network's delivery skew).
// Each agent runs the engine for the warm-up and window, then posts its
// result (counters plus its hdrhistogram, encoded) and parks again. The
// coordinator merges the N parts (Merge). Swarm does the scheduling,
// restarts and networking; this package only agrees on the start.
//
// Endpoints (JSON bodies):
//
//	POST /register {"agent": ID}         → 200
//	GET  /work?agent=ID                  → 200 Job (the start signal), 204 nothing yet (poll again), 404 unknown agent (register again)
//	POST /result   Part                  → 200
package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/suite"
)

// Job is one agent's share of a load point.
type Job struct {
	Seq      uint64        `json:"seq"`
	URL      string        `json:"url"`
	Conns    int           `json:"conns"`
	Pipeline int           `json:"pipeline"`
	Rate     float64       `json:"rate,omitempty"`
	Warmup   time.Duration `json:"warmup"`
	Measure  time.Duration `json:"measure"`
	Timeout  time.Duration `json:"timeout"`
}

// pollWait is how long a GET /work parks before answering 204.
const pollWait = 20 * time.Second

// maxBody bounds a posted part (an encoded histogram is ~10–150 KiB).
const maxBody = 8 << 20

// Coordinator is the rendezvous: it tracks the agents parked in a poll,
// hands out jobs and collects their parts. Its methods are safe for
// concurrent use; Measure calls are serialized (one job at a time).
type Coordinator struct {
	Replicas int           // agents per job
	Ready    time.Duration // how long Measure waits for Replicas parked agents (default 2 min)
	Log      io.Writer     // agent arrivals and jobs; nil for none

	measureMu sync.Mutex

	mu         sync.Mutex
	registered map[string]time.Time   // agent → when it registered
	parked     map[string]chan Job    // agent → its parked poll
	waiting    map[string]chan<- Part // agent → where its current job's part goes
	changed    chan struct{}          // closed and replaced whenever parked changes
	seq        uint64
	srv        *http.Server
	ln         net.Listener
}

// NewCoordinator returns a coordinator for n replicas per job.
func NewCoordinator(n int) *Coordinator {
	return &Coordinator{Replicas: n, registered: map[string]time.Time{}, parked: map[string]chan Job{},
		waiting: map[string]chan<- Part{}, changed: make(chan struct{})}
}

// Listen starts serving the rendezvous on addr (host:port) in its own
// goroutine, which Close stops.
func (c *Coordinator) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rendezvous: %w", err)
	}
	c.ln = ln
	c.srv = &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go c.srv.Serve(ln)
	return nil
}

// Addr is the address Listen bound.
func (c *Coordinator) Addr() string { return c.ln.Addr().String() }

// Close stops the server; parked agents see their poll fail and retry.
func (c *Coordinator) Close() error {
	if c.srv == nil {
		return nil
	}
	return c.srv.Close()
}

func (c *Coordinator) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "swarm: "+format+"\n", a...)
	}
}

// notifyLocked wakes Measure's waits; c.mu held.
func (c *Coordinator) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Handler serves the endpoints of the package comment.
func (c *Coordinator) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /register", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Agent string }
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req.Agent == "" {
			httpError(w, http.StatusBadRequest, "want {\"agent\": ID}")
			return
		}
		c.mu.Lock()
		_, again := c.registered[req.Agent]
		c.registered[req.Agent] = time.Now()
		c.mu.Unlock()
		if !again {
			c.logf("agent %s registered from %s", req.Agent, r.RemoteAddr)
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /work", c.work)
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var p Part
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&p); err != nil || p.Agent == "" {
			httpError(w, http.StatusBadRequest, "want a Part")
			return
		}
		c.mu.Lock()
		ch, ok := c.waiting[p.Agent]
		delete(c.waiting, p.Agent)
		c.mu.Unlock()
		if !ok {
			httpError(w, http.StatusConflict, "no job is waiting for this agent's result")
			return
		}
		ch <- p // buffered for every replica of the job
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// work parks an agent's poll until a job comes, the poll times out (204)
// or the agent goes away.
func (c *Coordinator) work(w http.ResponseWriter, r *http.Request) {
	agent := r.URL.Query().Get("agent")
	ch := make(chan Job, 1)
	c.mu.Lock()
	if _, ok := c.registered[agent]; !ok {
		c.mu.Unlock()
		httpError(w, http.StatusNotFound, "unknown agent: register first")
		return
	}
	if old, ok := c.parked[agent]; ok { // a stale poll of the same agent: replace it
		close(old)
	}
	c.parked[agent] = ch
	c.notifyLocked()
	c.mu.Unlock()
	unpark := func() {
		c.mu.Lock()
		if c.parked[agent] == ch {
			delete(c.parked, agent)
			c.notifyLocked()
		}
		c.mu.Unlock()
	}
	t := time.NewTimer(pollWait)
	defer t.Stop()
	select {
	case j, ok := <-ch:
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(j)
	case <-t.C:
		unpark()
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
		unpark()
	}
}

// Split divides a point's connections (and open-loop rate) among n
// replicas: the total load stays the point's, so a row measured with N
// generators is comparable with one measured with one. The first c mod n
// replicas get one connection more.
func Split(p catalog.Point, n int) ([]int, float64, error) {
	if n < 1 {
		return nil, 0, fmt.Errorf("replicas must be at least 1, not %d", n)
	}
	if p.Conns < n {
		return nil, 0, fmt.Errorf("point %s has %d connections, fewer than %d replicas", p.Label, p.Conns, n)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = p.Conns / n
		if i < p.Conns%n {
			out[i]++
		}
	}
	return out, p.Rate / float64(n), nil
}

// WaitAgents waits until n agents are parked, or ctx ends, or the Ready
// timeout passes.
func (c *Coordinator) WaitAgents(ctx context.Context, n int) ([]string, error) {
	ready := c.Ready
	if ready <= 0 {
		ready = 2 * time.Minute
	}
	deadline := time.NewTimer(ready)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ids := make([]string, 0, len(c.parked))
		for id := range c.parked {
			ids = append(ids, id)
		}
		changed := c.changed
		reg := len(c.registered)
		c.mu.Unlock()
		if len(ids) >= n {
			sort.Strings(ids)
			return ids[:n], nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline.C:
			return nil, fmt.Errorf("%w: only %d of %d load agents ready after %s (%d ever registered): is the agent service running and can it reach the rendezvous?",
				ErrReplica, len(ids), n, ready, reg)
		}
	}
}

// Measure runs point p at url on Replicas agents at once and merges their
// parts. It is a suite.Measurer. A replica that does not report in time, or
// reports an error, fails the repetition.
func (c *Coordinator) Measure(ctx context.Context, url string, p catalog.Point, w suite.Window) (results.Rep, error) {
	c.measureMu.Lock()
	defer c.measureMu.Unlock()
	conns, rate, err := Split(p, c.Replicas)
	if err != nil {
		return results.Rep{}, err
	}
	ids, err := c.WaitAgents(ctx, c.Replicas)
	if err != nil {
		return results.Rep{}, err
	}
	parts := make(chan Part, len(ids))
	c.mu.Lock()
	c.seq++
	seq := c.seq
	var missing []string
	for i, id := range ids {
		ch, ok := c.parked[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		delete(c.parked, id)
		c.waiting[id] = parts
		ch <- Job{Seq: seq, URL: url, Conns: conns[i], Pipeline: max(p.Pipeline, 1), Rate: rate,
			Warmup: w.Warmup, Measure: w.Measure, Timeout: 30 * time.Second}
	}
	c.notifyLocked()
	c.mu.Unlock()
	defer func() { // whatever happens, no agent stays assigned to this job
		c.mu.Lock()
		for _, id := range ids {
			if c.waiting[id] == parts {
				delete(c.waiting, id)
			}
		}
		c.mu.Unlock()
	}()
	if len(missing) > 0 {
		return results.Rep{}, fmt.Errorf("%w: agents %s left before the start", ErrReplica, strings.Join(missing, ", "))
	}
	c.logf("job %d: %s on %d agents (conns %v)", seq, url, len(ids), conns)
	// Warm-up + window + one request timeout + posting: past that, a
	// replica is lost.
	limit := time.NewTimer(w.Warmup + w.Measure + 30*time.Second + 30*time.Second)
	defer limit.Stop()
	var got []Part
	for len(got) < len(ids) {
		select {
		case pt := <-parts:
			if pt.Seq != seq {
				return results.Rep{}, fmt.Errorf("%w: %s answered job %d, not %d", ErrReplica, pt.Agent, pt.Seq, seq)
			}
			got = append(got, pt)
		case <-ctx.Done():
			return results.Rep{}, ctx.Err()
		case <-limit.C:
			return results.Rep{}, fmt.Errorf("%w: %d of %d replicas reported within the window plus 60 s", ErrReplica, len(got), len(ids))
		}
	}
	rep, _, err := Merge(got)
	return rep, err
}

// errUnknown: the coordinator does not know this agent (it restarted).
var errUnknown = errors.New("unknown agent")
