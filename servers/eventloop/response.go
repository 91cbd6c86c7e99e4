package main

// response.go: writing HTTP/1.1 responses into byte slices. Append-style and
// allocation-free; the loop owns the slices it passes in.

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/serverlab/lab/internal/contract"
)

const serverName = "eventloop"

// respMeta is what a response needs to know about its request.
type respMeta struct {
	http10      bool // answer "HTTP/1.0", as net/http does for 1.0 requests
	head        bool // HEAD: headers only, with the GET's Content-Length
	close       bool // the connection closes after this response
	keepAlive10 bool // HTTP/1.0 keep-alive: say "Connection: keep-alive"
}

// metaOf is the meta of the answer to h. A request with a chunked body
// closes the connection after its answer (contract.CloseAfterChunked).
func metaOf(h *head) respMeta {
	closeAfter := h.close || contract.CloseAfterChunked && h.chunked
	return respMeta{
		http10:      h.minor == 0,
		head:        string(h.method) == "HEAD",
		close:       closeAfter,
		keepAlive10: h.minor == 0 && !closeAfter,
	}
}

// refusalMeta is the meta of a protocol-level refusal: HTTP/1.1, close.
var refusalMeta = respMeta{close: true}

// appendResponse appends a whole response: status line, the headers every
// answer carries (Server, Date, Content-Type, Content-Length), Allow for a
// 405, Connection where needed, and the body unless the request was HEAD.
func appendResponse(dst []byte, m respMeta, status int, ctype string, body []byte, date *dateCache) []byte {
	dst = append(dst, statusLine(status, m.http10)...)
	dst = append(dst, "Server: "+serverName+"\r\nDate: "...)
	dst = append(dst, date.load()...)
	dst = append(dst, "\r\nContent-Type: "...)
	dst = append(dst, ctype...)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	if status == http.StatusMethodNotAllowed {
		dst = append(dst, "\r\nAllow: "+contract.AllowedMethods...)
	}
	switch {
	case m.close && !m.http10:
		dst = append(dst, "\r\nConnection: close"...)
	case m.keepAlive10 && !m.close:
		dst = append(dst, "\r\nConnection: keep-alive"...)
	}
	dst = append(dst, "\r\n\r\n"...)
	if !m.head {
		dst = append(dst, body...)
	}
	return dst
}

// continue100 is the interim answer to "Expect: 100-continue".
const continue100 = "HTTP/1.1 100 Continue\r\n\r\n"

// statusLines holds "HTTP/1.1 <code> <text>\r\n" for every code the server
// sends, built once.
var statusLines = func() map[int][2]string {
	m := map[int][2]string{}
	for _, code := range []int{200, 400, 404, 405, 413, 417, 429, 431, 500, 501, 502, 503, 504, 505} {
		s := strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n"
		m[code] = [2]string{"HTTP/1.1 " + s, "HTTP/1.0 " + s}
	}
	return m
}()

func statusLine(code int, http10 bool) string {
	if code == 200 && !http10 {
		return "HTTP/1.1 200 OK\r\n"
	}
	l, ok := statusLines[code]
	if !ok {
		l = statusLines[500]
	}
	if http10 {
		return l[1]
	}
	return l[0]
}

// dateCache holds the Date header value, refreshed once a second by the
// engine's ticker. load is safe from any goroutine.
type dateCache struct {
	v    atomic.Pointer[[]byte]
	unix atomic.Int64
}

func (d *dateCache) refresh(now time.Time) {
	if s := now.Unix(); d.v.Load() == nil || d.unix.Load() != s {
		b := now.UTC().AppendFormat(make([]byte, 0, len(http.TimeFormat)), http.TimeFormat)
		d.v.Store(&b)
		d.unix.Store(s)
	}
}

func (d *dateCache) load() []byte {
	if p := d.v.Load(); p != nil {
		return *p
	}
	return nil
}
