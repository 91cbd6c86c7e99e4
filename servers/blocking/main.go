// Command blocking serves the lab's endpoint contract with net/http: one
// goroutine per request, or, with -threads os, one locked OS thread per
// request with at most -max-threads handlers at once (Tomcat's maxThreads).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "blocking:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, then shuts down gracefully.
// ready, when non-nil, receives the bound address once the server listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready chan<- string) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, stderr, ready)
}
