package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/serverlab/lab/loadgen/report"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// renderReport renders DIR/report.md, DIR/report.html and DIR/charts/*.svg
// from DIR/results.json (package report), and says where it wrote them.
func renderReport(jsonPath string, stdout, stderr io.Writer) error {
	return renderCompared(jsonPath, "", stdout, stderr)
}

// renderCompared is renderReport that, with comparePath, also lists the
// verdicts that differ from that run's.
func renderCompared(jsonPath, comparePath string, stdout, stderr io.Writer) error {
	path, r, err := report.RenderFileWith(jsonPath, comparePath)
	if err != nil {
		return err
	}
	n := "charts"
	if len(r.Charts) == 1 {
		n = "chart"
	}
	fmt.Fprintf(stdout, "report: %s and %s (%d %s in %s/)\n", path, strings.TrimSuffix(path, ".md")+".html", len(r.Charts), n, report.ChartsDir)
	if comparePath != "" {
		f, err := results.Read(jsonPath)
		if err != nil {
			return err
		}
		o, err := results.Read(comparePath)
		if err != nil {
			return err
		}
		ds := report.Differences(verdict.Claims(f), verdict.Claims(o))
		word := "claims differ"
		if len(ds) == 1 {
			word = "claim differs"
		}
		fmt.Fprintf(stdout, "%d %s from %s\n", len(ds), word, comparePath)
		for _, d := range ds {
			fmt.Fprintf(stdout, "  claim %d: %s here, %s there\n", d.Claim, d.This.Outcome, d.That.Outcome)
		}
	}
	return nil
}

const reportUsage = `Usage: loadgen report [-compare OTHER.json] DIR/results.json

Renders DIR/report.md, DIR/report.html (self-contained, charts inline) and
DIR/charts/*.svg from the suite's raw results. With -compare, the report
gains a section listing every claim whose verdict differs from OTHER.json's
(both recomputed with this code), and the differences are printed.
`

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	compare := fs.String("compare", "", "another run's results.json whose verdicts to compare with")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	if err := renderCompared(fs.Arg(0), *compare, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadgen report:", err)
		return exitFail
	}
	return exitOK
}
