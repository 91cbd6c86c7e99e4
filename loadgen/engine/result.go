package engine

import (
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Error classes, the keys of Result.ErrorsByClass. A failed request is
// counted in exactly one class; non-2xx responses are not errors of a class
// but are counted by code in Result.Status (and in Result.Non2xx).
const (
	ClassRefused   = "refused"   // connect refused (nothing listens)
	ClassTimeout   = "timeout"   // no complete response (or connect) within Timeout
	ClassReset     = "reset"     // connection reset or broken pipe
	ClassMalformed = "malformed" // the response was not valid HTTP/1.x
	ClassEOF       = "eof"       // the server closed the connection with requests outstanding
	ClassOther     = "other"     // anything else (EMFILE, EADDRNOTAVAIL, ...)
)

// Classes lists the error classes in report order.
var Classes = []string{ClassRefused, ClassTimeout, ClassReset, ClassMalformed, ClassEOF, ClassOther}

type errClass uint8

const (
	cRefused errClass = iota
	cTimeout
	cReset
	cMalformed
	cEOF
	cOther
	nClasses
)

// Latency is a latency summary in milliseconds. A nil field means "not
// measured" and encodes as JSON null (for example a percentile the hey
// engine does not report, or any percentile of a run with no responses).
type Latency struct {
	P50  *float64 `json:"p50"`
	P90  *float64 `json:"p90"`
	P99  *float64 `json:"p99"`
	P999 *float64 `json:"p999"`
	Max  *float64 `json:"max"`
	Mean *float64 `json:"mean"`
}

// Result is one measurement. It encodes to the JSON keys of DESIGN.md
// (requests, rps, errors, status, latency_ms, latency_uncorrected_ms) plus
// the fields below. A Result is built by Run and then owned by the caller;
// the engine keeps no reference to it.
type Result struct {
	Engine    string `json:"engine"`     // "fast" or "hey"
	URL       string `json:"url"`        //
	Method    string `json:"method"`     //
	LoadModel string `json:"load_model"` // ClosedLoop or OpenLoop
	Conns     int    `json:"conns"`      // -c: fixed (closed) or initial (open) connections
	MaxConns  int    `json:"max_conns"`  // open loop: the cap; closed loop: == conns
	Pipeline  int    `json:"pipeline"`   // requests in flight per connection
	Loops     int    `json:"loops"`      // event loops (fast) or workers (hey)
	GoMaxProc int    `json:"gomaxprocs"` // of the load generator

	DurationS float64 `json:"duration_s"` // measured wall time of the load phase

	// Requests counts requests that finished: with a response (any status)
	// or with a transport error. Requests still in flight when a -d run ends
	// are abandoned and not counted anywhere.
	Requests  int64   `json:"requests"`
	Responses int64   `json:"responses"` // requests answered with a complete response
	RPS       float64 `json:"rps"`       // Responses / DurationS, as wrk counts

	// Errors is the number of requests that failed without a response
	// (the sum of ErrorsByClass) plus the number of non-2xx responses.
	Errors        int64            `json:"errors"`
	ErrorsByClass map[string]int64 `json:"errors_by_class"` // every class in Classes, zero or not
	Non2xx        int64            `json:"non_2xx"`         // responses with status outside 200-299
	Status        map[string]int64 `json:"status"`          // status code -> responses

	// Latency covers every response. In the open loop it is measured from
	// each request's intended send time (coordinated omission corrected);
	// LatencyUncorrected is then measured from the actual send. In the closed
	// loop both would be equal and LatencyUncorrected is omitted.
	Latency            Latency  `json:"latency_ms"`
	LatencyUncorrected *Latency `json:"latency_uncorrected_ms,omitempty"`

	// Open loop only (null in the closed loop). RateAchieved is requests
	// sent per second; RateMet is false when fewer than 99% of the scheduled
	// requests could be sent (no free connection under the cap, or the engine
	// could not keep up). SendLagMaxMs is the longest any request waited
	// between its intended and its actual send.
	RateTarget   *float64 `json:"rate_target"`
	RateAchieved *float64 `json:"rate_achieved"`
	RateMet      *bool    `json:"rate_met"`
	Scheduled    *int64   `json:"scheduled,omitempty"`
	Sent         int64    `json:"sent"`
	SendLagMaxMs *float64 `json:"send_lag_max_ms,omitempty"`

	// Unfinished counts open-loop requests that were due but unanswered when
	// the run ended (in flight, or never sent for want of a connection).
	// They are in Latency with the time they had waited: a lower bound.
	Unfinished int64 `json:"unfinished"`

	Connects      int64 `json:"connects"`       // connections opened, reconnects included
	ConnectErrors int64 `json:"connect_errors"` // failed connection attempts (each also counted as a failed request when one was waiting)
	PeakConns     int   `json:"peak_conns"`     // most connections open at once

	// UnexpectedData counts reads that brought bytes while no request was
	// outstanding on the connection (extra bytes after a response: a server
	// framing bug). The connection is replaced; no request is failed for it,
	// so it is not in Errors.
	UnexpectedData int64 `json:"unexpected_data"`

	BytesRead    *int64 `json:"bytes_read"`    // wire bytes, headers included; null for hey
	BytesWritten *int64 `json:"bytes_written"` // wire bytes; null for hey

	Interrupted bool `json:"interrupted"` // stopped early (Ctrl-C or a cancelled context): partial

	// Notes are caveats about how to read this result (engine limits, for
	// example).
	Notes []string `json:"notes,omitempty"`

	// Extra holds engine-specific numbers (the hey engine's own rps, for
	// instance) kept for cross-checks.
	Extra map[string]float64 `json:"extra,omitempty"`

	// Histogram is the merged latency histogram (microseconds; corrected in
	// the open loop), for callers that want other quantiles. Nil for hey.
	Histogram *hdrhistogram.Histogram `json:"-"`
}

// Snapshot is a progress report handed to Run's progress callback. It is a
// value: the callback may keep it.
type Snapshot struct {
	Elapsed   time.Duration
	Requests  int64         // finished requests so far
	Responses int64         // of which answered
	Errors    int64         // transport errors plus non-2xx so far
	RPS       float64       // responses per second since the start
	P99       time.Duration // p99 latency so far (corrected in the open loop)
	Conns     int           // connections open now
}

// Histogram bounds: microsecond resolution, up to one minute, three
// significant digits (about 140 KiB per histogram). Longer values are
// clamped to the top and counted in Result.Notes.
const (
	histMaxUs = int64(60 * time.Second / time.Microsecond)
	histDigit = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxUs, histDigit) }

func ms(v float64) *float64 { return &v }

// latencyOf summarizes h (microseconds) in milliseconds; all nil if empty.
func latencyOf(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	q := func(p float64) *float64 { return ms(float64(h.ValueAtQuantile(p)) / 1000) }
	return Latency{
		P50:  q(50),
		P90:  q(90),
		P99:  q(99),
		P999: q(99.9),
		Max:  ms(float64(h.Max()) / 1000),
		Mean: ms(math.Round(h.Mean()) / 1000),
	}
}

// statusKey formats a status code as a JSON object key.
func statusKey(code int) string { return strconv.Itoa(code) }
