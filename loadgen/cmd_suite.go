package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/suite"
)

const suiteUsage = `Usage: loadgen suite [options]

Runs the scenario catalog end to end: starts every server configuration from
bin/ pinned to the server CPUs (or reaches the -targets given), starts the
fan-out dependency, warms up, measures with the fast engine, samples every
server tree, repeats, stops everything, and writes DIR/results.json (see
loadgen/results/SCHEMA.md) and DIR/report.md.

Options:
  -quick               one repetition, short phases, fewer points (~1 min)
  -out DIR             output folder (default results/run)
  -scenarios a,b       scenarios to run (default all: %s)
  -reps N              repetitions per measurement (default 3, -quick 1)
  -server-cpus LIST    taskset list for the servers (default: first half of the CPUs)
  -load-cpus LIST      CPUs of this process and the dependency (default: the rest)
  -targets n=url,...   external mode: measure servers that are already running,
                       named by configuration (%s)
  -bin DIR             where the server binaries are (default bin)
  -warmup DUR          warm-up per measurement (default 500ms, -quick 200ms)
  -measure DUR         measurement per repetition (default 2s, -quick 600ms)
  -no-report           write results.json only

Exit status: 0 done, 1 the suite could not run, 2 bad usage, 130 interrupted
(what was measured is kept in results.json and the report).
`

func suiteCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, suiteUsage, catalog.Names(), configNames()) }
	var (
		o                    suite.Options
		scenarios, targets   string
		serverCPUs, loadCPUs string
		noReport             bool
	)
	defServer, defLoad := suite.DefaultCPUs()
	fs.BoolVar(&o.Quick, "quick", false, "")
	fs.StringVar(&o.OutDir, "out", "results/run", "")
	fs.StringVar(&scenarios, "scenarios", "", "")
	fs.IntVar(&o.Reps, "reps", 0, "")
	fs.StringVar(&serverCPUs, "server-cpus", defServer, "")
	fs.StringVar(&loadCPUs, "load-cpus", defLoad, "")
	fs.StringVar(&targets, "targets", "", "")
	fs.StringVar(&o.BinDir, "bin", "bin", "")
	fs.DurationVar(&o.Warmup, "warmup", 0, "")
	fs.DurationVar(&o.Measure, "measure", 0, "")
	fs.BoolVar(&noReport, "no-report", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen suite: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if o.Reps < 0 || o.Reps > 20 {
		fmt.Fprintln(stderr, "loadgen suite: -reps must be in [1, 20]")
		return exitUsage
	}
	if scenarios != "" {
		o.Scenarios = strings.Split(scenarios, ",")
	}
	var err error
	if o.Targets, err = parseTargets(targets); err != nil {
		fmt.Fprintln(stderr, "loadgen suite:", err)
		return exitUsage
	}
	if len(o.Targets) == 0 {
		for _, l := range []string{serverCPUs, loadCPUs} {
			if err := suite.ValidateCPUList(l); err != nil {
				fmt.Fprintln(stderr, "loadgen suite:", err)
				return exitUsage
			}
		}
		o.ServerCPUs, o.LoadCPUs = serverCPUs, loadCPUs
		o.MachineCPUs = suite.AllowedCPUs() // before pinning narrows it
		if err := pinProcess(loadCPUs); err != nil {
			fmt.Fprintln(stderr, "loadgen suite: pin to load CPUs:", err)
			return exitFail
		}
	} else {
		o.LoadCPUs = loadCPUs
	}
	o.Command = "loadgen suite " + strings.Join(args, " ")
	o.Progress = stderr

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	file, runErr := suite.Run(ctx, o)
	code := exitOK
	switch {
	case runErr != nil && ctx.Err() != nil:
		fmt.Fprintf(stderr, "loadgen suite: interrupted after %s; partial results kept\n", time.Since(start).Round(time.Second))
		code = exitInterrupted
	case runErr != nil:
		fmt.Fprintln(stderr, "loadgen suite:", runErr)
		if file == nil {
			return exitFail
		}
		code = exitFail
	}
	jsonPath := filepath.Join(o.OutDir, "results.json")
	fmt.Fprintf(stdout, "results: %s (%s)\n", jsonPath, time.Since(start).Round(time.Second))
	if !noReport && file != nil {
		if err := renderReport(jsonPath, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "loadgen suite: report:", err)
			return exitFail
		}
	}
	return code
}

func configNames() string {
	var n []string
	for _, c := range catalog.Configs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// parseTargets parses name=url,name=url.
func parseTargets(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		name, u, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || u == "" {
			return nil, fmt.Errorf("-targets: %q is not name=url", kv)
		}
		if _, known := catalog.ConfigByName(name); !known {
			return nil, fmt.Errorf("-targets: unknown configuration %q (known: %s)", name, configNames())
		}
		if !strings.HasPrefix(u, "http://") {
			return nil, fmt.Errorf("-targets: %s: want an http:// URL, got %q", name, u)
		}
		out[name] = u
	}
	return out, nil
}

// pinProcess moves every thread of this process onto cpus and sets
// GOMAXPROCS to match. Threads created later inherit the mask of the thread
// that creates them, which is now pinned too. Twice over the task list, in
// case a thread appeared meanwhile.
func pinProcess(cpus string) error {
	var set unix.CPUSet
	n := 0
	for _, part := range strings.Split(cpus, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		for c := a; c <= b; c++ {
			set.Set(c)
			n++
		}
	}
	for pass := 0; pass < 2; pass++ {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return err
			}
		}
	}
	runtime.GOMAXPROCS(n)
	return nil
}
