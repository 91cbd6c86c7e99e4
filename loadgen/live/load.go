package live

import (
	"context"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/serverlab/lab/loadgen/engine"
)

// interval is one second of one load run: its own histogram, not a
// cumulative one.
type interval struct {
	Dur    time.Duration
	Hist   *hdrhistogram.Histogram // latency in µs; owned by the receiver
	OK     int64                   // 2xx/3xx responses
	Errors int64                   // transport errors plus non-2xx responses
	Err    error                   // the run could not start (target down, bad config)
}

// minFinal is the shortest final slice worth a point: a run stopped just
// after a boundary leaves a sliver whose percentiles mean little.
const minFinal = 500 * time.Millisecond

// runLoad runs cfg with the engine until ctx ends (or cfg.Duration passes)
// and calls each once a second with that second's numbers (the engine's
// interval histograms), from one goroutine, never after it returns.
//
// It returns the run's Result (nil if it could not start), whose histogram
// holds every request of the run, the unanswered ones as lower bounds.
func runLoad(ctx context.Context, cfg engine.Config, each func(interval)) *engine.Result {
	cfg.Interval = time.Second
	cfg.OnInterval = func(iv engine.Interval) {
		d := iv.End - iv.Start
		if iv.Warmup || (iv.Final && d < minFinal) {
			return
		}
		each(interval{Dur: d, Hist: iv.Histogram, OK: iv.OK, Errors: iv.Errors})
	}
	res, err := engine.Run(ctx, cfg, nil)
	if err != nil && ctx.Err() == nil {
		each(interval{Err: err})
	}
	return res
}
