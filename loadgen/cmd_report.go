package main

import (
	"context"
	"fmt"
	"io"
)

// renderReport renders DIR/report.md from DIR/results.json.
// TODO(issue 6): the report package; until then the suite writes JSON only.
func renderReport(jsonPath string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "loadgen: report rendering is not built yet; %s is complete\n", jsonPath)
	return nil
}

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "Usage: loadgen report DIR/results.json")
		return exitUsage
	}
	if err := renderReport(args[0], stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadgen report:", err)
		return exitFail
	}
	return exitOK
}
