package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/syncbuf"
)

// testServer is an eventloop server running in the test process.
type testServer struct {
	*server
	addr string
	logs *syncbuf.Buffer
}

// startServer runs a server with the given flags on a free port and stops
// it when the test ends.
func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	return startServerWith(t, nil, args...)
}

// startServerWith is startServer with a setup function that may change the
// server before it starts (and before any goroutine reads it).
func startServerWith(t *testing.T, setup func(*server), args ...string) *testServer {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.nofile = 20000
	addr, err := checkAddr(cfg.addr)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	s, err := newServer(cfg, log.New(logs, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(s)
	}
	done := make(chan error, 1)
	go func() { done <- s.serve(addr) }()
	select {
	case <-s.booted:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	return &testServer{server: s, addr: addr, logs: logs}
}

// client is one raw connection to a test server.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one response to a request of the given method; net/http's
// response parser checks its syntax.
func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return resp, string(body)
}

// expectClosed reads until the server closes the connection and fails if
// any byte arrives first.
func (c *client) expectClosed() {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if len(b) > 0 {
		c.t.Fatalf("unexpected bytes before close: %q", b)
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("waiting for close: %v", err)
	}
}

func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n" }

func TestRoutes(t *testing.T) {
	for _, handler := range []string{"async", "pool", "inline"} {
		t.Run(handler, func(t *testing.T) {
			s := startServer(t, "-handler", handler)
			c := dial(t, s.addr)
			for _, tc := range []struct {
				path, ctype, body string
				status            int
			}{
				{"/plaintext", contract.ContentTypeText, "Hello, World!", 200},
				{"/json", contract.ContentTypeJSON, `{"message":"Hello, World!"}`, 200},
				{"/io?ms=5", contract.ContentTypeJSON, `{"waited_ms":5}`, 200},
				{"/io?ms=0", contract.ContentTypeJSON, `{"waited_ms":0}`, 200},
				{"/cpu?work=3", contract.ContentTypeJSON, string(contract.AppendCPUBody(nil, 3, contract.CPUDigest(3))), 200},
				{"/io?ms=-1", contract.ContentTypeJSON, `{"error":"parameter ms must be an integer in [0, 10000]"}`, 400},
				{"/nope", contract.ContentTypeJSON, `{"error":"not found"}`, 404},
				{"/fanout?calls=1&ms=1&mode=seq", contract.ContentTypeJSON, string(contract.ErrNoDependency.AppendBody(nil)), 503},
				{"/plain%74ext", contract.ContentTypeText, "Hello, World!", 200},
			} {
				c.send(get(tc.path))
				resp, body := c.read("GET")
				if resp.StatusCode != tc.status || body != tc.body || resp.Header.Get("Content-Type") != tc.ctype {
					t.Errorf("%s: %d %q %q, want %d %q %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.ctype, tc.body)
				}
				if resp.Header.Get("Server") != serverName || resp.Header.Get("Date") == "" {
					t.Errorf("%s: headers %v", tc.path, resp.Header)
				}
			}
			c.send("DELETE /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
			resp, _ := c.read("DELETE")
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != contract.AllowedMethods {
				t.Errorf("DELETE: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
			}
			// HEAD: the GET's headers, Content-Length included, and no body.
			c.send("HEAD /json HTTP/1.1\r\nHost: t\r\n\r\n" + get("/plaintext"))
			resp, body := c.read("HEAD")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "27" || body != "" {
				t.Errorf("HEAD: %d %v %q", resp.StatusCode, resp.Header, body)
			}
			if _, body := c.read("GET"); body != "Hello, World!" {
				t.Errorf("after HEAD: %q", body)
			}
			// /stats: the process, plus open connections and goroutines.
			c.send(get("/stats"))
			resp, body = c.read("GET")
			var st struct {
				Model      string `json:"model"`
				Open       int64  `json:"open_connections"`
				Goroutines int    `json:"goroutines"`
				Threads    int    `json:"threads"`
			}
			if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
				t.Fatalf("/stats: %d %q %v", resp.StatusCode, body, err)
			}
			if st.Model != "eventloop/"+handler || st.Open != 1 || st.Goroutines == 0 || st.Threads == 0 {
				t.Errorf("/stats: %+v", st)
			}
		})
	}
}

// TestPipelineOrder: pipelined requests are answered in request order even
// when later ones finish first.
func TestPipelineOrder(t *testing.T) {
	for _, handler := range []string{"async", "pool", "inline"} {
		t.Run(handler, func(t *testing.T) {
			s := startServer(t, "-handler", handler)
			c := dial(t, s.addr)
			paths := []string{"/io?ms=150", "/plaintext", "/io?ms=40", "/json", "/nope", "/io?ms=1", "/cpu?work=1"}
			var all strings.Builder
			for _, p := range paths {
				all.WriteString(get(p))
			}
			c.send(all.String())
			for _, p := range paths {
				_, body := c.read("GET")
				want := map[string]string{"/io?ms=150": `{"waited_ms":150}`, "/plaintext": "Hello, World!",
					"/io?ms=40": `{"waited_ms":40}`, "/json": string(contract.JSONBody), "/nope": `{"error":"not found"}`,
					"/io?ms=1": `{"waited_ms":1}`, "/cpu?work=1": string(contract.AppendCPUBody(nil, 1, contract.CPUDigest(1)))}[p]
				if body != want {
					t.Fatalf("answer to %s: %q, want %q", p, body, want)
				}
			}
		})
	}
}

// TestPartialReads: a request arriving a few bytes at a time, and two
// requests split at odd places, are answered once whole.
func TestPartialReads(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr)
	req := get("/plaintext") + get("/io?ms=1") + "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789" + get("/json")
	for i := 0; i < len(req); i += 7 {
		c.send(req[i:min(i+7, len(req))])
		time.Sleep(time.Millisecond)
	}
	for _, want := range []int{200, 200, 405, 200} {
		if resp, body := c.read("GET"); resp.StatusCode != want {
			t.Fatalf("status %d %q, want %d", resp.StatusCode, body, want)
		}
	}
}

func TestBodies(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.addr)
	c.send("POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n" + get("/plaintext"))
	if resp, _ := c.read("POST"); resp.StatusCode != 405 || !resp.Close {
		t.Fatalf("chunked POST: %d close=%v", resp.StatusCode, resp.Close)
	}
	c.expectClosed() // contract.CloseAfterChunked: the request after it is not served
	c = dial(t, s.addr)
	// A GET with a body: read and dropped, then answered.
	c.send("GET /json HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/plaintext"))
	for _, want := range []string{string(contract.JSONBody), "Hello, World!"} {
		if _, body := c.read("GET"); body != want {
			t.Fatalf("got %q, want %q", body, want)
		}
	}
	// Expect: 100-continue: the interim answer comes before the body is sent.
	c.send("GET /json HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	line, err := c.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim answer %q %v", line, err)
	}
	if blank, _ := c.br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("interim answer not ended: %q", blank)
	}
	c.send("body")
	if resp, body := c.read("GET"); resp.StatusCode != 200 || body != string(contract.JSONBody) {
		t.Fatalf("after 100 Continue: %d %q", resp.StatusCode, body)
	}
}

// TestRefusals: protocol errors get the contract's JSON error, in order
// after earlier answers, and the connection closes.
func TestRefusals(t *testing.T) {
	s := startServer(t)
	for _, tc := range []struct {
		name, req string
		err       *contract.Error
	}{
		{"malformed", "GET /plaintext\r\n\r\n", contract.ErrMalformed},
		{"missing host", "GET /plaintext HTTP/1.1\r\n\r\n", contract.ErrMissingHost},
		{"header too large", "GET /plaintext HTTP/1.1\r\nHost: t\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", contract.ErrHeaderTooLarge},
		{"line too large, incomplete", "GET /" + strings.Repeat("a", 9000), contract.ErrHeaderTooLarge},
		{"body too large", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n", contract.ErrBodyTooLarge},
		{"chunked body too large", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", contract.ErrBodyTooLarge},
		{"bad chunk", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", contract.ErrMalformed},
		{"smuggling", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", contract.ErrMalformed},
		{"unsupported coding", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", errUnsupportedTE},
		{"version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", errHTTPVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s.addr)
			c.send(get("/io?ms=30") + tc.req)
			if resp, _ := c.read("GET"); resp.StatusCode != 200 {
				t.Fatalf("first answer %d", resp.StatusCode)
			}
			resp, body := c.read("GET")
			if resp.StatusCode != tc.err.Status || body != string(tc.err.AppendBody(nil)) || !resp.Close {
				t.Fatalf("got %d %q close=%v, want %d %q and close", resp.StatusCode, body, resp.Close, tc.err.Status, tc.err.AppendBody(nil))
			}
			c.expectClosed()
		})
	}
	// A body over the limit sent in full: the 413 still reaches the client.
	c := dial(t, s.addr)
	go func() {
		_, _ = io.WriteString(c.c, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2097152\r\n\r\n")
		_, _ = c.c.Write(make([]byte, 2<<20))
	}()
	if resp, _ := c.read("POST"); resp.StatusCode != 413 {
		t.Fatalf("large body: %d", resp.StatusCode)
	}
}

func TestKeepAliveAndClose(t *testing.T) {
	s := startServer(t)
	t.Run("HTTP/1.1 close", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send(get("/plaintext") + "GET /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + get("/plaintext"))
		c.read("GET")
		resp, body := c.read("GET")
		if !resp.Close || body != string(contract.JSONBody) {
			t.Fatalf("close request: close=%v %q", resp.Close, body)
		}
		c.expectClosed() // the third request is never answered
	})
	t.Run("HTTP/1.0", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send("GET /plaintext HTTP/1.0\r\n\r\n")
		resp, body := c.read("GET")
		if resp.Proto != "HTTP/1.0" || body != "Hello, World!" {
			t.Fatalf("1.0: %s %q", resp.Proto, body)
		}
		c.expectClosed()
	})
	t.Run("HTTP/1.0 keep-alive", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send("GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		resp, _ := c.read("GET")
		if resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("1.0 keep-alive: %v", resp.Header)
		}
		c.send("GET /json HTTP/1.0\r\n\r\n")
		if _, body := c.read("GET"); body != string(contract.JSONBody) {
			t.Fatalf("second 1.0 request: %q", body)
		}
		c.expectClosed()
	})
	t.Run("async answer then close", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send("GET /io?ms=50 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
		if _, body := c.read("GET"); body != `{"waited_ms":50}` {
			t.Fatalf("%q", body)
		}
		c.expectClosed()
	})
}

// TestTimeouts: a head that does not finish within the header timeout, and
// a connection idle beyond the idle timeout, are closed without an answer.
// Only the outcome is checked, never how long it took.
func TestTimeouts(t *testing.T) {
	s := startServer(t, "-read-header-timeout", "200ms", "-idle-timeout", "300ms")
	t.Run("header", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send("GET /plaintext HTTP/1.1\r\nHost:")
		c.expectClosed()
	})
	t.Run("nothing sent", func(t *testing.T) {
		dial(t, s.addr).expectClosed()
	})
	t.Run("idle", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send(get("/plaintext"))
		c.read("GET")
		c.expectClosed()
	})
	t.Run("waiting handler is not idle", func(t *testing.T) {
		c := dial(t, s.addr)
		c.send(get("/io?ms=700"))
		if _, body := c.read("GET"); body != `{"waited_ms":700}` {
			t.Fatalf("%q", body)
		}
	})
}

// TestPanic: a handler that panics answers 500, and its loop — with the
// same connection — keeps serving. /cpu runs where each style runs its
// blocking routes: on the loop (async, inline) or on a pool worker (pool).
func TestPanic(t *testing.T) {
	for _, handler := range []string{"async", "pool", "inline"} {
		t.Run(handler, func(t *testing.T) {
			s := startServerWith(t, func(s *server) {
				s.hook = func(req contract.Request) {
					if req.Route == contract.CPU {
						panic("boom")
					}
				}
			}, "-handler", handler)
			c := dial(t, s.addr)
			c.send(get("/cpu?work=1") + get("/plaintext"))
			resp, body := c.read("GET")
			if resp.StatusCode != 500 || body != string(contract.ErrInternal.AppendBody(nil)) {
				t.Fatalf("panicking handler: %d %q", resp.StatusCode, body)
			}
			if _, body := c.read("GET"); body != "Hello, World!" {
				t.Fatalf("after the panic: %q", body)
			}
			if !strings.Contains(s.logs.String(), "boom") {
				t.Errorf("panic not logged: %q", s.logs.String())
			}
		})
	}
}

// TestFanout: each style calls a real dependency (an async eventloop).
func TestFanout(t *testing.T) {
	dep := startServer(t)
	for _, handler := range []string{"async", "pool", "inline"} {
		t.Run(handler, func(t *testing.T) {
			s := startServer(t, "-handler", handler, "-dependency", dep.addr, "-dependency-conns", "2")
			c := dial(t, s.addr)
			for _, q := range []string{"calls=3&ms=5&mode=seq", "calls=4&ms=5&mode=par", "calls=100&ms=1&mode=par"} {
				c.send(get("/fanout?" + q))
				resp, body := c.read("GET")
				var f struct {
					Calls int     `json:"calls"`
					Mode  string  `json:"mode"`
					MS    float64 `json:"elapsed_ms"`
				}
				if err := json.Unmarshal([]byte(body), &f); err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %d %q", q, resp.StatusCode, body)
				}
				if !strings.Contains(q, "calls="+itoa(f.Calls)) || !strings.Contains(q, "mode="+f.Mode) || f.MS <= 0 {
					t.Errorf("%s: %+v", q, f)
				}
			}
		})
	}
	t.Run("dependency down", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		s := startServer(t, "-dependency", addr)
		c := dial(t, s.addr)
		c.send(get("/fanout?calls=2&ms=1&mode=par"))
		if resp, _ := c.read("GET"); resp.StatusCode != 502 {
			t.Fatalf("status %d, want 502", resp.StatusCode)
		}
	})
}

func itoa(n int) string {
	return string(contract.AppendIOBody(nil, n)[len(`{"waited_ms":`) : len(contract.AppendIOBody(nil, n))-1])
}

// TestRunShutdown: run serves until SIGINT, then returns nil (exit 0).
func TestRunShutdown(t *testing.T) {
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run([]string{"-addr", "127.0.0.1:0"}, io.Discard, w) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, r)
	addr := line[strings.Index(line, "http://")+len("http://"):]
	addr = addr[:strings.IndexByte(addr, ' ')]
	resp, err := http.Get("http://" + addr + "/plaintext")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after SIGINT")
	}
}

// TestShedAtFileLimit: near the open-file limit new connections get a 503
// and are closed, while existing connections keep being served.
func TestShedAtFileLimit(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	lowest := int(f.Fd()) // the lowest free fd now
	f.Close()
	// Leave room for the engine's own fds and about ten connections.
	s := startServerWith(t, func(s *server) { s.shedAt = lowest + 30 })
	first := dial(t, s.addr)
	first.send(get("/plaintext"))
	first.read("GET")
	shed := false
	for i := 0; i < 100 && !shed; i++ {
		c := dial(t, s.addr)
		c.send(get("/plaintext"))
		resp, body := c.read("GET")
		if resp.StatusCode == 503 {
			shed = strings.Contains(body, "open-file limit")
		}
	}
	if !shed {
		t.Fatal("no connection was refused near the limit")
	}
	first.send(get("/json"))
	if _, body := first.read("GET"); body != string(contract.JSONBody) {
		t.Fatalf("existing connection after shedding: %q", body)
	}
	if !strings.Contains(s.logs.String(), "refusing new connections") {
		t.Errorf("shedding not logged: %q", s.logs.String())
	}
}

// TestHalfClose: a client that shuts its write side after sending requests
// still gets every answer, as from net/http, then the close.
func TestHalfClose(t *testing.T) {
	for _, handler := range []string{"async", "pool"} {
		t.Run(handler, func(t *testing.T) {
			s := startServer(t, "-handler", handler)
			c := dial(t, s.addr)
			c.send(get("/io?ms=100") + get("/plaintext") + get("/io?ms=20"))
			if err := c.c.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`{"waited_ms":100}`, "Hello, World!", `{"waited_ms":20}`} {
				if _, body := c.read("GET"); body != want {
					t.Fatalf("got %q, want %q", body, want)
				}
			}
			c.expectClosed()
		})
	}
}
