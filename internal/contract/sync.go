package contract

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"
)

// Model is what a synchronous server model supplies: how it waits, how it
// calls the dependency, and how it reports its resources. Serve supplies
// everything else. Each function is called from the goroutine serving the
// request and may block it; that blocking is the model being measured.
type Model struct {
	// Wait blocks the calling handler for ms milliseconds, the model's way.
	Wait func(ms int)
	// Call makes one blocking dependency call to DependencyPath(ms).
	// Nil means no dependency is configured: /fanout answers 503.
	Call func(ctx context.Context, ms int) error
	// Stats appends the /stats JSON body.
	Stats func(dst []byte) []byte
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
		m.Wait(req.Params.Millis)
		return 200, AppendIOBody(dst, req.Params.Millis)
	case CPU:
		return 200, AppendCPUBody(dst, req.Params.Work, CPUDigest(req.Params.Work))
	case Fanout:
		if m.Call == nil {
			return ErrNoDependency.Status, ErrNoDependency.AppendBody(dst)
		}
		elapsed, err := RunFanout(ctx, req.Params, m.Call)
		if err != nil {
			return ErrDependency.Status, ErrDependency.AppendBody(dst)
		}
		return 200, AppendFanoutBody(dst, req.Params.Calls, req.Params.Mode, elapsed)
	case Stats:
		return 200, m.Stats(dst)
	}
	return ErrNotFound.Status, ErrNotFound.AppendBody(dst)
}

// RunFanout is the fan-out plan for blocking clients: Seq makes p.Calls calls
// one after another, Par makes them all at once and waits for all of them. It
// returns the wall time the calls took and the first error.
func RunFanout(ctx context.Context, p Params, call func(ctx context.Context, ms int) error) (time.Duration, error) {
	start := time.Now()
	if p.Mode == Seq {
		for i := 0; i < p.Calls; i++ {
			if err := call(ctx, p.Millis); err != nil {
				return time.Since(start), err
			}
		}
		return time.Since(start), nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < p.Calls; i++ {
		g.Go(func() error { return call(gctx, p.Millis) })
	}
	err := g.Wait()
	return time.Since(start), err
}
