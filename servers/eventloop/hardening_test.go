package main

// hardening_test.go: hostile clients and a dead dependency. The tests assert
// outcomes (the hostile connection is closed, a bystander is answered,
// memory stays under a generous bound, a black-hole dependency gives 504
// and leaves no fd), never how fast.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/contract"
)

// rssBytes is the test process's resident set size.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// neverReader pipelines req over one connection as fast as the server takes
// it and never reads an answer. It returns the write error that ended it,
// or nil if it was still writing when stop closed.
func neverReader(t *testing.T, addr, req string, stop <-chan struct{}) <-chan error {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	chunk := []byte(strings.Repeat(req, (64<<10)/len(req)))
	done := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := c.Write(chunk); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue // the server stopped reading for now
				}
				done <- err
				return
			}
		}
	}()
	return done
}

// TestNeverReadingPipeliner: a client that pipelines without ever reading
// is throttled and then closed, its buffers stay bounded, and a bystander
// on another connection is answered meanwhile.
func TestNeverReadingPipeliner(t *testing.T) {
	for _, tc := range []struct{ handler, path string }{
		{"async", "/plaintext"}, {"async", "/io?ms=200"}, {"pool", "/plaintext"}, {"inline", "/json"},
	} {
		t.Run(tc.handler+tc.path, func(t *testing.T) {
			s := startServer(t, "-handler", tc.handler, "-write-timeout", "2s")
			base := rssBytes(t)
			stop := make(chan struct{})
			ended := neverReader(t, s.addr, get(tc.path), stop)
			var peakBuf, peakRSS int64
			sampled := make(chan struct{})
			go func() { // the peaks while the hostile client runs
				defer close(sampled)
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					peakBuf = max(peakBuf, s.bufferedTotal.Load())
					peakRSS = max(peakRSS, rssBytes(t))
				}
			}()

			// The bystander is answered while the hostile client writes.
			by := dial(t, s.addr)
			for i := 0; i < 5; i++ {
				by.send(get("/plaintext"))
				if resp, body := by.read("GET"); resp.StatusCode != 200 || body != "Hello, World!" {
					t.Fatalf("bystander: %d %q", resp.StatusCode, body)
				}
				time.Sleep(100 * time.Millisecond)
			}

			select {
			case err := <-ended:
				if err == nil {
					t.Fatal("the hostile client ended without an error")
				}
			case <-time.After(60 * time.Second):
				t.Fatal("the hostile client was never closed")
			}
			close(stop)
			<-sampled
			// One connection may hold at most maxOutbound + maxInboundBacklog
			// plus a window; allow the runtime's slack on top.
			if grow := peakRSS - base; grow > 256<<20 {
				t.Errorf("RSS grew by %d MiB while one client never read", grow>>20)
			}
			t.Logf("peaks: %d KiB buffered, RSS +%d MiB", peakBuf>>10, (peakRSS-base)>>20)
			if limit := int64(maxOutbound + maxInboundBacklog + 2*feedWindow + 1<<20); peakBuf > limit {
				t.Errorf("buffered %d bytes, over the per-connection bound %d", peakBuf, limit)
			}
			// The bystander is still served after.
			by.send(get("/json"))
			if _, body := by.read("GET"); body != string(contract.JSONBody) {
				t.Fatalf("bystander after: %q", body)
			}
		})
	}
}

// TestOutboundPauseResumes: a pipelining client that stops reading while
// more than maxOutbound of answers are due gets every answer, in order,
// once it reads again: pausing loses nothing.
func TestOutboundPauseResumes(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr)
	const n = 60_000 // about 8 MiB of answers
	go func() {
		req := []byte(get("/plaintext"))
		batch := bytes.Repeat(req, 1000)
		for i := 0; i < n/1000; i++ {
			if _, err := c.c.Write(batch); err != nil {
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond) // let the answers pile up unread
	for i := 0; i < n; i++ {
		resp, body := c.read("GET")
		if resp.StatusCode != 200 || body != "Hello, World!" {
			t.Fatalf("answer %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

// TestShedding: over -conn-memory, new requests and new connections get
// 503; back under it, they are served again.
func TestShedding(t *testing.T) {
	s := startServer(t, "-conn-memory", "1")
	c := dial(t, s.addr)
	c.send(get("/plaintext"))
	c.read("GET")
	// Push the loops' count over the limit as buffered bytes would.
	s.loopsMu.Lock()
	var ls *loopState
	for _, l := range s.loops {
		ls = l
	}
	ls.buffered.Add(2 << 20)
	s.loopsMu.Unlock()
	waitFor(t, "shedding", s.shedding.Load)
	c.send(get("/plaintext"))
	if resp, body := c.read("GET"); resp.StatusCode != 503 || body != string(errOverloaded.AppendBody(nil)) {
		t.Fatalf("while shedding: %d %q", resp.StatusCode, body)
	}
	fresh := dial(t, s.addr)
	if resp, _ := fresh.read("GET"); resp.StatusCode != 503 || !resp.Close {
		t.Fatalf("new connection while shedding: %d close=%v", resp.StatusCode, resp.Close)
	}
	ls.buffered.Add(-2 << 20)
	waitFor(t, "shedding to stop", func() bool { return !s.shedding.Load() })
	c.send(get("/plaintext"))
	if resp, _ := c.read("GET"); resp.StatusCode != 200 {
		t.Fatalf("after shedding: %d", resp.StatusCode)
	}
	if !strings.Contains(s.logs.String(), "shedding new work") {
		t.Errorf("shedding not logged: %q", s.logs.String())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
	}
}

// blackHole is a dependency that accepts connections and never answers.
type blackHole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startBlackHole(t *testing.T) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bh := &blackHole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bh.mu.Lock()
			bh.conns = append(bh.conns, c)
			bh.mu.Unlock()
		}
	}()
	t.Cleanup(func() { ln.Close(); bh.closeAll() })
	return bh
}

func (bh *blackHole) accepted() []net.Conn {
	bh.mu.Lock()
	defer bh.mu.Unlock()
	return append([]net.Conn(nil), bh.conns...)
}

func (bh *blackHole) closeAll() {
	for _, c := range bh.accepted() {
		c.Close()
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestFanoutBlackHole: against a dependency that accepts and never
// answers, /fanout answers 504 once the dependency timeout passes, the
// server closes its dependency connections, and no fd is left.
func TestFanoutBlackHole(t *testing.T) {
	for _, q := range []string{"calls=2&ms=10&mode=par", "calls=3&ms=10&mode=seq", "calls=2&ms=5,10&mode=par&conn=new"} {
		t.Run(q, func(t *testing.T) {
			bh := startBlackHole(t)
			s := startServer(t, "-dependency", bh.ln.Addr().String(), "-dependency-timeout", "300ms")
			c := dial(t, s.addr)
			c.send(get("/plaintext"))
			c.read("GET")
			before := openFDs(t)
			c.send(get("/fanout?" + q))
			resp, body := c.read("GET")
			if resp.StatusCode != 504 || body != string(contract.ErrDependencyTimeout.AppendBody(nil)) {
				t.Fatalf("%d %q, want 504", resp.StatusCode, body)
			}
			// Every dependency connection the server opened is closed by it.
			conns := bh.accepted()
			if len(conns) == 0 {
				t.Fatal("the server never connected to the dependency")
			}
			for _, dc := range conns {
				_ = dc.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.ReadAll(dc); err != nil && !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("dependency connection not closed by the server: %v", err)
				}
			}
			bh.closeAll()
			waitFor(t, "the fd count to return", func() bool { return openFDs(t) <= before })
			// The connection that asked still works.
			c.send(get("/plaintext"))
			if resp, _ := c.read("GET"); resp.StatusCode != 200 {
				t.Fatalf("after 504: %d", resp.StatusCode)
			}
		})
	}
}

// TestFanoutFailure: a dependency that closes every connection without an
// answer makes /fanout answer 502 (a failure, not a timeout).
func TestFanoutFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			_, _ = c.Read(buf)
			c.Close()
		}
	}()
	s := startServer(t, "-dependency", ln.Addr().String(), "-dependency-timeout", "5s")
	c := dial(t, s.addr)
	for _, q := range []string{"calls=2&ms=1&mode=par", "calls=2&ms=1&mode=seq&conn=new"} {
		c.send(get("/fanout?" + q))
		if resp, body := c.read("GET"); resp.StatusCode != 502 || body != string(contract.ErrDependency.AppendBody(nil)) {
			t.Fatalf("%s: %d %q, want 502", q, resp.StatusCode, body)
		}
	}
}

// TestFanoutWaitsAndFreshConns: per-call waits and conn=new against a real
// dependency that emulates a handshake on each new connection. Waits are
// never answered early, so the elapsed time has a lower bound.
func TestFanoutWaitsAndFreshConns(t *testing.T) {
	dep := startServer(t, "-emulate-connect-ms", "30")
	s := startServer(t, "-dependency", dep.addr)
	c := dial(t, s.addr)
	for _, tc := range []struct {
		q      string
		lowest time.Duration
	}{
		{"ms=10,20,30&mode=seq&conn=new", 60*time.Millisecond + 3*30*time.Millisecond},
		{"calls=3&ms=10,20,40&mode=par&conn=new", 40*time.Millisecond + 30*time.Millisecond},
		{"calls=2&ms=10&mode=seq", 20 * time.Millisecond},
	} {
		start := time.Now()
		c.send(get("/fanout?" + tc.q))
		resp, body := c.read("GET")
		if resp.StatusCode != 200 || !strings.Contains(body, `"calls":`) {
			t.Fatalf("%s: %d %q", tc.q, resp.StatusCode, body)
		}
		if took := time.Since(start); took < tc.lowest {
			t.Errorf("%s: answered after %v, before the waits and handshakes (%v) could pass", tc.q, took, tc.lowest)
		}
	}
}
