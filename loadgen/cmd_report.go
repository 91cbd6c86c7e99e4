package main

import (
	"context"
	"fmt"
	"io"

	"github.com/serverlab/lab/loadgen/report"
)

// renderReport renders DIR/report.md and DIR/charts/*.svg from
// DIR/results.json (package report), and says where it wrote them.
func renderReport(jsonPath string, stdout, stderr io.Writer) error {
	path, r, err := report.RenderFile(jsonPath)
	if err != nil {
		return err
	}
	n := "charts"
	if len(r.Charts) == 1 {
		n = "chart"
	}
	fmt.Fprintf(stdout, "report: %s (%d %s in %s/)\n", path, len(r.Charts), n, report.ChartsDir)
	return nil
}

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: loadgen report DIR/results.json\n\nRenders DIR/report.md and DIR/charts/*.svg from the suite's raw results.")
		if len(args) == 1 {
			return exitOK
		}
		return exitUsage
	}
	if err := renderReport(args[0], stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadgen report:", err)
		return exitFail
	}
	return exitOK
}
