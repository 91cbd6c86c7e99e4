package main

// body.go: reading a request body incrementally, the way net/http's body
// reader accepts it (io.LimitReader for Content-Length; net/http/internal's
// chunked reader and body.readTrailer for chunked coding). The server drops
// the bytes: no route of the contract reads a body.

import (
	"bytes"

	"github.com/serverlab/lab/internal/contract"
)

// Limits of net/http's chunked reader.
const (
	maxChunkLine   = 4096      // bufio's default size: a chunk-size line must fit
	maxChunkExcess = 16 * 1024 // "chunked encoding contains too much non-data"
	maxTrailerScan = 4096      // body.readTrailer looks this far for "\r\n\r\n"
)

type bodyState uint8

const (
	bodyLength   bodyState = iota // Content-Length bytes left
	chunkLine                     // a chunk-size line
	chunkData                     // chunk bytes left
	chunkEnd                      // the CRLF after chunk data
	chunkTrailer                  // the trailer after the last chunk
)

// bodyDecoder is the resumable state of one request body. The connection
// state owns it (through a bodyRequest); only the loop touches it.
type bodyDecoder struct {
	state  bodyState
	left   int64 // bytes left in the body (bodyLength) or in the chunk (chunkData)
	total  int64 // chunk bytes announced so far, for the 1 MiB limit
	excess int64 // net/http's count of framing bytes beyond data
}

func newBodyDecoder(h *head) bodyDecoder {
	if h.chunked {
		return bodyDecoder{state: chunkLine}
	}
	return bodyDecoder{state: bodyLength, left: h.length}
}

// decode consumes what it can of b and reports whether the body is complete
// (parseOK), needs more bytes (parseMore) or is refused (parseError). data,
// when not nil, receives each piece of body content; the pieces alias b.
func (d *bodyDecoder) decode(b []byte, data func([]byte)) (n int, st parseStatus, err *contract.Error) {
	for {
		rest := b[n:]
		switch d.state {
		case bodyLength, chunkData:
			k := int64(len(rest))
			if k > d.left {
				k = d.left
			}
			if k > 0 && data != nil {
				data(rest[:k])
			}
			n += int(k)
			d.left -= k
			if d.left > 0 {
				return n, parseMore, nil
			}
			if d.state == bodyLength {
				return n, parseOK, nil
			}
			d.state = chunkEnd

		case chunkEnd:
			if len(rest) < 2 {
				return n, parseMore, nil
			}
			if rest[0] != '\r' || rest[1] != '\n' {
				return n, parseError, contract.ErrMalformed
			}
			n += 2
			d.state = chunkLine

		case chunkLine:
			i := bytes.IndexByte(rest, '\n')
			if i < 0 || i >= maxChunkLine {
				if i >= 0 || len(rest) >= maxChunkLine {
					return n, parseError, contract.ErrMalformed // ErrLineTooLong
				}
				return n, parseMore, nil
			}
			line := rest[:i+1]
			if cr := bytes.IndexByte(line, '\r'); cr < 0 || cr != len(line)-2 {
				return n, parseError, contract.ErrMalformed // bare LF, or a CR inside
			}
			line = line[:len(line)-2]
			d.excess += int64(len(line)) + 2
			for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
				line = line[:len(line)-1]
			}
			if j := bytes.IndexByte(line, ';'); j >= 0 {
				line = line[:j] // chunk extensions are ignored
			}
			size, ok := parseChunkSize(line)
			if !ok {
				return n, parseError, contract.ErrMalformed
			}
			n += i + 1
			d.excess -= 16 + 2*int64(size) // wraps like net/http's for huge sizes
			d.excess = max(d.excess, 0)
			if size == 0 {
				d.state = chunkTrailer
				continue
			}
			if d.excess > maxChunkExcess {
				return n, parseError, contract.ErrMalformed
			}
			if size > contract.MaxBodyBytes || d.total+int64(size) > contract.MaxBodyBytes {
				return n, parseError, contract.ErrBodyTooLarge
			}
			d.total += int64(size)
			d.left = int64(size)
			d.state = chunkData

		case chunkTrailer:
			// body.readTrailer: an empty trailer, or fields ending within
			// maxTrailerScan bytes, read like a header block. Nothing of the
			// trailer is consumed until it is complete.
			if len(rest) < 2 {
				return n, parseMore, nil
			}
			if rest[0] == '\r' && rest[1] == '\n' {
				return n + 2, parseOK, nil
			}
			window := rest[:min(len(rest), maxTrailerScan)]
			if !bytes.Contains(window, crlfcrlf) {
				if len(rest) >= maxTrailerScan {
					return n, parseError, contract.ErrMalformed // "suspiciously long trailer"
				}
				return n, parseMore, nil
			}
			fs := fieldScan{}
			end, st, err := fs.scan(rest, 0, nil)
			if st != parseOK {
				return n, st, err
			}
			return n + end, parseOK, nil
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// parseChunkSize is net/http's parseHexUint: 1 to 16 hex digits.
func parseChunkSize(v []byte) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for i, c := range v {
		if !isHex(c) {
			return 0, false
		}
		if i == 16 {
			return 0, false
		}
		n = n<<4 | uint64(unhex(c))
	}
	return n, true
}
