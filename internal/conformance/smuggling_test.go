package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Request smuggling, over raw sockets. Each case is a first request whose
// framing is ambiguous or malformed, followed by bytes that one reading of
// that framing (a front end's, say) takes as part of the first request's
// body, and another takes as a second request: smuggledReq. Whatever the
// server makes of the first request (an answer, a 400, a 501), it must
// never answer the smuggled one: RFC 9112 §6.1 and §6.3 require it to
// reject the framing or to close the connection after answering.

// smuggledReq is the hidden second request; its answer is smuggledBody.
const (
	smuggledReq  = "GET /io?ms=7 HTTP/1.1\r\nHost: lab\r\n\r\n"
	smuggledBody = `{"waited_ms":7}`
)

type smuggleCase struct {
	name string
	raw  string
}

// smuggleHead starts a first request: GET /plaintext with a Host header.
const smuggleHead = "GET /plaintext HTTP/1.1\r\nHost: lab\r\n"

var smuggleCases = func() []smuggleCase {
	chunkedThen := "0\r\n\r\n" + smuggledReq // a chunked reader stops at 0, then reads the smuggled request
	n := strconv.Itoa(len(chunkedThen))      // a length reader takes it all as the body
	m := strconv.Itoa(len(smuggledReq))
	return []smuggleCase{
		{"Content-Length then Transfer-Encoding", smuggleHead + "Content-Length: " + n + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedThen},
		{"Transfer-Encoding then Content-Length", smuggleHead + "Transfer-Encoding: chunked\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"duplicate Content-Length, first 0", smuggleHead + "Content-Length: 0\r\nContent-Length: " + m + "\r\n\r\n" + smuggledReq},
		{"duplicate Content-Length, last 0", smuggleHead + "Content-Length: " + m + "\r\nContent-Length: 0\r\n\r\n" + smuggledReq},
		{"Content-Length list", smuggleHead + "Content-Length: 0, " + m + "\r\n\r\n" + smuggledReq},
		{"Transfer-Encoding chunked, gzip", smuggleHead + "Transfer-Encoding: chunked, gzip\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"Transfer-Encoding gzip, chunked", smuggleHead + "Transfer-Encoding: gzip, chunked\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"Transfer-Encoding twice", smuggleHead + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"Transfer-Encoding xchunked", smuggleHead + "Transfer-Encoding: xchunked\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"Transfer-Encoding obs-fold", smuggleHead + "Transfer-Encoding:\r\n chunked\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"space before colon, Transfer-Encoding", smuggleHead + "Transfer-Encoding : chunked\r\nContent-Length: " + n + "\r\n\r\n" + chunkedThen},
		{"space before colon, Content-Length", smuggleHead + "Content-Length : " + m + "\r\n\r\n" + smuggledReq},
		{"tab before colon, Content-Length", smuggleHead + "Content-Length\t: " + m + "\r\n\r\n" + smuggledReq},
		// 0x1_0000_0000_0000_0006 wraps to 6 in a 64-bit parser.
		{"chunk-size overflow", smuggleHead + "Transfer-Encoding: chunked\r\n\r\n10000000000000006\r\nAAAAAA\r\n0\r\n\r\n" + smuggledReq},
		{"chunk-size overflow, many zeros", smuggleHead + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("0", 40) + "6\r\nAAAAAA\r\n" + strings.Repeat("f", 17) + "\r\n" + smuggledReq},
		{"negative chunk size", smuggleHead + "Transfer-Encoding: chunked\r\n\r\n-6\r\nAAAAAA\r\n0\r\n\r\n" + smuggledReq},
		{"NUL in a header value before Content-Length", smuggleHead + "X-A: a\x00b\r\nContent-Length: " + m + "\r\n\r\n" + smuggledReq},
		{"NUL in Content-Length", smuggleHead + "Content-Length: 0\x00" + m + "\r\n\r\n" + smuggledReq},
		{"NUL in the request line", "GET /plaintext\x00 HTTP/1.1\r\nHost: lab\r\nContent-Length: " + m + "\r\n\r\n" + smuggledReq},
		{"NUL in a chunk size", smuggleHead + "Transfer-Encoding: chunked\r\n\r\n0\x006\r\nAAAAAA\r\n0\r\n\r\n" + smuggledReq},
		{"Content-Length with a plus sign", smuggleHead + "Content-Length: +" + m + "\r\n\r\n" + smuggledReq},
	}
}()

// TestRequestSmuggling runs every case against every server: no server may
// answer the smuggled request. The statuses each server gave are logged.
func TestRequestSmuggling(t *testing.T) {
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			p := startServer(t, s)
			for _, c := range smuggleCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					statuses, bodies, err := rawExchange(p.Addr, c.raw)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("statuses %v", statuses)
					for i, b := range bodies {
						if b == smuggledBody {
							t.Errorf("answered the smuggled request (response %d of %v): %q", i, statuses, c.raw)
						}
					}
					if len(statuses) > 1 {
						t.Errorf("answered %d requests on a connection whose first request has ambiguous framing; want one answer, then close", len(statuses))
					}
				})
			}
		})
	}
}

// rawExchange writes raw in one write and reads every response until the
// server closes the connection or stays silent for a second.
func rawExchange(addr, raw string) (statuses []int, bodies []string, err error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, nil, fmt.Errorf("write: %w", err)
	}
	br := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return statuses, bodies, nil // closed, reset or silent: no further answer
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		bodies = append(bodies, string(b))
	}
}
