package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/cpupin"
	"github.com/serverlab/lab/loadgen/suite"
	"github.com/serverlab/lab/loadgen/swarm"
)

// This file (owner: H) holds `loadgen agent` and the suite's distributed
// mode (-replicas, -rendezvous); the mechanism is in loadgen/swarm.

const agentUsage = `Usage: loadgen agent -rendezvous http://HOST:PORT [-cpus LIST] [-id NAME]

One load generator of a distributed suite (loadgen/swarm): registers with
the rendezvous that 'loadgen suite -replicas N -rendezvous ADDR' serves,
waits for the start signal of each load point, runs its share with the fast
engine, and posts its counters and latency histogram. It retries until the
rendezvous answers ("no such host" while Docker Swarm starts it is normal)
and serves until stopped (SIGTERM). deploy/stack.yml runs it as a
replicated service; scripts/swarm-bench.sh drives the whole thing.

Options:
  -rendezvous URL   the coordinator, e.g. http://coord:9000 (required)
  -cpus LIST        pin every thread to these CPUs (taskset syntax, "all": do not pin;
                    Swarm ignores cpuset)
  -id NAME          this agent's name (default hostname-pid-random)

The suite's side (flags of 'loadgen suite', external mode only):
  -replicas N       measure every load point on N agents at once, merged exactly
  -rendezvous ADDR  where the rendezvous listens (e.g. :9000)
  -agents-ready DUR how long to wait for the targets and N agents (default 2m)
`

func agentCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg swarm.AgentConfig
	fs.StringVar(&cfg.Rendezvous, "rendezvous", "", "")
	fs.StringVar(&cfg.ID, "id", "", "")
	cpupin.RegisterFlag(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(stdout, agentUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "loadgen agent: %v\nRun 'loadgen agent -h' for the options.\n", err)
		return exitUsage
	}
	if fs.NArg() > 0 || cfg.Rendezvous == "" {
		fmt.Fprintln(stderr, "loadgen agent: -rendezvous http://HOST:PORT is required (and nothing else)\nRun 'loadgen agent -h' for the options.")
		return exitUsage
	}
	if u, err := url.Parse(cfg.Rendezvous); err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintf(stderr, "loadgen agent: -rendezvous: want http://host:port, got %q\n", cfg.Rendezvous)
		return exitUsage
	}
	cfg.Log = stderr
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := swarm.RunAgent(ctx, cfg); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "loadgen agent:", err)
		return exitFail
	}
	return exitOK
}

// swarmOpts are the suite's distributed-mode flags.
type swarmOpts struct {
	replicas int
	listen   string
	ready    time.Duration
}

// addSwarmFlags registers -replicas, -rendezvous and -agents-ready on the
// suite's flags.
func addSwarmFlags(fs *flag.FlagSet) *swarmOpts {
	s := &swarmOpts{}
	fs.IntVar(&s.replicas, "replicas", 0, "")
	fs.StringVar(&s.listen, "rendezvous", "", "")
	fs.DurationVar(&s.ready, "agents-ready", 2*time.Minute, "")
	return s
}

// setup turns the suite distributed when -replicas is set: it serves the
// rendezvous and sets o.Measurer, and waits (up to -agents-ready) for the
// -targets to accept connections, since in a cluster they start in any
// order. It returns an exit code to stop with, or -1 to go on.
func (s *swarmOpts) setup(ctx context.Context, o *suite.Options, stderr io.Writer) int {
	if s.replicas == 0 && s.listen == "" {
		return -1
	}
	if s.replicas < 1 || s.replicas > 64 || s.listen == "" || len(o.Targets) == 0 {
		fmt.Fprintln(stderr, "loadgen suite: -replicas N (1 to 64) needs -rendezvous ADDR (e.g. :9000) and -targets (distributed load measures running servers)")
		return exitUsage
	}
	if o.PlanOnly {
		return -1
	}
	c := swarm.NewCoordinator(s.replicas)
	c.Ready, c.Log = s.ready, stderr
	if err := c.Listen(s.listen); err != nil {
		fmt.Fprintln(stderr, "loadgen suite: -rendezvous:", err)
		return exitFail
	}
	fmt.Fprintf(stderr, "swarm: rendezvous on %s, %d load replicas per measurement\n", c.Addr(), s.replicas)
	o.Measurer = c.Measure
	deadline := time.Now().Add(s.ready)
	for name, u := range o.Targets {
		pu, _ := url.Parse(u)
		for {
			conn, err := net.DialTimeout("tcp", pu.Host, 2*time.Second)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				fmt.Fprintf(stderr, "loadgen suite: -targets: %s at %s did not accept connections within -agents-ready %s: %v\n", name, u, s.ready, err)
				return exitFail
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	if _, err := c.WaitAgents(ctx, s.replicas); err != nil {
		fmt.Fprintln(stderr, "loadgen suite:", err)
		return exitFail
	}
	return -1
}
