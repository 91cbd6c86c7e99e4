package conformance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/labtest"
	"github.com/serverlab/lab/internal/limits"
	"github.com/serverlab/lab/internal/procstat"
)

// want is one expected response.
type want struct {
	method string // method of the request it answers ("GET" when empty); HEAD has no body
	status int
	body   string // exact body; empty with jsonError or anyBody
	// jsonError: the body is {"error":"…"}. protocol: the answer comes from the
	// server's HTTP layer (net/http writes its own text there), so only the
	// status is compared across servers.
	jsonError bool
	protocol  bool
	header    map[string]string // headers that must be present with these values
	bodyRE    string            // body must match, instead of body
}

// tcase is one exchange over one connection: the bytes to write (each
// element one write, with a pause between) and the responses, in order.
type tcase struct {
	name   string
	writes []string
	wants  []want
	closed bool // the server must close the connection after the last response
}

const host = "Host: lab\r\n"

func get(target string) string { return "GET " + target + " HTTP/1.1\r\n" + host + "\r\n" }

var ok = func(body, ct string) want {
	return want{status: 200, body: body, header: map[string]string{"Content-Type": ct}}
}

func badParam(target string) tcase {
	return tcase{name: "400 " + target, writes: []string{get(target)}, wants: []want{{status: 400, jsonError: true}}}
}

var cpuBody = string(contract.AppendCPUBody(nil, 1000, contract.CPUDigest(1000)))

var cases = []tcase{
	{name: "plaintext", writes: []string{get("/plaintext")}, wants: []want{ok("Hello, World!", contract.ContentTypeText)}},
	{name: "json", writes: []string{get("/json")}, wants: []want{ok(`{"message":"Hello, World!"}`, contract.ContentTypeJSON)}},
	{name: "io", writes: []string{get("/io?ms=5")}, wants: []want{ok(`{"waited_ms":5}`, contract.ContentTypeJSON)}},
	{name: "io bounds ok", writes: []string{get("/io?ms=0")}, wants: []want{{status: 200, body: `{"waited_ms":0}`}}},
	{name: "cpu digest", writes: []string{get("/cpu?work=1000")}, wants: []want{ok(cpuBody, contract.ContentTypeJSON)}},
	{name: "cpu zero", writes: []string{get("/cpu?work=0")}, wants: []want{{status: 200, body: string(contract.AppendCPUBody(nil, 0, contract.CPUDigest(0)))}}},
	{
		name:   "pipelining answers in order",
		writes: []string{get("/io?ms=40") + get("/plaintext") + get("/io?ms=0") + get("/json")},
		wants: []want{
			{status: 200, body: `{"waited_ms":40}`}, {status: 200, body: "Hello, World!"},
			{status: 200, body: `{"waited_ms":0}`}, {status: 200, body: `{"message":"Hello, World!"}`},
		},
	},
	{
		name:   "request split across two writes",
		writes: []string{"GET /plaintext HTTP/1.1\r\nHo", "st: lab\r\n\r\n"},
		wants:  []want{{status: 200, body: "Hello, World!"}},
	},
	{
		name:   "GET with a body, then another request",
		writes: []string{"GET /json HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello" + get("/plaintext")},
		wants:  []want{{status: 200, body: `{"message":"Hello, World!"}`}, {status: 200, body: "Hello, World!"}},
	},
	{
		// contract.CloseAfterChunked: the answer, then the connection closes.
		name:   "chunked body, then another request",
		writes: []string{"GET /json HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + get("/plaintext")},
		wants:  []want{{status: 200, body: `{"message":"Hello, World!"}`}},
		closed: true,
	},
	{
		name:   "HTTP/1.0 closes after the response",
		writes: []string{"GET /plaintext HTTP/1.0\r\n\r\n"},
		wants:  []want{{status: 200, body: "Hello, World!"}},
		closed: true,
	},
	{
		name:   "Connection: close",
		writes: []string{"GET /json HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n"},
		wants:  []want{{status: 200, body: `{"message":"Hello, World!"}`}},
		closed: true,
	},
	{
		name:   "HEAD has headers and no body",
		writes: []string{"HEAD /json HTTP/1.1\r\n" + host + "\r\n" + get("/plaintext")},
		wants: []want{
			{method: "HEAD", status: 200, header: map[string]string{"Content-Length": "27", "Content-Type": contract.ContentTypeJSON}},
			{status: 200, body: "Hello, World!"},
		},
	},
	{name: "404", writes: []string{get("/nope")}, wants: []want{{status: 404, jsonError: true}}},
	{
		name:   "405 with Allow",
		writes: []string{"POST /json HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n"},
		wants:  []want{{status: 405, jsonError: true, header: map[string]string{"Allow": "GET, HEAD"}}},
	},
	{name: "400 on garbage", writes: []string{"HELLO\r\n\r\n"}, wants: []want{{status: 400, protocol: true}}, closed: true},
	{
		name:   "400 on HTTP/1.1 without Host",
		writes: []string{"GET /plaintext HTTP/1.1\r\n\r\n"},
		wants:  []want{{status: 400, protocol: true}},
		closed: true,
	},
	{
		name:   "431 on a 16 KiB header",
		writes: []string{"GET /plaintext HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n"},
		wants:  []want{{status: 431, protocol: true}},
		closed: true,
	},
	{
		name:   "413 on a 2 MiB Content-Length",
		writes: []string{"GET /json HTTP/1.1\r\n" + host + "Content-Length: 2097152\r\n\r\n"},
		wants:  []want{{status: 413, protocol: true}},
		closed: true,
	},
	badParam("/io?ms=-1"), badParam("/io?ms=10001"), badParam("/io?ms=abc"), badParam("/io"), badParam("/io?ms=99999999999999999999"),
	badParam("/cpu?work=-1"), badParam("/cpu?work=1000001"), badParam("/cpu?work=x"), badParam("/cpu"),
	badParam("/fanout?calls=0&ms=1&mode=seq"), badParam("/fanout?calls=101&ms=1&mode=seq"), badParam("/fanout?calls=x&ms=1&mode=seq"),
	badParam("/fanout?calls=1&ms=-1&mode=seq"), badParam("/fanout?calls=1&ms=10001&mode=seq"), badParam("/fanout?calls=1&ms=1&mode=both"),
	badParam("/fanout?calls=1&ms=1"),
}

// answer is what a server said, normalised for comparison across servers.
type answer struct {
	status int
	body   string
	allow  string
	closed bool
}

// TestConformance runs every case against every server and checks that all
// servers give the same answers.
func TestConformance(t *testing.T) {
	dep := labtest.Start(t, labtest.Binary(t, "servers/blocking"), "")
	var mu sync.Mutex
	got := map[string]map[string][]answer{} // case → server → answers, under mu
	for _, s := range servers {
		p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append([]string{"-dependency", dep.Addr}, s.args...)...)
		t.Run(s.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					ans := exchange(t, p.Addr, c)
					mu.Lock()
					defer mu.Unlock()
					if got[c.name] == nil {
						got[c.name] = map[string][]answer{}
					}
					got[c.name][s.name] = ans
				})
			}
			t.Run("stats", func(t *testing.T) { checkStats(t, p, s) })
			t.Run("fanout", func(t *testing.T) { checkFanout(t, p.Addr) })
		})
	}
	// Identical answers everywhere (protocol-level bodies excepted).
	for _, c := range cases {
		var ref string
		var refAns []answer
		for _, s := range servers {
			ans, ok := got[c.name][s.name]
			if !ok {
				continue
			}
			if refAns == nil {
				ref, refAns = s.name, ans
				continue
			}
			if fmt.Sprint(ans) != fmt.Sprint(refAns) {
				t.Errorf("%s: %s answered %v, %s answered %v", c.name, s.name, ans, ref, refAns)
			}
		}
	}
}

func exchange(t *testing.T, addr string, c tcase) []answer {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	for i, w := range c.writes {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := io.WriteString(conn, w); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	br := bufio.NewReader(conn)
	var out []answer
	for i, w := range c.wants {
		method := w.method
		if method == "" {
			method = "GET"
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		if resp.StatusCode != w.status {
			t.Errorf("response %d: status %d, want %d (body %q)", i, resp.StatusCode, w.status, body)
		}
		switch {
		case w.jsonError:
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
				t.Errorf("response %d: body %q is not a JSON error", i, body)
			}
		case w.bodyRE != "":
			if !regexp.MustCompile(w.bodyRE).Match(body) {
				t.Errorf("response %d: body %q does not match %s", i, body, w.bodyRE)
			}
		case !w.protocol && string(body) != w.body:
			t.Errorf("response %d: body %q, want %q", i, body, w.body)
		}
		for k, v := range w.header {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("response %d: header %s = %q, want %q", i, k, got, v)
			}
		}
		a := answer{status: resp.StatusCode, allow: resp.Header.Get("Allow")}
		if !w.protocol {
			a.body = string(body)
		}
		out = append(out, a)
	}
	closed := isClosed(conn, br)
	if closed != c.closed {
		t.Errorf("connection closed = %v, want %v", closed, c.closed)
	}
	if len(out) > 0 {
		out[len(out)-1].closed = closed
	}
	return out
}

// isClosed reports whether the server closed the connection: a read gets
// EOF or a reset soon, where an open idle connection would time out.
func isClosed(conn net.Conn, br *bufio.Reader) bool {
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func checkStats(t *testing.T, p *labtest.Process, s server) {
	var st procstat.Snapshot
	getJSON(t, "http://"+p.Addr+"/stats", &st)
	if st.Model == "" || st.Processes < 1 || len(st.PIDs) != st.Processes {
		t.Errorf("stats: model %q, processes %d, pids %v", st.Model, st.Processes, st.PIDs)
	}
	if st.PIDs[0] != p.Pid() {
		t.Errorf("stats: root pid %d, want the started process %d", st.PIDs[0], p.Pid())
	}
	if st.RSSBytes < 1<<20 || st.RSSBytes > 1<<30 {
		t.Errorf("stats: implausible rss_bytes %d", st.RSSBytes)
	}
	if st.Threads < 1 || st.OpenFDs < 3 || st.CtxVoluntary <= 0 || st.Goroutines < 1 || st.GOMAXPROCS < 1 {
		t.Errorf("stats: implausible %+v", st)
	}
	if s.pkg == "servers/prefork" && st.Processes != 3 {
		t.Errorf("prefork -workers 2: stats sums %d processes, want master + 2 children", st.Processes)
	}
}

// checkFanout checks that seq takes at least the sum of the waits and par
// less than the sum: a correctness bound with 200 ms of slack, not a speed target.
func checkFanout(t *testing.T, addr string) {
	type fan struct {
		Calls     int     `json:"calls"`
		Mode      string  `json:"mode"`
		ElapsedMs float64 `json:"elapsed_ms"`
	}
	var seq, par fan
	getJSON(t, "http://"+addr+"/fanout?calls=3&ms=150&mode=seq", &seq)
	getJSON(t, "http://"+addr+"/fanout?calls=3&ms=150&mode=par", &par)
	if seq.Calls != 3 || seq.Mode != "seq" || par.Mode != "par" {
		t.Errorf("fanout bodies: %+v %+v", seq, par)
	}
	if seq.ElapsedMs < 450 {
		t.Errorf("seq of 3×150 ms took %.1f ms, less than the sum", seq.ElapsedMs)
	}
	if par.ElapsedMs < 150 || par.ElapsedMs >= 400 {
		t.Errorf("par of 3×150 ms took %.1f ms, want about the max (150 ms), well under the sum (450 ms)", par.ElapsedMs)
	}
}

// TestFanoutErrors: 503 without a dependency, 502 when it is down.
func TestFanoutErrors(t *testing.T) {
	down := labtest.FreeAddr(t) // nothing listens here
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			for _, tc := range []struct {
				args   []string
				status int
			}{{nil, 503}, {[]string{"-dependency", down}, 502}} {
				p := labtest.Start(t, labtest.Binary(t, s.pkg), "", append(tc.args, s.args...)...)
				ans := exchange(t, p.Addr, tcase{writes: []string{get("/fanout?calls=2&ms=1&mode=par")}, wants: []want{{status: tc.status, jsonError: true}}})
				_ = ans
				p.Stop(5 * time.Second)
			}
		})
	}
}

func TestMain(m *testing.M) {
	if _, err := labtest.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The adversarial battery holds 10,000 connections in this process.
	if _, err := limits.RaiseNofile(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(m.Run())
}
