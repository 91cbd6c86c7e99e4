package contract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
		if status == 0 && req.Params != c.want {
			t.Errorf("%s %s?%s: params %+v, want %+v", c.method, c.path, c.query, req.Params, c.want)
		}
		if status == 0 && req.Head != (c.method == "HEAD") {
			t.Errorf("%s: Head = %v", c.method, req.Head)
		}
	}
}

// TestResolveBytesMatchesString: the []byte and string forms agree.
func TestResolveBytesMatchesString(t *testing.T) {
	for _, q := range []string{"ms=5", "ms=x", "calls=3&ms=50&mode=par", ""} {
		for _, p := range []string{"/io", "/fanout", "/cpu", "/x"} {
			a, ea := Resolve("GET", p, q)
			b, eb := Resolve([]byte("GET"), []byte(p), []byte(q))
			if a != b || ea != eb {
				t.Errorf("%s?%s: string %v/%v, bytes %v/%v", p, q, a, ea, b, eb)
			}
		}
	}
}

func TestResolveDoesNotAllocate(t *testing.T) {
	m, p, q := []byte("GET"), []byte("/fanout"), []byte("calls=3&ms=50&mode=par")
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
	var calls int
	call := func(ctx context.Context, ms int) error {
		calls++
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return nil
	}
	seq, err := RunFanout(context.Background(), Params{Calls: 3, Millis: 20, Mode: Seq}, call)
	if err != nil || calls != 3 || seq < 60*time.Millisecond {
		t.Errorf("seq: %v %v calls=%d (want ≥ 60 ms: the sum)", seq, err, calls)
	}
	boom := errors.New("boom")
	_, err = RunFanout(context.Background(), Params{Calls: 3, Millis: 0, Mode: Par}, func(context.Context, int) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("par error %v, want boom", err)
	}
}

func TestServeNoDependency(t *testing.T) {
	req, _ := Resolve("GET", "/fanout", "calls=1&ms=1&mode=seq")
	status, body := Serve(context.Background(), nil, req, &Model{})
	if status != 503 || string(body) != string(ErrNoDependency.AppendBody(nil)) {
		t.Errorf("%d %s", status, body)
	}
}
