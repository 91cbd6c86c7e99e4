package verdict

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/results"
)

// Claim 8 (seed 004): "A single thread (running an event loop) can
// efficiently manage thousands of concurrent I/O-bound connections."
//
// Rows: io-wait, eventloop-async (one loop) at c ≥ 1,000. Each row is
// held when its Little fraction's interval lies at or above
// LittleHeldFraction with a handful of threads. A row that falls short
// names its bottleneck: the server's CPU (the loop's model), the load
// generator's CPU, or the load generator's calibrated ceiling (a bound
// above what the load generator can drive). Only a shortfall on the
// server's side counts against the claim; the others are shown and do not
// decide.

const (
	// ThousandsConns: "thousands of connections" starts at 1,000.
	ThousandsConns = 1000
	// LittleHeldFraction: a configuration "handles" a concurrency when it
	// reaches 80 % of Little's bound c ÷ wait there.
	LittleHeldFraction = 0.80
	// LittleFailedFraction: under half of the bound the loop is plainly
	// not keeping up; between the two lines the claim is partly reproduced.
	LittleFailedFraction = 0.50
	// HandfulThreads: "one thread" allows the Go runtime's own threads (GC
	// workers, sysmon, the netpoller): at most 16 in all.
	HandfulThreads = 16
	// BusyCPU: a process (or the load generator) whose CPU use reaches 90 %
	// of the cores it may use is the bottleneck.
	BusyCPU = 0.90
)

func init() {
	register(8, rule{
		seed:    "a single thread running an event loop can efficiently manage thousands of concurrent I/O-bound connections",
		refute:  "eventloop-async below half of c ÷ wait at c ≥ 1,000 with the load generator idle and errors under 0.1 %",
		explain: "A waiting request costs an event loop a timer and a buffer, not a thread: Little's law (c ÷ wait) is the cap until the loop's one core runs out.",
		soWhat:  "For many slow, waiting clients one loop is enough, until its single core is busy; past that, add loops or processes.",
		decide:  claim8,
	})
}

// Bottleneck names what limited a row that fell short of its Little bound.
func Bottleneck(f *results.File, r *results.Row) string {
	ceiling := 0.0
	// Only a ceiling at which calibration showed the load generator busy
	// is its own; otherwise the calibration measured the pair.
	if f != nil && f.Calibration.CeilingApplies(max(r.Point.Pipeline, 1)) {
		ceiling = f.Calibration.LoadgenCeilingByPipeline[strconv.Itoa(max(r.Point.Pipeline, 1))]
	}
	cfg := config(r)
	cores := float64(cfg.Parallelism)
	if cores == 0 {
		cores = float64(max(cpuCount(r.ServerCPUs), 1))
	}
	switch {
	case r.LittleBoundRPS != nil && ceiling > 0 && *r.LittleBoundRPS > ceiling:
		return fmt.Sprintf("the load generator's ceiling: the bound (%s rps) is above the %s rps it can drive", Num(*r.LittleBoundRPS), Num(ceiling))
	case r.Loadgen.CPUUtil.N > 0 && against(r.Loadgen.CPUUtil, BusyCPU) != Below:
		return fmt.Sprintf("the load generator's CPU (%s of its cores)", StatWith(r.Loadgen.CPUUtil, "", Pct))
	case r.Server.CPUUtil.N > 0 && against(r.Server.CPUUtil, BusyCPU*cores) != Below:
		return fmt.Sprintf("the server's CPU (%s cores busy of %s it may use)", Stat(r.Server.CPUUtil, ""), Num(cores))
	case r.Saturated:
		return "the load generator (" + r.SaturationReason + ")"
	}
	return "none named: neither CPU was busy and the bound is under the load generator's ceiling"
}

// loadgenSide reports whether a bottleneck is on the load generator's side.
func loadgenSide(b string) bool { return strings.HasPrefix(b, "the load generator") }

func claim8(d data) Verdict {
	pred := fmt.Sprintf("eventloop-async (1 loop) at c ≥ %s: ≥ %s of Little's bound c ÷ %s ms, with ≤ %d threads, unless the load generator is the limit",
		Int(ThousandsConns), Pct(LittleHeldFraction), Num(waitMs()), HandfulThreads)
	var parts []part
	var figs []Figure
	var shownRows []string
	maxThreads := 0.0
	for _, r := range d.allRows("io-wait", "eventloop-async") {
		if r.Point.Conns < ThousandsConns {
			continue
		}
		if _, err := d.row("io-wait", r.Config, r.Point.Label); err != nil {
			parts = append(parts, part{who: r.Point.Label, out: NotMeasured, note: err.Error()})
			continue
		}
		f, ok := fraction(r)
		if !ok {
			parts = append(parts, part{who: r.Point.Label, out: NotMeasured, note: "no Little bound"})
			continue
		}
		figs = append(figs, Figure{Side: SideTwin, What: "share of Little's bound at " + r.Point.Label, Value: f, Format: Pct,
			Note: fmt.Sprintf("%s threads", Count(r.Server.ThreadsPeak.Median))})
		figs = append(figs, realFigures(d, "io-wait", "eventloop-async", r.Point.Label, func(x *results.Row) (string, results.Stat, func(float64) string, string) {
			if fx, ok := fraction(x); ok {
				return "share of Little's bound at " + x.Point.Label, fx, Pct, ""
			}
			return "rps at " + x.Point.Label, x.RPS, Num, "rps"
		})...)
		if err := usable(r); err != nil {
			parts = append(parts, part{who: r.Point.Label, out: Inconclusive, note: err.Error()})
			shownRows = append(shownRows, err.Error())
			continue
		}
		if t := r.Server.ThreadsPeak.Median; t > maxThreads {
			maxThreads = t
		}
		switch {
		case against(f, LittleHeldFraction) == Above:
			parts = append(parts, part{who: r.Point.Label, out: Reproduced, note: "held " + StatWith(f, "", Pct)})
		default:
			b := Bottleneck(d.f, r)
			switch {
			case loadgenSide(b):
				parts = append(parts, part{who: r.Point.Label, out: Inconclusive, note: fmt.Sprintf("reached %s; the bottleneck was %s, not the model", StatWith(f, "", Pct), b)})
				shownRows = append(shownRows, fmt.Sprintf("io-wait eventloop-async at %s: bottleneck %s", r.Point.Label, b))
			case against(f, LittleFailedFraction) == Below:
				parts = append(parts, part{who: r.Point.Label, out: Refuted, note: fmt.Sprintf("reached only %s; bottleneck: %s", StatWith(f, "", Pct), b)})
			case against(f, LittleFailedFraction) == Above && against(f, LittleHeldFraction) == Below:
				parts = append(parts, part{who: r.Point.Label, out: Partly, note: fmt.Sprintf("reached %s, short of %s; bottleneck: %s", StatWith(f, "", Pct), Pct(LittleHeldFraction), b)})
			default:
				parts = append(parts, part{who: r.Point.Label, out: Inconclusive, note: fmt.Sprintf("%s straddles a line; bottleneck: %s", StatWith(f, "", Pct), b)})
			}
		}
	}
	if len(parts) == 0 {
		return failed(pred, nil, missing(fmt.Sprintf("io-wait has no eventloop-async row at %s connections or more", Int(ThousandsConns))))
	}
	o, why := foldReason(parts, fmt.Sprintf("≥ %s of the bound", Pct(LittleHeldFraction)))
	why = strings.Replace(why, "configurations", "concurrencies", -1)
	if o == NotMeasured {
		return failed(pred, figs, firstReason(parts, missing(parts[0].note)))
	}
	if maxThreads > HandfulThreads {
		if o == Reproduced {
			o = Partly
		}
		why += fmt.Sprintf("; but %s threads, more than a handful (%d)", Count(maxThreads), HandfulThreads)
	} else if maxThreads > 0 {
		why += fmt.Sprintf("; at most %s threads", Count(maxThreads))
	}
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: why, Shown: shownRows}
}
