package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestClosedLoopCountsUnanswered: against a server that never answers, the
// closed loop's requests in flight at the end of the window are in the
// result as lower bounds, as the open loop's are, not silently dropped.
func TestClosedLoopCountsUnanswered(t *testing.T) {
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	res := run(t, Config{URL: url, Conns: 4, Duration: 300 * time.Millisecond, Timeout: 5 * time.Second})
	if res.Requests != 0 || res.RPS != 0 {
		t.Fatalf("requests %d rps %.0f from a silent server", res.Requests, res.RPS)
	}
	if res.Unfinished != 4 {
		t.Errorf("unfinished = %d, want the 4 requests in flight", res.Unfinished)
	}
	if res.Latency.P50 == nil || *res.Latency.P50 < 250 {
		t.Errorf("latency p50 %v ms: the unanswered requests' waits (~300 ms) are missing", res.Latency.P50)
	}
}

// TestFailuresAreInTheHistogram: requests that fail (here: the server resets
// each connection 150 ms after the request; and requests that time out) are
// recorded in the latency histogram at the time they failed, so a server
// that stalls and then fails cannot look fast.
func TestFailuresAreInTheHistogram(t *testing.T) {
	slowReset := func(c net.Conn, br *bufio.Reader) {
		if readRequest(br) != nil {
			return
		}
		time.Sleep(150 * time.Millisecond)
		c.(*net.TCPConn).SetLinger(0)
	}
	silent := func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) }
	for _, tc := range []struct {
		name  string
		serve func(net.Conn, *bufio.Reader)
		class string
		cfg   Config
		minMs float64
	}{
		{"reset after 150ms closed", slowReset, ClassReset, Config{Conns: 2, Duration: 700 * time.Millisecond}, 140},
		{"reset after 150ms open", slowReset, ClassReset, Config{Conns: 2, Rate: 20, MaxConns: 8, Duration: 700 * time.Millisecond}, 140},
		{"timeout", silent, ClassTimeout, Config{Conns: 2, Duration: 900 * time.Millisecond, Timeout: 100 * time.Millisecond}, 95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.URL = rawServer(t, tc.serve)
			if cfg.Timeout == 0 {
				cfg.Timeout = 5 * time.Second
			}
			res := run(t, cfg)
			n := res.ErrorsByClass[tc.class]
			if n == 0 || res.Responses != 0 || res.ErrorRate != 1 {
				t.Fatalf("%s errors %d, responses %d, error rate %v: %v", tc.class, n, res.Responses, res.ErrorRate, res.ErrorsByClass)
			}
			if res.FailedRecorded != res.Errors || res.Histogram.TotalCount() != res.Requests+res.Unfinished {
				t.Errorf("failed recorded %d of %d errors; histogram %d, want %d", res.FailedRecorded, res.Errors, res.Histogram.TotalCount(), res.Requests+res.Unfinished)
			}
			if res.LatencyFailed == nil || *res.LatencyFailed.P50 < tc.minMs || *res.Latency.P50 < tc.minMs {
				t.Errorf("latency p50 %v, failed p50 %v: want >= %.0f ms, the time the requests took to fail", res.Latency.P50, res.LatencyFailed, tc.minMs)
			}
		})
	}
}

// TestIntervals: the per-interval slices are contiguous, not cumulative,
// and add up to the Result exactly; the warm-up's slices are flagged.
func TestIntervals(t *testing.T) {
	url := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("x") == "" {
			time.Sleep(time.Millisecond)
		}
		io.WriteString(w, "ok")
	})
	for _, warm := range []time.Duration{0, 250 * time.Millisecond} {
		t.Run("warmup "+warm.String(), func(t *testing.T) {
			var mu sync.Mutex
			var got []Interval
			cfg := Config{URL: url, Conns: 4, Loops: 2, Warmup: warm, Duration: 1100 * time.Millisecond,
				Interval: 200 * time.Millisecond, OnInterval: func(iv Interval) {
					mu.Lock()
					got = append(got, iv)
					mu.Unlock()
				}}
			res := run(t, cfg)
			mu.Lock()
			defer mu.Unlock()
			if len(got) < 6 {
				t.Fatalf("%d intervals for 1.1s at 200ms (+ warm-up)", len(got))
			}
			var ok, total int64
			measured := 0
			for i, iv := range got {
				if i > 0 && (iv.Seq != got[i-1].Seq+1 || iv.Start != got[i-1].End) {
					t.Errorf("interval %d (seq %d, %v-%v) does not follow seq %d ending %v", i, iv.Seq, iv.Start, iv.End, got[i-1].Seq, got[i-1].End)
				}
				if iv.Warmup != (iv.Seq < 0) || iv.Warmup != (iv.End <= 0) {
					t.Errorf("interval seq %d %v-%v warmup=%v", iv.Seq, iv.Start, iv.End, iv.Warmup)
				}
				if iv.Final != (i == len(got)-1) {
					t.Errorf("interval %d final=%v", i, iv.Final)
				}
				if iv.Histogram.TotalCount() != iv.Responses+iv.Unfinished || iv.OK != iv.Status["200"] {
					t.Errorf("interval %d: histogram %d, responses %d, ok %d, status %v", i, iv.Histogram.TotalCount(), iv.Responses, iv.OK, iv.Status)
				}
				if !iv.Warmup {
					measured++
					ok += iv.OK
					total += iv.Histogram.TotalCount()
					if !iv.Final && (iv.OK == 0 || iv.End-iv.Start != 200*time.Millisecond) {
						t.Errorf("interval %d: ok %d over %v", i, iv.OK, iv.End-iv.Start)
					}
				}
			}
			if warm > 0 && got[0].Seq >= 0 {
				t.Errorf("no warm-up interval: first seq %d", got[0].Seq)
			}
			if ok != res.OK || total != res.Histogram.TotalCount() {
				t.Errorf("measured intervals sum to ok %d histogram %d, result has %d and %d", ok, total, res.OK, res.Histogram.TotalCount())
			}
		})
	}
}

func TestHistogramEncodeDecode(t *testing.T) {
	res := run(t, Config{URL: httpServer(t, hello), Conns: 2, Requests: 500})
	b, err := EncodeHistogram(res.Histogram)
	if err != nil {
		t.Fatal(err)
	}
	h, err := DecodeHistogram(b)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Equals(res.Histogram) || h.TotalCount() != 500 {
		t.Fatalf("decoded histogram differs: %d values, want 500", h.TotalCount())
	}
	m := NewHistogram()
	m.Merge(h)
	m.Merge(res.Histogram)
	if l := LatencyOf(m); m.TotalCount() != 1000 || *l.P50 != *res.Latency.P50 {
		t.Fatalf("merged: %d values, p50 %v want %v", m.TotalCount(), *l.P50, *res.Latency.P50)
	}
}

func TestLoadgenCPUIsReported(t *testing.T) {
	res, err := Run(context.Background(), Config{URL: httpServer(t, hello), Conns: 4, Duration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.LoadgenCPUS <= 0 || res.LoadgenCPUUsPerRequest == nil || *res.LoadgenCPUUsPerRequest <= 0 {
		t.Fatalf("loadgen cpu %v s, %v µs/request", res.LoadgenCPUS, res.LoadgenCPUUsPerRequest)
	}
}
