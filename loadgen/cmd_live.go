package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/serverlab/lab/loadgen/live"
	"github.com/serverlab/lab/loadgen/suite"
)

const liveUsage = `Usage: loadgen live [options]

Serves one local web page that runs the lab's configurations side by side
while a room watches: pick 1 to 4 configurations, turn the knobs, or run a
scripted demo per claim. It starts and stops the configurations (and the
fan-out dependency) itself, from bin/ (run make build first).

The page is a control plane: it binds loopback only and needs the token
printed in its URL. Everything stops on Ctrl-C, or when no page has been
connected for -idle-exit.

Options:
  -addr HOST:PORT      listen address, loopback only (default 127.0.0.1:8099)
  -targets n=url,...   external mode: offer only these running servers,
                       named by configuration (%s)
  -bin DIR             where the server binaries are (default bin)
  -server-cpus LIST    taskset list for the servers (default: first half of the CPUs)
  -load-cpus LIST      CPUs of this process and the dependency (default: the rest)
  -max-conns N         connections across all panes (default: the nofile cap less 256)
  -max-run DUR         longest a load runs without a new command (default 30m)
  -idle-exit DUR       stop when no page is connected for this long (default 30s)
  -demo-seconds N      a demo's default length (default 20)

Exit status: 0 stopped cleanly, 1 could not serve or a process was left
(and killed), 2 bad usage.
`

func liveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, liveUsage, configNames()) }
	var (
		o                    live.Options
		targets              string
		serverCPUs, loadCPUs string
	)
	defServer, defLoad := suite.DefaultCPUs()
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8099", "")
	fs.StringVar(&targets, "targets", "", "")
	fs.StringVar(&o.BinDir, "bin", "bin", "")
	fs.StringVar(&serverCPUs, "server-cpus", defServer, "")
	fs.StringVar(&loadCPUs, "load-cpus", defLoad, "")
	fs.IntVar(&o.MaxConns, "max-conns", 0, "")
	fs.DurationVar(&o.MaxRun, "max-run", 30*time.Minute, "")
	fs.DurationVar(&o.IdleExit, "idle-exit", 30*time.Second, "")
	fs.IntVar(&o.DemoSeconds, "demo-seconds", 20, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen live: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	var err error
	if o.Targets, err = parseTargets(targets); err != nil {
		fmt.Fprintln(stderr, "loadgen live:", err)
		return exitUsage
	}
	if len(o.Targets) == 0 {
		for _, l := range []string{serverCPUs, loadCPUs} {
			if err := suite.ValidateCPUList(l); err != nil {
				fmt.Fprintln(stderr, "loadgen live:", err)
				return exitUsage
			}
		}
		o.ServerCPUs, o.LoadCPUs, o.AllCPUs = serverCPUs, loadCPUs, suite.AllowedCPUs()
		if err := pinProcess(loadCPUs); err != nil {
			fmt.Fprintln(stderr, "loadgen live: pin to load CPUs:", err)
			return exitFail
		}
	}
	o.Log = stderr
	srv, err := live.New(o)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen live:", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "loadgen live: open this URL (it holds the session's token):\n\n    %s\n\nCtrl-C stops every process it started.\n", srv.URL())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "loadgen live:", err)
		return exitFail
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		fmt.Fprintln(stderr, "loadgen live: interrupted; every process it started has stopped")
	} else {
		fmt.Fprintln(stderr, "loadgen live: stopped; every process it started has stopped")
	}
	return exitOK
}
