package verdict

import (
	"fmt"
	"sort"
	"strings"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
)

// The twins against the real stacks (issue 12, item 4). For each real
// stack with a TwinOf, one computed agreement word:
//
//   - same shape: at every scenario point both measured, the Little
//     fractions agree within ±AgreeFraction (absolute, as shares of the
//     bound), the thread regimes match, and canary starvation agrees;
//   - diverges: one of those clearly differs; Where says where and by
//     how much;
//   - inconclusive: no check differs clearly, but an interval straddles
//     its line or a row cannot decide (errors, a short window);
//   - not measured: no point was measured on both.

// Agreement words.
const (
	AgreeSame         = "same shape"
	AgreeDiverges     = "diverges"
	AgreeInconclusive = "inconclusive"
	AgreeNotMeasured  = "not measured"
)

const (
	// AgreeFraction: two Little fractions "agree" when their difference's
	// interval lies within ±0.10 (ten points of the bound).
	AgreeFraction = 0.10
	// FewThreads: a process that stays at or under 16 threads is in the
	// "few threads" regime (an event loop plus its runtime's helpers).
	FewThreads = 16
	// ThreadGrowth: threads "grow with concurrency" when the highest
	// point's count is at least 2× the lowest's.
	ThreadGrowth = 2.0
)

// AgreePoint is one scenario point measured on both.
type AgreePoint struct {
	Scenario, Label string
	Twin, Real      *results.Row
	// FractionDiff is real − twin Little fraction (N = 0 where either has
	// no bound).
	FractionDiff results.Stat
	Word         string // AgreeSame, AgreeDiverges or AgreeInconclusive for this point
	Note         string
}

// Agreement is one real stack against its twin.
type Agreement struct {
	Real, Twin string
	Word       string
	Where      []string // each divergence, with its size
	Reason     string   // one line
	Points     []AgreePoint
	// Regimes: the thread regime of each ("few threads", "grows with
	// concurrency", "many, fixed", or "" when unknown).
	TwinRegime, RealRegime string
}

// Agreements computes the agreement of every real stack measured in f
// against its twin, in catalog order.
func Agreements(f *results.File) []Agreement {
	d := data{f}
	var out []Agreement
	for _, c := range catalog.Configs {
		if c.Kind != catalog.KindStack || c.TwinOf == "" {
			continue
		}
		a := agreement(d, c.Name, c.TwinOf)
		if a.Word == AgreeNotMeasured && len(a.Points) == 0 && !measuredAnywhere(d, c.Name) {
			a.Reason = "not measured: " + c.Name + " has no rows in this run"
		}
		out = append(out, a)
	}
	return out
}

func measuredAnywhere(d data, cfg string) bool {
	if d.f == nil {
		return false
	}
	for _, s := range d.f.Scenarios {
		for _, r := range s.Rows {
			if r.Config == cfg {
				return true
			}
		}
	}
	return false
}

// AgreementOf computes one real stack against one twin.
func AgreementOf(f *results.File, real, twin string) Agreement { return agreement(data{f}, real, twin) }

func agreement(d data, real, twin string) Agreement {
	a := Agreement{Real: real, Twin: twin}
	diverged, undecided := 0, 0
	if d.f != nil {
		for _, s := range d.f.Scenarios {
			for _, tr := range d.rows(s.Name, twin) {
				rr, err := d.row(s.Name, real, tr.Point.Label)
				if err != nil {
					continue
				}
				p := agreePoint(s.Name, tr, rr)
				switch p.Word {
				case AgreeDiverges:
					diverged++
					a.Where = append(a.Where, fmt.Sprintf("%s %s: %s", s.Name, tr.Point.Label, p.Note))
				case AgreeInconclusive:
					undecided++
				}
				a.Points = append(a.Points, p)
			}
		}
	}
	// Thread regimes over io-wait.
	a.TwinRegime, a.RealRegime = regime(d, twin), regime(d, real)
	if a.TwinRegime != "" && a.RealRegime != "" && a.TwinRegime != a.RealRegime {
		diverged++
		a.Where = append(a.Where, fmt.Sprintf("threads: the twin's %s, the real stack's %s", a.TwinRegime, a.RealRegime))
	}
	// Slots: a real stack whose concurrency cap differs from its twin's
	// (Django's sync views on ASGI share one thread, thread_sensitive=True,
	// where the twin has a pool of 40) can agree point by point only
	// because each is measured against its own bound; the model differs.
	if w := slotsDiffer(twin, real); w != "" {
		diverged++
		a.Where = append(a.Where, w)
	}
	switch {
	case len(a.Points) == 0:
		a.Word, a.Reason = AgreeNotMeasured, "not measured: no scenario point was measured on both "+twin+" and "+real
	case diverged > 0:
		a.Word = AgreeDiverges
		a.Reason = strings.Join(a.Where, "; ")
	case undecided > 0:
		a.Word = AgreeInconclusive
		var why []string
		for _, p := range a.Points {
			if p.Word == AgreeInconclusive {
				why = append(why, p.Scenario+" "+p.Label+": "+p.Note)
			}
		}
		a.Reason = strings.Join(why, "; ")
	default:
		a.Word = AgreeSame
		a.Reason = fmt.Sprintf("%d points agree: Little fractions within ±%s of the bound, canary starvation alike", len(a.Points), Num(AgreeFraction*100)+" points")
		if a.TwinRegime != "" {
			a.Reason += ", threads " + a.TwinRegime
		}
	}
	return a
}

func agreePoint(scn string, tr, rr *results.Row) AgreePoint {
	p := AgreePoint{Scenario: scn, Label: tr.Point.Label, Twin: tr, Real: rr, Word: AgreeSame}
	if err := firstErr(usable(tr), usable(rr)); err != nil {
		p.Word, p.Note = AgreeInconclusive, err.Error()
		return p
	}
	var notes []string
	ft, ok1 := fraction(tr)
	fr, ok2 := fraction(rr)
	if ok1 && ok2 {
		p.FractionDiff = diff(fr, ft)
		switch inBand(p.FractionDiff, -AgreeFraction, AgreeFraction) {
		case Outside:
			p.Word = AgreeDiverges
			n := fmt.Sprintf("Little fraction %s real against %s twin", StatWith(fr, "", Pct), StatWith(ft, "", Pct))
			if fr.Median < ft.Median && rr.Server.CPUUtil.N > 0 && against(rr.Server.CPUUtil, BusyCPU*float64(max(cpuCount(rr.ServerCPUs), 1))) != Below {
				n += fmt.Sprintf(": the real stack runs out of CPU at c ≈ %s", Int(rr.Point.Conns))
			}
			notes = append(notes, n)
		case Across:
			p.Word = AgreeInconclusive
			notes = append(notes, fmt.Sprintf("Little fractions %s real against %s twin straddle ±%s", StatWith(fr, "", Pct), StatWith(ft, "", Pct), Pct(AgreeFraction)))
		}
	}
	if tr.Canary != nil && rr.Canary != nil {
		ct, cr := CanaryOf(tr), CanaryOf(rr)
		if ct.Known && cr.Known && ct.Starved != cr.Starved {
			p.Word = AgreeDiverges
			notes = append(notes, fmt.Sprintf("canary starved: twin %v, real %v", ct.Starved, cr.Starved))
		}
	}
	p.Note = strings.Join(notes, "; ")
	return p
}

// regime classifies a configuration's threads over its io-wait points.
func regime(d data, cfg string) string {
	rows := d.rows("io-wait", cfg)
	if len(rows) == 0 {
		return ""
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Point.Conns < rows[j].Point.Conns })
	lo, hi := FreshOf(rows[0]).Threads, 0.0
	for _, r := range rows {
		hi = max(hi, FreshOf(r).Threads)
	}
	switch {
	case hi <= FewThreads:
		return "few threads"
	case lo > 0 && hi >= ThreadGrowth*lo:
		return "grows with concurrency"
	}
	return "many, fixed"
}

// slotsDiffer says how the twin's and the real stack's concurrency caps
// (the catalog's Limit and LimitN) differ, or "" when they match or either
// is unknown.
func slotsDiffer(twin, real string) string {
	tc, ok1 := catalog.ConfigByName(twin)
	rc, ok2 := catalog.ConfigByName(real)
	if !ok1 || !ok2 || (tc.Limit == rc.Limit && tc.LimitN == rc.LimitN) {
		return ""
	}
	return fmt.Sprintf("slots: the twin's cap is %s, the real stack's %s", capText(tc), capText(rc))
}

func capText(c catalog.Config) string {
	if c.Limit == catalog.LimitNone {
		return "its connections"
	}
	unit := map[string]string{catalog.LimitThreads: "thread", catalog.LimitPool: "pool thread", catalog.LimitLoops: "loop"}[c.Limit]
	if c.LimitN != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", c.LimitN, unit)
}
