package engine

import (
	"bytes"
	"errors"
)

// The response reader.
//
// This is deliberately not net/http. net/http's client allocates a Request,
// a Response, header maps and a body reader per request and runs a
// goroutine pair per connection; measured here it tops out far below wrk
// on the same cores, and a load generator that is slower than the server
// measures itself. The engine needs only four facts from a response (its
// status, where it ends, whether the server will close the connection, and
// whether it was well formed), so it reads them with an incremental parser
// that never allocates in steady state and never needs the whole response in
// one buffer: the loop reads into one big buffer shared by all of its
// connections and feeds each connection's parser whatever arrived.

// Limits that turn a misbehaving server into a "malformed" error instead of
// unbounded memory.
const (
	maxLineBytes   = 16 << 10  // one status, header, chunk-size or trailer line
	maxHeaderBytes = 256 << 10 // a whole header section, interim responses included
)

// Parse errors. All of them are counted in the "malformed" class.
var (
	errMalformedStatus = errors.New("malformed status line")
	errMalformedHeader = errors.New("malformed header line")
	errBadLength       = errors.New("malformed Content-Length")
	errBadChunk        = errors.New("malformed chunk")
	errLineTooLong     = errors.New("response line too long")
	errHeaderTooLarge  = errors.New("response header section too large")
	errUpgrade         = errors.New("101 Switching Protocols is not supported")
	errTruncated       = errors.New("connection closed in the middle of a response")
)

type readState uint8

const (
	stStatus     readState = iota // expecting the status line
	stHeaders                     // inside the header section
	stBody                        // counting down a Content-Length body
	stChunkSize                   // expecting a chunk-size line
	stChunkData                   // counting down a chunk's data
	stChunkEnd                    // expecting the CRLF after chunk data
	stTrailers                    // inside the trailer section
	stUntilClose                  // body delimited by the connection closing
)

// respReader is the per-connection incremental HTTP/1.x response parser.
//
// It is owned by one connection and used only from the loop goroutine that
// owns that connection. It keeps no reference to the bytes it is fed except
// for a partial line at the end of a read, which it copies into its own carry
// buffer (the only allocation, made once and then reused).
type respReader struct {
	state readState
	head  bool // responses answer HEAD requests: no body whatever the headers say

	// Facts about the response being read, valid once it is complete.
	status int  // status code
	close  bool // the server will close the connection after this response

	minor     byte  // HTTP/1.minor
	keepAlive bool  // "Connection: keep-alive" seen (matters for HTTP/1.0)
	chunked   bool  // Transfer-Encoding ends in chunked
	otherTE   bool  // some other transfer coding: body runs until close
	clen      int64 // Content-Length, -1 when absent
	remaining int64 // bytes left of the body or of the current chunk
	hdrBytes  int   // header bytes seen for this response, interim ones included

	line []byte // carry for a line split across reads
}

// reset prepares the reader for the next response on the same connection.
func (r *respReader) reset() {
	r.state = stStatus
	r.hdrBytes = 0
	r.line = r.line[:0]
}

// feed consumes bytes from b. When a response ends inside b, feed returns
// done=true and n is the number of bytes up to and including its last byte;
// the caller reads the response's facts (status, close), calls reset, and
// feeds the rest of b again. Otherwise feed consumed all of b (n == len(b)).
// An error means the stream is unusable; the connection must be closed.
//
// feed never panics and always makes progress: either n == len(b), or done,
// or err != nil.
func (r *respReader) feed(b []byte) (n int, done bool, err error) {
	for n < len(b) {
		switch r.state {
		case stBody, stChunkData:
			k := len(b) - n
			if int64(k) > r.remaining {
				k = int(r.remaining)
			}
			n += k
			r.remaining -= int64(k)
			if r.remaining > 0 {
				continue // b is exhausted
			}
			if r.state == stBody {
				return n, true, nil
			}
			r.state = stChunkEnd
		case stUntilClose:
			return len(b), false, nil
		default:
			i := bytes.IndexByte(b[n:], '\n')
			if i < 0 {
				if len(r.line)+len(b)-n > maxLineBytes {
					return n, false, errLineTooLong
				}
				r.line = append(r.line, b[n:]...)
				return len(b), false, nil
			}
			if len(r.line)+i > maxLineBytes {
				return n, false, errLineTooLong
			}
			line := b[n : n+i]
			if len(r.line) > 0 {
				r.line = append(r.line, line...)
				line = r.line
			}
			n += i + 1
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			done, err = r.onLine(line)
			r.line = r.line[:0]
			if err != nil || done {
				return n, done, err
			}
		}
	}
	return n, false, nil
}

// eof reports what a clean end of stream means for the response in progress:
// complete (the body was delimited by the close), idle (no response had
// started), or an error (the response was cut short).
func (r *respReader) eof() (complete, idle bool, err error) {
	switch {
	case r.state == stUntilClose:
		return true, false, nil
	case r.state == stStatus && len(r.line) == 0:
		return false, true, nil
	}
	return false, false, errTruncated
}

// onLine handles one complete line with its CRLF (or bare LF) removed.
func (r *respReader) onLine(line []byte) (done bool, err error) {
	switch r.state {
	case stStatus, stHeaders:
		r.hdrBytes += len(line) + 2
		if r.hdrBytes > maxHeaderBytes {
			return false, errHeaderTooLarge
		}
		if r.state == stStatus {
			return false, r.statusLine(line)
		}
		if len(line) == 0 {
			return r.endHeaders()
		}
		return false, r.header(line)
	case stChunkSize:
		size, err := parseChunkSize(line)
		if err != nil {
			return false, err
		}
		if size == 0 {
			r.state = stTrailers
			return false, nil
		}
		r.remaining = size
		r.state = stChunkData
		return false, nil
	case stChunkEnd:
		if len(line) != 0 {
			return false, errBadChunk
		}
		r.state = stChunkSize
		return false, nil
	case stTrailers:
		if len(line) == 0 {
			return true, nil
		}
		r.hdrBytes += len(line) + 2
		if r.hdrBytes > maxHeaderBytes {
			return false, errHeaderTooLarge
		}
		return false, nil
	}
	return false, errMalformedStatus // unreachable: body states never reach onLine
}

// statusLine parses "HTTP/1.x SSS[ reason]".
func (r *respReader) statusLine(line []byte) error {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return errMalformedStatus
	}
	minor := line[7]
	if minor < '0' || minor > '9' {
		return errMalformedStatus
	}
	status := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return errMalformedStatus
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return errMalformedStatus
	}
	r.status = status
	r.minor = minor - '0'
	r.keepAlive = false
	r.close = false
	r.chunked = false
	r.otherTE = false
	r.clen = -1
	r.state = stHeaders
	return nil
}

// header looks at the three headers that decide framing and keep-alive and
// skips the rest.
func (r *respReader) header(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return nil // obsolete line folding: continues a header we ignore
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return errMalformedHeader
	}
	name := line[:colon]
	if c := name[len(name)-1]; c == ' ' || c == '\t' {
		return errMalformedHeader // RFC 9112: no whitespace before the colon
	}
	value := trimOWS(line[colon+1:])
	switch len(name) {
	case len("content-length"):
		if !bytes.EqualFold(name, []byte("content-length")) {
			return nil
		}
		v, ok := parseDecimal(value)
		if !ok || (r.clen >= 0 && r.clen != v) {
			return errBadLength
		}
		r.clen = v
	case len("transfer-encoding"):
		if !bytes.EqualFold(name, []byte("transfer-encoding")) {
			return nil
		}
		// The last coding decides: chunked frames the body; anything else
		// means the body runs until the connection closes.
		last := value
		if i := bytes.LastIndexByte(value, ','); i >= 0 {
			last = trimOWS(value[i+1:])
		}
		if bytes.EqualFold(last, []byte("chunked")) {
			r.chunked, r.otherTE = true, false
		} else if len(last) > 0 {
			r.chunked, r.otherTE = false, true
		}
	case len("connection"):
		if !bytes.EqualFold(name, []byte("connection")) {
			return nil
		}
		for len(value) > 0 {
			tok := value
			if i := bytes.IndexByte(value, ','); i >= 0 {
				tok, value = value[:i], value[i+1:]
			} else {
				value = nil
			}
			tok = trimOWS(tok)
			if bytes.EqualFold(tok, []byte("close")) {
				r.close = true
			} else if bytes.EqualFold(tok, []byte("keep-alive")) {
				r.keepAlive = true
			}
		}
	}
	return nil
}

// endHeaders decides how the body is framed (RFC 9112 section 6.3).
func (r *respReader) endHeaders() (done bool, err error) {
	if r.minor == 0 && !r.keepAlive {
		r.close = true
	}
	switch {
	case r.status == 101:
		return false, errUpgrade
	case r.status < 200:
		// An interim response (100 Continue, 103 Early Hints): the real one
		// follows on the same stream.
		r.state = stStatus
		return false, nil
	case r.head || r.status == 204 || r.status == 304:
		return true, nil
	case r.chunked:
		r.state = stChunkSize
		return false, nil
	case r.otherTE:
		r.close = true
		r.state = stUntilClose
		return false, nil
	case r.clen == 0:
		return true, nil
	case r.clen > 0:
		r.remaining = r.clen
		r.state = stBody
		return false, nil
	}
	r.close = true
	r.state = stUntilClose
	return false, nil
}

// parseChunkSize parses "HEX[;ext]" with optional whitespace before ';'.
func parseChunkSize(line []byte) (int64, error) {
	var size int64
	digits := 0
	i := 0
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			goto rest
		}
		if digits == 15 {
			return 0, errBadChunk // over 2^60 bytes: nonsense, and overflow-safe
		}
		size = size<<4 | int64(d)
		digits++
	}
rest:
	if digits == 0 {
		return 0, errBadChunk
	}
	for ; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t':
		case ';':
			return size, nil
		default:
			return 0, errBadChunk
		}
	}
	return size, nil
}

// parseDecimal parses a non-negative decimal of at most 18 digits.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
