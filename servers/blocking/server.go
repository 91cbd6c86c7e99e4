package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverlab/lab/internal/blockingio"
	"github.com/serverlab/lab/internal/contract"
	"github.com/serverlab/lab/internal/cpupin"
	"github.com/serverlab/lab/internal/limits"
	"github.com/serverlab/lab/internal/procstat"
)

type config struct {
	addr              string
	threads           string // "goroutine" or "os"
	maxThreads        int
	dependency        string
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	grace             time.Duration
	contract          contract.Options // -dependency-timeout, -emulate-connect-ms
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("blocking", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.threads, "threads", "goroutine", "goroutine: a goroutine per request; os: a locked OS thread per request")
	fs.IntVar(&c.maxThreads, "max-threads", 200, "with -threads os: handlers running at once; the rest queue (Tomcat's maxThreads)")
	fs.StringVar(&c.dependency, "dependency", "", "host:port of the /fanout dependency")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time allowed to read a request's headers")
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
	if c.threads != "goroutine" && c.threads != "os" {
		return c, fmt.Errorf("-threads must be goroutine or os, not %q", c.threads)
	}
	if c.maxThreads < 1 || c.maxThreads > 10_000 {
		return c, fmt.Errorf("-max-threads must be in [1, 10000], not %d", c.maxThreads)
	}
	return c, nil
}

// handler serves the contract. It is shared by every request goroutine;
// its fields are set once before serving and only read afterwards, except
// the atomic connection counter.
type handler struct {
	model     contract.Model
	opts      contract.Options
	name      string        // "blocking/goroutine" or "blocking/os"
	slots     chan struct{} // -threads os: one token per OS thread; nil in goroutine mode
	openConns atomic.Int64
	bufs      sync.Pool // *[]byte response bodies
}

var (
	ctText    = []string{contract.ContentTypeText}
	ctJSON    = []string{contract.ContentTypeJSON}
	server    = []string{"lab-blocking"}
	connClose = []string{"close"}
)

// connKey keys a connection's request counter in its requests' contexts.
type connKey struct{}

// connRequests returns the number of this request on its connection,
// counting from 1. net/http serves one connection's requests one at a time.
func connRequests(r *http.Request) uint64 {
	if n, ok := r.Context().Value(connKey{}).(*atomic.Uint64); ok {
		return n.Add(1)
	}
	return 0
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := h.opts.ConnectDelay(connRequests(r)); d > 0 {
		// The emulated WAN handshake is network time, not the model's: a
		// plain sleep, before the request takes a thread slot.
		time.Sleep(d)
	}
	req, cerr := contract.Resolve(r.Method, r.URL.Path, r.URL.RawQuery)
	if cerr == nil {
		cerr = drainBody(w, r)
	}
	if contract.CloseAfterChunked && len(r.TransferEncoding) > 0 {
		w.Header()["Connection"] = connClose // net/http closes after this answer
	}
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	if cerr != nil {
		if cerr == contract.ErrMethod {
			w.Header().Set("Allow", contract.AllowedMethods)
		}
		*bp = cerr.AppendBody((*bp)[:0])
		writeBody(w, cerr.Status, ctJSON, *bp)
		return
	}
	if h.slots != nil {
		// Tomcat's model: wait for a free worker thread, then own it for the
		// whole request, waits included.
		h.slots <- struct{}{}
		runtime.LockOSThread()
		defer func() {
			runtime.UnlockOSThread() // the thread goes back to the runtime, alive, like a pooled worker
			<-h.slots
		}()
	}
	status, body := contract.Serve(r.Context(), (*bp)[:0], req, &h.model)
	*bp = body
	ct := ctJSON
	if status == 200 && req.Route == contract.Plaintext {
		ct = ctText
	}
	writeBody(w, status, ct, body)
}

// drainBody reads and discards a request body, refusing one over the limit.
// net/http would discard a small unread body itself; reading it here is what
// lets a chunked body over the limit get its 413.
func drainBody(w http.ResponseWriter, r *http.Request) *contract.Error {
	if r.ContentLength > contract.MaxBodyBytes {
		return contract.ErrBodyTooLarge
	}
	if r.ContentLength == 0 {
		return nil
	}
	_, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return contract.ErrBodyTooLarge
	}
	if err != nil {
		return contract.ErrMalformed
	}
	return nil
}

func writeBody(w http.ResponseWriter, status int, ct []string, body []byte) {
	hdr := w.Header()
	hdr["Server"] = server
	hdr["Content-Type"] = ct
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body) // net/http drops the body of a HEAD answer
}

// waitGoroutine parks the calling goroutine: its OS thread serves others meanwhile.
func waitGoroutine(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }

func serve(ctx context.Context, c config, stderr io.Writer, ready chan<- string) error {
	logger := log.New(stderr, "", log.LstdFlags)
	nofile, err := limits.RaiseNofile()
	if err != nil {
		logger.Printf("blocking: %v", err)
	}
	h := &handler{name: "blocking/" + c.threads, opts: c.contract}
	h.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	h.model = contract.Model{
		Wait:  waitGoroutine,
		Call:  blockingio.NewDependencyCall(c.dependency, 10_000),
		Stats: func(dst []byte) []byte { return procstat.AppendJSON(dst, h.name, os.Getpid(), h.openConns.Load()) },

		DependencyTimeout: c.contract.DependencyTimeout,
	}
	if c.threads == "os" {
		h.slots = make(chan struct{}, c.maxThreads)
		h.model.Wait = blockingio.Sleep // a locked OS thread waits in nanosleep(2)
	}
	srv := &http.Server{
		Handler: h,
		// net/http allows MaxHeaderBytes + 4096 bytes of request line and
		// headers; this makes the total the contract's 8 KiB.
		MaxHeaderBytes:    contract.MaxHeaderBytes - 4096,
		ReadHeaderTimeout: c.readHeaderTimeout,
		IdleTimeout:       c.idleTimeout,
		ErrorLog:          logger,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			if c.contract.EmulateConnectMillis == 0 {
				return ctx
			}
			return context.WithValue(ctx, connKey{}, new(atomic.Uint64))
		},
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				h.openConns.Add(1)
			case http.StateClosed, http.StateHijacked:
				h.openConns.Add(-1)
			}
		},
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	mode := "goroutine per request"
	if h.slots != nil {
		mode = fmt.Sprintf("locked OS thread per request, at most %d at once", c.maxThreads)
	}
	logger.Printf("blocking: net/http, %s, on %s (GOMAXPROCS %d, nofile %d, dependency %q, %s)",
		mode, ln.Addr(), runtime.GOMAXPROCS(0), nofile, c.dependency, &c.contract)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Printf("blocking: shutting down, in-flight requests get %s", c.grace)
	sctx, cancel := context.WithTimeout(context.Background(), c.grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	return nil
}
