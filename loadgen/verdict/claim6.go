package verdict

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Claim 6 (seed 004): "Each OS thread consumes significant memory (stack
// space) and OS resources. For very high concurrency… this can lead to
// memory exhaustion… (the 'C10k problem')."
//
// Rows: io-wait at the two lowest points under blocking-os's thread cap,
// for blocking-os (a thread per request) and blocking-goroutine (the same
// net/http server, no thread per request); idle-connections at the highest
// point both held. The thread's own cost is blocking-os minus
// blocking-goroutine per in-flight request; the connection's cost is what
// an idle keep-alive connection costs with no thread at all. Most of what
// a net/http request costs is the connection's buffers, not the thread:
// the verdict separates the two.

const (
	// ThreadPerRequestMin: thread-per-request holds at least 0.5 extra
	// threads per extra in-flight request (ideally 1.0; the runtime's own
	// threads and sampling between peaks blur it).
	ThreadPerRequestMin = 0.5
	// ThreadCostSignificant: the thread's own memory is "significant" when
	// it is at least as large as an idle connection's (×1.0): then threads,
	// not connections, set the memory wall.
	ThreadCostSignificant = 1.0
)

func init() {
	register(6, rule{
		seed:    "each OS thread consumes significant memory (stack space): thread-per-request hits the C10k wall",
		refute:  "a thread's own memory (OS threads minus goroutines, per in-flight request) clearly below an idle connection's, or under 0.5 thread added per in-flight request",
		explain: "A thread is memory (its stack and kernel state) held for as long as a request waits; but a connection costs its buffers whatever the model, and that can be most of the bill.",
		soWhat:  "Count memory per connection first: a thread adds to it, an event loop does not remove it.",
		decide:  claim6,
	})
}

// Fresh is a row's server threads and memory as its first repetition saw
// them. The suite keeps one server process alive through every point and
// repetition of a scenario, points in ascending concurrency, repetitions
// interleaved; Go keeps the threads and the heap it grew, so a later
// repetition of a small point starts from the high-water mark of a larger
// one. Only the first repetition of each point is clean for quantities
// that a process keeps. Without raw repetitions, Fresh falls back to the
// minimum over repetitions and, per idle connection, to the median.
type Fresh struct {
	Threads         float64 // peak threads during the measurement
	RSSBytes        float64 // peak RSS during the measurement
	RSSBeforeBytes  float64 // RSS when the measurement started
	RSSPerConnBytes float64 // idle points: (RSS held − RSS before) ÷ held
	FirstRep        bool    // from the first repetition (false: the fallback)
}

// FreshOf returns r's first-repetition threads and memory.
func FreshOf(r *results.Row) Fresh {
	if len(r.Reps) > 0 {
		rp := r.Reps[0]
		fr := Fresh{Threads: float64(rp.Server.ThreadsPeak), RSSBytes: float64(rp.Server.RSSPeak),
			RSSBeforeBytes: float64(rp.Server.RSSBefore), FirstRep: true}
		if ir := rp.Idle; ir != nil && ir.Held > 0 {
			fr.RSSPerConnBytes = float64(ir.RSSHeld-ir.RSSBefore) / float64(ir.Held)
		}
		return fr
	}
	fr := Fresh{Threads: r.Server.ThreadsPeak.Min, RSSBytes: r.Server.RSSPeakBytes.Min, RSSBeforeBytes: r.Server.RSSBeforeBytes.Min}
	if r.Idle != nil {
		fr.RSSPerConnBytes = r.Idle.RSSPerConnBytes.Median
	}
	return fr
}

// InFlight is what one more request in flight cost a configuration in
// io-wait, between its two lowest measured points at or below a
// concurrency: the extra threads and RSS divided by the extra connections,
// from each point's first repetition (see Fresh).
type InFlight struct {
	Config   string
	From, To string // point labels
	Threads  float64
	RSSBytes float64
}

// InFlightCost measures cfg's cost per in-flight request from its two
// lowest io-wait points at or below maxConns connections (0: any).
func InFlightCost(f *results.File, cfg string, maxConns int) (InFlight, error) {
	d := data{f}
	var rows []*results.Row
	for _, r := range d.rows("io-wait", cfg) {
		if maxConns == 0 || r.Point.Conns <= maxConns {
			rows = append(rows, r)
		}
	}
	if len(rows) < 2 {
		return InFlight{}, missing(fmt.Sprintf("%s has %d io-wait point(s) at or below %s connections; the cost per in-flight request needs two", cfg, len(rows), Int(maxConns)))
	}
	a, b := rows[0], rows[1]
	for _, r := range []*results.Row{a, b} {
		if err := usable(r); err != nil {
			return InFlight{}, err
		}
	}
	fa, fb := FreshOf(a), FreshOf(b)
	dc := float64(b.Point.Conns - a.Point.Conns)
	return InFlight{Config: cfg, From: a.Point.Label, To: b.Point.Label,
		Threads: (fb.Threads - fa.Threads) / dc, RSSBytes: (fb.RSSBytes - fa.RSSBytes) / dc}, nil
}

// ThreadCap is blocking-os's configured thread cap: the concurrency under
// which its cost per in-flight request is a cost per thread.
func ThreadCap() int {
	c, _ := catalog.ConfigByName("blocking-os")
	return c.LimitN
}

// one is a single first-repetition value as a Stat: no spread to show.
func one(x float64) results.Stat {
	return results.Stat{Median: x, Min: x, Max: x, Lo: x, Hi: x, N: 1, Kind: results.KindRange}
}

func claim6(d data) Verdict {
	limit := ThreadCap()
	pred := fmt.Sprintf("below its %d-thread cap, blocking-os adds ≥ %s thread per in-flight request, and a thread's own memory (blocking-os minus blocking-goroutine per in-flight request) is ≥ %s× an idle connection's",
		limit, Num(ThreadPerRequestMin), Num(ThreadCostSignificant))
	os, err := InFlightCost(d.f, "blocking-os", limit)
	if err != nil {
		return failed(pred, nil, err)
	}
	gr, err := InFlightCost(d.f, "blocking-goroutine", limit)
	if err != nil {
		return failed(pred, nil, err)
	}
	if os.From != gr.From || os.To != gr.To {
		return failed(pred, nil, missing(fmt.Sprintf("blocking-os (%s to %s) and blocking-goroutine (%s to %s) were measured at different points", os.From, os.To, gr.From, gr.To)))
	}
	thread, note, resolvable := results.NonNegative(diff(one(os.RSSBytes), one(gr.RSSBytes)))
	figs := []Figure{
		{Side: SideTwin, What: fmt.Sprintf("threads added per in-flight request, blocking-os (%s to %s, first repetitions)", os.From, os.To), Value: one(os.Threads)},
		{Side: SideTwin, What: "memory per in-flight request, blocking-os", Value: one(os.RSSBytes), Format: Bytes},
		{Side: SideTwin, What: "memory per in-flight request, blocking-goroutine", Value: one(gr.RSSBytes), Format: Bytes},
	}
	if resolvable {
		figs = append(figs, Figure{Side: SideTwin, What: "a thread's own memory (the difference)", Value: thread, Format: Bytes, Note: note})
	}
	var conn results.Stat
	connWhere := ""
	if idle := d.commonLabels("idle-connections", 0, "blocking-os", "blocking-goroutine"); len(idle) > 0 {
		l := idle[len(idle)-1]
		io, _ := d.row("idle-connections", "blocking-os", l)
		ig, _ := d.row("idle-connections", "blocking-goroutine", l)
		conn, connWhere = one(FreshOf(ig).RSSPerConnBytes), l
		figs = append(figs,
			Figure{Side: SideTwin, What: "memory per idle connection, blocking-goroutine (" + l + ", first repetition)", Value: conn, Format: Bytes},
			Figure{Side: SideTwin, What: "memory per idle connection, blocking-os (" + l + ")", Value: one(FreshOf(io).RSSPerConnBytes), Format: Bytes})
	}
	var bits []string
	passed, undecided, of := 0, 0, 2
	if os.Threads >= ThreadPerRequestMin {
		passed++
		bits = append(bits, fmt.Sprintf("blocking-os added %s per in-flight request", things(os.Threads, "OS thread")))
	} else {
		bits = append(bits, fmt.Sprintf("blocking-os added only %s per in-flight request", things(os.Threads, "OS thread")))
	}
	switch {
	case !resolvable:
		undecided++
		bits = append(bits, fmt.Sprintf("a thread's own memory is %s: blocking-os cost %s and blocking-goroutine %s per in-flight request", note, Bytes(os.RSSBytes), Bytes(gr.RSSBytes)))
	case conn.N == 0:
		undecided++
		bits = append(bits, fmt.Sprintf("a thread's own memory is %s per in-flight request, but no idle-connection row gives the connection's cost to compare", Bytes(thread.Median)))
	default:
		switch versus(thread, scale(conn, ThreadCostSignificant)) {
		case Below:
			bits = append(bits, fmt.Sprintf("a thread's own memory (%s per in-flight request) is less than a connection's (%s per idle connection at %s): most of the cost is net/http's per-connection buffers, not the thread",
				Bytes(thread.Median), Bytes(conn.Median), connWhere))
		case Above:
			passed++
			bits = append(bits, fmt.Sprintf("a thread's own memory (%s per in-flight request) exceeds a connection's (%s)", Bytes(thread.Median), Bytes(conn.Median)))
		default:
			undecided++
			bits = append(bits, fmt.Sprintf("a thread's own memory (%s) and a connection's (%s) cannot be told apart", Bytes(thread.Median), Bytes(conn.Median)))
		}
	}
	bits = append(bits, "single first repetitions (later ones inherit the heap of larger points), so these figures carry no spread")
	return Verdict{Outcome: checks(passed, undecided, of), Prediction: pred, Figures: figs, Reason: strings.Join(bits, "; ")}
}
