// Package heyengine runs github.com/rakyll/hey/requester as the lab's
// second load engine ("-engine hey"), a cross-check on the fast engine with
// numbers people know. Everything hey-specific lives in this one file, so
// swapping or dropping hey is a one-file change.
//
// hey's known limits, which the Result's Notes repeat: closed loop only
// (its QPS option is a per-worker throttle, not an open-loop schedule, so
// this wrapper refuses -rate), no pipelining, net/http client overhead (it
// tops out far below wrk here), whole-second timeouts, N split evenly
// across workers (a remainder is dropped), and percentiles from at most 1M
// results, none above p99.
package heyengine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rakyll/hey/requester"

	"github.com/serverlab/lab/loadgen/engine"
)

// Name is the engine's name in Result.Engine.
const Name = "hey"

// reportTemplate selects the fields of hey's exported Report that map onto
// Result, as JSON. It is used instead of `{{ jsonify . }}` on purpose:
// when every request fails, hey's Report.Average is NaN, json.Marshal then
// fails and jsonify silently returns "", losing the error counts; and the
// whole Report carries eight arrays of up to 1M floats.
const reportTemplate = `{"NumRes":{{ jsonify .NumRes }},"Total":{{ jsonify .Total }},"Rps":{{ jsonify .Rps }},` +
	`"Fastest":{{ jsonify .Fastest }},"Slowest":{{ jsonify .Slowest }},"SizeTotal":{{ jsonify .SizeTotal }},` +
	`"ErrorDist":{{ jsonify .ErrorDist }},"StatusCodeDist":{{ jsonify .StatusCodeDist }},` +
	`"LatencyDistribution":{{ jsonify .LatencyDistribution }}}`

// report is the subset of requester.Report that reportTemplate emits.
type report struct {
	NumRes              int64
	Total               time.Duration
	Rps                 float64
	Fastest, Slowest    float64 // seconds
	SizeTotal           int64
	ErrorDist           map[string]int
	StatusCodeDist      map[int]int
	LatencyDistribution []requester.LatencyDistribution
}

// Run performs one closed-loop measurement with hey and maps hey's report
// onto engine.Result. It honours URL, Method, Headers, Conns, Duration,
// Requests, Timeout and DisableKeepAlive; Rate and Pipeline > 1 are refused.
// When ctx is cancelled it stops hey's workers and returns the partial
// result with Interrupted set.
func Run(ctx context.Context, cfg engine.Config) (*engine.Result, error) {
	w, addr, err := work(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = engine.DefaultTimeout
	}
	if err := engine.CheckConns(cfg.Conns); err != nil {
		return nil, err
	}
	if err := engine.Probe(ctx, addr, min(timeout, time.Second)); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	w.Writer = &out
	w.Init()
	var once sync.Once
	var interrupted bool
	stop := func(byCtx bool) {
		once.Do(func() {
			interrupted = byCtx
			w.Stop()
		})
	}
	done := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		var timer <-chan time.Time
		if cfg.Duration > 0 {
			t := time.NewTimer(cfg.Duration)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			stop(true)
		case <-timer:
			stop(false)
		case <-done:
		}
	}()
	cpu0 := processCPU()
	w.Run()
	cpu := processCPU() - cpu0
	close(done)
	<-watcherDone

	var rep report
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &rep); err != nil {
		return nil, fmt.Errorf("hey: cannot read its report %q: %v", out.String(), err)
	}
	res := mapReport(cfg, &rep)
	res.Interrupted = interrupted
	res.LoadgenCPUS = cpu.Seconds()
	if res.Requests > 0 {
		v := res.LoadgenCPUS * 1e6 / float64(res.Requests)
		res.LoadgenCPUUsPerRequest = &v
	}
	return res, nil
}

// Validate reports whether Run would accept cfg, without contacting the
// target. The error wraps engine.ErrConfig or engine.ErrTooMany.
func Validate(cfg engine.Config) error {
	if _, _, err := work(cfg); err != nil {
		return err
	}
	return engine.CheckConns(cfg.Conns)
}

// work builds hey's Work from cfg and returns the address to probe.
func work(cfg engine.Config) (*requester.Work, string, error) {
	switch {
	case cfg.Rate < 0 || cfg.Conns < 0 || cfg.Requests < 0 || cfg.Timeout < 0 || cfg.Duration < 0:
		return nil, "", fmt.Errorf("%w: a negative -rate, -c, -n, -timeout or -d; give a positive value", engine.ErrConfig)
	case cfg.Warmup > 0:
		return nil, "", fmt.Errorf("%w: -engine hey has no warm-up; drop -warmup or use -engine fast", engine.ErrConfig)
	case cfg.Rate > 0:
		return nil, "", fmt.Errorf("%w: -engine hey is closed loop only (its QPS is a per-worker throttle, not an open-loop schedule); use -engine fast for -rate", engine.ErrConfig)
	case cfg.Pipeline > 1:
		return nil, "", fmt.Errorf("%w: -engine hey cannot pipeline; use -engine fast for -pipeline", engine.ErrConfig)
	case cfg.Conns < 1:
		return nil, "", fmt.Errorf("%w: -c must be at least 1", engine.ErrConfig)
	case cfg.Duration <= 0 && cfg.Requests <= 0:
		return nil, "", fmt.Errorf("%w: set a duration (-d) or a request count (-n)", engine.ErrConfig)
	case cfg.Requests > 0 && cfg.Requests < int64(cfg.Conns):
		return nil, "", fmt.Errorf("%w: -engine hey needs -n >= -c (it splits -n over the connections); raise -n or lower -c", engine.ErrConfig)
	}
	u, err := engine.ParseURL(cfg.URL, true)
	if err != nil {
		return nil, "", err
	}
	method := strings.ToUpper(cfg.Method)
	if method == "" {
		method = "GET"
	}
	req, err := http.NewRequest(method, cfg.URL, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", engine.ErrConfig, err)
	}
	req.Header.Set("User-Agent", "loadgen-hey")
	for _, h := range cfg.Headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return nil, "", fmt.Errorf("%w: header %q is not \"Name: value\"", engine.ErrConfig, h)
		}
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	n := math.MaxInt32 // hey's own way to run for a duration
	if cfg.Requests > 0 {
		n = int(min(cfg.Requests, math.MaxInt32))
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = engine.DefaultTimeout
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return &requester.Work{
		Request:           req,
		N:                 n,
		C:                 cfg.Conns,
		Timeout:           int(math.Ceil(timeout.Seconds())), // hey takes whole seconds
		DisableKeepAlives: cfg.DisableKeepAlive,
		Output:            reportTemplate,
	}, net.JoinHostPort(u.Hostname(), port), nil
}

// mapReport maps hey's report onto the fast engine's Result keys. rps is
// recomputed as successful (2xx/3xx) answers per second, as the fast engine
// counts it; hey's own rps (which counts failed requests too) is kept in
// Extra. Errors are classed as the fast engine classes them.
func mapReport(cfg engine.Config, rep *report) *engine.Result {
	method := strings.ToUpper(cfg.Method)
	if method == "" {
		method = "GET"
	}
	res := &engine.Result{
		Engine:        Name,
		URL:           cfg.URL,
		Method:        method,
		LoadModel:     engine.ClosedLoop,
		Conns:         cfg.Conns,
		MaxConns:      cfg.Conns,
		Pipeline:      1,
		Loops:         cfg.Conns,
		GoMaxProc:     runtime.GOMAXPROCS(0),
		DurationS:     rep.Total.Seconds(),
		ErrorsByClass: make(map[string]int64, len(engine.Classes)),
		Status:        map[string]int64{},
		Extra: map[string]float64{
			"hey_rps":        rep.Rps,
			"hey_size_total": float64(rep.SizeTotal),
		},
		Notes: []string{
			"hey engine: closed loop over net/http's client; percentiles from at most 1M results; p99.9 not reported (null)",
		},
	}
	for _, c := range engine.Classes {
		res.ErrorsByClass[c] = 0
	}
	var errs int64
	var other []string
	for msg, n := range rep.ErrorDist {
		class := classify(msg)
		res.ErrorsByClass[class] += int64(n)
		errs += int64(n)
		if class == engine.ClassOther {
			other = append(other, fmt.Sprintf("%d× %s", n, msg))
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		res.Notes = append(res.Notes, "hey: errors of class other: "+strings.Join(other[:min(len(other), 3)], "; "))
	}
	var responses, statusErrs int64
	for code, n := range rep.StatusCodeDist {
		res.Status[strconv.Itoa(code)] += int64(n)
		responses += int64(n)
		if code < 200 || code > 299 {
			res.Non2xx += int64(n)
		}
		if class := engine.StatusClass(code); class == "" {
			res.OK += int64(n)
		} else {
			res.ErrorsByClass[class] += int64(n)
			statusErrs += int64(n)
		}
	}
	res.Requests = rep.NumRes
	res.Responses = responses
	res.Sent = rep.NumRes
	res.Errors = errs + statusErrs
	if res.Requests > 0 {
		res.ErrorRate = float64(res.Errors) / float64(res.Requests)
	}
	if s := rep.Total.Seconds(); s > 0 {
		res.RPS = float64(res.OK) / s
	}
	for _, d := range rep.LatencyDistribution {
		v := d.Latency * 1000
		switch d.Percentage {
		case 50:
			res.Latency.P50 = &v
		case 90:
			res.Latency.P90 = &v
		case 99:
			res.Latency.P99 = &v
		}
	}
	if responses > 0 {
		v := rep.Slowest * 1000
		res.Latency.Max = &v
	}
	if responses < rep.NumRes-errs {
		res.Notes = append(res.Notes, fmt.Sprintf("hey kept status codes for %d of %d responses (its 1M-result cap)", responses, rep.NumRes-errs))
	}
	return res
}

// classify maps one of hey's error strings (net/http client errors) to an
// engine error class.
func classify(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "connection refused"):
		return engine.ClassRefused
	case strings.Contains(m, "timeout"), strings.Contains(m, "deadline exceeded"):
		return engine.ClassTimeout
	case strings.Contains(m, "connection reset"), strings.Contains(m, "broken pipe"), strings.Contains(m, "forcibly closed"):
		return engine.ClassReset
	case strings.Contains(m, "malformed"), strings.Contains(m, "bad status"), strings.Contains(m, "invalid"),
		strings.Contains(m, "http response to https client"), strings.Contains(m, "tls:"),
		strings.Contains(m, "does not look like a tls handshake"):
		return engine.ClassMalformed
	case strings.Contains(m, "eof"), strings.Contains(m, "server closed"):
		return engine.ClassEOF
	}
	return engine.ClassOther
}

// processCPU is the process's user + system CPU time (getrusage).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
