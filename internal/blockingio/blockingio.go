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
// /io (contract.DependencyPath), keeping at most maxConns connections to
// it, or nil when dep is empty (no dependency: /fanout answers 503).
func NewDependencyCall(dep string, maxConns int) func(ctx context.Context, ms int) error {
	if dep == "" {
		return nil
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			MaxConnsPerHost:     maxConns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: time.Duration(contract.MaxIOMillis+5_000) * time.Millisecond,
	}
	base := "http://" + dep
	return func(ctx context.Context, ms int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+contract.DependencyPath(ms), nil)
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
