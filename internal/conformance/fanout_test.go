package conformance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/procstat"
)

// The /fanout contract beyond checkFanout: per-call waits (ms=a,b), fresh
// connections (conn=new) against a dependency that emulates a WAN
// handshake (-emulate-connect-ms), and a dependency that never answers
// (504 within -dependency-timeout, the dependency connection closed).
// Bounds are correctness bounds (a wait cannot be shorter than its sum),
// with generous slack on the other side, never speed targets.

// emulatedConnect is the dependency's emulated handshake in these tests.
const emulatedConnect = 150 * time.Millisecond

type fanBody struct {
	Calls     int     `json:"calls"`
	Mode      string  `json:"mode"`
	ElapsedMs float64 `json:"elapsed_ms"`
}

// fanoutGet GETs a /fanout target and decodes its 200 body.
func fanoutGet(t *testing.T, client *http.Client, addr, target string) fanBody {
	t.Helper()
	resp, err := client.Get("http://" + addr + target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, b)
	}
	var f fanBody
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("GET %s: body %q: %v", target, b, err)
	}
	return f
}

// TestFanoutWaitsAndConnections runs every server as the fan-out client of
// one dependency that charges emulatedConnect to each new connection.
func TestFanoutWaitsAndConnections(t *testing.T) {
	dep := labtest.Start(t, labtest.Binary(t, "servers/blocking"), "", "-emulate-connect-ms", fmt.Sprint(emulatedConnect.Milliseconds()))
	client := &http.Client{Timeout: 30 * time.Second}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-dependency", dep.Addr}, s.args...)...)
			// Warm: each model opens its pooled connections (paying the handshake once).
			fanoutGet(t, client, p.Addr, "/fanout?calls=4&ms=0&mode=par")

			seq := fanoutGet(t, client, p.Addr, "/fanout?ms=100,250&mode=seq")
			par := fanoutGet(t, client, p.Addr, "/fanout?ms=100,250&mode=par")
			if seq.Calls != 2 || seq.Mode != "seq" || par.Calls != 2 || par.Mode != "par" {
				t.Errorf("bodies %+v %+v, want calls 2", seq, par)
			}
			if seq.ElapsedMs < 350 {
				t.Errorf("seq of 100+250 ms took %.1f ms, less than the sum", seq.ElapsedMs)
			}
			if par.ElapsedMs < 250 || par.ElapsedMs >= 350+float64(emulatedConnect.Milliseconds()) {
				t.Errorf("par of 100 and 250 ms took %.1f ms, want about the max (250 ms), well under the sum (350 ms)", par.ElapsedMs)
			}

			// conn=new pays the handshake on every call: seq at least twice.
			fresh := fanoutGet(t, client, p.Addr, "/fanout?calls=2&ms=0&mode=seq&conn=new")
			keep := fanoutGet(t, client, p.Addr, "/fanout?calls=2&ms=0&mode=seq&conn=keep")
			t.Logf("seq of 2 × 0 ms, emulated handshake %v: conn=new %.1f ms, conn=keep %.1f ms", emulatedConnect, fresh.ElapsedMs, keep.ElapsedMs)
			if fresh.ElapsedMs < 2*float64(emulatedConnect.Milliseconds()) {
				t.Errorf("conn=new: 2 seq calls took %.1f ms, less than two emulated handshakes: the calls reused a connection", fresh.ElapsedMs)
			}
			if keep.ElapsedMs >= 2*float64(emulatedConnect.Milliseconds()) {
				t.Errorf("conn=keep: 2 seq calls took %.1f ms, two handshakes or more: pooled connections were not reused", keep.ElapsedMs)
			}
		})
	}
}

// TestEmulateConnect: every server, acting as a dependency, charges
// -emulate-connect-ms to the first request of each new connection only.
func TestEmulateConnect(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-emulate-connect-ms", fmt.Sprint(emulatedConnect.Milliseconds())}, s.args...)...)
			c, err := net.DialTimeout("tcp", p.Addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			var lat [2]time.Duration
			for i := range lat {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				t0 := time.Now()
				io.WriteString(c, get("/plaintext"))
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
			}
			t.Logf("first request %v, second %v", lat[0], lat[1])
			if lat[0] < emulatedConnect {
				t.Errorf("first request of a new connection took %v, less than the emulated handshake %v", lat[0], emulatedConnect)
			}
			if lat[1] >= 2*emulatedConnect {
				t.Errorf("second request on the same connection took %v: the handshake was charged again", lat[1])
			}
		})
	}
}

// blackHole accepts connections and never reads or answers. It records
// each connection, so a test can check that the server closed it.
type blackHole struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newBlackHole(t testing.TB) *blackHole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			c.Close()
		}
	})
	return b
}

func (b *blackHole) Addr() string { return b.ln.Addr().String() }

// openConns returns how many accepted connections the peer has not closed.
func (b *blackHole) openConns() (open, total int) {
	b.mu.Lock()
	conns := append([]net.Conn(nil), b.conns...)
	b.mu.Unlock()
	for _, c := range conns {
		if !closedByPeer(c) {
			open++
		}
	}
	return open, len(conns)
}

// TestFanoutBlackHole: a dependency that accepts and never answers gives
// 504 once the dependency timeout passes, not before and not much after;
// the server closes its dependency connections, and its fd count returns
// to where it was.
func TestFanoutBlackHole(t *testing.T) {
	const timeout = time.Second
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			bh := newBlackHole(t)
			p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-dependency", bh.Addr(), "-dependency-timeout", timeout.String()}, s.args...)...)
			before := settledFDs(t, p.Pid())
			for _, target := range []string{"/fanout?calls=2&ms=10&mode=par", "/fanout?calls=2&ms=10&mode=seq&conn=new"} {
				start := time.Now()
				status, body := rawGet(t, p.Addr, target)
				took := time.Since(start)
				if status != 504 || body != string(contract.ErrDependencyTimeout.AppendBody(nil)) {
					t.Errorf("%s against a black hole: %d %q, want 504", target, status, body)
				}
				// Event loops may check deadlines on a coarse tick: allow 5 % early.
				if took < timeout*95/100 || took > timeout+5*time.Second {
					t.Errorf("%s: 504 after %v, want just after the %v dependency timeout", target, took, timeout)
				}
			}
			// Every dependency connection is closed by the server.
			var open, total int
			for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(50 * time.Millisecond) {
				if open, total = bh.openConns(); open == 0 {
					break
				}
			}
			if total == 0 || open > 0 {
				t.Errorf("black hole: %d of %d dependency connections still open 5 s after the 504s", open, total)
			}
			// And the server's fds return to where they were.
			var after int
			for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(50 * time.Millisecond) {
				if after = treeFDs(t, p.Pid()); after <= before {
					break
				}
			}
			t.Logf("open fds: %d before, %d after; %d dependency connections opened and closed", before, after, total)
			if after > before {
				t.Errorf("open fds %d after the 504s, %d before: dependency fds leaked", after, before)
			}
		})
	}
}

// settledFDs waits until the tree's fd count has not changed for 500 ms
// (a prefork worker may still be starting when the first one answers) and
// returns it.
func settledFDs(t *testing.T, pid int) int {
	n, since := treeFDs(t, pid), time.Now()
	for start := time.Now(); time.Since(since) < 500*time.Millisecond && time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		if m := treeFDs(t, pid); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

// treeFDs counts the open fds of the server's process tree from /proc.
func treeFDs(t *testing.T, pid int) int {
	s, err := procstat.Tree(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s.OpenFDs
}

// rawGet sends one request on a fresh connection with Connection: close
// and returns the status and body; the connection is closed afterwards.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "GET "+target+" HTTP/1.1\r\n"+host+"Connection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestServerHeader: every server names itself in a Server header, on
// answers and on errors (the TechEmpower verifier requires one).
func TestServerHeader(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := startServer(t, s)
			for _, target := range []string{"/plaintext", "/nope"} {
				resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + p.Addr + target)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.Header.Get("Server") == "" {
					t.Errorf("GET %s: no Server header (%d)", target, resp.StatusCode)
				}
			}
		})
	}
}
