package contract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestResolveBounds(t *testing.T) {
	cases := []struct {
		method, path, query string
		status              int // 0: accepted
		want                Params
	}{
		{"GET", "/io", "ms=0", 0, Params{Millis: 0}},
		{"GET", "/io", "ms=10000", 0, Params{Millis: 10000}},
		{"HEAD", "/io", "x=1&ms=7", 0, Params{Millis: 7}},
		{"GET", "/io", "ms=10001", 400, Params{}},
		{"GET", "/io", "ms=-1", 400, Params{}},
		{"GET", "/io", "ms=", 400, Params{}},
		{"GET", "/io", "ms=1e3", 400, Params{}},
		{"GET", "/io", "ms=99999999999999999999", 400, Params{}},
		{"GET", "/io", "", 400, Params{}},
		{"GET", "/cpu", "work=1000000", 0, Params{Work: 1000000}},
		{"GET", "/cpu", "work=1000001", 400, Params{}},
		{"GET", "/fanout", "calls=1&ms=5&mode=seq", 0, Params{Calls: 1, Millis: 5, Mode: Seq}},
		{"GET", "/fanout", "mode=par&calls=100&ms=0", 0, Params{Calls: 100, Millis: 0, Mode: Par}},
		{"GET", "/fanout", "calls=0&ms=5&mode=seq", 400, Params{}},
		{"GET", "/fanout", "calls=101&ms=5&mode=seq", 400, Params{}},
		{"GET", "/fanout", "calls=1&ms=5&mode=SEQ", 400, Params{}},
		{"GET", "/fanout", "calls=1&ms=5", 400, Params{}},
		{"GET", "/fanout", "ms=1000,2000&mode=par", 0, Params{Calls: 2, Millis: 2000, Mode: Par, Waits: []int{1000, 2000}}},
		{"GET", "/fanout", "calls=3&ms=5,0,7&mode=seq&conn=new", 0, Params{Calls: 3, Millis: 7, Mode: Seq, Conn: New, Waits: []int{5, 0, 7}}},
		{"GET", "/fanout", "calls=2&ms=5&mode=seq&conn=keep", 0, Params{Calls: 2, Millis: 5, Mode: Seq, Conn: Keep}},
		{"GET", "/fanout", "calls=2&ms=5&mode=seq&conn=old", 400, Params{}},
		{"GET", "/fanout", "calls=3&ms=1000,2000&mode=par", 400, Params{}}, // calls ≠ waits
		{"GET", "/fanout", "ms=1000,&mode=par", 400, Params{}},
		{"GET", "/fanout", "ms=,1&mode=par", 400, Params{}},
		{"GET", "/fanout", "ms=1,10001&mode=par", 400, Params{}},
		{"GET", "/fanout", "ms=1,-1&mode=par", 400, Params{}},
		{"GET", "/fanout", "ms=" + strings.Repeat("1,", 100) + "1&mode=par", 400, Params{}}, // 101 waits
		{"GET", "/fanout", "ms=5&mode=par", 400, Params{}},                                  // one wait needs calls
		{"GET", "/fanout", "calls=0&ms=1,2&mode=par", 400, Params{}},
		{"GET", "/nope", "", 404, Params{}},
		{"POST", "/json", "", 405, Params{}},
		{"GET", "/plaintext", "anything=goes", 0, Params{}},
	}
	for _, c := range cases {
		req, err := Resolve(c.method, c.path, c.query)
		status := 0
		if err != nil {
			status = err.Status
			var body struct{ Error string }
			if json.Unmarshal(err.AppendBody(nil), &body) != nil || body.Error == "" {
				t.Errorf("%s %s?%s: error body %q is not {\"error\":…}", c.method, c.path, c.query, err.AppendBody(nil))
			}
		}
		if status != c.status {
			t.Errorf("%s %s?%s: status %d, want %d", c.method, c.path, c.query, status, c.status)
			continue
		}
		if status == 0 && !req.Params.Equal(&c.want) {
			t.Errorf("%s %s?%s: params %+v, want %+v", c.method, c.path, c.query, req.Params, c.want)
		}
		if status == 0 && req.Head != (c.method == "HEAD") {
			t.Errorf("%s: Head = %v", c.method, req.Head)
		}
	}
}

// TestResolveBytesMatchesString: the []byte and string forms agree.
func TestResolveBytesMatchesString(t *testing.T) {
	for _, q := range []string{"ms=5", "ms=x", "calls=3&ms=50&mode=par", "ms=1,2,3&mode=seq&conn=new", "ms=1,x&mode=seq", ""} {
		for _, p := range []string{"/io", "/fanout", "/cpu", "/x"} {
			a, ea := Resolve("GET", p, q)
			b, eb := Resolve([]byte("GET"), []byte(p), []byte(q))
			if a.Route != b.Route || a.Head != b.Head || !a.Params.Equal(&b.Params) || ea != eb {
				t.Errorf("%s?%s: string %v/%v, bytes %v/%v", p, q, a, ea, b, eb)
			}
		}
	}
}

func TestResolveDoesNotAllocate(t *testing.T) {
	m, p, q := []byte("GET"), []byte("/fanout"), []byte("calls=3&ms=50&mode=par&conn=new")
	if n := testing.AllocsPerRun(1000, func() { Resolve(m, p, q) }); n != 0 {
		t.Errorf("Resolve allocates %v times per call", n)
	}
}

// TestCPUDigestIsTheChain recomputes the chain independently.
func TestCPUDigestIsTheChain(t *testing.T) {
	d := sha256.Sum256([]byte("server-model comparison lab /cpu seed"))
	for i := 0; i < 3; i++ {
		d = sha256.Sum256(d[:])
	}
	if got := CPUDigest(3); got != d {
		t.Fatalf("CPUDigest(3) = %x, want %x", got, d)
	}
	body := string(AppendCPUBody(nil, 3, d))
	if want := `{"work":3,"digest":"` + hex.EncodeToString(d[:]) + `"}`; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
}

func TestRunFanout(t *testing.T) {
	var mu sync.Mutex
	var got []DependencyCall
	call := func(ctx context.Context, c DependencyCall) error {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		time.Sleep(time.Duration(c.Millis) * time.Millisecond)
		return nil
	}
	seq, err := RunFanout(context.Background(), Params{Calls: 3, Millis: 20, Mode: Seq}, 0, call)
	if err != nil || len(got) != 3 || seq < 60*time.Millisecond {
		t.Errorf("seq: %v %v calls=%d (want ≥ 60 ms: the sum)", seq, err, len(got))
	}
	// Per-call waits, in order, on fresh connections.
	got = nil
	req, _ := Resolve("GET", "/fanout", "ms=30,10,20&mode=seq&conn=new")
	seq, err = RunFanout(context.Background(), req.Params, 0, call)
	want := []DependencyCall{{30, true}, {10, true}, {20, true}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) || seq < 60*time.Millisecond {
		t.Errorf("seq list: %v %v calls %v, want %v in ≥ 60 ms", seq, err, got, want)
	}
	boom := errors.New("boom")
	_, err = RunFanout(context.Background(), Params{Calls: 3, Millis: 0, Mode: Par}, 0, func(context.Context, DependencyCall) error { return boom })
	if !errors.Is(err, boom) || FanoutError(err) != ErrDependency {
		t.Errorf("par error %v, want boom (502)", err)
	}
}

// TestRunFanoutTimeout: a call that outlives the dependency timeout is
// cancelled through its context, and the answer is 504; the other calls of
// a par fan-out are cancelled too.
func TestRunFanoutTimeout(t *testing.T) {
	blackHole := func(ctx context.Context, c DependencyCall) error {
		<-ctx.Done()
		return ctx.Err()
	}
	for _, mode := range []Mode{Seq, Par} {
		start := time.Now()
		_, err := RunFanout(context.Background(), Params{Calls: 3, Mode: mode}, 50*time.Millisecond, blackHole)
		if took := time.Since(start); err == nil || FanoutError(err) != ErrDependencyTimeout {
			t.Errorf("%v: err %v after %v, want a timeout (504)", mode, err, took)
		}
	}
	req, _ := Resolve("GET", "/fanout", "calls=2&ms=1&mode=par")
	status, body := Serve(context.Background(), nil, req, &Model{Call: blackHole, DependencyTimeout: 20 * time.Millisecond})
	if status != 504 || string(body) != string(ErrDependencyTimeout.AppendBody(nil)) {
		t.Errorf("Serve against a black hole: %d %s, want 504", status, body)
	}
}

func TestIsTimeout(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("refused"), false},
		{context.Canceled, false},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("wrapped: %w", os.ErrDeadlineExceeded), true},
		{&url.Error{Op: "Get", URL: "http://x", Err: context.DeadlineExceeded}, true},
	} {
		if got := IsTimeout(c.err); got != c.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestOptions(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil || o.Validate() != nil || o.DependencyTimeout != DefaultDependencyTimeout {
		t.Fatalf("defaults: %+v", o)
	}
	if o.ConnectDelay(1) != 0 {
		t.Errorf("emulation off: delay %v", o.ConnectDelay(1))
	}
	if err := fs.Parse([]string{"-emulate-connect-ms", "40", "-dependency-timeout", "2s"}); err != nil || o.Validate() != nil {
		t.Fatal(err, o.Validate())
	}
	if o.ConnectDelay(1) != 40*time.Millisecond || o.ConnectDelay(2) != 0 || !strings.Contains(o.String(), "emulated WAN handshake 40 ms") {
		t.Errorf("emulation 40 ms: first %v, second %v, %q", o.ConnectDelay(1), o.ConnectDelay(2), o.String())
	}
	for _, bad := range [][]string{{"-dependency-timeout", "0s"}, {"-emulate-connect-ms", "-1"}, {"-emulate-connect-ms", "10001"}} {
		o := Options{DependencyTimeout: DefaultDependencyTimeout}
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		o.RegisterFlags(fs)
		if err := fs.Parse(bad); err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: error %v, want one naming %s", bad, err, bad[0])
		}
	}
}

func TestServeNoDependency(t *testing.T) {
	req, _ := Resolve("GET", "/fanout", "calls=1&ms=1&mode=seq")
	status, body := Serve(context.Background(), nil, req, &Model{})
	if status != 503 || string(body) != string(ErrNoDependency.AppendBody(nil)) {
		t.Errorf("%d %s", status, body)
	}
}
