package conformance

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/labtest"
)

// Hardening cases, run against every server in the table. Timeouts are
// shortened by flags so the tests stay short; the defaults are 10 s (header)
// and 60 s (idle).

const (
	slowConns      = 1000
	headerTimeout  = 2 * time.Second
	slowlorisP99   = 50 * time.Millisecond // the bound issue 8 sets for a fresh request under slowloris
	idleTimeout    = time.Second
	drainRequestMs = 500
)

// TestSlowloris holds slowConns connections that send a header one byte a
// second. Fresh requests must all be answered (their p99 is logged), and
// the header-read timeout must close the slow connections.
func TestSlowloris(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 1,000 connections per server")
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-read-header-timeout", headerTimeout.String()}, s.args...)...)
			conns := make([]net.Conn, 0, slowConns)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for i := 0; i < slowConns; i++ {
				c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
				if err != nil {
					t.Fatalf("slow connection %d: %v", i, err)
				}
				io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: lab\r\nX-Slow: ")
				conns = append(conns, c)
			}
			// One byte a second on every slow connection, from one goroutine.
			stop := make(chan struct{})
			dripped := make(chan struct{})
			go func() {
				defer close(dripped)
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						for _, c := range conns {
							c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
							c.Write([]byte("a"))
						}
					}
				}
			}()
			lat := freshLatencies(t, p.Addr, 200)
			close(stop)
			<-dripped
			// The p99 is a figure, not a test: `make adversarial` reports it
			// (half-headers) on quiet, non-race builds, against issue 8's goal.
			p99 := lat[len(lat)*99/100]
			t.Logf("%d slowloris connections: fresh request p50 %v, p99 %v (issue 8's goal: ≤ %v)", slowConns, lat[len(lat)/2], p99, slowlorisP99)
			// By now (≥ 2 s of dripping), the header timeout has passed: every
			// slow connection must be closed by the server. A loaded machine
			// may close the last ones late, so look again for up to 30 s.
			time.Sleep(headerTimeout)
			pending := conns
			for start := time.Now(); len(pending) > 0 && time.Since(start) < 30*time.Second; {
				var still []net.Conn
				for _, c := range pending {
					if !closedByPeer(c) {
						still = append(still, c)
					}
				}
				pending = still
			}
			if len(pending) > 0 {
				t.Errorf("%d of %d slowloris connections still open 30 s after the %v header timeout", len(pending), slowConns, headerTimeout)
			}
		})
	}
}

// freshLatencies sends n sequential requests on one new keep-alive
// connection and returns their sorted latencies.
func freshLatencies(t *testing.T, addr string, n int) []time.Duration {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		t0 := time.Now()
		io.WriteString(c, get("/plaintext"))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("fresh request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// closedByPeer reports whether the server has closed c: a read returns EOF
// or a reset at once (it may first return a 408 or 400 response).
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
}

// TestIdleTimeout: a keep-alive connection left idle is closed after the
// idle timeout.
func TestIdleTimeout(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-idle-timeout", idleTimeout.String()}, s.args...)...)
			c, err := net.Dial("tcp", p.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, get("/plaintext"))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			if closedByPeer(c) {
				t.Fatal("closed right after the response, before the idle timeout")
			}
			time.Sleep(idleTimeout + 1500*time.Millisecond)
			if !closedByPeer(c) {
				t.Errorf("connection idle for %v is still open (idle timeout %v)", idleTimeout+1500*time.Millisecond, idleTimeout)
			}
		})
	}
}

// TestGracefulDrain: SIGTERM while a /io?ms=500 request is in flight. The
// request completes with 200, new connections are refused, the server exits 0.
func TestGracefulDrain(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-shutdown-grace", "5s"}, s.args...)...)
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			start := time.Now()
			go func() {
				resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + p.Addr + "/io?ms=" + strconv.Itoa(drainRequestMs))
				if err != nil {
					done <- result{err: err}
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- result{status: resp.StatusCode}
			}()
			time.Sleep(100 * time.Millisecond) // the request is in flight
			syscall.Kill(p.Pid(), syscall.SIGTERM)
			r := <-done
			if r.err != nil || r.status != 200 {
				t.Fatalf("in-flight request during shutdown: status %d, err %v", r.status, r.err)
			}
			select {
			case <-p.Done():
			case <-time.After(6 * time.Second):
				t.Fatal("server did not exit after draining")
			}
			t.Logf("drained and exited %v after the request started", time.Since(start).Round(time.Millisecond))
			if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}
