package main

// cmd_timelines.go (helper "timelines"): `loadgen timelines`, the
// per-model timeline pictures (package timeline).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/report"
	"github.com/serverlab/lab/loadgen/suite"
	"github.com/serverlab/lab/loadgen/timeline"
)

const timelinesUsage = `Usage: loadgen timelines -out DIR [-models a,b] [-cpus LIST]

For each Go model, starts its server (bin/, built by make build) with
LAB_SPANS set, sends three overlapping GET /io?ms=50 requests 10 ms apart on
separate connections, stops it, and draws what each OS thread (or the
event loop) did, from the spans the server recorded:
DIR/charts/timeline-<model>.svg and the spans as DIR/charts/timeline-<model>.json.
A later 'loadgen report DIR/results.json' shows them. Light: about a second
per model.

Options:
`

func timelinesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("timelines", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, timelinesUsage); fs.PrintDefaults() }
	out := fs.String("out", "", "the run directory; the files go to DIR/"+report.ChartsDir+"/ (required)")
	models := fs.String("models", strings.Join(timeline.Models, ","), "comma-separated configurations to draw")
	cpus := fs.String("cpus", "", "taskset CPU list for the servers (empty: unpinned)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *out == "" || fs.NArg() != 0 {
		fmt.Fprintf(stderr, "loadgen timelines: -out DIR is required and takes no arguments\n%s", seeHelp("timelines"))
		return exitUsage
	}
	var ms []string
	for _, m := range strings.Split(*models, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if c, ok := catalog.ConfigByName(m); !ok || c.Binary == "" {
			fmt.Fprintf(stderr, "loadgen timelines: -models: %q is not a Go model; use some of %s\n%s", m, strings.Join(timeline.Models, ","), seeHelp("timelines"))
			return exitUsage
		}
		ms = append(ms, m)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := filepath.Join(*out, report.ChartsDir)
	tls, err := timeline.Run(ctx, timeline.Options{Out: dir, Models: ms, CPUs: *cpus})
	for _, tl := range tls {
		fmt.Fprintf(stdout, "timelines: %s\n", filepath.Join(dir, timeline.SVGName(tl.Model)))
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen timelines:", err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitFail
	}
	return exitOK
}

// suiteTimelines draws the timelines into a suite run's directory before
// its report is rendered, when ok and the run was a local one of the whole
// catalog (no -scenarios, no -targets, no swarm). A failure is printed and
// does not fail the suite: the report then has no timelines section.
func suiteTimelines(ctx context.Context, o suite.Options, ok bool, stdout, stderr io.Writer) {
	if !ok || len(o.Scenarios) != 0 || len(o.Targets) != 0 || o.Measurer != nil || ctx.Err() != nil {
		return
	}
	dir := filepath.Join(o.OutDir, report.ChartsDir)
	tls, err := timeline.Run(ctx, timeline.Options{Out: dir, CPUs: o.ServerCPUs, BinDir: o.BinDir})
	if err != nil {
		fmt.Fprintln(stderr, "loadgen suite: timelines (report goes on without them):", err)
		return
	}
	fmt.Fprintf(stdout, "timelines: %d in %s\n", len(tls), dir)
}
