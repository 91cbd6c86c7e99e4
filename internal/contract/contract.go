// Package contract is the endpoint contract every server in the lab serves:
// the routes, the parameter bounds, the work each route does and the exact
// response bodies. It imports no server library. A server resolves a request
// with Resolve, does the route's work in its own model (that is the only part
// that differs between servers), and writes the bodies built here.
//
// Everything in this package is safe for concurrent use: it holds no mutable
// state. Append* functions write only to the dst slice they are given.
package contract

import (
	"strconv"
)

// Limits of the contract. DESIGN.md is the source; these are the one copy in code.
const (
	MaxHeaderBytes  = 8 << 10 // request line + headers; more gets 431
	MaxBodyBytes    = 1 << 20 // request body; more gets 413
	MaxIOMillis     = 10_000  // /io?ms and /fanout?ms upper bound
	MaxCPUWork      = 1_000_000
	MinFanoutCalls  = 1
	MaxFanoutCalls  = 100
	AllowedMethods  = "GET, HEAD" // the Allow header of a 405
	ContentTypeText = "text/plain; charset=utf-8"
	ContentTypeJSON = "application/json"
)

// CloseAfterChunked is the contract's rule against request smuggling: a
// request whose body came in chunked transfer coding gets its answer, then
// the server closes the connection. RFC 9112 §6.1 requires the close when
// the request also carried a Content-Length (a CL.TE smuggling attempt:
// a front end that framed it by Content-Length would take the bytes after
// the last chunk for body, while this server would serve them as the next
// request). net/http and fasthttp drop the Content-Length before a handler
// can see it, so every server closes after every chunked request. The lab's
// clients never send chunked bodies; a real client pays one reconnect.
const CloseAfterChunked = true

// Route names one endpoint of the contract.
type Route uint8

// The routes. NotFound is the zero value, so an unknown path needs no case.
const (
	NotFound Route = iota
	Plaintext
	JSON
	IO
	CPU
	Fanout
	Stats
)

var routeNames = [...]string{"not-found", "/plaintext", "/json", "/io", "/cpu", "/fanout", "/stats"}

func (r Route) String() string {
	if int(r) < len(routeNames) {
		return routeNames[r]
	}
	return "route(" + strconv.Itoa(int(r)) + ")"
}

// Text is a string or a byte slice, so that net/http (strings) and
// fasthttp/gnet (byte slices) call the same code without copies.
type Text interface{ ~string | ~[]byte }

// Lookup maps a request path (without its query) to a route.
// It does not allocate.
func Lookup[S Text](path S) Route {
	switch string(path) { // the compiler does not allocate for a switch on string(b)
	case "/plaintext":
		return Plaintext
	case "/json":
		return JSON
	case "/io":
		return IO
	case "/cpu":
		return CPU
	case "/fanout":
		return Fanout
	case "/stats":
		return Stats
	}
	return NotFound
}

// Mode is how /fanout issues its calls.
type Mode uint8

const (
	Seq Mode = iota // one call after another: latency ≈ sum of the waits
	Par             // all calls at once: latency ≈ the largest wait
)

func (m Mode) String() string {
	if m == Par {
		return "par"
	}
	return "seq"
}

// Conn is how /fanout connects to the dependency (conn=keep|new).
type Conn uint8

const (
	Keep Conn = iota // conn=keep (default): calls reuse pooled keep-alive connections
	New              // conn=new: every call dials a fresh TCP connection and closes it after its answer
)

func (c Conn) String() string {
	if c == New {
		return "new"
	}
	return "keep"
}

// Params are a request's validated parameters. Only the fields of its route are set.
type Params struct {
	// Millis is /io's wait. On /fanout it is the wait of every call when ms
	// is one number; with a list (ms=1000,2000) it is the largest wait of the
	// list, and Waits holds one wait per call. Use CallMillis for a call's wait.
	Millis int
	Work   int  // /cpu: SHA-256 rounds
	Calls  int  // /fanout: how many dependency calls
	Mode   Mode // /fanout: seq or par
	Conn   Conn // /fanout: keep (pooled connections) or new (a fresh connection per call)
	// Waits is /fanout's per-call waits when ms is a list (len(Waits) ==
	// Calls), nil when ms is one number. Resolve allocates it, only for a
	// list; it is never modified afterwards.
	Waits []int
}

// CallMillis is the wait of /fanout call i (0 ≤ i < Calls): Waits[i] for a
// list, else Millis.
func (p *Params) CallMillis(i int) int {
	if p.Waits != nil {
		return p.Waits[i]
	}
	return p.Millis
}

// Equal reports whether two Params are the same (Params holds a slice, so
// it is not comparable with ==).
func (p *Params) Equal(q *Params) bool {
	if p.Millis != q.Millis || p.Work != q.Work || p.Calls != q.Calls || p.Mode != q.Mode ||
		p.Conn != q.Conn || len(p.Waits) != len(q.Waits) || (p.Waits == nil) != (q.Waits == nil) {
		return false
	}
	for i := range p.Waits {
		if p.Waits[i] != q.Waits[i] {
			return false
		}
	}
	return true
}

// Request is a resolved request: what to do, with validated parameters.
type Request struct {
	Route  Route
	Params Params
	Head   bool // HEAD: write the headers of the GET answer, no body
}

// Error is a contract-level refusal: a status and a message for the JSON
// error body {"error":"…"}. Errors are values; the predeclared ones are shared
// and must not be modified.
type Error struct {
	Status int
	Msg    string
	body   []byte // cached JSON body, for the predeclared errors
}

func (e *Error) Error() string { return strconv.Itoa(e.Status) + ": " + e.Msg }

// AppendBody appends the JSON error body {"error":"…"} to dst.
func (e *Error) AppendBody(dst []byte) []byte {
	if e.body != nil {
		return append(dst, e.body...)
	}
	return appendErrorBody(dst, e.Msg)
}

func newError(status int, msg string) *Error {
	e := &Error{Status: status, Msg: msg}
	e.body = appendErrorBody(nil, msg)
	return e
}

// Errors shared by every server. A server's own protocol layer uses the last
// four when its parser refuses a request, so that every server answers the
// same bytes.
var (
	ErrNotFound          = newError(404, "not found")
	ErrMethod            = newError(405, "method not allowed: use GET or HEAD")
	ErrNoDependency      = newError(503, "no dependency configured: start the server with -dependency host:port")
	ErrDependency        = newError(502, "dependency call failed")
	ErrDependencyTimeout = newError(504, "dependency did not answer within the dependency timeout")
	ErrMalformed         = newError(400, "malformed request")
	ErrMissingHost       = newError(400, "missing Host header")
	ErrHeaderTooLarge    = newError(431, "request headers exceed 8192 bytes")
	ErrBodyTooLarge      = newError(413, "request body exceeds 1048576 bytes")
	ErrInternal          = newError(500, "internal server error")
	errMsIO              = newError(400, "parameter ms must be an integer in [0, 10000]")
	errWork              = newError(400, "parameter work must be an integer in [0, 1000000]")
	errCalls             = newError(400, "parameter calls must be an integer in [1, 100]")
	errMode              = newError(400, "parameter mode must be seq or par")
	errMissingMs         = newError(400, "missing parameter ms")
	errMissingWork       = newError(400, "missing parameter work")
	errMissingCalls      = newError(400, "missing parameter calls")
	errMissingFanoutArg  = newError(400, "missing parameter mode (seq or par)")
	errWaitList          = newError(400, "parameter ms must be one integer or a comma-separated list of 1 to 100 integers, each in [0, 10000]")
	errCallsMismatch     = newError(400, "parameter calls must equal the number of waits in ms")
	errConn              = newError(400, "parameter conn must be keep or new")
)

// Resolve validates a request's method, path and raw query (the part after
// '?', without it) and says what to do. It does not allocate.
func Resolve[S Text](method, path, rawQuery S) (Request, *Error) {
	var req Request
	req.Route = Lookup(path)
	if req.Route == NotFound {
		return req, ErrNotFound
	}
	switch string(method) {
	case "GET":
	case "HEAD":
		req.Head = true
	default:
		return req, ErrMethod
	}
	var err *Error
	req.Params, err = parseParams(req.Route, rawQuery)
	return req, err
}

func parseParams[S Text](r Route, q S) (Params, *Error) {
	var p Params
	switch r {
	case IO:
		v, ok := queryValue(q, "ms")
		if !ok {
			return p, errMissingMs
		}
		n, good := parseBounded(v, 0, MaxIOMillis)
		if !good {
			return p, errMsIO
		}
		p.Millis = n
	case CPU:
		v, ok := queryValue(q, "work")
		if !ok {
			return p, errMissingWork
		}
		n, good := parseBounded(v, 0, MaxCPUWork)
		if !good {
			return p, errWork
		}
		p.Work = n
	case Fanout:
		return parseFanout(q)
	}
	return p, nil
}

// parseFanout parses /fanout's query: calls, ms (one wait, or one wait per
// call: ms=1000,2000), mode, and the optional conn. With a list, calls may
// be left out; if given it must equal the list's length.
func parseFanout[S Text](q S) (Params, *Error) {
	var p Params
	cv, haveCalls := queryValue(q, "calls")
	if haveCalls {
		n, good := parseBounded(cv, MinFanoutCalls, MaxFanoutCalls)
		if !good {
			return p, errCalls
		}
		p.Calls = n
	}
	v, ok := queryValue(q, "ms")
	if !ok {
		return p, errMissingMs
	}
	if indexByte(v, ',') < 0 {
		if !haveCalls {
			return p, errMissingCalls
		}
		n, good := parseBounded(v, 0, MaxIOMillis)
		if !good {
			return p, errMsIO
		}
		p.Millis = n
	} else {
		waits, max, e := parseWaitList(v)
		if e != nil {
			return p, e
		}
		if haveCalls && p.Calls != len(waits) {
			return p, errCallsMismatch
		}
		p.Calls, p.Millis, p.Waits = len(waits), max, waits
	}
	if v, ok = queryValue(q, "mode"); !ok {
		return p, errMissingFanoutArg
	}
	switch string(v) {
	case "seq":
		p.Mode = Seq
	case "par":
		p.Mode = Par
	default:
		return p, errMode
	}
	if v, ok = queryValue(q, "conn"); ok {
		switch string(v) {
		case "keep":
			p.Conn = Keep
		case "new":
			p.Conn = New
		default:
			return p, errConn
		}
	}
	return p, nil
}

// parseWaitList parses "1000,2000": 1 to MaxFanoutCalls waits, each in
// [0, MaxIOMillis], and returns them with the largest.
func parseWaitList[S Text](v S) ([]int, int, *Error) {
	n := 1
	for i := 0; i < len(v); i++ {
		if v[i] == ',' {
			n++
		}
	}
	if n > MaxFanoutCalls {
		return nil, 0, errWaitList
	}
	waits := make([]int, 0, n)
	largest := 0
	for len(v) > 0 || len(waits) < n {
		var item S
		if i := indexByte(v, ','); i >= 0 {
			item, v = v[:i], v[i+1:]
		} else {
			item, v = v, v[len(v):]
		}
		w, good := parseBounded(item, 0, MaxIOMillis)
		if !good {
			return nil, 0, errWaitList
		}
		waits = append(waits, w)
		largest = max(largest, w)
	}
	return waits, largest, nil
}

// queryValue returns the first value of key in a raw query, like
// url.Values.Get, without allocating. Values are compared undecoded: the
// contract's values are digits and the words seq and par, and a
// percent-encoded one is refused as out of range rather than decoded.
func queryValue[S Text](q S, key string) (S, bool) {
	for len(q) > 0 {
		var pair S
		if i := indexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, q[len(q):]
		}
		k, v := pair, pair[len(pair):]
		if i := indexByte(pair, '='); i >= 0 {
			k, v = pair[:i], pair[i+1:]
		}
		if string(k) == key {
			return v, true
		}
	}
	return q, false
}

func indexByte[S Text](s S, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// parseBounded parses a decimal integer with no sign and no padding beyond
// what fits, and reports whether it lies in [lo, hi]. It never overflows:
// more than 9 digits is out of range for every bound of the contract.
func parseBounded[S Text](s S, lo, hi int) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= lo && n <= hi
}
