// Command eventloop is the lab's event-loop server: a gnet v2 reactor with
// its own incremental HTTP/1.1 handling, serving the lab's endpoint contract
// in one of three handler styles:
//
//	-handler async   waits are timers and fan-out calls are non-blocking
//	                 sockets on the loop (FastAPI "async def" with await)
//	-handler pool    the handler runs blocking on -pool-size workers and the
//	                 answer returns to the loop (FastAPI "def", run_in_threadpool)
//	-handler inline  the handler blocks the loop itself (a blocking call
//	                 inside "async def": the pitfall)
//
// -loops N runs N reactors (default 1, like one uvicorn worker).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/cpupin"
	"github.com/serverlab/lab/internal/limits"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "eventloop:", err)
		os.Exit(1)
	}
}

// run starts the server with the given flags and serves until SIGINT or
// SIGTERM, then shuts down gracefully and returns nil. It logs to stderr
// and writes nothing to stdout.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags)
	nofile, err := limits.RaiseNofile()
	if err != nil {
		logger.Printf("eventloop: %v (serving with soft limit %d)", err, nofile)
	}
	cfg.nofile = nofile
	setProcs(cfg.loops)
	stopProfiles, err := startProfiles(cfg.cpuProfile, cfg.traceFile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	addr, err := checkAddr(cfg.addr)
	if err != nil {
		return err
	}
	s, err := newServer(cfg, logger)
	if err != nil {
		return err
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	go func() {
		<-ctx.Done()
		logger.Printf("eventloop: shutting down, in-flight requests get %s", cfg.grace)
		if err := s.shutdown(cfg.grace); err != nil {
			logger.Printf("eventloop: shutdown: %v", err)
		}
	}()

	s.ready = func() {
		logger.Printf("eventloop: gnet reactor, handler=%s, loops=%d%s, on http://%s "+
			"(GOMAXPROCS %d, CPUs %d, nofile %d, header timeout %v, idle timeout %v, %s)",
			cfg.handler, cfg.loops, describeStyle(cfg), addr, runtime.GOMAXPROCS(0), runtime.NumCPU(), nofile,
			cfg.readHeaderTimeout, cfg.idleTimeout, &cfg.opts)
	}
	if err := s.serve(addr); err != nil {
		return fmt.Errorf("engine stopped: %w", err)
	}
	return nil
}

// setProcs gives the Go runtime one P more than there are loops, unless
// GOMAXPROCS is set in the environment. A gnet loop blocks in a raw
// epoll_wait syscall that the runtime does not know is a poller, and keeps
// its P while it does; with as many Ps as loops (GOMAXPROCS 1 under
// "taskset -c 0"), every other goroutine — the timer sleepers, the pool's
// hand-backs, the ticker — waits for sysmon to take the P back, which adds
// up to milliseconds per wake-up. An extra P costs no CPU the cpuset does
// not allow: the threads still share the same cores.
func setProcs(loops int) {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < loops+1 {
		runtime.GOMAXPROCS(loops + 1)
	}
}

// startProfiles starts the CPU profile and the execution trace asked for;
// the returned function stops them and flushes the files.
func startProfiles(cpuFile, traceFile string) (stop func(), err error) {
	var closers []func()
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return stop, fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, fmt.Errorf("-cpuprofile: %w", err)
		}
		closers = append(closers, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("-trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return func() {}, fmt.Errorf("-trace: %w", err)
		}
		closers = append(closers, func() { trace.Stop(); f.Close() })
	}
	return stop, nil
}

func describeStyle(cfg config) string {
	s := ""
	if cfg.handler == "pool" {
		s += fmt.Sprintf(", pool-size=%d", cfg.poolSize)
	}
	if cfg.dependency != "" {
		s += ", dependency=" + cfg.dependency
	}
	return s
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("eventloop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	fs.IntVar(&cfg.loops, "loops", 1, "number of event loops (reactors)")
	fs.StringVar(&cfg.handler, "handler", "async", "handler style: async, pool or inline")
	fs.IntVar(&cfg.poolSize, "pool-size", 40, "workers of the pool style (anyio's default thread limit is 40)")
	fs.StringVar(&cfg.dependency, "dependency", "", "host:port of the /fanout dependency (another eventloop server)")
	fs.IntVar(&cfg.depConns, "dependency-conns", 16, "async style: dependency connections per loop")
	fs.DurationVar(&cfg.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time allowed to read a request head")
	fs.DurationVar(&cfg.idleTimeout, "idle-timeout", 60*time.Second, "keep-alive idle timeout")
	fs.DurationVar(&cfg.linger, "linger", 500*time.Millisecond, "how long a closing connection reads and drops input")
	fs.DurationVar(&cfg.writeTimeout, "write-timeout", 30*time.Second,
		"how long a client may leave 4 MiB of answers unread, without reading any, before its connection closes")
	cfg.opts.RegisterFlags(fs)
	cpupin.RegisterFlag(fs) // -cpus: pin every thread (Swarm ignores cpuset; internal/cpupin, H)
	connMiB := fs.Int64("conn-memory", 512, "MiB buffered across all connections past which new requests and connections get 503 (0: no limit)")
	fs.DurationVar(&cfg.grace, "shutdown-grace", 10*time.Second, "time in-flight requests get to finish on SIGTERM")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the whole run to this file (profiling only)")
	fs.StringVar(&cfg.traceFile, "trace", "", "write a runtime execution trace of the whole run to this file (profiling only)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: eventloop [flags]\n\nThe lab's event-loop server (gnet). Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.connMemory = *connMiB << 20
	if err := cfg.opts.Validate(); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch {
	case cfg.loops < 1:
		return cfg, errors.New("-loops must be at least 1")
	case cfg.poolSize < 1:
		return cfg, errors.New("-pool-size must be at least 1")
	case cfg.depConns < 1:
		return cfg, errors.New("-dependency-conns must be at least 1")
	case *connMiB < 0 || *connMiB > 1<<20:
		return cfg, errors.New("-conn-memory must be in [0, 1048576] MiB")
	case cfg.readHeaderTimeout <= 0 || cfg.idleTimeout <= 0 || cfg.linger <= 0 || cfg.grace <= 0 || cfg.writeTimeout <= 0:
		return cfg, errors.New("timeouts must be positive")
	}
	return cfg, nil
}

// checkAddr refuses an address without a host (the lab never listens on
// all interfaces), makes sure nothing else holds the port — gnet binds with
// SO_REUSEPORT, which would silently share it with a stale server — and
// resolves port 0 to a free port, so that every loop binds the same one.
func checkAddr(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		return "", fmt.Errorf("-addr %q: give a host, e.g. 127.0.0.1:8080; the lab does not listen on all interfaces", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("-addr %q: %w", addr, err)
	}
	resolved := ln.Addr().String()
	return resolved, ln.Close()
}
