package suite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// idleDialers bounds how many connections are opened at once, below the
// listen backlog (somaxconn 4096 here), so that opening 10,000 is not a SYN flood.
const idleDialers = 64

// holdIdle opens n keep-alive connections to addr, sends one real request
// on each and reads its response, and returns them open and idle. The
// caller owns the connections and must close them. On error the ones opened
// so far are returned too, with the error.
func holdIdle(ctx context.Context, addr, target string, n int) ([]net.Conn, error) {
	req := []byte("GET " + target + " HTTP/1.1\r\nHost: lab\r\n\r\n")
	conns := make([]net.Conn, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(idleDialers)
	d := net.Dialer{Timeout: 5 * time.Second}
	for i := 0; i < n; i++ {
		g.Go(func() error {
			c, err := d.DialContext(gctx, "tcp", addr)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			conns[i] = c
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(req); err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), nil)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("connection %d: status %d", i, resp.StatusCode)
			}
			c.SetDeadline(time.Time{})
			return nil
		})
	}
	err := g.Wait()
	held := conns[:0]
	for _, c := range conns {
		if c != nil {
			held = append(held, c)
		}
	}
	return held, err
}

// probe sends n sequential requests on one fresh keep-alive connection and
// returns the p50 and p99 latency in milliseconds.
func probe(ctx context.Context, addr, target string, n int) (p50, p99 float64, err error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET " + target + " HTTP/1.1\r\nHost: lab\r\n\r\n")
	lat := make([]float64, 0, n)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		t0 := time.Now()
		if _, err := c.Write(req); err != nil {
			return 0, 0, err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return 0, 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		time.Sleep(5 * time.Millisecond)
	}
	if len(lat) == 0 {
		return 0, 0, ctx.Err()
	}
	sort.Float64s(lat)
	return lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], nil
}

// stillOpen counts the connections the server has not closed: a peek that
// does not wait (MSG_PEEK|MSG_DONTWAIT) finds EOF or a reset on a closed
// one and EAGAIN on an open, idle one. A server may answer the priming
// request and then close the connection (an idle timeout, or nginx
// reclaiming idle keep-alive connections once worker_connections run out),
// so counting the sockets this side opened would overstate what it holds.
func stillOpen(conns []net.Conn) int {
	open := 0
	var b [1]byte
	for _, c := range conns {
		sc, ok := c.(syscall.Conn)
		if !ok {
			continue
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			continue
		}
		alive := false
		_ = rc.Read(func(fd uintptr) bool {
			n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			// EAGAIN: nothing to read, still open; n > 0: unexpected data,
			// but the connection is open.
			alive = err == unix.EAGAIN || (err == nil && n > 0)
			return true // never wait for readiness
		})
		if alive {
			open++
		}
	}
	return open
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
