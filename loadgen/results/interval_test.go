package results

import (
	"math"
	"testing"
)

func TestIntervalKinds(t *testing.T) {
	few := Of([]float64{10, 12, 11})
	if few.Kind != KindRange || few.Lo != 10 || few.Hi != 12 || few.Median != 11 {
		t.Errorf("3 values: %+v, want the [min–max] range labelled range", few)
	}
	xs := []float64{100, 101, 99, 102, 98, 100, 101, 99, 100}
	many := Of(xs)
	if many.Kind != KindCI95 {
		t.Fatalf("9 values: kind %q, want ci95", many.Kind)
	}
	if !(many.Lo <= many.Median && many.Median <= many.Hi) || many.Lo < many.Min || many.Hi > many.Max {
		t.Errorf("ci95 %v–%v must hold the median %v inside the range %v–%v", many.Lo, many.Hi, many.Median, many.Min, many.Max)
	}
	if many.Hi-many.Lo >= many.Max-many.Min {
		t.Errorf("the median's interval (%v–%v) is no narrower than the range (%v–%v)", many.Lo, many.Hi, many.Min, many.Max)
	}
	if again := Of(xs); again != many {
		t.Errorf("bootstrap is not deterministic: %+v then %+v", many, again)
	}
	if s := (Stat{Median: 5, Min: 4, Max: 6, N: 3}); s.IntervalKind() != KindRange {
		t.Errorf("a Stat written before intervals: %q", s.IntervalKind())
	}
	if lo, hi := (Stat{Median: 5, Min: 4, Max: 6, N: 3}).Interval(); lo != 4 || hi != 6 {
		t.Errorf("fallback interval %v–%v", lo, hi)
	}
}

func TestNeedsMoreReps(t *testing.T) {
	steady := []float64{100, 101, 99, 100, 100, 101}
	if NeedsMoreReps(steady) {
		t.Errorf("6 steady values: %+v still wants more", Of(steady))
	}
	if !NeedsMoreReps(steady[:3]) {
		t.Error("3 values cannot have a 95 % interval, so they need more")
	}
	noisy := []float64{100, 160, 60, 130, 70, 150}
	if !NeedsMoreReps(noisy) {
		t.Errorf("noisy values %+v settled", Of(noisy))
	}
	if NeedsMoreReps(append(noisy, 90, 140, 80)) {
		t.Error("9 repetitions is the cap")
	}
}

func TestDerived(t *testing.T) {
	a := Stat{Median: 150, Min: 140, Max: 160, Lo: 140, Hi: 160, N: 3, Kind: KindRange}
	b := Stat{Median: 50, Min: 40, Max: 60, Lo: 40, Hi: 60, N: 3, Kind: KindRange}
	r := Ratio(a, b)
	if r.Median != 3 || math.Abs(r.Lo-140.0/60) > 1e-12 || r.Hi != 4 || r.Kind != KindRange {
		t.Errorf("ratio %+v", r)
	}
	d := Diff(b, a)
	if d.Median != -100 || d.Lo != -120 || d.Hi != -80 {
		t.Errorf("diff %+v", d)
	}
	if _, note, ok := NonNegative(d); ok || note == "" {
		t.Errorf("a negative difference is shown as a size: %q", note)
	}
	small := Diff(Stat{Median: 20, Min: 5, Max: 30, N: 3}, Stat{Median: 10, Min: 8, Max: 12, N: 3})
	c, note, ok := NonNegative(small)
	if !ok || c.Lo != 0 || c.Min != 0 || note == "" {
		t.Errorf("clamped %+v (%q)", c, note)
	}
	if lo, _ := c.Interval(); lo < 0 {
		t.Errorf("clamped interval still negative: %v", lo)
	}
	if z := Ratio(a, Stat{}); z.N != 0 {
		t.Errorf("ratio by nothing: %+v", z)
	}
}

func TestGate(t *testing.T) {
	r := Row{LoadModel: "closed", Point: pointConns(100), Concurrency: Of([]float64{28.7, 28.7, 28.6})}
	if g := r.Gate(); g == "" {
		t.Error("L = 0.29 c passes the gate")
	}
	r.Judge()
	if r.LOverC == nil || r.LOverC.Median > 0.3 || len(r.Flags) != 1 || r.Flags[0] != FlagWindow {
		t.Errorf("judge: %+v %v", r.LOverC, r.Flags)
	}
	ok := Row{LoadModel: "closed", Point: pointConns(100), Concurrency: Of([]float64{99, 100, 101}),
		Reps: []Rep{{Requests: 10000, Errors: 10, Status: map[string]int64{"200": 9990}}}}
	if g := ok.Gate(); g != "" {
		t.Errorf("0.1 %% errors and L = c gated: %s", g)
	}
	ok.Reps[0].Status["503"] = 50
	if g := ok.Gate(); g == "" {
		t.Error("0.5 % 503s pass the gate")
	}
	pipe := Row{LoadModel: "closed", Point: pointConns(64), Concurrency: Of([]float64{1013})}
	pipe.Point.Pipeline = 16
	if g := pipe.Gate(); g != "" {
		t.Errorf("pipelined c = 64 × 16 with L = 1013: %s", g)
	}
	idle := Row{LoadModel: "idle"}
	if idle.LOverCStat() != nil || idle.Gate() != "" {
		t.Error("an idle row has no L ÷ c")
	}
}
