package heyengine

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/serverlab/lab/loadgen/engine"
)

// rawServer serves each connection with serve on a loopback listener.
func rawServer(t *testing.T, serve func(net.Conn, *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func readRequest(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// TestClassifiesLikeTheFastEngine: against the same failing servers, the
// hey engine puts the failures in the same error class as the fast engine.
func TestClassifiesLikeTheFastEngine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(net.Conn, *bufio.Reader)
		want  string
	}{
		{"closes without answering", func(c net.Conn, br *bufio.Reader) { readRequest(br) }, engine.ClassEOF},
		{"garbage", func(c net.Conn, br *bufio.Reader) {
			readRequest(br)
			io.WriteString(c, "HTTP/1.1 2x0 Nope\r\n\r\n")
		}, engine.ClassMalformed},
		{"reset", func(c net.Conn, br *bufio.Reader) {
			readRequest(br)
			c.(*net.TCPConn).SetLinger(0)
		}, engine.ClassReset},
		{"silent", func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) }, engine.ClassTimeout},
		{"503", func(c net.Conn, br *bufio.Reader) {
			for readRequest(br) == nil {
				io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
			}
		}, engine.ClassHTTP5xx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := rawServer(t, tc.serve)
			cfg := engine.Config{URL: url, Conns: 2, Requests: 6, Timeout: time.Second}
			fast, err := engine.Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			hey, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for name, res := range map[string]*engine.Result{"fast": fast, "hey": hey} {
				if res.ErrorsByClass[tc.want] == 0 || res.OK != 0 || res.RPS != 0 || res.ErrorRate != 1 {
					t.Errorf("%s: errors %v (%s), ok %d rps %.1f error rate %v; want every request in %s",
						name, res.ErrorsByClass, strings.Join(res.Notes, "; "), res.OK, res.RPS, res.ErrorRate, tc.want)
				}
			}
		})
	}
}
