package verdict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/serverlab/lab/loadgen/results"
)

// Claim 9 (seed 004): "true parallelism across multiple CPU cores is
// achieved by running multiple worker processes" (uvicorn --workers 4).
//
// Rows: cpu at 2 server cores: prefork-2 (workers sharing one inherited
// listener) and, where the catalog has it, a prefork configuration with
// -reuseport (one listening socket per worker, the kernel spreading
// connections), against prefork-1; eventloop-async on 1 and 2 cores.
//
// The gate: two workers that together used one core did not test
// parallelism, whatever their throughput. With an inherited listener and
// 16 keep-alive connections, one child often accepts them all. Such a row
// is shown and makes its check inconclusive, never refuted.

const (
	// ParallelSpeedupMin: 2 worker processes on 2 cores give "true
	// parallelism" at ≥ 1.6× one worker (80 % of the ideal 2×).
	ParallelSpeedupMin = 1.6
	// ParallelCoresMin: the two workers must have used at least 1.5 cores
	// (the interval of their CPU use at or above it) for the row to test
	// parallelism at all.
	ParallelCoresMin = 1.5
	// OneLoopMaxGain: one event loop "stays at about one core" when a
	// second core adds at most 20 %.
	OneLoopMaxGain = 1.2
)

func init() {
	register(9, rule{
		seed:    "true parallelism across multiple CPU cores is achieved by running multiple worker processes",
		refute:  "two workers that used two cores serving under 1.6× one worker, or one loop gaining more than 20 % from a second core",
		explain: "CPU work goes faster only with more cores running it: processes (or threads) on each core, not more coroutines on one. Workers must also get the connections: a shared listener can leave one worker doing all the work.",
		soWhat:  "For CPU-bound handlers run one worker process per core, and check that each worker actually gets connections (SO_REUSEPORT).",
		decide:  claim9,
	})
}

// cpuLabel returns the cpu scenario's label for n server CPUs.
func (d data) cpuLabel(n int) (string, bool) {
	p, ok := d.findPoint("cpu", func(p PointT) bool { return p.ServerCPUs == n })
	return p.Label, ok
}

// reuseportConfigs lists the cpu scenario's prefork configurations that
// listen with SO_REUSEPORT.
func reuseportConfigs(d data) []string {
	var out []string
	for _, c := range d.configsOf("cpu") {
		cfg, ok := catalogConfig(c)
		if ok && slices.Contains(cfg.Args, "-reuseport") {
			out = append(out, c)
		}
	}
	return out
}

func claim9(d data) Verdict {
	pred := fmt.Sprintf("on 2 cores: 2 workers that use ≥ %s cores serve ≥ %s× one worker; eventloop-async (1 loop) gains ≤ %s× from a second core",
		Num(ParallelCoresMin), Num(ParallelSpeedupMin), Num(OneLoopMaxGain))
	one, ok1 := d.cpuLabel(1)
	two, ok2 := d.cpuLabel(2)
	if !ok1 || !ok2 {
		return failed(pred, nil, missing("the catalog has no 1- and 2-core cpu points"))
	}
	p1, err := d.get("cpu", "prefork-1", two)
	if err != nil {
		return failed(pred, nil, err)
	}
	var figs []Figure
	var bits []string
	var shownRows []string
	// Parallelism: the best qualified two-worker row decides.
	parallel := Inconclusive
	for _, cfg := range append([]string{"prefork-2"}, reuseportConfigs(d)...) {
		p2, err := d.get("cpu", cfg, two)
		if err != nil {
			if _, g := err.(gated); g {
				shownRows = append(shownRows, err.Error())
			}
			continue
		}
		speed := ratio(p2.RPS, p1.RPS)
		figs = append(figs, Figure{Side: SideTwin, What: cfg + " ÷ prefork-1 rps on 2 cores", Value: speed, Format: Times,
			Note: fmt.Sprintf("%s used %s cores", cfg, Stat(p2.Server.CPUUtil, ""))})
		if against(p2.Server.CPUUtil, ParallelCoresMin) != Above {
			bits = append(bits, fmt.Sprintf("%s used %s cores, not clearly ≥ %s: two workers that used one core do not test parallelism", cfg, Stat(p2.Server.CPUUtil, ""), Num(ParallelCoresMin)))
			shownRows = append(shownRows, fmt.Sprintf("cpu %s at %s: used %s cores", cfg, two, Stat(p2.Server.CPUUtil, "")))
			continue
		}
		var o Outcome
		switch against(speed, ParallelSpeedupMin) {
		case Above:
			o = Reproduced
			bits = append(bits, fmt.Sprintf("%s on two cores gave %s one worker's throughput", cfg, StatWith(speed, "", Times)))
		case Below:
			o = Refuted
			bits = append(bits, fmt.Sprintf("%s used two cores but gave only %s one worker's throughput (%s needed)", cfg, StatWith(speed, "", Times), Times(ParallelSpeedupMin)))
		default:
			o = Inconclusive
			bits = append(bits, fmt.Sprintf("%s gave %s, straddling %s", cfg, StatWith(speed, "", Times), Times(ParallelSpeedupMin)))
		}
		if parallel != Reproduced && (o == Reproduced || parallel == Inconclusive) {
			parallel = o
		}
	}
	if len(reuseportConfigs(d)) == 0 {
		bits = append(bits, "prefork with -reuseport: not measured in this run")
	}
	figs = append(figs, realFigures(d, "cpu", "prefork-2", two, func(r *results.Row) (string, results.Stat, func(float64) string, string) {
		return "rps on 2 cores (cores used " + Stat(r.Server.CPUUtil, "") + ")", r.RPS, Num, "rps"
	})...)
	// One loop stays at one core.
	oneLoop := NotMeasured
	e2, err2 := d.get("cpu", "eventloop-async", two)
	e1, err1 := d.get("cpu", "eventloop-async", one)
	if err := firstErr(err1, err2); err != nil {
		bits = append(bits, "one loop: "+err.Error())
		if _, g := err.(gated); g {
			oneLoop = Inconclusive
		}
	} else {
		gain := ratio(e2.RPS, e1.RPS)
		figs = append(figs, Figure{Side: SideTwin, What: "eventloop-async rps, 2 cores ÷ 1 core", Value: gain, Format: Times})
		switch against(gain, OneLoopMaxGain) {
		case Below:
			oneLoop = Reproduced
			bits = append(bits, fmt.Sprintf("one loop's throughput on two cores was %s its one-core throughput", StatWith(gain, "", Times)))
		case Above:
			oneLoop = Refuted
			bits = append(bits, fmt.Sprintf("one loop's throughput on two cores was %s its one-core throughput, more than %s", StatWith(gain, "", Times), Times(OneLoopMaxGain)))
		default:
			oneLoop = Inconclusive
			bits = append(bits, fmt.Sprintf("one loop's two-core ÷ one-core throughput %s straddles %s", StatWith(gain, "", Times), Times(OneLoopMaxGain)))
		}
	}
	o := fold([]part{{out: parallel}, {out: oneLoop}})
	return Verdict{Outcome: o, Prediction: pred, Figures: figs, Reason: strings.Join(bits, "; "), Shown: shownRows}
}
