// Package spans records, per request, which OS thread did what and when:
// the measured input of the report's per-model timelines (loadgen
// timelines). It is off unless the environment variable LAB_SPANS names a
// file when the server starts; off, every call is one bool check and
// returns.
//
// On, Start hands out one of at most MaxSpans slots (later requests are
// dropped, not buffered), each event stamps the calling OS thread id
// (gettid) and CLOCK_MONOTONIC nanoseconds (one time base for every
// process, so prefork's children line up), and End appends the span as one
// JSON line with a single O_APPEND write, so that prefork's children can
// share the file and nothing needs a flush at shutdown. The caller owns a
// span from Start to End and must call its events from one logical flow
// (one goroutine, or the loop, with a happens-before edge between them).
package spans

import (
	"os"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Env is the environment variable that turns recording on: the file the
// spans are appended to.
const Env = "LAB_SPANS"

// MaxSpans bounds the spans one process records.
const MaxSpans = 1000

// ID is a recorded span; the zero ID records nothing.
type ID int32

// The events of a span, in order.
const (
	evStart = iota // the handler has the parsed request
	evWaitStart
	evWaitEnd
	evEnd // the answer is built and handed to the connection's write
	nEvents
)

var eventNames = [nEvents]string{"start", "wait_start", "wait_end", "end"}

type event struct {
	tid int32
	ns  int64
}

type span struct {
	route string
	ev    [nEvents]event
}

var (
	enabled bool // set once in init, read-only afterwards
	file    *os.File
	pid     int
	next    atomic.Int32
	slots   []span
)

func init() {
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		os.Stderr.WriteString("spans: " + err.Error() + "; not recording\n")
		return
	}
	file, pid, slots, enabled = f, os.Getpid(), make([]span, MaxSpans), true
}

// Enabled reports whether this process records spans.
func Enabled() bool { return enabled }

// Start begins a span for a request of route, stamping the start event. It
// returns 0 (records nothing) when recording is off or MaxSpans are taken.
func Start(route string) ID {
	if !enabled { // inlined: off costs one bool check
		return 0
	}
	return start(route)
}

func start(route string) ID {
	n := next.Add(1)
	if int(n) > len(slots) {
		return 0
	}
	id := ID(n)
	id.slot().route = route
	id.stamp(evStart)
	return id
}

// WaitStart stamps the start of the request's wait.
func (id ID) WaitStart() {
	if id != 0 {
		id.stamp(evWaitStart)
	}
}

// WaitEnd stamps the end of the request's wait.
func (id ID) WaitEnd() {
	if id != 0 {
		id.stamp(evWaitEnd)
	}
}

// End stamps the end and writes the span as one JSON line.
func (id ID) End() {
	if id != 0 {
		id.end()
	}
}

func (id ID) end() {
	id.stamp(evEnd)
	file.Write(id.appendJSON(make([]byte, 0, 512)))
}

func (id ID) slot() *span { return &slots[id-1] }

func (id ID) stamp(e int) {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	id.slot().ev[e] = event{tid: int32(unix.Gettid()), ns: ts.Nano()}
}

// appendJSON appends the span's line: {"pid":..,"req":..,"route":"io",
// "start_tid":..,"start_ns":.., ... "end_ns":..}\n. Events never stamped
// are omitted.
func (id ID) appendJSON(b []byte) []byte {
	s := id.slot()
	b = append(b, `{"pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"req":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"route":`...)
	b = strconv.AppendQuote(b, s.route)
	for i, e := range s.ev {
		if e.ns == 0 {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, eventNames[i]...)
		b = append(b, `_tid":`...)
		b = strconv.AppendInt(b, int64(e.tid), 10)
		b = append(b, `,"`...)
		b = append(b, eventNames[i]...)
		b = append(b, `_ns":`...)
		b = strconv.AppendInt(b, e.ns, 10)
	}
	return append(b, "}\n"...)
}
