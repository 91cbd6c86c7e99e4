package verdict

import (
	"fmt"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// Claim 11 (seed 000, "Django server stats"): sync code on a sync server
// is sync; async code on a sync server runs async inside the request; sync
// code on an async server is offloaded to a thread pool (sync_to_async)
// and stays sync; async code on an async server is "true async all the
// way", with the best throughput.
//
// Rows: the four real Django cells (django-wsgi-sync, django-wsgi-async,
// django-asgi-sync, django-asgi-async) on the code-x-server fan-out. They
// decide. The twin cells (blocking-os, eventloop-pool, eventloop-async)
// explain, but cannot decide: in the twins, sequential against gathered
// calls *defines* sync against async code, and the slot counts (400
// connections, 200 threads, a pool of 40) fix the best throughput in
// advance. That part is true by construction, and the verdict says so.

const (
	// CellTolerance: in the 2×2, a slot held for less than 75 % of the sum
	// of the waits proves that they overlapped (sequential calls cannot
	// take less than their sum), and a hold within ±25 % of a wait reads
	// as "≈" it.
	CellTolerance = 0.25
	// CPUBoundUtil: a configuration with no slot limit whose CPU use reaches
	// 90 % of the cores it may use is CPU-bound, not waiting.
	CPUBoundUtil = 0.90
)

// DjangoCells names the real Django configurations: code, server.
var DjangoCells = []struct{ Config, Code, Server string }{
	{"django-wsgi-sync", "sync", "sync"},
	{"django-wsgi-async", "async", "sync"},
	{"django-asgi-sync", "sync", "async"},
	{"django-asgi-async", "async", "async"},
}

func init() {
	register(11, rule{
		seed:    "sync on WSGI is sync; async on WSGI runs async inside the request; sync on ASGI is offloaded to threads; async on ASGI is true async all the way, with the best throughput",
		refute:  "a real Django cell whose slots are held as the other code style would hold them, or async-on-ASGI clearly below another cell's throughput",
		explain: "Whether waits overlap is decided by the code (sequential or gathered calls); the server decides how many requests run at once. In the Go twins both are set by construction; only the real Django cells can surprise.",
		soWhat:  "Pick the code style for overlap and the server for concurrency; on ASGI, sync views share one thread by default (thread_sensitive).",
		decide:  claim11,
	})
}

// RealCells computes the 2×2 on the real Django stacks, in the order of
// Cells. A cell's row is the code-x-server row of its configuration whose
// mode matches its code (seq for sync views, par for async views).
func RealCells(f *results.File) []Cell {
	d := data{f}
	var cells []Cell
	for _, dc := range DjangoCells {
		c := Cell{Config: dc.Config, Code: dc.Code, Server: dc.Server, SeedSays: dc.Code, Scenario: "code-x-server", Real: true}
		cfg, ok := catalog.ConfigByName(dc.Config)
		if !ok {
			c.Missing = dc.Config + " is not in the catalog"
			cells = append(cells, c)
			continue
		}
		mode := "seq"
		if dc.Code == "async" {
			mode = "par"
		}
		p, ok := d.findPoint("code-x-server", func(p catalog.Point) bool { return p.Mode == mode && !coldConn(p) && !unequalWaits(p) })
		if !ok {
			c.Missing = "code-x-server has no " + mode + " point"
			cells = append(cells, c)
			continue
		}
		c.Label = p.Label
		c.evaluate(d, cfg, p)
		cells = append(cells, c)
	}
	return cells
}

func claim11(d data) Verdict {
	pred := "each real Django cell behaves as its code's style (async views → waits overlap; sync views → each slot held for the sum), and async on ASGI has the best throughput"
	twins := Cells(d.f)
	var twinBits, slotBits []string
	var figs []Figure
	for _, c := range twins {
		if c.Row == nil || c.Missing != "" {
			continue
		}
		b := fmt.Sprintf("%s code on %s server (%s) behaves %s", c.Code, c.Server, c.Config, c.BehavesAs)
		if c.Gated != "" {
			b += " (does not decide: " + c.Gated + ")"
		}
		twinBits = append(twinBits, b)
		slotBits = append(slotBits, fmt.Sprintf("%s %s", Int(c.Slots), c.SlotKind))
		figs = append(figs, Figure{Side: SideTwin, What: fmt.Sprintf("%s code on %s server (%s) rps", c.Code, c.Server, c.Config), Value: c.Row.RPS, Unit: "rps"})
	}
	construction := "true by construction in the twins: sequential against gathered calls define sync against async code, and the slot counts (" + strings.Join(slotBits, ", ") + ") set the best throughput in advance"
	if len(twinBits) > 0 {
		construction += " (" + strings.Join(twinBits, "; ") + ")"
	}
	real := RealCells(d.f)
	var missingWhy []string
	for _, c := range real {
		if c.Missing != "" {
			missingWhy = append(missingWhy, c.Missing)
		}
	}
	if len(missingWhy) > 0 {
		v := failed(pred, figs, missing("the real Django cells decide this claim and are not all in this run ("+strings.Join(missingWhy, "; ")+"); "+construction))
		return v
	}
	passed, undecided, of := 0, 0, 0
	var bits []string
	var best *Cell
	for i := range real {
		c := &real[i]
		figs = append(figs, Figure{Side: SideReal, What: fmt.Sprintf("%s views on %s (%s), slot held", c.Code, map[string]string{"sync": "WSGI", "async": "ASGI"}[c.Server], c.Config), Value: c.HoldMs, Unit: "ms",
			Note: "behaves " + c.BehavesAs})
		of++
		switch {
		case c.Gated != "":
			undecided++
			bits = append(bits, c.Config+": "+c.Gated)
			continue
		case c.BehavesAs == "undecided":
			undecided++
			bits = append(bits, c.Config+": "+c.Why)
		case c.Matches():
			passed++
		default:
			bits = append(bits, fmt.Sprintf("%s behaves %s, the seed says %s: %s", c.Config, c.BehavesAs, c.SeedSays, c.Why))
		}
		if best == nil || c.Row.RPS.Median > best.Row.RPS.Median {
			best = c
		}
	}
	// Best throughput: async on ASGI clearly above every other cell.
	of++
	aa := &real[3]
	switch {
	case aa.Gated != "" || aa.Row == nil:
		undecided++
	default:
		worst := Above
		for i := 0; i < 3; i++ {
			if real[i].Row == nil || real[i].Gated != "" {
				worst = Straddles
				continue
			}
			if p := versus(aa.Row.RPS, real[i].Row.RPS); p < worst {
				worst = p
			}
		}
		switch worst {
		case Above:
			passed++
			bits = append(bits, fmt.Sprintf("async on ASGI served the most: %s rps", Stat(aa.Row.RPS, "")))
		case Below:
			bits = append(bits, fmt.Sprintf("async on ASGI (%s rps) is not the best: %s served %s rps", Stat(aa.Row.RPS, ""), best.Config, Stat(best.Row.RPS, "")))
		default:
			undecided++
			bits = append(bits, fmt.Sprintf("async on ASGI's %s rps overlaps another cell's interval", Stat(aa.Row.RPS, "")))
		}
	}
	if passed == of {
		bits = append([]string{"all four real Django cells behave as the seed says"}, bits...)
	}
	bits = append(bits, "the twin cells explain the mechanism but are "+construction)
	return Verdict{Outcome: checks(passed, undecided, of), Prediction: pred, Figures: figs, Reason: strings.Join(bits, "; ")}
}
