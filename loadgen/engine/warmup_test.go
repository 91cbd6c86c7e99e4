package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestWarmupIsNotMeasured: the warm-up's requests reach the server but not
// the result, and the measured duration excludes the warm-up.
func TestWarmupIsNotMeasured(t *testing.T) {
	var served atomic.Int64
	url := httpServer(t, func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		time.Sleep(time.Millisecond)
		io.WriteString(w, "ok")
	})
	res, err := Run(context.Background(), Config{URL: url, Conns: 4, Warmup: 300 * time.Millisecond, Duration: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses == 0 || res.Responses >= served.Load() {
		t.Errorf("measured %d responses of %d served: the warm-up's were not discarded", res.Responses, served.Load())
	}
	if res.DurationS >= 0.55 {
		t.Errorf("measured duration %.3fs includes the 0.3s warm-up", res.DurationS)
	}
}

// TestOpenLoopCountsUnanswered: against a server that accepts and never
// answers, every due request is still in the result, as a lower bound.
func TestOpenLoopCountsUnanswered(t *testing.T) {
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	res, err := Run(context.Background(), Config{URL: url, Rate: 50, Conns: 2, MaxConns: 4, Duration: 400 * time.Millisecond, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses != 0 {
		t.Fatalf("%d responses from a silent server", res.Responses)
	}
	if res.Unfinished < 10 {
		t.Errorf("unfinished = %d, want the ~20 requests due in 400 ms at 50/s", res.Unfinished)
	}
	if res.Latency.Max == nil || *res.Latency.Max < 200 {
		t.Errorf("latency max %v ms: the unanswered requests' waits are missing", res.Latency.Max)
	}
}
