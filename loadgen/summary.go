package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/engine"
)

// printSummary writes the human summary of res, in the hey/wrk manner.
func printSummary(w io.Writer, res *engine.Result) {
	model := "closed loop"
	if res.LoadModel == engine.OpenLoop {
		model = "open loop (latency from intended send time)"
	}
	conns := fmt.Sprintf("%d connections", res.Conns)
	if res.LoadModel == engine.OpenLoop {
		conns = fmt.Sprintf("%d initial connections, cap %d, peak %d", res.Conns, res.MaxConns, res.PeakConns)
	}
	fmt.Fprintf(w, "  engine %s, %s, %s, pipeline %d\n", res.Engine, model, conns, res.Pipeline)
	if res.Interrupted {
		fmt.Fprintln(w, "  INTERRUPTED: partial result")
	}

	fmt.Fprintf(w, "\nSummary:\n")
	fmt.Fprintf(w, "  Requests:     %d in %.2fs (%d answered, %d with 2xx/3xx)\n", res.Requests, res.DurationS, res.Responses, res.OK)
	if res.Unfinished > 0 {
		fmt.Fprintf(w, "  Unanswered:   %d when the window ended (in the latency as lower bounds)\n", res.Unfinished)
	}
	fmt.Fprintf(w, "  Requests/sec: %.2f (2xx/3xx answers only)\n", res.RPS)
	if res.BytesRead != nil && res.BytesWritten != nil {
		fmt.Fprintf(w, "  Transfer:     %s read, %s written\n", bytesStr(*res.BytesRead), bytesStr(*res.BytesWritten))
	}
	if res.Engine == engine.Name {
		fmt.Fprintf(w, "  Connections:  %d opened, %d failed to open, peak %d open\n", res.Connects, res.ConnectErrors, res.PeakConns)
	}
	if res.LoadgenCPUUsPerRequest != nil {
		fmt.Fprintf(w, "  Loadgen CPU:  %.2fs, %.2f µs per request\n", res.LoadgenCPUS, *res.LoadgenCPUUsPerRequest)
	}

	fmt.Fprintf(w, "\nLatency (ms)   %9s %9s %9s %9s %9s %9s\n", "p50", "p90", "p99", "p99.9", "max", "mean")
	label := "all"
	if res.LatencyUncorrected != nil {
		label = "corrected"
	}
	latencyRow(w, label, res.Latency)
	if res.LatencyUncorrected != nil {
		latencyRow(w, "uncorrected", *res.LatencyUncorrected)
	}
	if res.LatencyFailed != nil {
		latencyRow(w, "failed only", *res.LatencyFailed)
	}

	fmt.Fprintf(w, "\nStatus code distribution:\n")
	codes := make([]string, 0, len(res.Status))
	for c := range res.Status {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return atoi(codes[i]) < atoi(codes[j]) })
	if len(codes) == 0 {
		fmt.Fprintln(w, "  (no responses)")
	}
	for _, c := range codes {
		fmt.Fprintf(w, "  [%s] %d responses\n", c, res.Status[c])
	}

	var transport int64
	parts := make([]string, 0, len(engine.TransportClasses))
	for _, c := range engine.TransportClasses {
		transport += res.ErrorsByClass[c]
		parts = append(parts, fmt.Sprintf("%s %d", c, res.ErrorsByClass[c]))
	}
	fmt.Fprintf(w, "\nErrors: %d, %.2f%% of requests (%d without a response: %s; %d with an error status: 4xx %d, 5xx %d)\n",
		res.Errors, 100*res.ErrorRate, transport, strings.Join(parts, ", "),
		res.ErrorsByClass[engine.ClassHTTP4xx]+res.ErrorsByClass[engine.ClassHTTP5xx], res.ErrorsByClass[engine.ClassHTTP4xx], res.ErrorsByClass[engine.ClassHTTP5xx])

	if res.RateTarget != nil {
		met := "met"
		if res.RateMet != nil && !*res.RateMet {
			met = "NOT MET"
		}
		fmt.Fprintf(w, "Rate: target %.0f/s, achieved %.1f/s (%s), max send lag %.3f ms\n",
			*res.RateTarget, deref(res.RateAchieved), met, deref(res.SendLagMaxMs))
	}
	fmt.Fprintf(w, "Load model: %s\n", res.LoadModel)
	for _, n := range res.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
}

func latencyRow(w io.Writer, label string, l engine.Latency) {
	fmt.Fprintf(w, "  %-12s %9s %9s %9s %9s %9s %9s\n", label,
		num(l.P50), num(l.P90), num(l.P99), num(l.P999), num(l.Max), num(l.Mean))
}

func num(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func bytesStr(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
