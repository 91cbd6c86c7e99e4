// Command loadgen is the lab's load generator.
//
//	loadgen run    -url URL [-c N] [-d DUR | -n N] [-rate R] ...   one measurement
//	loadgen suite  [-quick] [-out DIR] ...                          the whole catalog: results.json and report.md
//	loadgen report DIR/results.json                                 re-render DIR/report.md from results.json
//
// main only calls run; everything testable goes through run(args, stdout,
// stderr). Each subcommand is one entry of the commands table: a name, a
// one-line summary, and a function that parses its own flags; adding a
// subcommand is an entry and a file, nothing else in this file changes.
//
// Every subcommand keeps to one exit-code table (exitCodes, printed by
// `loadgen -h`):
//
//	0    done (failed requests are results, not failures, unless none succeeded)
//	1    could not run or something failed: target down, nofile limit, I/O, a failed suite step
//	2    bad usage: an unknown flag, command, scenario or target, a bad value; the message names the flag and the fix
//	3    run: the measurement ran but no request succeeded (every one failed or got a 4xx/5xx)
//	130  interrupted (SIGINT/SIGTERM); what was measured is still printed and written
//
// Bad usage prints one message naming the flag and how to fix it, then one
// line pointing at -h; never the whole usage text.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes: the table in the package comment, which exitCodes repeats
// for -h.
const (
	exitOK          = 0
	exitFail        = 1   // could not run, or something failed
	exitUsage       = 2   // bad usage
	exitNoSuccess   = 3   // run: no request succeeded
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM; partial results were still printed and written
)

// exitCodes is the exit-code table as -h prints it.
const exitCodes = `Exit status (every command):
  0    done (failed requests are results, not failures, unless none succeeded)
  1    could not run or something failed: target down, nofile limit, I/O, a failed suite step
  2    bad usage: unknown flag, command, scenario or target, or a bad value (the message names the flag and the fix)
  3    run: the measurement ran but no request succeeded (all failed or got a 4xx/5xx)
  130  interrupted (SIGINT/SIGTERM); what was measured is still printed and written
`

// command is one subcommand. run parses args (the arguments after the
// subcommand's name) with its own FlagSet and returns an exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is the subcommand table.
var commands = []command{
	{name: "run", summary: "run one measurement against a URL and print a summary", run: runCmd},
	{name: "suite", summary: "run the scenario catalog end to end and write results.json and report.md", run: suiteCmd},
	{name: "report", summary: "render DIR/report.md from DIR/results.json", run: reportCmd},
	{name: "live", summary: "serve a local page that runs the models side by side (workshops)", run: liveCmd},
	{name: "agent", summary: "one load generator of a distributed suite (Docker Swarm; loadgen/swarm)", run: agentCmd},
	{name: "timelines", summary: "draw per-model thread timelines from measured spans (three overlapping /io requests)", run: timelinesCmd},
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
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	fmt.Fprintf(stderr, "loadgen: unknown command %q; the commands are %s\n%s", args[0], strings.Join(names, ", "), seeHelp(""))
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: loadgen <command> [options]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'loadgen <command> -h' for a command's options.\n\n"+exitCodes)
}

// seeHelp is the one line that follows a usage error: where the options are.
func seeHelp(cmd string) string {
	if cmd == "" {
		return "Run 'loadgen -h' for the commands.\n"
	}
	return "Run 'loadgen " + cmd + " -h' for the options.\n"
}
