package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/serverlab/lab/internal/procman"
	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// outboundReport is what stacks/clients/outbound.py prints.
type outboundReport struct {
	Wanted       int              `json:"wanted"`
	HeldMax      int              `json:"held_max"`
	InFlightMax  int              `json:"in_flight_max"`
	OK           int64            `json:"ok"`
	Errors       map[string]int64 `json:"errors"`
	Unfinished   int64            `json:"unfinished"`
	ElapsedS     float64          `json:"elapsed_s"`
	RSSPeakBytes int64            `json:"rss_peak_bytes"`
	ThreadsPeak  int              `json:"threads_peak"`
}

// runOutbound measures an outbound scenario: for each point, each client
// (interleaved) runs once per repetition through the process manager,
// pinned to the server CPUs (the client is the process under test), and
// its report becomes a repetition. The dependency holds every call for the
// point's wait, so a client that holds N calls at once finishes in about
// one wait.
func (r *runner) runOutbound(ctx context.Context, sc catalog.Scenario) results.Scenario {
	out := results.Scenario{Name: sc.Name, Title: sc.Title, Question: sc.Question, Claims: sc.Claims}
	if len(r.o.Targets) > 0 || r.dep == "" {
		out.Skipped = "needs the suite's own dependency (not in external mode)"
		return out
	}
	cfgs := r.configs(sc)
	for _, p := range r.points(sc) {
		rows := make([]*results.Row, len(cfgs))
		for i, c := range cfgs {
			rows[i] = r.newRow(sc, c, p, r.o.ServerCPUs, false)
			rows[i].LittleBoundRPS, rows[i].LittleFormula = nil, "none: a client's concurrency is what is measured"
			rows[i].Notes = append(rows[i].Notes, fmt.Sprintf("p50/p99/max read the client's elapsed time for all %d calls (an upper bound of every call's latency; each call waits %d ms at the dependency); rps is answered calls ÷ that time", p.Clients, p.Ms))
		}
		for rep := 0; rep < r.repsFor(sc, catalog.Config{}, p) && ctx.Err() == nil; rep++ {
			for i, c := range cfgs {
				row := rows[i]
				if row.NotInstalled != "" || row.Prevented != "" || ctx.Err() != nil {
					continue
				}
				rp, err := r.outboundOnce(ctx, c, p)
				r.done++
				r.plan.spent(sc.Name, Window{Measure: idleMeasurement})
				switch {
				case errors.Is(err, procman.ErrNotInstalled):
					row.NotInstalled = err.Error()
				case err != nil && ctx.Err() == nil:
					row.Notes = append(row.Notes, fmt.Sprintf("rep %d: %s", rep+1, firstLine(err.Error())))
					r.failures = append(r.failures, fmt.Sprintf("%s %s %s rep %d: %s", sc.Name, c.Name, p.Label, rep+1, firstLine(err.Error())))
				case err == nil:
					row.Reps = append(row.Reps, rp)
					r.progress(sc, c.Name, p, len(row.Reps), rp)
				}
			}
		}
		for _, row := range rows {
			r.summarise(row)
			out.Rows = append(out.Rows, *row)
		}
	}
	return out
}

// outboundOnce runs one client once.
func (r *runner) outboundOnce(ctx context.Context, c catalog.Config, p catalog.Point) (results.Rep, error) {
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	o, err := procman.Run(rctx, procman.Spec{Config: c, Root: r.root, CPUs: r.o.ServerCPUs, Dependency: r.dep,
		Vars: map[string]string{"n": strconv.Itoa(p.Clients), "ms": strconv.Itoa(p.Ms)}})
	if err != nil {
		return results.Rep{}, err
	}
	var rep outboundReport
	if err := json.Unmarshal(o.Stdout, &rep); err != nil {
		return results.Rep{}, fmt.Errorf("client report: %v: %q", err, firstLine(string(o.Stdout)))
	}
	var errs int64
	for _, n := range rep.Errors {
		errs += n
	}
	errs += rep.Unfinished
	ms := rep.ElapsedS * 1000
	rp := results.Rep{Requests: rep.OK + errs, Errors: errs, ErrorsBy: rep.Errors,
		P50Ms: ms, P90Ms: ms, P99Ms: ms, MaxMs: ms, MeanMs: ms, Server: sampleOf(o.Usage)}
	if rep.ElapsedS > 0 {
		rp.RPS = float64(rep.OK) / rep.ElapsedS
	}
	// The client's own account of its peak, which /proc sampling at 1 Hz
	// can miss in a run of about a second.
	rp.Server.RSSPeak = max(rp.Server.RSSPeak, rep.RSSPeakBytes)
	rp.Server.ThreadsPeak = max(rp.Server.ThreadsPeak, rep.ThreadsPeak)
	rp.Engine = json.RawMessage(o.Stdout) // the client's report, held_max included
	return rp, nil
}
