package engine

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config describes one measurement. The zero value is not runnable: URL and
// one of Duration or Requests are required. Fields are read once by Run and
// never written; a Config may be reused and shared.
type Config struct {
	// URL is the target, http:// only (the fast engine speaks plain
	// HTTP/1.1; TLS would measure the cipher, not the server model).
	URL string

	// Method is the request method; "" means GET.
	Method string

	// Headers are extra request headers, each "Name: value". A "Host"
	// header replaces the default one taken from URL.
	Headers []string

	// Conns is the number of connections: exactly that many in the closed
	// loop, the initial number in the open loop. 0 means 1 for the open loop
	// and is an error for the closed loop.
	Conns int

	// MaxConns caps the open loop's connection count, which grows on demand
	// when every open connection is busy and a request is due. 0 means
	// "as many as the nofile limit allows" (see NofileCap). Ignored by the
	// closed loop.
	MaxConns int

	// Duration, or Requests, ends the run; one of them must be set. With
	// both, the run ends at whichever comes first.
	Duration time.Duration
	Requests int64

	// Warmup, when above zero, runs the same load on the same connections
	// for this long before the measurement, then discards what it measured:
	// Duration (or Requests) counts from the end of the warm-up. Unlike a
	// separate warm-up run, the measurement starts with connections open
	// and requests in flight, so its first moments are not a ramp.
	Warmup time.Duration

	// Rate, when above zero, selects the open loop: requests are scheduled
	// at Rate per second in total, whatever the number of connections, and
	// latency is measured from each request's intended send time.
	Rate float64

	// Pipeline is the number of requests in flight per connection
	// (responses are matched in order). 0 means 1. The closed loop writes
	// them in batches of Pipeline and sends the next batch when the whole
	// batch is answered, as wrk's pipelining script does; the open loop
	// sends each request when due, on a connection with fewer than
	// Pipeline outstanding.
	Pipeline int

	// Timeout bounds one request (from its actual send) and one connect.
	// 0 means DefaultTimeout.
	Timeout time.Duration

	// DisableKeepAlive sends "Connection: close" and opens a new connection
	// for every request. It forces Pipeline to 1.
	DisableKeepAlive bool

	// IO picks the fast engine's I/O backend: IOAuto ("" or "auto", the
	// default) uses io_uring for the closed loop with keep-alive where the
	// kernel allows it and epoll otherwise; IOEpoll forces epoll; IOURing
	// asks for io_uring and fails where it is unavailable or does not apply
	// (the open loop, DisableKeepAlive). Result.IOBackend says which ran.
	IO string

	// Loops is the number of event loops (goroutines with their own epoll
	// set, connections and histograms). 0 means GOMAXPROCS, which the Go
	// runtime already derives from the CPU affinity mask (taskset), capped
	// by the connection count.
	Loops int

	// Interval, with OnInterval, slices the run: every Interval (aligned on
	// the start of the measured window; the warm-up is sliced too, flagged
	// Interval.Warmup) OnInterval receives what finished in that slice alone
	// (see Interval). It is called from one goroutine that Run owns, in
	// order, never concurrently with itself and never after Run returns;
	// it must not block for long (the loops never wait for it, but the
	// slices queue up in memory). Cost: a histogram merge per loop and per
	// interval, nothing per request. Interval 0 or OnInterval nil: off.
	Interval   time.Duration
	OnInterval func(Interval)
}

// DefaultTimeout applies when Config.Timeout is 0. It exceeds the contract's
// longest legitimate wait (/io?ms=10000).
const DefaultTimeout = 20 * time.Second

// Load models, as written in Result.LoadModel.
const (
	ClosedLoop = "closed" // each connection waits for its response before sending the next request
	OpenLoop   = "open"   // requests are sent on a schedule, whatever the responses do
)

// Errors returned by Run before any load is sent. They are wrapped with
// details; test with errors.Is.
var (
	ErrConfig     = errors.New("invalid configuration")
	ErrTargetDown = errors.New("target is down")
	ErrTooMany    = errors.New("too many connections for the nofile limit")
)

// ParseURL checks a -url value and says how to fix a bad one: a missing
// "://", a missing scheme, a scheme other than http (https too when
// allowHTTPS), no host. The error wraps ErrConfig and names -url.
func ParseURL(raw string, allowHTTPS bool) (*url.URL, error) {
	want := "http://"
	if allowHTTPS {
		want = "http:// or https://"
	}
	if raw == "" {
		return nil, fmt.Errorf("%w: -url is empty; give a URL such as http://127.0.0.1:8080/plaintext", ErrConfig)
	}
	for _, s := range []string{"http", "https"} {
		if rest, ok := strings.CutPrefix(raw, s+"//"); ok {
			return nil, fmt.Errorf("%w: -url %q lacks the ':' after %q; did you mean %s://%s?", ErrConfig, raw, s, s, rest)
		}
		if rest, ok := strings.CutPrefix(raw, s+":/"); ok && !strings.HasPrefix(rest, "/") {
			return nil, fmt.Errorf("%w: -url %q has one '/' after %q; did you mean %s://%s?", ErrConfig, raw, s+":", s, rest)
		}
	}
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("%w: -url %q has no scheme; write it as http://%s", ErrConfig, raw, strings.TrimPrefix(raw, "//"))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: -url %q is not a URL (%v); give one such as http://127.0.0.1:8080/plaintext", ErrConfig, raw, err)
	}
	switch {
	case u.Scheme == "http", allowHTTPS && u.Scheme == "https":
	case u.Scheme == "https":
		return nil, fmt.Errorf("%w: -url %q: the fast engine speaks plain http:// only (TLS would measure the cipher); use http://%s, or -engine hey for https", ErrConfig, raw, u.Host+u.RequestURI())
	default:
		return nil, fmt.Errorf("%w: -url %q: scheme %q is not supported; use %s", ErrConfig, raw, u.Scheme, want)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: -url %q has no host; give one such as http://127.0.0.1:8080/plaintext", ErrConfig, raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: -url %q: port %q is not 1-65535", ErrConfig, raw, p)
		}
	}
	return u, nil
}

// target is what Run derives from a Config once.
type target struct {
	addr      string // host:port to dial
	request   []byte // one serialized request
	head      bool   // the method is HEAD
	model     string // ClosedLoop or OpenLoop
	conns     int    // initial (closed: fixed) connection count
	maxConn   int    // cap (closed: == conns)
	pipe      int    // pipeline depth, >= 1
	closeEach bool   // DisableKeepAlive: close after every response
	uring     bool   // the loops use io_uring (Config.IO, decided in Run)
	timeout   time.Duration
}

// The values of Config.IO.
const (
	IOAuto  = "auto"
	IOEpoll = "epoll"
	IOURing = "io_uring"
)

// Validate reports whether Run would accept c (without contacting the
// target). The error wraps ErrConfig or ErrTooMany.
func (c *Config) Validate() error {
	_, err := c.prepare()
	return err
}

// prepare validates c and serializes the request once.
func (c *Config) prepare() (*target, error) {
	for _, f := range []struct {
		flag, fix string
		neg       bool
	}{
		{"-rate", "a rate in requests/s, e.g. -rate 2000, or none for the closed loop", c.Rate < 0},
		{"-c", "a connection count, e.g. -c 64", c.Conns < 0},
		{"-max-conns", "a cap, e.g. -max-conns 1000, or 0 for the nofile limit", c.MaxConns < 0},
		{"-pipeline", "a depth, e.g. -pipeline 16, or 1 for none", c.Pipeline < 0},
		{"-n", "a request count, e.g. -n 10000", c.Requests < 0},
		{"-timeout", "a duration, e.g. -timeout 5s", c.Timeout < 0},
		{"-d", "a duration, e.g. -d 10s", c.Duration < 0},
		{"-warmup", "a duration, e.g. -warmup 1s, or 0 for none", c.Warmup < 0},
		{"-interval", "a duration, e.g. 1s, or 0 for none", c.Interval < 0},
		{"-loops", "a loop count, e.g. -loops 2, or 0 for GOMAXPROCS", c.Loops < 0},
	} {
		if f.neg {
			return nil, fmt.Errorf("%w: %s is negative; give %s", ErrConfig, f.flag, f.fix)
		}
	}
	u, err := ParseURL(c.URL, false)
	if err != nil {
		return nil, err
	}
	if c.Duration <= 0 && c.Requests <= 0 {
		return nil, fmt.Errorf("%w: set a duration (-d 10s) or a request count (-n 1000)", ErrConfig)
	}
	t := &target{pipe: max(c.Pipeline, 1), timeout: c.Timeout}
	if t.timeout == 0 {
		t.timeout = DefaultTimeout
	}
	if c.DisableKeepAlive {
		t.pipe = 1
		t.closeEach = true
	}
	switch c.IO {
	case "", IOAuto, IOEpoll:
	case IOURing, "uring":
		if c.Rate > 0 || c.DisableKeepAlive {
			return nil, fmt.Errorf("%w: -io io_uring serves the closed loop with keep-alive only; leave -io out (auto) or give -io epoll", ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: -io %q: give auto, epoll or io_uring", ErrConfig, c.IO)
	}
	if c.Rate > 0 {
		t.model = OpenLoop
		t.conns = max(c.Conns, 1)
		t.maxConn = c.MaxConns
		if t.maxConn == 0 {
			t.maxConn = max(NofileCap(), t.conns)
		}
		if t.maxConn < t.conns {
			return nil, fmt.Errorf("%w: -max-conns %d is below -c %d", ErrConfig, t.maxConn, t.conns)
		}
	} else {
		t.model = ClosedLoop
		if c.Conns < 1 {
			return nil, fmt.Errorf("%w: -c must be at least 1 (the closed loop's connections), e.g. -c 64", ErrConfig)
		}
		t.conns, t.maxConn = c.Conns, c.Conns
	}
	if err := CheckConns(t.maxConn); err != nil {
		return nil, err
	}

	host := u.Host
	port := u.Port()
	if port == "" {
		port = "80"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)

	method := strings.ToUpper(c.Method)
	if method == "" {
		method = "GET"
	}
	t.head = method == "HEAD"
	var b strings.Builder
	b.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\n")
	var hasHost, hasUA, hasLen bool
	var extra strings.Builder
	for _, h := range c.Headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("%w: header %q is not \"Name: value\"", ErrConfig, h)
		}
		switch strings.ToLower(name) {
		case "host":
			hasHost = true
		case "user-agent":
			hasUA = true
		case "content-length":
			hasLen = true
		case "connection":
			if c.DisableKeepAlive {
				continue // ours wins
			}
		}
		extra.WriteString(name + ": " + strings.TrimSpace(value) + "\r\n")
	}
	if !hasHost {
		b.WriteString("Host: " + host + "\r\n")
	}
	if !hasUA {
		b.WriteString("User-Agent: loadgen\r\n")
	}
	b.WriteString(extra.String())
	if c.DisableKeepAlive {
		b.WriteString("Connection: close\r\n")
	}
	if !hasLen && (method == "POST" || method == "PUT" || method == "PATCH") {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n")
	t.request = []byte(b.String())
	return t, nil
}
