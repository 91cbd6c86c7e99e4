package engine

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLoopAllocs checks that the per-request path allocates nothing in
// steady state: read a response, parse it, record its latency, write the
// next request(s). The loop's connection is one end of a socketpair; the
// test plays the server on the other end.
func TestLoopAllocs(t *testing.T) {
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"
	const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n8\r\n, World!\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name string
		pipe int
		open bool
		resp string
	}{
		{"closed", 1, false, resp},
		{"closed pipelined chunked", 16, false, chunked},
		{"open", 1, true, resp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{URL: "http://127.0.0.1:1/plaintext", Conns: 1, Duration: time.Hour, Pipeline: tc.pipe}
			if tc.open {
				cfg.Rate = 1e9 // always due
				cfg.MaxConns = 1
			}
			tgt, err := cfg.prepare()
			if err != nil {
				t.Fatal(err)
			}
			var stop atomic.Bool
			l, err := newLoop(0, 1, tgt, &cfg, &unix.SockaddrInet4{}, unix.AF_INET, 1, 1, -1, &stop, false)
			if err != nil {
				t.Fatal(err)
			}
			defer l.closeFDs()
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			server := fds[1]
			defer unix.Close(server)
			l.start = time.Now()
			c := l.conns[0]
			c.fd = fds[0]
			if err := l.ctl(unix.EPOLL_CTL_ADD, c, unix.EPOLLIN); err != nil {
				t.Fatal(err)
			}
			l.connected(c, l.clock()) // closed loop: sends the first batch
			if tc.open {
				l.pump(l.clock())
			}

			batch := make([]byte, 0, tc.pipe*len(tc.resp))
			for range tc.pipe {
				batch = append(batch, tc.resp...)
			}
			sink := make([]byte, 64<<10)
			step := func() {
				if n, _ := rawRead(server, sink); n <= 0 {
					t.Fatal("the loop sent no request")
				}
				if n, _ := rawWrite(server, batch); n != len(batch) {
					t.Fatal("short write to the loop")
				}
				l.onReadable(c)
				if tc.open {
					l.pump(l.clock())
				}
			}
			for range 100 {
				step() // warm up: the reader's carry buffer, the histogram
			}
			if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
				t.Fatalf("%.1f allocations per request batch, want 0", allocs)
			}
			if l.st.responses < 1100*int64(tc.pipe) || l.errors() != 0 {
				t.Fatalf("responses %d errors %v", l.st.responses, l.st.errs)
			}
			c.fd = -1 // closed by the deferred unix.Close below
			unix.Close(fds[0])
		})
	}
}

// BenchmarkReader measures the parser alone on a pipelined batch.
func BenchmarkReader(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: gnet\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
	var batch []byte
	for range 16 {
		batch = append(batch, resp...)
	}
	var r respReader
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		buf := batch
		for len(buf) > 0 {
			n, done, err := r.feed(buf)
			if err != nil {
				b.Fatal(err)
			}
			buf = buf[n:]
			if done {
				r.reset()
			}
		}
	}
}
