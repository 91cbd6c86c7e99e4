// Package blockingio holds the blocking waits of the thread-holding models
// (blocking -threads os, eventloop pool and inline): a wait in a blocking
// syscall, and a blocking net/http call to the /fanout dependency. Both
// block the calling goroutine, and with it any OS thread it is locked to;
// that is the point. Everything here is safe for concurrent use.
package blockingio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"

	"github.com/serverlab/lab/internal/contract"
)

// Sleep blocks the calling OS thread in nanosleep(2) for ms milliseconds,
// as a blocking JDBC call holds a Tomcat worker; EINTR resumes the rest.
func Sleep(ms int) {
	ts := syscall.NsecToTimespec(int64(ms) * int64(time.Millisecond))
	for {
		err := syscall.Nanosleep(&ts, &ts)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// NewDependencyCall returns a blocking net/http call to the dependency's
// /io (contract.DependencyPath), or nil when dep is empty (no dependency:
// /fanout answers 503). Pooled calls share at most maxConns keep-alive
// connections; a Fresh call (conn=new) dials its own connection and closes
// it after the answer. The call returns when ctx is done: net/http then
// closes the connection, so a dependency that never answers costs no fd
// after the deadline. The clients are safe for concurrent use.
func NewDependencyCall(dep string, maxConns int) func(ctx context.Context, c contract.DependencyCall) error {
	if dep == "" {
		return nil
	}
	pooled := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	fresh := &http.Client{Transport: &http.Transport{
		Proxy:              nil,
		DisableKeepAlives:  true, // one connection per request, closed after it
		MaxConnsPerHost:    maxConns,
		DisableCompression: true,
	}}
	base := "http://" + dep
	return func(ctx context.Context, c contract.DependencyCall) error {
		client := pooled
		if c.Fresh {
			client = fresh
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+contract.DependencyPath(c.Millis), nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("dependency answered %d", resp.StatusCode)
		}
		return err
	}
}
