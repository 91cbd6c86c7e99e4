package main

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"
)

// newTestConn builds a connection state without gnet, enough for feed's
// synchronous path (which never touches the gnet.Conn).
func newTestConn(t testing.TB, handler string) *connState {
	t.Helper()
	s, err := newServer(config{handler: handler, poolSize: 1, loops: 1, depConns: 1,
		readHeaderTimeout: time.Second, idleTimeout: time.Second, linger: time.Second},
		log.New(&bytes.Buffer{}, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	ls := &loopState{srv: s}
	return &connState{loop: ls}
}

// feedAll runs one onTraffic's worth of input through the connection and
// returns what it would write.
func feedAll(cs *connState, in []byte) (consumed int, out []byte) {
	cs.loop.out = cs.loop.out[:0]
	cs.inFeed = true
	n := cs.feed(in)
	cs.inFeed = false
	return n, cs.loop.out
}

const plaintextRequest = "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"

// TestPlaintextZeroAlloc: parsing a request and writing its answer
// allocates nothing, alone or 16 deep in a pipeline.
func TestPlaintextZeroAlloc(t *testing.T) {
	for _, depth := range []int{1, 16} {
		cs := newTestConn(t, "async")
		in := []byte(strings.Repeat(plaintextRequest, depth))
		feedAll(cs, in) // warm the loop's buffers
		allocs := testing.AllocsPerRun(1000, func() {
			n, out := feedAll(cs, in)
			if n != len(in) || bytes.Count(out, []byte("Hello, World!")) != depth {
				t.Fatalf("consumed %d of %d, wrote %q", n, len(in), out)
			}
		})
		if allocs != 0 {
			t.Errorf("depth %d: %v allocations per run, want 0", depth, allocs)
		}
	}
}

// wrkRequest is what wrk sends by default.
const wrkRequest = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"

// BenchmarkPlaintext measures parsing and answering pipelined requests, the
// server's own share of a plaintext request (the rest is syscalls).
func BenchmarkPlaintext(b *testing.B) {
	for _, depth := range []int{1, 16} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			cs := newTestConn(b, "async")
			in := []byte(strings.Repeat(wrkRequest, depth))
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				feedAll(cs, in)
			}
		})
	}
}
