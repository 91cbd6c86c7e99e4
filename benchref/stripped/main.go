// Command stripped is a BENCHMARK REFERENCE, never a server model: a gnet
// responder that writes the same fixed bytes for every "\r\n\r\n" in its
// input and does nothing else. It does not parse HTTP, route, honour
// Connection: close or refresh its Date. It is the ceiling a real HTTP/1.1
// server on gnet is compared with (TechEmpower's "Stripped" class).
//
// With -wait-ms N it is the yardstick for the wait workload (/io?ms=N): each
// head is answered N ms after it arrived, by the cheapest timer this file
// can hold per loop (see waits), and nothing else is done. Owner: the
// event loop's owner (servers/eventloop), who is measured against it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// response is the same size as servers/eventloop's plaintext answer.
var response = []byte("HTTP/1.1 200 OK\r\nServer: stripped\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, World!")

var crlfcrlf = []byte("\r\n\r\n")

type stripped struct {
	gnet.BuiltinEventEngine
	wait time.Duration // -wait-ms; 0: answer at once

	mu    sync.Mutex
	loops map[gnet.EventLoop]*waits
}

// OnTraffic answers every complete head in the buffer, at once or, with
// -wait-ms, through the loop's waits. The connection's context holds its
// output buffer; only its loop touches it.
func (s *stripped) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	out, _ := c.Context().(*[]byte)
	if out == nil {
		out = new([]byte)
		c.SetContext(out)
	}
	buf := (*out)[:0]
	n, heads := 0, 0
	for {
		i := bytes.Index(in[n:], crlfcrlf)
		if i < 0 {
			break
		}
		n += i + len(crlfcrlf)
		heads++
		buf = append(buf, response...)
	}
	if n > 0 {
		_, _ = c.Discard(n)
		if s.wait > 0 {
			w := s.waitsOf(c.EventLoop())
			for ; heads > 0; heads-- {
				w.add(c)
			}
		} else {
			_, _ = c.Write(buf)
		}
	}
	*out = buf
	return gnet.None
}

func (s *stripped) waitsOf(el gnet.EventLoop) *waits {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.loops[el]
	if w == nil {
		w = &waits{el: el, wait: s.wait, kick: make(chan struct{}, 1)}
		w.fire = gnet.RunnableFunc(w.expire)
		s.loops[el] = w
		go w.sleep()
	}
	return w
}

// waits is one loop's pending answers. Every wait has the same length, so
// arrival order is deadline order: a FIFO is the whole timer (no heap, no
// wheel). One goroutine per loop sleeps until the head is due and hands
// the loop one task that answers every wait due by then. The loop owns q
// and head; due and armed are shared under mu. A wait whose connection
// closed meanwhile writes to a closed gnet.Conn, which gnet refuses with an
// error that is ignored: a reference needs no more.
type waits struct {
	el   gnet.EventLoop
	wait time.Duration
	fire gnet.Runnable
	kick chan struct{}

	q    []waitEntry // on the loop
	head int

	mu    sync.Mutex
	due   int64 // the deadline of the oldest wait, for the sleeper; 0: none
	armed bool  // the sleeper has (or will read) due
}

type waitEntry struct {
	at int64 // nanoseconds on monoNow's clock
	c  gnet.Conn
}

func (w *waits) add(c gnet.Conn) {
	at := monoNow() + int64(w.wait)
	w.q = append(w.q, waitEntry{at: at, c: c})
	if len(w.q)-w.head == 1 {
		w.setDue(at)
	}
}

func (w *waits) setDue(at int64) {
	w.mu.Lock()
	w.due = at
	kick := !w.armed
	w.armed = true
	w.mu.Unlock()
	if kick {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// expire answers every wait that is due, in one pass. On the loop.
func (w *waits) expire(context.Context) error {
	now := monoNow()
	for w.head < len(w.q) && w.q[w.head].at <= now {
		_, _ = w.q[w.head].c.Write(response)
		w.q[w.head] = waitEntry{}
		w.head++
	}
	if w.head == len(w.q) {
		w.q, w.head = w.q[:0], 0
	} else if w.head > len(w.q)/2 {
		w.q = w.q[:copy(w.q, w.q[w.head:])]
		w.head = 0
	}
	if w.head < len(w.q) {
		w.setDue(w.q[w.head].at)
	}
	return nil
}

// sleep is the loop's sleeper goroutine; it runs for the life of the process.
func (w *waits) sleep() {
	for {
		w.mu.Lock()
		due := w.due
		if due == 0 {
			w.armed = false
			w.mu.Unlock()
			<-w.kick
			continue
		}
		w.due = 0
		w.mu.Unlock()
		if d := due - monoNow(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		_ = w.el.Execute(context.Background(), w.fire)
	}
}

var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	loops := flag.Int("loops", 1, "event loops")
	waitMs := flag.Int("wait-ms", 0, "answer each head this many ms after it arrived (the /io?ms=N yardstick); 0: at once")
	flag.Parse()
	// The same runtime setting as servers/eventloop (see its setProcs), so
	// that the two gnet programs compare like for like.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < *loops+1 {
		runtime.GOMAXPROCS(*loops + 1)
	}
	log.Printf("stripped: BENCHMARK REFERENCE (fixed bytes per \\r\\n\\r\\n, not HTTP), gnet, %d loop(s), wait %d ms, GOMAXPROCS %d, on %s",
		*loops, *waitMs, runtime.GOMAXPROCS(0), *addr)
	s := &stripped{wait: time.Duration(*waitMs) * time.Millisecond, loops: map[gnet.EventLoop]*waits{}}
	err := gnet.Run(s, "tcp://"+*addr, gnet.WithNumEventLoop(*loops), gnet.WithReusePort(true), gnet.WithReuseAddr(true))
	if err != nil {
		fmt.Fprintln(os.Stderr, "stripped:", err)
		os.Exit(1)
	}
}
