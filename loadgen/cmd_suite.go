package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
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
  -warmup DUR          base warm-up per measurement (default 500ms, -quick 200ms)
  -measure DUR         base window per repetition (default 1.5s, -quick 600ms);
                       points with a long expected latency get 5× that latency
  -budget DUR          planned time the run keeps to (default 16m, -quick 90s):
                       headline points stop adding repetitions when it is spent
  -plan                print the plan (measurements, windows, time) and exit
  -no-report           write results.json only

Real stacks (stacks/, scripts/install-stacks.sh) run beside their twins;
one that is not installed gets rows that read "not installed".

Exit status: 0 done, 1 the suite could not run or something in it failed
(what was measured is kept), 2 bad usage (unknown flag, scenario, target,
CPU list), 130 interrupted (what was measured is kept in results.json and
the report).
`

func suiteCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	// Errors are printed here, short: the error, then where the options are.
	fs.SetOutput(io.Discard)
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
	fs.DurationVar(&o.Budget, "budget", 0, "")
	fs.BoolVar(&o.PlanOnly, "plan", false, "")
	sw := addSwarmFlags(fs) // -replicas, -rendezvous: cmd_agent.go (H)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintf(stdout, suiteUsage, catalog.Names(), configNames())
			return exitOK
		}
		fmt.Fprintf(stderr, "loadgen suite: %v\nRun 'loadgen suite -h' for the options.\n", err)
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
		for _, n := range o.Scenarios {
			if _, ok := catalog.ScenarioByName(strings.TrimSpace(n)); !ok {
				fmt.Fprintf(stderr, "loadgen suite: -scenarios: unknown scenario %q (known: %s)\n", n, catalog.Names())
				return exitUsage
			}
		}
	}
	if o.Warmup < 0 || o.Measure < 0 || o.Budget < 0 {
		fmt.Fprintln(stderr, "loadgen suite: -warmup, -measure and -budget take a positive duration (example: -measure 2s)")
		return exitUsage
	}
	var err error
	if o.Targets, err = parseTargets(targets); err != nil {
		fmt.Fprintln(stderr, "loadgen suite:", err)
		return exitUsage
	}
	if code := sw.setup(ctx, &o, stderr); code >= 0 { // distributed load (H)
		return code
	}
	if err := targetsAlive(o.Targets); err != nil && !o.PlanOnly {
		fmt.Fprintln(stderr, "loadgen suite:", err)
		return exitFail
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
	if o.PlanOnly && runErr == nil {
		return exitOK
	}
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
	suiteTimelines(ctx, o, runErr == nil && !noReport && file != nil, stdout, stderr) // cmd_timelines.go
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

// targetsAlive fails fast when a -targets URL refuses connections: a dead
// target is known at once (issue 18), and the suite would otherwise start
// its dependency and calibration first. A target that accepts but does not
// answer yet is left to the suite's readiness wait.
func targetsAlive(targets map[string]string) error {
	for name, u := range targets {
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" {
			return fmt.Errorf("-targets: %s: bad URL %q (want http://host:port)", name, u)
		}
		host := pu.Host
		if pu.Port() == "" {
			host += ":80"
		}
		c, err := net.DialTimeout("tcp", host, 2*time.Second)
		if err != nil {
			return fmt.Errorf("-targets: %s at %s: %v (is it running? start it, or leave it out of -targets)", name, u, err)
		}
		c.Close()
	}
	return nil
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
