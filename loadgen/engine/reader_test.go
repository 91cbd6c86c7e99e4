package engine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// outcome is what a reader makes of a byte stream: each completed
// response's status and close flag, then how the stream ended.
type outcome struct {
	statuses []int
	closes   []bool
	err      error // first error, nil if none
	atEOF    string
}

// readAll feeds stream to a fresh reader in pieces of at most step bytes
// (step <= 0: all at once), then signals end of stream.
func readAll(stream []byte, step int, head bool) outcome {
	var r respReader
	r.head = head
	var o outcome
	for len(stream) > 0 {
		piece := stream
		if step > 0 && len(piece) > step {
			piece = piece[:step]
		}
		stream = stream[len(piece):]
		for len(piece) > 0 {
			n, done, err := r.feed(piece)
			if err != nil {
				o.err = err
				return o
			}
			if n == 0 || n > len(piece) || (!done && n != len(piece)) {
				panic("feed broke its progress contract")
			}
			piece = piece[n:]
			if done {
				o.statuses = append(o.statuses, r.status)
				o.closes = append(o.closes, r.close)
				r.reset()
			}
		}
	}
	complete, idle, err := r.eof()
	switch {
	case complete:
		o.statuses = append(o.statuses, r.status)
		o.closes = append(o.closes, true)
		o.atEOF = "complete"
	case idle:
		o.atEOF = "idle"
	default:
		o.err = err
		o.atEOF = "truncated"
	}
	return o
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+1)
	tests := []struct {
		name     string
		in       string
		head     bool
		statuses []int
		closes   []bool
		err      error
		atEOF    string
	}{
		{name: "content-length",
			in:       "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!",
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "pipelined three",
			in:       strings.Repeat("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 2) + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
			statuses: []int{200, 200, 404}, closes: []bool{false, false, false}, atEOF: "idle"},
		{name: "chunked with extension and trailer",
			in:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nHello\r\nA \r\n, World!!!\r\n0\r\nX-Trailer: 1\r\n\r\n",
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "chunked wins over content-length",
			in:       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "bare LF line endings",
			in:       "HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "connection close",
			in:       "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx",
			statuses: []int{200}, closes: []bool{true}, atEOF: "idle"},
		{name: "http/1.0 closes by default",
			in:       "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
			statuses: []int{200}, closes: []bool{true}, atEOF: "idle"},
		{name: "http/1.0 keep-alive",
			in:       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "body until close",
			in:       "HTTP/1.0 200 OK\r\n\r\nwhatever comes until the end",
			statuses: []int{200}, closes: []bool{true}, atEOF: "complete"},
		{name: "unknown transfer coding runs until close",
			in:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz",
			statuses: []int{200}, closes: []bool{true}, atEOF: "complete"},
		{name: "HEAD has no body",
			in: "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", head: true,
			statuses: []int{200}, closes: []bool{false}, atEOF: "idle"},
		{name: "204 and 304 have no body",
			in:       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n",
			statuses: []int{204, 304}, closes: []bool{false, false}, atEOF: "idle"},
		{name: "interim 100 is skipped",
			in:       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
			statuses: []int{201}, closes: []bool{false}, atEOF: "idle"},
		{name: "status without reason",
			in:       "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n",
			statuses: []int{503}, closes: []bool{false}, atEOF: "idle"},
		{name: "truncated body", in: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", err: errTruncated},
		{name: "truncated headers", in: "HTTP/1.1 200 OK\r\nContent-Le", err: errTruncated},
		{name: "garbage status", in: "HTTP/2 200 OK\r\n\r\n", err: errMalformedStatus},
		{name: "not http", in: "SSH-2.0-OpenSSH_9.6\r\n", err: errMalformedStatus},
		{name: "status letters", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: errMalformedStatus},
		{name: "empty line before status", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", err: errMalformedStatus},
		{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: errBadLength},
		{name: "conflicting content-lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", err: errBadLength},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", err: errMalformedHeader},
		{name: "space before colon", in: "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", err: errMalformedHeader},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: errBadChunk},
		{name: "huge chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", err: errBadChunk},
		{name: "missing CRLF after chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", err: errBadChunk},
		{name: "line too long", in: "HTTP/1.1 200 OK\r\nX: " + long + "\r\n\r\n", err: errLineTooLong},
		{name: "upgrade", in: "HTTP/1.1 101 Switching Protocols\r\n\r\n", err: errUpgrade},
		{name: "empty stream", in: "", atEOF: "idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The same outcome whether the bytes arrive at once, in 7-byte
			// pieces or one byte at a time.
			for _, step := range []int{0, 7, 1} {
				got := readAll([]byte(tc.in), step, tc.head)
				if !errors.Is(got.err, tc.err) {
					t.Fatalf("step %d: err = %v, want %v", step, got.err, tc.err)
				}
				if tc.err != nil {
					continue
				}
				if !equalInts(got.statuses, tc.statuses) || !equalBools(got.closes, tc.closes) || got.atEOF != tc.atEOF {
					t.Fatalf("step %d: got statuses %v closes %v at EOF %q; want %v %v %q",
						step, got.statuses, got.closes, got.atEOF, tc.statuses, tc.closes, tc.atEOF)
				}
			}
		})
	}
}

// TestReaderAgreesWithNetHTTP checks the valid cases against net/http's own
// response reader: same statuses, same framing (the responses end where
// net/http says they end).
func TestReaderAgreesWithNetHTTP(t *testing.T) {
	streams := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnopHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b\r\nx\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n",
	}
	for _, s := range streams {
		br := bufio.NewReader(strings.NewReader(s))
		var want []int
		for {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("net/http on %q after %v: %v", s, want, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			want = append(want, resp.StatusCode)
		}
		got := readAll([]byte(s), 0, false)
		if got.err != nil || !equalInts(got.statuses, want) {
			t.Errorf("stream %q: got %v (err %v), net/http %v", s, got.statuses, got.err, want)
		}
	}
}

// FuzzReader feeds arbitrary bytes, whole and split, to the response
// reader. It must never panic or stall, and where the bytes are split must
// not change the outcome. Run it longer with
// go test -run '^$' -fuzz FuzzReader ./loadgen/engine.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e\r\nHello\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nbody until close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
		"HTTP/1.1 200 OK\nX:\n Folded\n\n",
		"\x00\xff\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(3), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8, head bool) {
		whole := readAll(data, 0, head)
		split := readAll(data, int(step%16)+1, head)
		if (whole.err == nil) != (split.err == nil) || !equalInts(whole.statuses, split.statuses) ||
			!equalBools(whole.closes, split.closes) || whole.atEOF != split.atEOF {
			t.Fatalf("split changed the outcome: whole %+v, split %+v", whole, split)
		}
		for _, s := range whole.statuses {
			if s < 100 || s > 999 {
				t.Fatalf("impossible status %d", s)
			}
		}
		if whole.err == nil && len(whole.statuses) > 0 && bytes.Count(data, []byte("\n")) < len(whole.statuses) {
			t.Fatalf("%d responses from %d lines", len(whole.statuses), bytes.Count(data, []byte("\n")))
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
