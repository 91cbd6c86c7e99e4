// Command stripped is a BENCHMARK REFERENCE, never a server model: a gnet
// responder that writes the same fixed bytes for every "\r\n\r\n" in its
// input and does nothing else. It does not parse HTTP, route, honour
// Connection: close or refresh its Date. It is the ceiling a real HTTP/1.1
// server on gnet is compared with (TechEmpower's "Stripped" class).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"

	"github.com/panjf2000/gnet/v2"
)

// response is the same size as servers/eventloop's plaintext answer.
var response = []byte("HTTP/1.1 200 OK\r\nServer: stripped\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!")

var crlfcrlf = []byte("\r\n\r\n")

type stripped struct{ gnet.BuiltinEventEngine }

// OnTraffic answers every complete head in the buffer. The connection's
// context holds its output buffer; only its loop touches it.
func (*stripped) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	out, _ := c.Context().(*[]byte)
	if out == nil {
		out = new([]byte)
		c.SetContext(out)
	}
	buf := (*out)[:0]
	n := 0
	for {
		i := bytes.Index(in[n:], crlfcrlf)
		if i < 0 {
			break
		}
		n += i + len(crlfcrlf)
		buf = append(buf, response...)
	}
	if n > 0 {
		_, _ = c.Write(buf)
		_, _ = c.Discard(n)
	}
	*out = buf
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 1, "event loops")
	flag.Parse()
	// The same runtime setting as servers/eventloop (see its setProcs), so
	// that the two gnet programs compare like for like.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < *loops+1 {
		runtime.GOMAXPROCS(*loops + 1)
	}
	log.Printf("stripped: BENCHMARK REFERENCE (fixed bytes per \\r\\n\\r\\n, not HTTP), gnet, %d loop(s), GOMAXPROCS %d, on %s",
		*loops, runtime.GOMAXPROCS(0), *addr)
	err := gnet.Run(&stripped{}, "tcp://"+*addr, gnet.WithNumEventLoop(*loops), gnet.WithReusePort(true), gnet.WithReuseAddr(true))
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripped:", err)
		os.Exit(1)
	}
}
