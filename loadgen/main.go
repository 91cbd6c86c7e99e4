// Command loadgen is the lab's load generator.
//
//	loadgen run    -url URL [-c N] [-d DUR | -n N] [-rate R] ...   one measurement
//	loadgen suite  ...                                             the whole catalog (not yet)
//	loadgen report DIR/results.json                                re-render a report (not yet)
//
// main only calls run; everything testable goes through run(args, stdout,
// stderr). Each subcommand is one entry of the commands table: a name, a
// one-line summary, and a function that parses its own flags. To add
// `suite` or `report`, add an entry (and a file) there; nothing else in
// this file changes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK          = 0
	exitFail        = 1   // the measurement could not run (target down, bad limits, I/O)
	exitUsage       = 2   // bad flags
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM; partial results were still printed and written
)

// command is one subcommand. run parses args (the arguments after the
// subcommand's name) with its own FlagSet and returns an exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is the subcommand table. `suite` and `report` belong here when
// they land.
var commands = []command{
	{name: "run", summary: "run one measurement against a URL and print a summary", run: runCmd},
	{name: "suite", summary: "run the scenario catalog end to end and write results.json and report.md", run: suiteCmd},
	{name: "report", summary: "render DIR/report.md from DIR/results.json", run: reportCmd},
	{name: "live", summary: "serve a local page that runs the models side by side (workshops)", run: liveCmd},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a parent context; tests cancel it to simulate
// Ctrl-C. Subcommands add signal handling on top of it.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "loadgen: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: loadgen <command> [options]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'loadgen <command> -h' for a command's options.\n")
}
