package engine

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The io_uring backend's own tests; the behaviour tests in engine_test.go
// run on both backends (ioBackends).

func needURing(t *testing.T) {
	t.Helper()
	if err := probeURing(); err != nil {
		t.Skipf("io_uring is not available here: %v", err)
	}
}

// TestIOChoice: auto takes io_uring only for the closed loop with
// keep-alive; asking for it elsewhere is a configuration error.
func TestIOChoice(t *testing.T) {
	url := httpServer(t, hello)
	want := IOURing
	if probeURing() != nil {
		want = IOEpoll
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"closed loop", Config{Conns: 2, Requests: 50}, want},
		{"open loop", Config{Conns: 2, Rate: 500, Requests: 50}, IOEpoll},
		{"keep-alive off", Config{Conns: 2, Requests: 50, DisableKeepAlive: true}, IOEpoll},
		{"epoll asked for", Config{Conns: 2, Requests: 50, IO: IOEpoll}, IOEpoll},
	} {
		tc.cfg.URL = url
		if res := run(t, tc.cfg); res.IOBackend != tc.want || res.Responses != 50 {
			t.Errorf("%s: io_backend %q with %d responses, want %q with 50", tc.name, res.IOBackend, res.Responses, tc.want)
		}
	}
	for _, cfg := range []Config{
		{URL: url, Conns: 2, Rate: 500, Requests: 50, IO: IOURing},
		{URL: url, Conns: 2, Requests: 50, DisableKeepAlive: true, IO: IOURing},
		{URL: url, Conns: 2, Requests: 50, IO: "kqueue"},
	} {
		if _, err := Run(t.Context(), cfg, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("IO %q (rate %v, keep-alive off %v): err = %v, want ErrConfig", cfg.IO, cfg.Rate, cfg.DisableKeepAlive, err)
		}
	}
}

// TestURingLongResponses: a response longer than one provided buffer
// arrives in several completions and is parsed whole.
func TestURingLongResponses(t *testing.T) {
	needURing(t)
	body := strings.Repeat("x", 100<<10)
	url := httpServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
	res := run(t, Config{URL: url, Conns: 8, Requests: 400, Pipeline: 2, IO: IOURing})
	if res.OK != 400 || res.Errors != 0 || *res.BytesRead < 400*int64(len(body)) {
		t.Fatalf("ok %d errors %d (%v) bytes read %d, want 400 answers of %d bytes", res.OK, res.Errors, res.ErrorsByClass, *res.BytesRead, len(body))
	}
}

// TestURingReleasesSockets: a socket the engine gives up on is closed at
// once, though the ring held it (an armed multishot recv keeps a reference
// that close(2) alone does not drop). The server never answers, so every
// request times out and its connection is closed and redialed, again and
// again within the run: the server must see those connections end as they
// go, never many more open than the engine's 4.
func TestURingReleasesSockets(t *testing.T) {
	needURing(t)
	var open, peak atomic.Int64
	url := rawServer(t, func(c net.Conn, br *bufio.Reader) {
		n := open.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		defer open.Add(-1)
		readRequest(br)
		io.Copy(io.Discard, br) // never answer; returns when the client closes
	})
	res := run(t, Config{URL: url + "/", Conns: 4, Duration: 800 * time.Millisecond, Timeout: 50 * time.Millisecond, IO: IOURing})
	if res.ErrorsByClass[ClassTimeout] < 20 || res.Connects < 20 {
		t.Fatalf("timeouts %d connects %d, want ≥ 20 of each (a redial after every timeout)", res.ErrorsByClass[ClassTimeout], res.Connects)
	}
	if p := peak.Load(); p > 8 {
		t.Fatalf("the server had %d connections open at once for the engine's 4: closed sockets stayed open while the ring held them", p)
	}
	deadline := time.Now().Add(3 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n != 0 {
		t.Fatalf("%d connections still open at the server after the run", n)
	}
}

// TestURingLoopAllocs: the io_uring path allocates nothing per request
// (TestLoopAllocs does the same for epoll).
func TestURingLoopAllocs(t *testing.T) {
	needURing(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const resp = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"
	cfg := Config{URL: "http://127.0.0.1:1/plaintext", Conns: 1, Duration: time.Hour, IO: IOURing}
	tgt, err := cfg.prepare()
	if err != nil {
		t.Fatal(err)
	}
	tgt.uring = true
	var stop atomic.Bool
	l, err := newLoop(0, 1, tgt, &cfg, &unix.SockaddrInet4{}, unix.AF_INET, 1, 1, -1, &stop, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeFDs()
	if !l.useURing() {
		t.Fatal("no ring")
	}
	defer l.ur.close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	server := fds[1]
	defer unix.Close(server)
	l.start = time.Now()
	c := l.conns[0]
	c.fd = fds[0]
	l.connected(c, l.clock()) // arms the recv and queues the first request
	sink := make([]byte, 64<<10)
	step := func() {
		l.ur.enter(0) // submit the queued SEND (and recv)
		if n, _ := rawRead(server, sink); n <= 0 {
			t.Fatal("the loop sent no request")
		}
		if n, _ := rawWrite(server, []byte(resp)); n != len(resp) {
			t.Fatal("short write to the loop")
		}
		for before := l.st.responses; l.st.responses == before; {
			l.ur.enter(100)
			l.uReap(l.clock())
		}
	}
	for range 100 {
		step()
	}
	if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
		t.Fatalf("%.1f allocations per request, want 0", allocs)
	}
	if l.st.responses < 1100 || l.errors() != 0 {
		t.Fatalf("responses %d errors %v", l.st.responses, l.st.errs)
	}
	l.closeConn(c, false)
}
