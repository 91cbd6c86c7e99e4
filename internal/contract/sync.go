package contract

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/serverlab/lab/internal/spans"
)

// DependencyCall is one /fanout call to the dependency: GET
// DependencyPath(Millis), on a pooled keep-alive connection, or, when Fresh
// (conn=new), on a TCP connection dialled for this call and closed after it.
type DependencyCall struct {
	Millis int
	Fresh  bool
}

// Model is what a synchronous server model supplies: how it waits, how it
// calls the dependency, and how it reports its resources. Serve supplies
// everything else. Each function is called from the goroutine serving the
// request and may block it; that blocking is the model being measured.
type Model struct {
	// Wait blocks the calling handler for ms milliseconds, the model's way.
	Wait func(ms int)
	// Call makes one blocking dependency call. It must return once ctx is
	// done (RunFanout gives every call a context with the dependency
	// timeout), with an error for which IsTimeout holds when ctx's deadline
	// passed. Nil means no dependency is configured: /fanout answers 503.
	Call func(ctx context.Context, c DependencyCall) error
	// Stats appends the /stats JSON body.
	Stats func(dst []byte) []byte
	// DependencyTimeout bounds each dependency call; 0 means
	// DefaultDependencyTimeout. Options.DependencyTimeout sets it.
	DependencyTimeout time.Duration
}

// Serve runs a resolved request synchronously on the calling goroutine and
// appends its body to dst. The body is built even for HEAD, so the caller can
// send its Content-Length; the caller writes no body for HEAD.
func Serve(ctx context.Context, dst []byte, req Request, m *Model) (status int, body []byte) {
	switch req.Route {
	case Plaintext:
		return 200, append(dst, PlaintextBody...)
	case JSON:
		return 200, append(dst, JSONBody...)
	case IO:
		sp := spans.Start("io") // LAB_SPANS: the per-model timelines; else a no-op
		sp.WaitStart()
		m.Wait(req.Params.Millis)
		sp.WaitEnd()
		body := AppendIOBody(dst, req.Params.Millis)
		sp.End()
		return 200, body
	case CPU:
		return 200, AppendCPUBody(dst, req.Params.Work, CPUDigest(req.Params.Work))
	case Fanout:
		if m.Call == nil {
			return ErrNoDependency.Status, ErrNoDependency.AppendBody(dst)
		}
		elapsed, err := RunFanout(ctx, req.Params, m.DependencyTimeout, m.Call)
		if err != nil {
			e := FanoutError(err)
			return e.Status, e.AppendBody(dst)
		}
		return 200, AppendFanoutBody(dst, req.Params.Calls, req.Params.Mode, elapsed)
	case Stats:
		return 200, m.Stats(dst)
	}
	return ErrNotFound.Status, ErrNotFound.AppendBody(dst)
}

// RunFanout is the fan-out plan for blocking clients: Seq makes p.Calls calls
// one after another, Par makes them all at once and waits for all of them.
// Call i waits p.CallMillis(i) and goes on a fresh connection when p.Conn is
// New. Each call gets its own context with the timeout (0:
// DefaultDependencyTimeout); the first failure cancels the calls still
// running. It returns the wall time the calls took and the first error.
func RunFanout(ctx context.Context, p Params, timeout time.Duration, call func(ctx context.Context, c DependencyCall) error) (time.Duration, error) {
	if timeout <= 0 {
		timeout = DefaultDependencyTimeout
	}
	one := func(ctx context.Context, i int) error {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return call(cctx, DependencyCall{Millis: p.CallMillis(i), Fresh: p.Conn == New})
	}
	start := time.Now()
	if p.Mode == Seq {
		for i := 0; i < p.Calls; i++ {
			if err := one(ctx, i); err != nil {
				return time.Since(start), err
			}
		}
		return time.Since(start), nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < p.Calls; i++ {
		g.Go(func() error { return one(gctx, i) })
	}
	err := g.Wait()
	return time.Since(start), err
}

// FanoutError maps a failed dependency call to the contract's answer: 504
// (ErrDependencyTimeout) when the call timed out, else 502 (ErrDependency).
func FanoutError(err error) *Error {
	if IsTimeout(err) {
		return ErrDependencyTimeout
	}
	return ErrDependency
}

// IsTimeout reports whether err is a deadline that passed: a context's
// (context.DeadlineExceeded), a socket's (os.ErrDeadlineExceeded), or any
// error in the chain with a Timeout() bool method that says so (net.Error,
// *url.Error, fasthttp.ErrTimeout).
func IsTimeout(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
