package conformance

import (
	"runtime"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/serverlab/lab/internal/labtest"
)

// workloads are the requests of the shared benchmark table, in the manner of
// fasthttp's server_timing_test.go: the same workload against every server.
var workloads = []struct{ name, target string }{
	{"plaintext", "/plaintext"},
	{"json", "/json"},
	{"cpu-1000", "/cpu?work=1000"},
	{"io-1ms", "/io?ms=1"},
}

// benchConns is the number of keep-alive connections the benchmark client
// keeps busy, as wrk -c 64.
const benchConns = 64

// BenchmarkServers drives each server process with the same requests over
// benchConns keep-alive connections and reports requests per second. With
// two or more CPUs the server is pinned to CPU 0; run the benchmark itself
// under `taskset -c 1` (make bench does) so that load and server do not share
// a core. The client is fasthttp's HostClient, which is not the bottleneck
// here at these rates; loadgen is the lab's real instrument.
func BenchmarkServers(b *testing.B) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			p := labtest.Start(b, labtest.Binary(b, s.pkg), "0", s.args...)
			client := &fasthttp.HostClient{Addr: p.Addr, MaxConns: benchConns, ReadTimeout: 10 * time.Second}
			for _, w := range workloads {
				b.Run(w.name, func(b *testing.B) {
					url := "http://" + p.Addr + w.target
					b.SetParallelism((benchConns + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.ResetTimer()
					start := time.Now()
					b.RunParallel(func(pb *testing.PB) {
						req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
						defer fasthttp.ReleaseRequest(req)
						defer fasthttp.ReleaseResponse(resp)
						req.SetRequestURI(url)
						for pb.Next() {
							if err := client.Do(req, resp); err != nil {
								b.Error(err)
								return
							}
							if resp.StatusCode() != 200 {
								b.Errorf("%s: status %d", w.target, resp.StatusCode())
								return
							}
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
				})
			}
		})
	}
}
