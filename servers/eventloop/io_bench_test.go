package main

import (
	"context"
	"io"
	"log"
	"strconv"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// stubConn is a gnet.Conn whose writes go nowhere: enough for the loop's
// answer path outside onTraffic in benchmarks.
type stubConn struct {
	gnet.Conn // nil: any other method panics
	written   int
}

func (s *stubConn) Write(b []byte) (int, error) { s.written += len(b); return len(b), nil }
func (s *stubConn) InboundBuffered() int        { return 0 }
func (s *stubConn) OutboundBuffered() int       { return 0 }

// BenchmarkIOWait measures the loop's own work for one /io wait with n
// connections waiting at once: parse the request, queue the wait, expire it,
// build and write the answer (to a stub), settle the connection. The
// syscalls are not included. One op is one request.
func BenchmarkIOWait(b *testing.B) {
	for _, n := range []int{64, 5000} {
		b.Run("conns="+strconv.Itoa(n), func(b *testing.B) {
			s, err := newServer(config{handler: "async", poolSize: 1, loops: 1, depConns: 1,
				readHeaderTimeout: time.Second, idleTimeout: time.Second, linger: time.Second}, nullLogger())
			if err != nil {
				b.Fatal(err)
			}
			ls := &loopState{srv: s, body: make([]byte, 0, 1024)}
			ls.timers = benchTimers()
			conns := make([]*connState, n)
			stubs := make([]*stubConn, n)
			for i := range conns {
				stubs[i] = &stubConn{}
				conns[i] = &connState{loop: ls, c: stubs[i]}
				ls.add(conns[i])
			}
			req := []byte("GET /io?ms=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n")
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				batch := min(n, b.N-done)
				for _, cs := range conns[:batch] {
					feedAll(cs, req)
					cs.settle()
				}
				monoBase = monoBase.Add(-3 * time.Millisecond) // the waits are due: the clock jumps
				_ = ls.timers.expire(context.Background())
				done += batch
			}
			b.StopTimer()
			for i, cs := range conns {
				if cs.sendSeq != cs.nextSeq || cs.nextSeq > 0 && stubs[i].written == 0 {
					b.Fatalf("conn %d: %d of %d answered", i, cs.sendSeq, cs.nextSeq)
				}
			}
		})
	}
}

// benchTimers is a timer queue without its sleeper (nothing to wake).
func benchTimers() *timerQueue {
	return &timerQueue{wake: make(chan int64, 1), next: monoNow() / wheelTick}
}

func nullLogger() *log.Logger { return log.New(io.Discard, "", 0) }
