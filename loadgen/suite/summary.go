package suite

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/engine"
	"github.com/serverlab/lab/loadgen/results"
)

// Saturation thresholds: a row is flagged when the load generator used at
// least this share of its cores, or reached this share of its ceiling
// (only at a pipeline depth whose calibration showed the load generator,
// not the reference responder, as the busy side).
const (
	saturatedCPU     = 0.90
	saturatedCeiling = 0.90
)

func (r *runner) newRow(sc catalog.Scenario, cfg catalog.Config, p catalog.Point, cpus string, external bool) *results.Row {
	row := &results.Row{Scenario: sc.Name, Config: cfg.Name, Model: cfg.Model, Style: cfg.Style, Twin: cfg.Twin,
		Point: p, LoadModel: engine.ClosedLoop, ServerCPUs: cpus}
	switch sc.Kind {
	case catalog.KindIdle:
		row.LoadModel = "idle"
	case catalog.KindOutbound:
		row.LoadModel = "outbound"
	}
	if external {
		row.ServerCPUs = "" // the target's own business
	}
	row.LittleBoundRPS, row.LittleFormula = LittleBound(cfg, p, r.cpuMs, len(parseCPUList(cpus)))
	return row
}

// LittleBound is the throughput bound of configuration c at point p, by
// Little's law (throughput = concurrency ÷ time in system), with the formula
// that produced it. cpuMs is the measured CPU cost of one /cpu request and
// serverCPUs the CPUs the server runs on (0 when unknown). It returns nil
// where no bound applies.
func LittleBound(c catalog.Config, p catalog.Point, cpuMs float64, serverCPUs int) (*float64, string) {
	switch {
	case p.Work > 0:
		par := serverCPUs
		if c.Parallelism > 0 && (par == 0 || c.Parallelism < par) {
			par = c.Parallelism
		}
		if par == 0 || cpuMs <= 0 {
			return nil, "unknown: server CPUs not known"
		}
		b := float64(par) / (cpuMs / 1000)
		return &b, fmt.Sprintf("%d CPU(s) ÷ %.3f ms of CPU per request", par, cpuMs)
	case p.Ms > 0 && p.Conns > 0:
		wait := float64(p.WaitSum())
		what := fmt.Sprintf("%d ms wait", p.Ms)
		switch {
		case p.Calls > 0 && p.Mode == "seq" && len(p.Waits) > 0:
			what = fmt.Sprintf("%d ms of sequential waits %v", p.WaitSum(), p.Waits)
		case p.Calls > 0 && p.Mode == "seq":
			what = fmt.Sprintf("%d×%d ms sequential waits", p.Calls, p.Ms)
		case p.Calls > 0:
			what = fmt.Sprintf("%d ms (the largest of %d parallel waits)", p.Ms, p.Calls)
		}
		if p.ConnNew {
			// each call also pays the dependency's emulated handshake
			n := 1
			if p.Mode == "seq" {
				n = p.Calls
			}
			wait += float64(n * catalog.EmulatedHandshakeMs)
			what += fmt.Sprintf(" + %d emulated %d ms handshake(s)", n, catalog.EmulatedHandshakeMs)
		}
		n := p.Conns
		limit := fmt.Sprintf("c=%d", p.Conns)
		if c.Limit != catalog.LimitNone && c.LimitN < n {
			n = c.LimitN
			limit = fmt.Sprintf("min(c=%d, %s=%d)", p.Conns, c.Limit, c.LimitN)
		}
		b := float64(n) / (wait / 1000)
		return &b, fmt.Sprintf("%s ÷ %s", limit, what)
	}
	return nil, "none: the CPU cost of the request is what is measured"
}

// summarise fills a row's medians and spreads from its repetitions, and its
// saturation flag.
func (r *runner) summarise(row *results.Row) {
	var rps, p50, p90, p99, mx, errs, erate, conc, frac []float64
	var rssPeak, rssBefore, thr, fds, procs, cu, cs, util, cvol, cinv, cpuUs, lg, lgUs []float64
	var cp50, cp99, cmax, cerr, cun []float64
	var held, rssPerConn, thrHeld, pp50, pp99, openS []float64
	samples := 0
	var backends []string
	for _, rp := range row.Reps {
		if rp.IOBackend != "" && !containsStr(backends, rp.IOBackend) {
			backends = append(backends, rp.IOBackend)
		}
		rps = append(rps, rp.RPS)
		p50 = append(p50, rp.P50Ms)
		p90 = append(p90, rp.P90Ms)
		p99 = append(p99, rp.P99Ms)
		mx = append(mx, rp.MaxMs)
		errs = append(errs, float64(rp.Errors))
		if rp.Requests > 0 {
			erate = append(erate, float64(rp.Errors)/float64(rp.Requests))
		}
		conc = append(conc, rp.RPS*rp.MeanMs/1000)
		if row.LittleBoundRPS != nil && *row.LittleBoundRPS > 0 {
			frac = append(frac, rp.RPS / *row.LittleBoundRPS)
		}
		s := rp.Server
		samples += s.Samples
		rssPeak = append(rssPeak, float64(s.RSSPeak))
		rssBefore = append(rssBefore, float64(s.RSSBefore))
		thr = append(thr, float64(s.ThreadsPeak))
		fds = append(fds, float64(s.FDsPeak))
		procs = append(procs, float64(s.Processes))
		if s.WallS > 0 {
			cu = append(cu, s.CPUUserS)
			cs = append(cs, s.CPUSysS)
			util = append(util, (s.CPUUserS+s.CPUSysS)/s.WallS)
		}
		if n := float64(rp.Requests); n > 0 && s.WallS > 0 {
			cvol = append(cvol, float64(s.CtxVoluntary)/n)
			cinv = append(cinv, float64(s.CtxInvoluntary)/n)
			cpuUs = append(cpuUs, (s.CPUUserS+s.CPUSysS)*1e6/n)
		}
		if rp.Idle == nil {
			lg = append(lg, rp.LoadgenCPU)
			if rp.LoadgenCPUUsPerReq > 0 {
				lgUs = append(lgUs, rp.LoadgenCPUUsPerReq)
			}
		}
		if len(rp.Canary) > 0 {
			var c engine.Result
			if json.Unmarshal(rp.Canary, &c) == nil {
				cp50 = append(cp50, deref(c.Latency.P50))
				cp99 = append(cp99, deref(c.Latency.P99))
				cmax = append(cmax, deref(c.Latency.Max))
				cerr = append(cerr, float64(c.Errors))
				cun = append(cun, float64(c.Unfinished))
			}
		}
		if ir := rp.Idle; ir != nil {
			held = append(held, float64(ir.Held))
			if ir.Held > 0 {
				rssPerConn = append(rssPerConn, float64(ir.RSSHeld-ir.RSSBefore)/float64(ir.Held))
			}
			thrHeld = append(thrHeld, float64(ir.ThreadsHeld))
			pp50 = append(pp50, ir.ProbeP50Ms)
			pp99 = append(pp99, ir.ProbeP99Ms)
			openS = append(openS, ir.OpenS)
		}
	}
	row.RPS, row.P50Ms, row.P90Ms, row.P99Ms, row.MaxMs = results.Of(rps), results.Of(p50), results.Of(p90), results.Of(p99), results.Of(mx)
	row.Errors, row.ErrorRate, row.Concurrency = results.Of(errs), results.Of(erate), results.Of(conc)
	if len(frac) > 0 {
		f := results.Of(frac)
		row.LittleFraction = &f
	}
	source := "proc"
	if len(r.o.Targets) > 0 {
		source = "stats"
	}
	row.Server = results.ServerUse{
		RSSPeakBytes: results.Of(rssPeak), RSSBeforeBytes: results.Of(rssBefore), ThreadsPeak: results.Of(thr),
		FDsPeak: results.Of(fds), Processes: results.Of(procs), CPUUserS: results.Of(cu), CPUSysS: results.Of(cs),
		CPUUtil: results.Of(util), CtxVolPerReq: results.Of(cvol), CtxInvolPerReq: results.Of(cinv),
		CPUUsPerRequest: results.Of(cpuUs), Samples: samples, Source: source,
	}
	if len(cp99) > 0 {
		row.Canary = &results.Canary{Rate: catalog.CanaryRate, P50Ms: results.Of(cp50), P99Ms: results.Of(cp99), MaxMs: results.Of(cmax), Errors: results.Of(cerr), Unanswered: results.Of(cun)}
	}
	if len(held) > 0 {
		row.Idle = &results.Idle{Wanted: row.Point.Idle, Held: results.Of(held), RSSPerConnBytes: results.Of(rssPerConn),
			ThreadsHeld: results.Of(thrHeld), ProbeP50Ms: results.Of(pp50), ProbeP99Ms: results.Of(pp99), OpenS: results.Of(openS)}
	}
	row.Loadgen = results.LoadgenUse{CPUUtil: results.Of(lg), Cores: len(parseCPUList(r.o.LoadCPUs)), CPUUsPerRequest: results.Of(lgUs),
		IOBackend: strings.Join(backends, "+")}
	var why []string
	if row.Loadgen.CPUUtil.N > 0 && row.Loadgen.CPUUtil.Max >= saturatedCPU {
		why = append(why, fmt.Sprintf("load generator CPU at %.0f%% of its cores", 100*row.Loadgen.CPUUtil.Max))
	}
	if ceil := r.ceiling[max(row.Point.Pipeline, 1)]; ceil > 0 && row.RPS.N > 0 && row.RPS.Max >= saturatedCeiling*ceil {
		// r.ceiling holds only the depths whose calibration showed the load
		// generator as the bottleneck (results.Calibration.CeilingApplies).
		why = append(why, fmt.Sprintf("%.0f rps is %.0f%% of the load generator's measured ceiling (%.0f rps at pipeline %d, where calibration showed it the bottleneck)",
			row.RPS.Max, 100*row.RPS.Max/ceil, ceil, max(row.Point.Pipeline, 1)))
	}
	row.Saturated = len(why) > 0
	row.SaturationReason = strings.Join(why, "; ")
	row.Judge() // L ÷ c and the gate's flags (results/gate.go)
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
