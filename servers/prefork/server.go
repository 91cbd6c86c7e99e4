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
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/prefork"

	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/cpupin"
	"github.com/serverlab/lab/internal/limits"
	"github.com/serverlab/lab/internal/procstat"
)

type config struct {
	addr        string
	workers     int
	reuseport   bool
	dependency  string
	readTimeout time.Duration
	idleTimeout time.Duration
	grace       time.Duration
	contract    contract.Options // -dependency-timeout, -emulate-connect-ms
	args        []string         // this process's arguments, passed on to every child
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{args: args}
	fs := flag.NewFlagSet("prefork", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.IntVar(&c.workers, "workers", runtime.NumCPU(), "worker processes (default: the CPUs this process may use)")
	fs.BoolVar(&c.reuseport, "reuseport", false, "every worker binds its own SO_REUSEPORT listener and the kernel spreads connections (fasthttp's Prefork.Reuseport); default: the workers share the master's listener")
	fs.StringVar(&c.dependency, "dependency", "", "host:port of the /fanout dependency")
	fs.DurationVar(&c.readTimeout, "read-header-timeout", 10*time.Second, "time allowed to read a request, from its first byte")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 60*time.Second, "keep-alive idle timeout")
	fs.DurationVar(&c.grace, "shutdown-grace", 10*time.Second, "time in-flight requests get to finish on SIGTERM")
	c.contract.RegisterFlags(fs)
	cpupin.RegisterFlag(fs) // -cpus: pin every thread (Swarm ignores cpuset; internal/cpupin, H)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.contract.Validate(); err != nil {
		return c, err
	}
	if c.workers < 1 || c.workers > 256 {
		return c, fmt.Errorf("-workers must be in [1, 256], not %d", c.workers)
	}
	return c, nil
}

func isChild() bool { return prefork.IsChild() }

// newServer returns the fasthttp server a child runs. Its handler closure
// holds the only per-child state: the dependency client, safe for concurrent use.
func newServer(c config, logger *log.Logger) *fasthttp.Server {
	call := newDependencyCall(c.dependency)
	model := contract.Model{
		Wait:              func(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) },
		Call:              call,
		DependencyTimeout: c.contract.DependencyTimeout,
		// Stats stays nil: handle answers /stats, as it knows the listening port.
	}
	opts := c.contract
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if d := opts.ConnectDelay(ctx.ConnRequestNum()); d > 0 {
				time.Sleep(d) // the emulated WAN handshake: network time, not the model's
			}
			handle(ctx, &model)
		},
		ErrorHandler:                 handleParseError,
		HeaderReceived:               closeAfterChunked,
		Name:                         "lab-prefork",
		ReadBufferSize:               contract.MaxHeaderBytes, // a larger header is ErrSmallBuffer: 431
		MaxRequestBodySize:           contract.MaxBodyBytes,
		ReadTimeout:                  c.readTimeout,
		IdleTimeout:                  c.idleTimeout,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		Logger:                       logger,
		DisablePreParseMultipartForm: true,
	}
}

func handle(ctx *fasthttp.RequestCtx, m *contract.Model) {
	h := &ctx.Request.Header
	if h.IsHTTP11() && len(h.Host()) == 0 {
		writeError(ctx, contract.ErrMissingHost)
		ctx.SetConnectionClose()
		return
	}
	req, cerr := contract.Resolve(h.Method(), ctx.Path(), ctx.URI().QueryString())
	if cerr != nil {
		writeError(ctx, cerr)
		return
	}
	if req.Route == contract.Stats {
		// The tree is the master's: every worker reports the same processes,
		// and the connections of all workers (openConnections).
		port := 0
		if a, ok := ctx.LocalAddr().(*net.TCPAddr); ok {
			port = a.Port
		}
		ctx.SetContentType(contract.ContentTypeJSON)
		ctx.Response.SetBodyRaw(procstat.AppendJSON(ctx.Response.Body()[:0], "prefork", os.Getppid(), openConnections(port)))
		return
	}
	status, body := contract.Serve(context.Background(), ctx.Response.Body()[:0], req, m)
	ctx.SetStatusCode(status)
	ctx.SetContentType(contract.ContentTypeJSON)
	if status == 200 && req.Route == contract.Plaintext {
		ctx.SetContentType(contract.ContentTypeText)
	}
	ctx.Response.SetBodyRaw(body) // fasthttp drops the body of a HEAD answer and keeps its length
}

// closeAfterChunked applies contract.CloseAfterChunked. fasthttp calls it
// once a request's headers are parsed, before its body is read: the last
// moment the header still says "chunked" (-1), which fasthttp forgets for
// an empty body. The zero RequestConfig keeps the server's own limits.
func closeAfterChunked(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if contract.CloseAfterChunked && h.ContentLength() == -1 {
		h.SetConnectionClose()
	}
	return fasthttp.RequestConfig{}
}

func writeError(ctx *fasthttp.RequestCtx, e *contract.Error) {
	if e == contract.ErrMethod {
		ctx.Response.Header.Set("Allow", contract.AllowedMethods)
	}
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType(contract.ContentTypeJSON)
	ctx.Response.SetBodyRaw(e.AppendBody(ctx.Response.Body()[:0]))
}

// handleParseError answers what fasthttp's parser refused with the
// contract's JSON errors; fasthttp then closes the connection.
func handleParseError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		writeError(ctx, contract.ErrHeaderTooLarge)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		writeError(ctx, contract.ErrBodyTooLarge)
	default:
		writeError(ctx, contract.ErrMalformed)
	}
}

// newDependencyCall returns a blocking fasthttp client call to the
// dependency's /io, or nil without a dependency. Pooled calls share one
// HostClient's keep-alive connections; a Fresh call (conn=new) goes through
// a second HostClient whose requests all say Connection: close, so it never
// holds an idle connection and dials one per call. A call gives up at ctx's
// deadline (fasthttp.ErrTimeout) and fasthttp closes that connection.
func newDependencyCall(dep string) func(ctx context.Context, c contract.DependencyCall) error {
	if dep == "" {
		return nil
	}
	pooled := &fasthttp.HostClient{Addr: dep, MaxConns: 10_000, Name: "lab-prefork"}
	fresh := &fasthttp.HostClient{Addr: dep, MaxConns: 10_000, Name: "lab-prefork"}
	return func(ctx context.Context, c contract.DependencyCall) error {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://" + dep + contract.DependencyPath(c.Millis))
		client := pooled
		if c.Fresh {
			client = fresh
			req.SetConnectionClose()
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(contract.DefaultDependencyTimeout)
		}
		if err := client.DoDeadline(req, resp, deadline); err != nil {
			return err
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return fmt.Errorf("dependency answered %d", resp.StatusCode())
		}
		return nil
	}
}

// serveChild runs one worker: serve the listener (inherited, or its own
// with -reuseport) until SIGINT/SIGTERM, then drain and say so. The child
// also dies with its master: Pdeathsig (set by the master) and fasthttp's
// OnMasterDeath poll, whichever comes first.
func serveChild(c config, stderr io.Writer) error {
	// Handle signals first: until Notify, SIGTERM kills a starting worker
	// outright (the default action), without its drain or its exit line.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	logger := log.New(stderr, "", log.LstdFlags)
	pid := os.Getpid()
	if _, err := limits.RaiseNofile(); err != nil {
		logger.Printf("prefork worker %d: %v", pid, err)
	}
	srv := newServer(c, logger)
	p := prefork.New(srv)
	p.Reuseport = c.reuseport
	p.OnMasterDeath = func() { os.Exit(1) }
	logger.Printf("prefork worker %d: serving", pid)
	errc := make(chan error, 1)
	go func() { errc <- p.ListenAndServe(c.addr) }()
	select {
	case err := <-errc:
		return err
	case <-sigc:
	}
	// Later signals are received and ignored: the drain is already bounded by the grace.
	go func() {
		for range sigc {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), c.grace)
	defer cancel()
	if err := srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("worker %d: drain: %w", pid, err)
	}
	logger.Printf("prefork worker %d: exited cleanly", pid)
	return nil
}
