package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/serverlab/lab/loadgen/engine"
	"github.com/serverlab/lab/loadgen/heyengine"
)

const runUsage = `Usage: loadgen run [options] -url URL

Runs one measurement and prints a summary. The fast engine (default) is the
lab's own; the hey engine runs github.com/rakyll/hey as a cross-check.

Options:
  -url URL             target URL (http:// only for the fast engine)
  -c N                 connections: fixed in the closed loop, initial in the
                       open loop (default 50)
  -d DUR               duration, e.g. 10s (default 10s unless -n is given)
  -n N                 total number of requests (with -d: whichever first)
  -rate R              open loop: R requests/s in total, latency measured from
                       each request's intended send time (coordinated omission
                       corrected); without it the load is a closed loop
  -max-conns N         open loop: connection cap (default: the nofile limit)
  -pipeline P          requests in flight per connection (default 1)
  -timeout DUR         per request and per connect (default 20s)
  -H "Name: value"     extra request header, repeatable
  -m METHOD            request method (default GET)
  -disable-keepalive   a new connection for every request
  -warmup DUR          fast engine: run the load this long first, on the same
                       connections, and discard it (default 0)
  -engine fast|hey     load engine (default fast)
  -json FILE           also write the result as JSON (atomically)
  -loops N             fast engine event loops (default GOMAXPROCS)
  -io auto|epoll|io_uring
                       fast engine I/O (default auto: io_uring for the closed
                       loop with keep-alive where the kernel allows it, else
                       epoll); the result's io_backend says which ran
  -cpuprofile FILE     write a pprof CPU profile of the run (go tool pprof)
  -trace FILE          write a Go execution trace of the run (go tool trace)

rps counts successful answers (2xx and 3xx) only; 4xx/5xx answers and
requests without an answer are errors, by class, with an error rate. Requests
still unanswered when the window ends are in the latency as lower bounds.

` + exitCodes + `

Examples:
  loadgen run -url http://127.0.0.1:8080/plaintext -c 64 -d 10s
  loadgen run -url http://127.0.0.1:8080/plaintext -c 64 -pipeline 16 -d 10s
  loadgen run -url 'http://127.0.0.1:8080/io?ms=50' -rate 2000 -c 100 -d 30s -json io.json
`

// headerFlags collects repeated -H values.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// runCmd implements `loadgen run`.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	// Errors are printed below, short: the error with a valid example, then
	// one line pointing at -h.
	fs.SetOutput(io.Discard)
	var (
		cfg      engine.Config
		headers  headerFlags
		engName  string
		jsonPath string
		requests int64
	)
	fs.StringVar(&cfg.URL, "url", "", "")
	fs.IntVar(&cfg.Conns, "c", 50, "")
	fs.DurationVar(&cfg.Duration, "d", 0, "")
	fs.Int64Var(&requests, "n", 0, "")
	fs.Float64Var(&cfg.Rate, "rate", 0, "")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "")
	fs.IntVar(&cfg.Pipeline, "pipeline", 1, "")
	fs.DurationVar(&cfg.Timeout, "timeout", engine.DefaultTimeout, "")
	fs.Var(&headers, "H", "")
	fs.StringVar(&cfg.Method, "m", "GET", "")
	fs.BoolVar(&cfg.DisableKeepAlive, "disable-keepalive", false, "")
	fs.StringVar(&engName, "engine", engine.Name, "")
	fs.StringVar(&jsonPath, "json", "", "")
	fs.IntVar(&cfg.Loops, "loops", 0, "")
	fs.StringVar(&cfg.IO, "io", engine.IOAuto, "")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "")
	var cpuProfile, tracePath string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "")
	fs.StringVar(&tracePath, "trace", "", "")
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "loadgen run: "+format+"\n%s", append(a, seeHelp("run"))...)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, runUsage)
			return exitOK
		}
		return usageErr("%s", flagError(err))
	}
	if cfg.URL == "" && fs.NArg() == 1 {
		cfg.URL = fs.Arg(0) // hey style: the URL as the last argument
	} else if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q; options go before the URL, e.g. loadgen run -c 64 -d 10s %s", fs.Args(), runExamples["url"])
	}
	if cfg.URL == "" {
		return usageErr("-url is required, e.g. -url %s", runExamples["url"])
	}
	cfg.Headers = headers
	cfg.Requests = requests
	if cfg.Duration == 0 && cfg.Requests == 0 {
		cfg.Duration = 10 * time.Second
	}

	var runEngine func(context.Context, engine.Config, func(engine.Snapshot)) (*engine.Result, error)
	switch engName {
	case engine.Name:
		runEngine = engine.Run
	case heyengine.Name:
		runEngine = func(ctx context.Context, cfg engine.Config, _ func(engine.Snapshot)) (*engine.Result, error) {
			return heyengine.Run(ctx, cfg)
		}
	default:
		return usageErr("-engine %q is not an engine; use -engine fast (the default) or -engine hey", engName)
	}

	validate := cfg.Validate
	if engName == heyengine.Name {
		validate = func() error { return heyengine.Validate(cfg) }
	}
	if err := validate(); err != nil {
		if errors.Is(err, engine.ErrConfig) {
			return usageErr("%s", configError(err))
		}
		fmt.Fprintf(stderr, "loadgen run: %v\n", err)
		return exitFail
	}

	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	go func() {
		// After the first signal, restore the default action so that a
		// second Ctrl-C kills a run that is slow to wind down.
		<-ctx.Done()
		stopSignals()
	}()

	stopProfiles, err := startProfiles(cpuProfile, tracePath)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen run: %v\n", err)
		return exitFail
	}
	defer stopProfiles()

	fmt.Fprintf(stdout, "Running %s @ %s\n", describeBound(cfg), cfg.URL)
	prog := newProgress(stderr, cfg.Duration)
	res, err := runEngine(ctx, cfg, prog.update)
	prog.done()
	stopProfiles()
	if err != nil {
		if errors.Is(err, engine.ErrConfig) {
			return usageErr("%s", configError(err))
		}
		fmt.Fprintf(stderr, "loadgen run: %v\n", err)
		return exitFail
	}
	printSummary(stdout, res)
	code := exitOK
	switch {
	case res.Interrupted:
		fmt.Fprintln(stderr, "loadgen run: interrupted; the result above is partial")
		code = exitInterrupted
	case res.OK == 0:
		fmt.Fprintf(stderr, "loadgen run: no request succeeded (%s); check that %s answers, e.g. with curl -i\n", failureText(res), cfg.URL)
		code = exitNoSuccess
	}
	if jsonPath != "" {
		if err := writeJSON(jsonPath, res); err != nil {
			fmt.Fprintf(stderr, "loadgen run: %v\n", err)
			return exitFail
		}
	}
	return code
}

// runExamples are valid values for each flag of run, quoted in error
// messages so that a bad value comes with a fix.
var runExamples = map[string]string{
	"url": "http://127.0.0.1:8080/plaintext", "c": "64", "d": "10s (or 500ms, 1m30s)", "n": "10000",
	"rate": "2000", "max-conns": "1000", "pipeline": "16", "timeout": "5s", "H": `"Accept: text/plain"`,
	"m": "GET", "engine": "fast", "json": "out.json", "loops": "2", "warmup": "1s",
	"cpuprofile": "cpu.pprof", "trace": "run.trace",
}

var invalidValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -([\w-]+): (.*)$`)

// flagError rewrites the flag package's error into one that names the flag
// and gives a valid example.
func flagError(err error) string {
	msg := err.Error()
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		why := m[3]
		switch why {
		case "parse error":
			why = "not a valid value"
		case "value out of range":
			why = "out of range"
		}
		return fmt.Sprintf("-%s %q: %s; example: -%s %s", m[2], m[1], why, m[2], runExamples[m[2]])
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Sprintf("-%s needs a value, e.g. -%s %s", name, name, runExamples[name])
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("unknown flag %s", name)
	}
	return msg
}

// configError is an engine configuration error without its "invalid
// configuration" prefix: the message itself names the flag and the fix.
func configError(err error) string {
	return strings.TrimPrefix(err.Error(), engine.ErrConfig.Error()+": ")
}

// failureText says why nothing succeeded: the error classes seen and the
// requests left unanswered.
func failureText(res *engine.Result) string {
	var parts []string
	for _, c := range engine.Classes {
		if n := res.ErrorsByClass[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
	}
	s := fmt.Sprintf("%d of %d finished requests failed", res.Errors, res.Requests)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	if res.Unfinished > 0 {
		s += fmt.Sprintf("; %d unanswered when the window ended", res.Unfinished)
	}
	return s
}

// startProfiles starts a CPU profile and an execution trace when their
// paths are set; the returned function stops both (once; later calls do
// nothing).
func startProfiles(cpuPath, tracePath string) (func(), error) {
	var files []*os.File
	var stops []func()
	stop := func() {
		for _, f := range stops {
			f()
		}
		for _, f := range files {
			f.Close()
		}
		stops, files = nil, nil
	}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return stop, fmt.Errorf("-cpuprofile: %w", err)
		}
		files = append(files, f)
		if err := pprof.StartCPUProfile(f); err != nil {
			stop()
			return stop, fmt.Errorf("-cpuprofile: %w", err)
		}
		stops = append(stops, pprof.StopCPUProfile)
	}
	if tracePath != "" {
		f, err := os.Create(tracePath)
		if err != nil {
			stop()
			return stop, fmt.Errorf("-trace: %w", err)
		}
		files = append(files, f)
		if err := trace.Start(f); err != nil {
			stop()
			return stop, fmt.Errorf("-trace: %w", err)
		}
		stops = append(stops, trace.Stop)
	}
	return stop, nil
}

func describeBound(cfg engine.Config) string {
	switch {
	case cfg.Requests > 0 && cfg.Duration > 0:
		return fmt.Sprintf("%d requests or %v", cfg.Requests, cfg.Duration)
	case cfg.Requests > 0:
		return fmt.Sprintf("%d requests", cfg.Requests)
	}
	return fmt.Sprintf("%v test", cfg.Duration)
}

// writeJSON writes v to path atomically: a temporary file in the same
// directory, synced, then renamed over path. A reader never sees a partial
// file, even when the run was interrupted.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
