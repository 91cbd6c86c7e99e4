package engine

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Interval is one slice of a run, handed to Config.OnInterval: what
// finished during [Start, End), not cumulative. It is a value that the
// callback may keep, Histogram included (a fresh one per interval).
//
// Boundaries are aligned to the start of the measured window (the end of
// the warm-up), so Start and End are relative to it: negative during the
// warm-up (Warmup is then true). Every interval is Config.Interval long
// except the last, which ends when the run ends (Final).
type Interval struct {
	Seq        int           // 0 for the first measured interval, negative during the warm-up
	Start, End time.Duration // relative to the start of the measured window
	Warmup     bool          // the interval lies in the warm-up (its numbers are discarded from the Result)
	Final      bool          // the last interval of the run; it may be shorter

	Responses     int64            // answers, any status
	OK            int64            // answers with 2xx or 3xx
	Errors        int64            // transport errors and 4xx/5xx answers (sum of ErrorsByClass)
	ErrorsByClass map[string]int64 // every class in Classes, zero or not
	Status        map[string]int64 // status code -> answers
	RPS           float64          // OK / (End - Start)
	Conns         int              // connections open at the interval's end
	Unfinished    int64            // final interval only: requests unanswered at the end (lower bounds in Histogram)

	// Histogram holds the corrected latency (µs) of the requests that
	// finished or failed in this interval (and, in the final one, the
	// Unfinished lower bounds), the same population as Result.Latency.
	Histogram *hdrhistogram.Histogram
	Latency   Latency // Histogram summarized
}

// ivCounts are the counters an interval reports, as deltas.
type ivCounts struct {
	errs      [nClasses]int64
	status    [1000]int64
	responses int64
	unfin     int64
}

// ivPart is one loop's share of one interval. A loop fills it and queues
// it; the collector merges the parts of a sequence number and hands the
// part back through the loop's free list.
type ivPart struct {
	owner      *ivState // the loop's, which the part goes back to
	seq        int64
	start, end int64 // ns since the run's clock origin
	final      bool
	hist       *hdrhistogram.Histogram
	c          ivCounts
	conns      int
}

// ivState is a loop's interval bookkeeping. every, next, seq, from and base
// are the loop goroutine's; queue, free and done are shared with the
// collector under mu.
type ivState struct {
	every, next int64 // interval length and the next boundary, ns
	seq, from   int64 // current interval's sequence number and start
	base        ivCounts
	notify      chan struct{} // the run's, shared by all loops; set by Run

	mu    sync.Mutex
	queue []*ivPart
	free  []*ivPart
	done  bool
}

// newIvState aligns the boundaries on the measured window's start (warmEnd,
// 0 without a warm-up): boundary k is at warmEnd + k*every.
func newIvState(every, warmEnd int64) *ivState {
	k := -((warmEnd + every - 1) / every) // the interval holding time 0
	return &ivState{every: every, seq: k, next: warmEnd + (k+1)*every}
}

// tickInterval closes every interval whose end boundary now has passed (a
// late wake closes the missed ones empty).
func (l *loop) tickInterval(now int64) {
	for iv := l.iv; now >= iv.next && iv.next < l.deadline; iv.next += iv.every {
		l.flushInterval(iv.next, false)
	}
}

// finishIntervals closes the last interval at the end of the run.
func (l *loop) finishIntervals(end int64) {
	l.flushInterval(max(end, l.iv.from), true)
	l.iv.mu.Lock()
	l.iv.done = true
	l.iv.mu.Unlock()
	l.iv.signal()
}

// flushInterval hands the current interval's histogram and counters to the
// collector and starts the next interval. The cumulative histogram gets the
// interval's counts first. Cost: one histogram merge and a 1000-entry
// counter difference per interval, nothing per request.
func (l *loop) flushInterval(end int64, final bool) {
	iv := l.iv
	iv.mu.Lock()
	var p *ivPart
	if n := len(iv.free); n > 0 {
		p, iv.free = iv.free[n-1], iv.free[:n-1]
	}
	iv.mu.Unlock()
	if p == nil {
		p = &ivPart{owner: iv, hist: newHist()}
	}
	l.hist.Merge(l.cur)
	p.hist, l.cur = l.cur, p.hist // p.hist came back empty
	p.seq, p.start, p.end, p.final = iv.seq, iv.from, end, final
	for i := range p.c.errs {
		p.c.errs[i] = l.st.errs[i] - iv.base.errs[i]
	}
	for i := range p.c.status {
		p.c.status[i] = l.st.status[i] - iv.base.status[i]
	}
	p.c.responses = l.st.responses - iv.base.responses
	p.c.unfin = l.st.unfinished - iv.base.unfin
	p.conns = l.nOpen
	iv.base.errs, iv.base.status, iv.base.responses, iv.base.unfin = l.st.errs, l.st.status, l.st.responses, l.st.unfinished
	iv.seq++
	iv.from = end
	iv.mu.Lock()
	iv.queue = append(iv.queue, p)
	iv.mu.Unlock()
	iv.signal()
}

func (iv *ivState) signal() {
	select {
	case iv.notify <- struct{}{}:
	default:
	}
}

// collectIntervals runs in one goroutine that Run owns: it merges the loops'
// parts sequence by sequence and calls fn, until finished is closed and
// every part has been delivered.
func collectIntervals(loops []*loop, warmEnd int64, notify <-chan struct{}, finished <-chan struct{}, fn func(Interval)) {
	for {
		select {
		case <-notify:
			deliverIntervals(loops, warmEnd, fn)
		case <-finished:
			deliverIntervals(loops, warmEnd, fn)
			return
		}
	}
}

// deliverIntervals delivers every interval that all loops have closed (a
// loop that has finished no longer holds the others back).
func deliverIntervals(loops []*loop, warmEnd int64, fn func(Interval)) {
	parts := make([]*ivPart, 0, len(loops))
	for {
		seq, ready, any := int64(0), true, false
		for _, l := range loops {
			iv := l.iv
			iv.mu.Lock()
			switch {
			case len(iv.queue) > 0:
				if s := iv.queue[0].seq; !any || s < seq {
					seq = s
				}
				any = true
			case !iv.done:
				ready = false
			}
			iv.mu.Unlock()
		}
		if !any || !ready {
			return
		}
		parts = parts[:0]
		allDone := true
		for _, l := range loops {
			iv := l.iv
			iv.mu.Lock()
			// The last interval: every loop either contributes its final
			// part or has already finished.
			if len(iv.queue) > 0 && iv.queue[0].seq == seq {
				p := iv.queue[0]
				parts = append(parts, p)
				iv.queue = iv.queue[1:]
				if !p.final {
					allDone = false
				}
			} else if !iv.done || len(iv.queue) > 0 {
				allDone = false
			}
			iv.mu.Unlock()
		}
		fn(mergeParts(parts, warmEnd, allDone))
		for i, p := range parts {
			p.hist.Reset()
			p.owner.mu.Lock()
			p.owner.free = append(p.owner.free, p)
			p.owner.mu.Unlock()
			parts[i] = nil
		}
	}
}

// mergeParts sums one sequence's parts into an Interval.
func mergeParts(parts []*ivPart, warmEnd int64, final bool) Interval {
	iv := Interval{
		ErrorsByClass: make(map[string]int64, len(Classes)),
		Status:        map[string]int64{},
		Histogram:     newHist(),
		Final:         final,
	}
	for _, c := range Classes {
		iv.ErrorsByClass[c] = 0
	}
	var start, end int64
	for i, p := range parts {
		if i == 0 || p.start < start {
			start = p.start
		}
		end = max(end, p.end)
		iv.Seq = int(p.seq)
		iv.Histogram.Merge(p.hist)
		iv.Responses += p.c.responses
		iv.Unfinished += p.c.unfin
		iv.Conns += p.conns
		for c, n := range p.c.errs {
			iv.ErrorsByClass[Classes[c]] += n
			iv.Errors += n
		}
		for code, n := range p.c.status {
			if n == 0 {
				continue
			}
			iv.Status[statusKey(code)] += n
			if cl := StatusClass(code); cl == "" {
				iv.OK += n
			} else {
				iv.ErrorsByClass[cl] += n
				iv.Errors += n
			}
		}
	}
	iv.Start, iv.End = time.Duration(start-warmEnd), time.Duration(end-warmEnd)
	iv.Warmup = end <= warmEnd && warmEnd > 0
	if d := (iv.End - iv.Start).Seconds(); d > 0 {
		iv.RPS = float64(iv.OK) / d
	}
	iv.Latency = latencyOf(iv.Histogram)
	return iv
}
