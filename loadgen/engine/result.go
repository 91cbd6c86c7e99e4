package engine

import (
	"math"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Error classes, the keys of Result.ErrorsByClass. A failed request is
// counted in exactly one class: one of the transport classes when it got no
// response, or ClassHTTP4xx / ClassHTTP5xx when it was answered with an error
// status. 2xx and 3xx answers are successes (Result.OK); every answer is also
// counted by code in Result.Status.
const (
	ClassRefused   = "refused"   // connect refused (nothing listens)
	ClassTimeout   = "timeout"   // no complete response (or connect) within Timeout
	ClassReset     = "reset"     // connection reset or broken pipe
	ClassMalformed = "malformed" // the response was not valid HTTP/1.x
	ClassEOF       = "eof"       // the server closed the connection with requests outstanding
	ClassOther     = "other"     // anything else (EMFILE, EADDRNOTAVAIL, ...)
	ClassHTTP4xx   = "http_4xx"  // answered with a status from 400 to 499
	ClassHTTP5xx   = "http_5xx"  // answered with a status of 500 or above
)

// Classes lists the error classes in report order: the transport classes
// (TransportClasses), then the two status classes.
var Classes = []string{ClassRefused, ClassTimeout, ClassReset, ClassMalformed, ClassEOF, ClassOther, ClassHTTP4xx, ClassHTTP5xx}

// TransportClasses are the classes of requests that got no response.
var TransportClasses = Classes[:6]

// StatusClass returns the error class of an answer with status code, or ""
// when the answer is a success (2xx or 3xx).
func StatusClass(code int) string {
	switch {
	case code >= 200 && code <= 399:
		return ""
	case code >= 400 && code <= 499:
		return ClassHTTP4xx
	}
	return ClassHTTP5xx // 5xx, and anything else a server should not send
}

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

	// IOBackend is how the fast engine's loops waited and moved bytes:
	// "io_uring" (uring_linux.go), "epoll" (loop_linux.go), or
	// "epoll+io_uring" if a loop fell back (Config.IO). The suite copies
	// it into every row, so a report says which backend measured it.
	IOBackend string `json:"io_backend,omitempty"`

	DurationS float64 `json:"duration_s"` // measured wall time of the load phase

	// Requests counts requests that finished: with a response (any status)
	// or with a transport error; Requests == OK + Errors. Requests still in
	// flight when the window ends are not in Requests but in Unfinished.
	Requests  int64 `json:"requests"`
	Responses int64 `json:"responses"` // requests answered with a complete response, any status
	OK        int64 `json:"ok"`        // answered with a 2xx or 3xx status: what RPS counts

	// RPS is OK / DurationS: successful answers per second. Error answers
	// (4xx, 5xx) are not throughput; a server that answers 503 fast does not
	// get a high rps. (Before error classes existed this counted every
	// response; with only 2xx answers the two agree, and agree with wrk.)
	RPS float64 `json:"rps"`

	// Errors is the number of requests that failed: without a response (a
	// transport class) or with a 4xx/5xx status. It is the sum of
	// ErrorsByClass. ErrorRate is Errors / Requests (0 when nothing
	// finished): a verdict should not rest on a row whose rate is not ~0.
	Errors        int64            `json:"errors"`
	ErrorRate     float64          `json:"error_rate"`
	ErrorsByClass map[string]int64 `json:"errors_by_class"` // every class in Classes, zero or not
	Non2xx        int64            `json:"non_2xx"`         // responses with status outside 200-299 (3xx included: informational)
	Status        map[string]int64 `json:"status"`          // status code -> responses

	// Latency covers every request that finished in the window, failed ones
	// included, plus the Unfinished ones as lower bounds. A request that
	// failed (transport error, timeout) is recorded with the time it took to
	// fail, so a stalled server cannot hide behind its errors; a failed
	// request is also recorded in LatencyFailed (null when none failed), and
	// counted in FailedRecorded.
	//
	// In the open loop latency is measured from each request's intended send
	// time (coordinated omission corrected); LatencyUncorrected is then
	// measured from the actual send. In the closed loop both would be equal
	// and LatencyUncorrected is omitted.
	Latency            Latency  `json:"latency_ms"`
	LatencyUncorrected *Latency `json:"latency_uncorrected_ms,omitempty"`
	LatencyFailed      *Latency `json:"latency_failed_ms,omitempty"`
	FailedRecorded     int64    `json:"failed_recorded"` // requests that failed without a response, all recorded in Latency at the time they failed

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

	// Unfinished counts requests that were unanswered when the window ended:
	// in flight (both load models), or due but never sent for want of a
	// connection (open loop). They are in Latency with the time they had
	// waited: a lower bound. They are not in Requests or Errors. A run
	// stopped by its context (Interrupted) does not count them.
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

	// LoadgenCPUS is the CPU time (user + system, getrusage RUSAGE_SELF) the
	// whole load generator process used during the measured window, and
	// LoadgenCPUUsPerRequest that divided by Requests, in µs (null when no
	// request finished). Process-wide: anything else the process runs at the
	// same time (the suite's canary, its samplers) is included.
	LoadgenCPUS            float64  `json:"loadgen_cpu_s"`
	LoadgenCPUUsPerRequest *float64 `json:"loadgen_cpu_us_per_request"`

	// Notes are caveats about how to read this result (engine limits, for
	// example).
	Notes []string `json:"notes,omitempty"`

	// Extra holds engine-specific numbers (the hey engine's own rps, for
	// instance) kept for cross-checks.
	Extra map[string]float64 `json:"extra,omitempty"`

	// Histogram is the merged latency histogram (microseconds; corrected in
	// the open loop; the same population as Latency), for callers that want
	// other quantiles or to merge runs (EncodeHistogram ships it between
	// processes). Nil for hey. It belongs to the caller.
	Histogram *hdrhistogram.Histogram `json:"-"`
}

// EncodeHistogram encodes h exactly (hdrhistogram's V2 compressed format,
// base64: every count survives) so that it can cross a process or a
// network; DecodeHistogram reverses it. Histograms decoded from several
// replicas can be merged with Merge and summarized with LatencyOf.
func EncodeHistogram(h *hdrhistogram.Histogram) ([]byte, error) {
	return h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
}

// DecodeHistogram decodes what EncodeHistogram produced.
func DecodeHistogram(b []byte) (*hdrhistogram.Histogram, error) {
	return hdrhistogram.Decode(b)
}

// NewHistogram returns an empty histogram with the engine's bounds
// (microseconds, 1 µs to one minute, three significant digits), into which
// the engine's histograms merge without loss.
func NewHistogram() *hdrhistogram.Histogram { return newHist() }

// Snapshot is a progress report handed to Run's progress callback. It is a
// value: the callback may keep it.
type Snapshot struct {
	Elapsed   time.Duration
	Requests  int64         // finished requests so far
	Responses int64         // of which answered (any status)
	OK        int64         // of which answered with 2xx or 3xx
	Errors    int64         // transport errors plus 4xx/5xx answers so far
	RPS       float64       // OK answers per second since the start
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

// LatencyOf summarizes a histogram of microseconds (one of the engine's, or
// a merge of them) in milliseconds, as Result.Latency does; all nil if empty.
func LatencyOf(h *hdrhistogram.Histogram) Latency { return latencyOf(h) }

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
