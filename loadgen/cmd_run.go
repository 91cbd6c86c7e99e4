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
  -engine fast|hey     load engine (default fast)
  -json FILE           also write the result as JSON (atomically)
  -loops N             fast engine event loops (default GOMAXPROCS)

Exit status: 0 done (failed requests are results, not failures), 1 the run
could not start, 2 bad usage, 130 interrupted (partial results written).

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
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage) }
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if cfg.URL == "" && fs.NArg() == 1 {
		cfg.URL = fs.Arg(0) // hey style: the URL as the last argument
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen run: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if cfg.URL == "" {
		fmt.Fprint(stderr, "loadgen run: -url is required\n\n"+runUsage)
		return exitUsage
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
		fmt.Fprintf(stderr, "loadgen run: -engine %q: want fast or hey\n", engName)
		return exitUsage
	}

	if engName == engine.Name {
		if err := cfg.Validate(); err != nil {
			fmt.Fprintf(stderr, "loadgen run: %v\n", err)
			if errors.Is(err, engine.ErrConfig) {
				return exitUsage
			}
			return exitFail
		}
	}

	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	go func() {
		// After the first signal, restore the default action so that a
		// second Ctrl-C kills a run that is slow to wind down.
		<-ctx.Done()
		stopSignals()
	}()

	fmt.Fprintf(stdout, "Running %s @ %s\n", describeBound(cfg), cfg.URL)
	prog := newProgress(stderr, cfg.Duration)
	res, err := runEngine(ctx, cfg, prog.update)
	prog.done()
	if err != nil {
		fmt.Fprintf(stderr, "loadgen run: %v\n", err)
		if errors.Is(err, engine.ErrConfig) {
			return exitUsage
		}
		return exitFail
	}
	printSummary(stdout, res)
	code := exitOK
	if res.Interrupted {
		fmt.Fprintln(stderr, "loadgen run: interrupted; the result above is partial")
		code = exitInterrupted
	}
	if jsonPath != "" {
		if err := writeJSON(jsonPath, res); err != nil {
			fmt.Fprintf(stderr, "loadgen run: %v\n", err)
			return exitFail
		}
	}
	return code
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
