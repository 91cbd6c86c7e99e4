package heyengine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/serverlab/lab/loadgen/engine"
)

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, World!") }

func TestRunMapsReport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	res, err := Run(context.Background(), engine.Config{URL: srv.URL + "/plaintext", Conns: 4, Requests: 200})
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != Name || res.LoadModel != engine.ClosedLoop || res.Requests != 200 || res.Responses != 200 ||
		res.Status["200"] != 200 || res.Errors != 0 || res.RPS <= 0 {
		t.Fatalf("unexpected result %+v", res)
	}
	l := res.Latency
	if l.P50 == nil || l.P90 == nil || l.P99 == nil || l.Max == nil || l.P999 != nil {
		t.Fatalf("latency %+v: want p50, p90, p99, max and a null p999", l)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	lat := m["latency_ms"].(map[string]any)
	if v, ok := lat["p999"]; !ok || v != nil {
		t.Fatalf("latency_ms.p999 = %v (present %v), want null", v, ok)
	}
	for _, k := range []string{"requests", "rps", "errors", "status", "errors_by_class"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// TestAllRequestsFail: when nothing succeeds, hey's own `{{ jsonify . }}`
// would print nothing (NaN average); the wrapper must still return counts.
func TestAllRequestsFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				c.Close() // read the request, answer nothing
			}()
		}
	}()
	res, err := Run(context.Background(), engine.Config{URL: "http://" + ln.Addr().String() + "/", Conns: 2, Requests: 20})
	if err != nil {
		t.Fatal(err)
	}
	var classified int64
	for _, n := range res.ErrorsByClass {
		classified += n
	}
	if res.Requests != 20 || res.Responses != 0 || res.Errors != 20 || classified != 20 || res.Latency.P50 != nil {
		t.Fatalf("requests %d responses %d errors %d by class %v p50 %v", res.Requests, res.Responses, res.Errors, res.ErrorsByClass, res.Latency.P50)
	}
}

func TestDurationAndCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	start := time.Now()
	// hey preallocates its 1M-result report before its workers start
	// (about 64 MB, slow under -race), and that time counts in the
	// duration: a shorter run may see no request at all.
	res, err := Run(context.Background(), engine.Config{URL: srv.URL, Conns: 2, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second || res.Responses == 0 || res.Interrupted {
		t.Fatalf("took %v, responses %d, interrupted %v: %+v", d, res.Responses, res.Interrupted, res)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	res, err = Run(ctx, engine.Config{URL: srv.URL, Conns: 2, Duration: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Responses == 0 {
		t.Fatalf("interrupted %v responses %d", res.Interrupted, res.Responses)
	}
}

func TestRefusals(t *testing.T) {
	for _, cfg := range []engine.Config{
		{URL: "http://127.0.0.1:1/", Conns: 1, Duration: time.Second, Rate: 10},
		{URL: "http://127.0.0.1:1/", Conns: 1, Duration: time.Second, Pipeline: 4},
		{URL: "http://127.0.0.1:1/", Conns: 4, Requests: 2},
	} {
		if _, err := Run(context.Background(), cfg); !errors.Is(err, engine.ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", cfg, err)
		}
	}
	_, err := Run(context.Background(), engine.Config{URL: "http://127.0.0.1:1/", Conns: 1, Duration: time.Second})
	if !errors.Is(err, engine.ErrTargetDown) {
		t.Errorf("err = %v, want ErrTargetDown", err)
	}
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]string{
		`Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`:                      engine.ClassRefused,
		`Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`:       engine.ClassTimeout,
		`Get "http://x/": read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer`:                engine.ClassReset,
		`Get "http://x/": net/http: HTTP/1.x transport connection broken: malformed HTTP status code "2x0"`: engine.ClassMalformed,
		`Get "https://x/": http: server gave HTTP response to HTTPS client`:                                 engine.ClassMalformed,
		`Get "http://x/": EOF`: engine.ClassEOF,
		`Get "http://x/": dial tcp: lookup nowhere: no such host`: engine.ClassOther,
	} {
		if got := classify(msg); got != want {
			t.Errorf("classify(%q) = %s, want %s", msg, got, want)
		}
	}
}
