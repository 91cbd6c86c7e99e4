package swarm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/serverlab/lab/loadgen/engine"
	"github.com/serverlab/lab/loadgen/results"
)

// Part is what one agent ships back for one job: its engine result (JSON,
// counters and the summary), its corrected-latency histogram in
// hdrhistogram's encoded form (engine.EncodeHistogram: every count
// survives), or the error that stopped it. Parts cross the network as
// JSON; a Part belongs to whoever decoded it.
type Part struct {
	Agent     string          `json:"agent"`
	Seq       uint64          `json:"seq"`
	Conns     int             `json:"conns"`
	Result    json.RawMessage `json:"result,omitempty"`
	Histogram []byte          `json:"histogram,omitempty"`
	Error     string          `json:"error,omitempty"`
}

// ErrReplica marks a repetition in which a replica failed: the row is
// failed, never measured with fewer load generators than asked for.
var ErrReplica = errors.New("a load replica failed")

// Merge combines the parts of one job exactly: every counter is the sum of
// the replicas' counters, and the latency summary comes from one histogram
// into which every replica's histogram was merged (hdrhistogram Merge, the
// same bucket layout, so nothing is approximated): percentiles are never
// averaged. It fails if any part failed, did not decode, or would lose
// counts in the merge. The merged engine result is returned too (its
// Histogram field set), and the Rep lists each replica.
func Merge(parts []Part) (results.Rep, *engine.Result, error) {
	if len(parts) == 0 {
		return results.Rep{}, nil, fmt.Errorf("%w: no replica reported", ErrReplica)
	}
	sorted := append([]Part(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Agent < sorted[j].Agent })
	hist := engine.NewHistogram()
	var m *engine.Result
	var reps []results.ReplicaRep
	maxCPU := 0.0
	for _, p := range sorted {
		if p.Error != "" {
			return results.Rep{}, nil, fmt.Errorf("%w: %s: %s", ErrReplica, p.Agent, p.Error)
		}
		var r engine.Result
		if err := json.Unmarshal(p.Result, &r); err != nil {
			return results.Rep{}, nil, fmt.Errorf("%w: %s: result: %v", ErrReplica, p.Agent, err)
		}
		h, err := engine.DecodeHistogram(p.Histogram)
		if err != nil {
			return results.Rep{}, nil, fmt.Errorf("%w: %s: histogram: %v", ErrReplica, p.Agent, err)
		}
		if dropped := hist.Merge(h); dropped != 0 {
			return results.Rep{}, nil, fmt.Errorf("%w: %s: %d latency values fell outside the merged histogram", ErrReplica, p.Agent, dropped)
		}
		util := 0.0
		if r.DurationS > 0 && r.GoMaxProc > 0 {
			util = r.LoadgenCPUS / r.DurationS / float64(r.GoMaxProc)
		}
		maxCPU = math.Max(maxCPU, util)
		p99 := 0.0
		if r.Latency.P99 != nil {
			p99 = *r.Latency.P99
		}
		reps = append(reps, results.ReplicaRep{Agent: p.Agent, Conns: r.Conns, Requests: r.Requests, OK: r.OK, Errors: r.Errors,
			RPS: r.RPS, P99Ms: p99, LoadgenCPU: util, CPUS: r.LoadgenCPUS, DurationS: r.DurationS})
		if m == nil {
			c := r
			c.ErrorsByClass, c.Status, c.Extra = map[string]int64{}, map[string]int64{}, nil
			c.Requests, c.Responses, c.OK, c.Errors, c.RPS, c.Non2xx = 0, 0, 0, 0, 0, 0
			c.Unfinished, c.Connects, c.ConnectErrors, c.PeakConns, c.Sent = 0, 0, 0, 0, 0
			c.FailedRecorded, c.UnexpectedData, c.LoadgenCPUS, c.Conns, c.MaxConns = 0, 0, 0, 0, 0
			c.Notes, c.BytesRead, c.BytesWritten = nil, nil, nil
			c.RateTarget, c.RateAchieved, c.RateMet, c.Scheduled, c.SendLagMaxMs = nil, nil, nil, nil, nil
			m = &c
		}
		add(m, &r)
	}
	// Summaries that need the raw values of every replica are not kept:
	// only what merges exactly is reported.
	m.LatencyUncorrected, m.LatencyFailed = nil, nil
	m.Latency = engine.LatencyOf(hist)
	m.Histogram = hist
	m.ErrorRate = 0
	if m.Requests > 0 {
		m.ErrorRate = float64(m.Errors) / float64(m.Requests)
		us := m.LoadgenCPUS * 1e6 / float64(m.Requests)
		m.LoadgenCPUUsPerRequest = &us
	}
	m.Notes = append(m.Notes, fmt.Sprintf("merged from %d load replicas (loadgen/swarm): counts are sums, latency from the merged histogram", len(sorted)))
	m.Extra = nil

	v := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	rp := results.Rep{RPS: m.RPS, Requests: m.Requests, Errors: m.Errors, ErrorsBy: m.ErrorsByClass, Status: m.Status,
		P50Ms: v(m.Latency.P50), P90Ms: v(m.Latency.P90), P99Ms: v(m.Latency.P99), MaxMs: v(m.Latency.Max), MeanMs: v(m.Latency.Mean),
		LoadgenCPU: maxCPU, Replicas: reps}
	slim := *m
	slim.Histogram = nil
	rp.Engine, _ = json.Marshal(&slim)
	return rp, m, nil
}

// add sums r's counters into m. RPS adds up because the replicas measure
// the same window at the same time; the window is the longest of theirs.
func add(m, r *engine.Result) {
	m.Requests += r.Requests
	m.Responses += r.Responses
	m.OK += r.OK
	m.Errors += r.Errors
	m.RPS += r.RPS
	m.Non2xx += r.Non2xx
	m.Unfinished += r.Unfinished
	m.Connects += r.Connects
	m.ConnectErrors += r.ConnectErrors
	m.PeakConns += r.PeakConns
	m.Sent += r.Sent
	m.FailedRecorded += r.FailedRecorded
	m.UnexpectedData += r.UnexpectedData
	m.LoadgenCPUS += r.LoadgenCPUS
	m.Conns += r.Conns
	m.MaxConns += r.MaxConns
	m.DurationS = math.Max(m.DurationS, r.DurationS)
	m.Interrupted = m.Interrupted || r.Interrupted
	for k, n := range r.ErrorsByClass {
		m.ErrorsByClass[k] += n
	}
	for k, n := range r.Status {
		m.Status[k] += n
	}
	for _, n := range r.Notes {
		m.Notes = appendOnce(m.Notes, n)
	}
	// Open loop: the rates add up, the rate is met only if every replica
	// met its share, and the worst send lag is the row's.
	if r.RateTarget != nil {
		m.RateTarget = sumF(m.RateTarget, *r.RateTarget)
	}
	if r.RateAchieved != nil {
		m.RateAchieved = sumF(m.RateAchieved, *r.RateAchieved)
	}
	if r.RateMet != nil {
		met := *r.RateMet && (m.RateMet == nil || *m.RateMet)
		m.RateMet = &met
	}
	if r.Scheduled != nil {
		m.Scheduled = sumPtr(m.Scheduled, *r.Scheduled)
	}
	if r.SendLagMaxMs != nil && (m.SendLagMaxMs == nil || *r.SendLagMaxMs > *m.SendLagMaxMs) {
		lag := *r.SendLagMaxMs
		m.SendLagMaxMs = &lag
	}
	if r.BytesRead != nil {
		m.BytesRead = sumPtr(m.BytesRead, *r.BytesRead)
	}
	if r.BytesWritten != nil {
		m.BytesWritten = sumPtr(m.BytesWritten, *r.BytesWritten)
	}
}

func sumPtr(p *int64, n int64) *int64 {
	v := n
	if p != nil {
		v += *p
	}
	return &v
}

func sumF(p *float64, v float64) *float64 {
	if p != nil {
		v += *p
	}
	return &v
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
