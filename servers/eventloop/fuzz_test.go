package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/serverlab/lab/internal/contract"
)

// The differential test: on the same bytes, the event loop's parser and
// net/http (http.ReadRequest plus the checks net/http's server adds) must
// reach the same decision — accept, refuse, or wait for more bytes — and,
// where both accept, read the same method, target, body and keep-alive
// decision. The seed corpus is in testdata/fuzz/FuzzParseRequest.
//
//	go test -run '^$' -fuzz FuzzParseRequest -fuzztime 5m ./servers/eventloop
func FuzzParseRequest(f *testing.F) {
	for _, s := range seedRequests {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		compareWithNetHTTP(t, b)
	})
}

// seedRequests are the f.Add seeds; testdata/fuzz/FuzzParseRequest holds more.
var seedRequests = []string{
	"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
	"HEAD /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET /io?ms=5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"POST /plaintext HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n",
	"GET http://example.com/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /%41 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	"GET / HTTP/1.1\nHost: a\n\n",
}

type outcome struct {
	kind           string // "accept", "reject" or "more"
	status         int    // for reject
	method, target string
	body           []byte
	close          bool
}

func (o outcome) String() string {
	if o.kind != "accept" {
		return fmt.Sprintf("%s %d", o.kind, o.status)
	}
	return fmt.Sprintf("accept %q %q body=%q close=%v", o.method, o.target, o.body, o.close)
}

func compareWithNetHTTP(t *testing.T, b []byte) {
	t.Helper()
	ours := parseAll(b)
	if inc := parseIncrementally(b); inc.String() != ours.String() {
		t.Fatalf("input %q\nall at once: %v\nbyte by byte: %v", b, ours, inc)
	}
	ref := readRequestNetHTTP(b)
	switch {
	case ours.kind == "reject" && ours.status == 431:
		if len(b) <= contract.MaxHeaderBytes {
			t.Fatalf("input %q (%d bytes): 431 below the limit", b, len(b))
		}
		return // net/http's limit is its own (MaxHeaderBytes + 4096)
	case ours.kind == "reject" && ours.status == 413:
		if ref.kind == "more" || ref.kind == "accept" && len(ref.body) > contract.MaxBodyBytes {
			return
		}
	case ref.kind == "accept" && len(ref.body) > contract.MaxBodyBytes:
		t.Fatalf("input %q: body over the limit accepted: %v", b, ours)
	}
	if ours.String() != ref.String() {
		t.Fatalf("input %q\nevent loop: %v\nnet/http:   %v", b, ours, ref)
	}
}

// parseAll runs the event loop's parser over the whole input at once.
func parseAll(b []byte) outcome {
	var p headParser
	var h head
	var sc scratch
	st, err := p.parse(b, &h, &sc)
	switch st {
	case parseMore:
		return outcome{kind: "more"}
	case parseError:
		return outcome{kind: "reject", status: err.Status}
	}
	o := outcome{kind: "accept", method: string(h.method), target: string(h.target), close: h.close, body: []byte{}}
	if h.hasBody() {
		d := newBodyDecoder(&h)
		_, st, err := d.decode(b[h.size:], func(p []byte) { o.body = append(o.body, p...) })
		switch st {
		case parseMore:
			return outcome{kind: "more"}
		case parseError:
			return outcome{kind: "reject", status: err.Status}
		}
	}
	return o
}

// parseIncrementally feeds the input one byte at a time, keeping unconsumed
// bytes the way gnet does, and must decide exactly as parseAll.
func parseIncrementally(b []byte) outcome {
	var p headParser
	var h head
	var sc scratch
	var d *bodyDecoder
	o := outcome{kind: "more"}
	var buf []byte
	for i := 0; i < len(b); i++ {
		buf = append(buf, b[i])
		if d == nil {
			st, err := p.parse(buf, &h, &sc)
			if st == parseMore {
				continue
			}
			if st == parseError {
				return outcome{kind: "reject", status: err.Status}
			}
			o = outcome{kind: "accept", method: string(h.method), target: string(h.target), close: h.close, body: []byte{}}
			if !h.hasBody() {
				return o
			}
			buf = buf[h.size:]
			dec := newBodyDecoder(&h)
			d = &dec
			if len(buf) == 0 {
				continue
			}
		}
		n, st, err := d.decode(buf, func(p []byte) { o.body = append(o.body, p...) })
		buf = buf[n:]
		switch st {
		case parseOK:
			return o
		case parseError:
			return outcome{kind: "reject", status: err.Status}
		}
	}
	return outcome{kind: "more"}
}

// needMore is the panic value of exhaustedReader: the reader wanted bytes
// the input does not have, so on a live connection it would have waited.
type needMore struct{}

type exhaustedReader struct{ b []byte }

func (r *exhaustedReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		panic(needMore{})
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// readRequestNetHTTP is the reference: http.ReadRequest, then the checks of
// net/http's server (conn.readRequest and conn.serve), then the whole body.
func readRequestNetHTTP(b []byte) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(needMore); !ok {
				panic(r)
			}
			o = outcome{kind: "more"}
		}
	}()
	br := bufio.NewReader(&exhaustedReader{b: b})
	req, err := http.ReadRequest(br)
	if err != nil {
		if fmt.Sprintf("%T", err) == "*http.unsupportedTEError" {
			return outcome{kind: "reject", status: 501}
		}
		return outcome{kind: "reject", status: 400}
	}
	if req.ProtoMajor != 1 {
		// net/http also lets "PRI * HTTP/2.0" through for h2c upgrades; the
		// event loop refuses every version but 1.x.
		return outcome{kind: "reject", status: 505}
	}
	// http.ReadRequest drops the Host header from req.Header (net/http's
	// server reads it before that): read the header block again with
	// net/textproto, the code ReadRequest itself uses.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	_, _ = tp.ReadLine()
	mime, _ := tp.ReadMIMEHeader()
	hosts, haveHost := mime["Host"]
	if req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && req.Method != "CONNECT" {
		return outcome{kind: "reject", status: 400}
	}
	if len(hosts) == 1 && !httpguts.ValidHostHeader(hosts[0]) {
		return outcome{kind: "reject", status: 400}
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return outcome{kind: "reject", status: 400}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return outcome{kind: "reject", status: 400}
			}
		}
	}
	if e := req.Header.Get("Expect"); !netHTTPHasToken(e, "100-continue") && e != "" {
		return outcome{kind: "reject", status: 417}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return outcome{kind: "reject", status: 400}
	}
	return outcome{kind: "accept", method: req.Method, target: req.RequestURI, body: body, close: req.Close}
}

// netHTTPHasToken is a copy of net/http's unexported hasToken, kept
// independent of the parser's own so that the test checks it.
func netHTTPHasToken(v, token string) bool {
	if len(token) > len(v) || token == "" {
		return false
	}
	if v == token {
		return true
	}
	boundary := func(b byte) bool { return b == ' ' || b == ',' || b == '\t' }
	for sp := 0; sp <= len(v)-len(token); sp++ {
		if b := v[sp]; b != token[0] && b|0x20 != token[0] {
			continue
		}
		if sp > 0 && !boundary(v[sp-1]) {
			continue
		}
		if end := sp + len(token); end != len(v) && !boundary(v[end]) {
			continue
		}
		if strings.EqualFold(v[sp:sp+len(token)], token) && isASCII(v[sp:sp+len(token)]) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestDifferentialCases runs the differential check on hand-picked inputs,
// the edge cases the fuzzer found plus the classic request-smuggling shapes,
// so that plain go test covers them.
func TestDifferentialCases(t *testing.T) {
	for _, c := range differentialCases {
		compareWithNetHTTP(t, []byte(c))
	}
}

// differentialCases are the edge cases the fuzzer found plus the classic
// request-smuggling shapes; each is also a file of the seed corpus.
var differentialCases = []string{
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length:  5 \r\n\r\nhello",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: x\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA b: c\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\nC: d\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n X: a\r\n\r\n",
	"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n \r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost:\r\n\r\n",
	"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
	"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a?%zz HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://[::1]:80/x HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"CONNECT /rpc HTTP/1.1\r\n\r\n",
	"CONNECT a:443 HTTP/1.1\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\nExpect: x\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: CLOSE\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab",
	"GET / HTTP/1.1\r\nHost: a\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: 1",
	"GET / HTTP/1.1",
	"",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: \xff\xfe\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX\xff: b\r\n\r\n",
}
