package swarm

import (
	"encoding/json"
	"errors"
	"math/rand"
	"testing"

	"github.com/serverlab/lab/loadgen/engine"
)

// part builds what an agent would ship for the latency values vals (µs).
func part(t *testing.T, agent string, vals []int64, status map[string]int64, errs int64) Part {
	t.Helper()
	h := engine.NewHistogram()
	for _, v := range vals {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	ok := int64(len(vals)) - errs
	r := engine.Result{Engine: "fast", Conns: 10, MaxConns: 10, GoMaxProc: 1, DurationS: 2, Requests: int64(len(vals)),
		Responses: int64(len(vals)), OK: ok, Errors: errs, RPS: float64(ok) / 2, Status: status,
		ErrorsByClass: map[string]int64{engine.ClassHTTP5xx: errs}, LoadgenCPUS: 1}
	rj, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := engine.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return Part{Agent: agent, Conns: 10, Result: rj, Histogram: hb}
}

// TestMergeIsExact: three replicas' histograms (different shapes: a fast
// body, a slow tail, one huge outlier), shipped encoded and merged, give
// exactly the counts and every percentile of one histogram that recorded
// every value itself.
func TestMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	all := engine.NewHistogram()
	var parts []Part
	shapes := []func() int64{
		func() int64 { return 100 + rng.Int63n(900) },                // 0.1–1 ms
		func() int64 { return 5000 + int64(rng.ExpFloat64()*20000) }, // slow, long tail
		func() int64 { return 1 + rng.Int63n(50) },                   // very fast
	}
	var wantReq, wantErr int64
	for i, gen := range shapes {
		n := 10000 * (i + 1)
		vals := make([]int64, n)
		for j := range vals {
			vals[j] = gen()
			if err := all.RecordValue(vals[j]); err != nil {
				t.Fatal(err)
			}
		}
		if i == 1 { // one outlier far above the rest
			vals = append(vals, 59_000_000)
			all.RecordValue(59_000_000)
		}
		errs := int64(i * 7)
		wantReq += int64(len(vals))
		wantErr += errs
		parts = append(parts, part(t, string(rune('a'+i)), vals, map[string]int64{"200": int64(len(vals)) - errs, "503": errs}, errs))
	}
	rep, res, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != wantReq || res.Histogram.TotalCount() != all.TotalCount() || all.TotalCount() != wantReq {
		t.Fatalf("requests %d, merged histogram %d values; want %d (one histogram: %d)", rep.Requests, res.Histogram.TotalCount(), wantReq, all.TotalCount())
	}
	if rep.Errors != wantErr || rep.ErrorsBy[engine.ClassHTTP5xx] != wantErr || rep.Status["503"] != wantErr || rep.Status["200"] != wantReq-wantErr {
		t.Fatalf("errors %d by class %v status %v; want %d errors", rep.Errors, rep.ErrorsBy, rep.Status, wantErr)
	}
	for _, q := range []float64{0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100} {
		if g, w := res.Histogram.ValueAtQuantile(q), all.ValueAtQuantile(q); g != w {
			t.Errorf("p%v: merged %d µs, one histogram %d µs", q, g, w)
		}
	}
	gb, wb := res.Histogram.Distribution(), all.Distribution()
	if len(gb) != len(wb) {
		t.Fatalf("distribution: %d bars, want %d", len(gb), len(wb))
	}
	for i := range gb {
		if gb[i] != wb[i] {
			t.Fatalf("bar %d: merged %+v, one histogram %+v", i, gb[i], wb[i])
		}
	}
	want := engine.LatencyOf(all)
	for name, pair := range map[string][2]float64{
		"p50": {rep.P50Ms, *want.P50}, "p90": {rep.P90Ms, *want.P90}, "p99": {rep.P99Ms, *want.P99},
		"max": {rep.MaxMs, *want.Max}, "mean": {rep.MeanMs, *want.Mean},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: merged %v ms, one histogram %v ms", name, pair[0], pair[1])
		}
	}
	if len(rep.Replicas) != 3 {
		t.Fatalf("replicas %d, want 3", len(rep.Replicas))
	}
	var sum int64
	for _, r := range rep.Replicas {
		sum += r.Requests
	}
	if sum != rep.Requests {
		t.Fatalf("replica requests add to %d, merged %d", sum, rep.Requests)
	}
	if rep.RPS != float64(wantReq-wantErr)/2 {
		t.Fatalf("rps %v, want %v (the replicas' sum)", rep.RPS, float64(wantReq-wantErr)/2)
	}
}

// TestMergeFailsOnAFailedReplica: one failed replica fails the repetition;
// the merge never reports the survivors as if they were the whole load.
func TestMergeFailsOnAFailedReplica(t *testing.T) {
	ok := part(t, "a", []int64{100, 200}, map[string]int64{"200": 2}, 0)
	for name, bad := range map[string]Part{
		"error":     {Agent: "b", Error: "connect: no such host"},
		"histogram": {Agent: "b", Result: ok.Result, Histogram: []byte("not a histogram")},
		"result":    {Agent: "b", Result: json.RawMessage(`{`), Histogram: ok.Histogram},
	} {
		if _, _, err := Merge([]Part{ok, bad}); !errors.Is(err, ErrReplica) {
			t.Errorf("%s: err = %v, want ErrReplica", name, err)
		}
	}
	if _, _, err := Merge(nil); !errors.Is(err, ErrReplica) {
		t.Errorf("no parts: err = %v, want ErrReplica", err)
	}
}
