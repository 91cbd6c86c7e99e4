package main

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procstat"
)

// TestOSThreadMode checks that -threads os is Tomcat's model for real: every
// running handler holds its own OS thread, and requests beyond -max-threads
// queue for a free one, so they take at least two waits. The bounds are
// lower bounds that no scheduler delay can break, not speed targets.
func TestOSThreadMode(t *testing.T) {
	const maxThreads, requests, waitMs = 20, 30, 300
	bin := labtest.Binary(t, "servers/blocking")
	for _, mode := range []string{"os", "goroutine"} {
		t.Run(mode, func(t *testing.T) {
			p := labtest.Start(t, bin, "", "-threads", mode, "-max-threads", strconv.Itoa(maxThreads))
			lat, peakThreads := burst(t, p.Addr, requests, waitMs)
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			slowest := lat[len(lat)-1]
			queued := lat[maxThreads] // the (maxThreads+1)-th fastest
			t.Logf("%s: peak threads %d, latency fastest %v, #%d %v, slowest %v", mode, peakThreads, lat[0], maxThreads+1, queued, slowest)
			if mode == "os" {
				if peakThreads < maxThreads {
					t.Errorf("peak threads %d < %d running handlers: handlers do not hold OS threads", peakThreads, maxThreads)
				}
				// A queued request takes about two waits (600 ms), one that
				// got a thread at once about one (300 ms); the line sits
				// between them, since the requests of a burst leave a few
				// ms apart and a queued one's clock starts after the first.
				if queued < 3*waitMs/2*time.Millisecond {
					t.Errorf("request %d finished after %v: it should have queued for a thread, taking about %d ms (≥ %d ms)", maxThreads+1, queued, 2*waitMs, 3*waitMs/2)
				}
			} else {
				if peakThreads >= maxThreads {
					t.Errorf("goroutine mode used %d threads for %d waiting requests: waits should park goroutines, not threads", peakThreads, requests)
				}
				if slowest >= 2*waitMs*time.Millisecond {
					t.Errorf("goroutine mode: slowest request %v ≥ two waits: requests queued", slowest)
				}
			}
		})
	}
}

// burst sends n concurrent /io?ms=waitMs requests, samples /stats while they
// run, and returns each request's latency and the peak thread count.
func burst(t *testing.T, addr string, n, waitMs int) ([]time.Duration, int) {
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}, Timeout: 30 * time.Second}
	statsClient := &http.Client{Timeout: 5 * time.Second}
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			resp, err := client.Get("http://" + addr + "/io?ms=" + strconv.Itoa(waitMs))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			lat[i] = time.Since(t0)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	close(start)
	peak := 0
	for {
		select {
		case <-done:
			return lat, peak
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := statsClient.Get("http://" + addr + "/stats")
		if err != nil {
			continue // in os mode /stats itself may queue for a thread
		}
		var s procstat.Snapshot
		json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		peak = max(peak, s.Threads)
	}
}
