// Command prefork serves the lab's endpoint contract with fasthttp's prefork:
// a master process that forks -workers child processes sharing one listening
// socket, each child at GOMAXPROCS 1 (uvicorn --workers N, gunicorn).
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "prefork:", err)
		os.Exit(1)
	}
}

// run parses args and runs this process's part: the master supervises the
// children; a child serves. Both return when told to stop by a signal.
func run(args []string, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if isChild() {
		return serveChild(cfg, stderr)
	}
	return superviseChildren(cfg, stderr)
}
