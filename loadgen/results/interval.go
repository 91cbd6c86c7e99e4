package results

import (
	"math"
	"math/rand/v2"
	"sort"
)

// The one definition of an interval in the lab. Every verdict, table and
// chart that shows a spread or compares two numbers uses it:
//
//   - with BootstrapMinReps or more repetitions, a 95 % percentile
//     bootstrap interval of the median (BootstrapResamples resamples, a
//     fixed seed, so a report renders the same bytes every time);
//   - with fewer, the [min–max] range of the repetitions, labelled as a
//     range: too few values for a bootstrap to mean anything.
//
// Derived quantities (a ratio, a difference, a scaled value) carry the
// interval their inputs allow, by interval arithmetic on the inputs' ends,
// which never understates the spread; their Kind is "ci95" only when every
// input's is.

// Interval kinds.
const (
	KindCI95  = "ci95"  // 95 % bootstrap interval of the median
	KindRange = "range" // [min–max] over the repetitions
)

const (
	// BootstrapMinReps: from 6 repetitions up, the median gets a bootstrap
	// interval; below, the range is all the data can honestly say.
	BootstrapMinReps = 6
	// BootstrapResamples: 2,000 resamples put the 2.5 % and 97.5 %
	// percentiles within a fraction of one order statistic of their limit.
	BootstrapResamples = 2000
	// bootstrapSeed fixes the resampling so that results are reproducible.
	bootstrapSeed = 20260101

	// HeadlineTolerance and HeadlineMaxReps: a headline point (one a verdict
	// reads) repeats until its median's 95 % interval lies within ±5 % of
	// the median, or until 9 repetitions (issue 11).
	HeadlineTolerance = 0.05
	HeadlineMaxReps   = 9
)

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// medianInterval bounds the median of sorted values (see the package
// comment above).
func medianInterval(sorted []float64) (lo, hi float64, kind string) {
	n := len(sorted)
	if n < BootstrapMinReps {
		return sorted[0], sorted[n-1], KindRange
	}
	rng := rand.New(rand.NewPCG(bootstrapSeed, uint64(n)))
	meds := make([]float64, BootstrapResamples)
	buf := make([]float64, n)
	for i := range meds {
		for j := range buf {
			buf[j] = sorted[rng.IntN(n)]
		}
		sort.Float64s(buf)
		meds[i] = median(buf)
	}
	sort.Float64s(meds)
	return quantile(meds, 0.025), quantile(meds, 0.975), KindCI95
}

// quantile of sorted values by linear interpolation.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// Interval returns the interval of s's median: [Lo, Hi], or [Min, Max] for
// a Stat written without one.
func (s Stat) Interval() (lo, hi float64) {
	if s.Kind == "" {
		return s.Min, s.Max
	}
	return s.Lo, s.Hi
}

// IntervalKind is KindCI95 or KindRange ("" when s has no values).
func (s Stat) IntervalKind() string {
	switch {
	case s.N == 0:
		return ""
	case s.Kind == "":
		return KindRange
	}
	return s.Kind
}

// Settled reports whether s's median is pinned down well enough for a
// headline point: a 95 % interval (so at least BootstrapMinReps
// repetitions) within ±HeadlineTolerance of the median.
func (s Stat) Settled() bool {
	if s.IntervalKind() != KindCI95 || s.Median == 0 {
		return false
	}
	lo, hi := s.Interval()
	m := math.Abs(s.Median)
	return s.Median-lo <= HeadlineTolerance*m && hi-s.Median <= HeadlineTolerance*m
}

// NeedsMoreReps is the suite's stopping rule for a headline point with the
// values xs so far: true while the median's 95 % interval is wider than
// ±HeadlineTolerance and fewer than HeadlineMaxReps repetitions ran.
func NeedsMoreReps(xs []float64) bool {
	if len(xs) >= HeadlineMaxReps {
		return false
	}
	return !Of(xs).Settled()
}

// derive builds a derived Stat from a median and candidate interval ends
// and range ends; kind is ci95 only if every input's is.
func derive(med float64, ends, rangeEnds []float64, n int, ins ...Stat) Stat {
	s := Stat{Median: med, N: n, Kind: KindCI95}
	for _, in := range ins {
		if in.IntervalKind() != KindCI95 {
			s.Kind = KindRange
		}
	}
	s.Lo, s.Hi = minMax(ends)
	s.Min, s.Max = minMax(rangeEnds)
	s.Lo, s.Hi = math.Min(s.Lo, med), math.Max(s.Hi, med)
	s.Min, s.Max = math.Min(s.Min, med), math.Max(s.Max, med)
	return s
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// Ratio is a ÷ b. Its interval is defined only when b's interval lies
// above zero and a's is not negative; otherwise it collapses to the median
// (N = 0 when b's median is zero: no ratio at all).
func Ratio(a, b Stat) Stat {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return Stat{}
	}
	med := a.Median / b.Median
	alo, ahi := a.Interval()
	blo, bhi := b.Interval()
	if blo <= 0 || alo < 0 {
		return Stat{Median: med, Min: med, Max: med, Lo: med, Hi: med, N: min(a.N, b.N), Kind: KindRange}
	}
	return derive(med, []float64{alo / bhi, ahi / blo}, []float64{a.Min / b.Max, a.Max / b.Min}, min(a.N, b.N), a, b)
}

// Diff is a − b.
func Diff(a, b Stat) Stat {
	if a.N == 0 || b.N == 0 {
		return Stat{}
	}
	alo, ahi := a.Interval()
	blo, bhi := b.Interval()
	return derive(a.Median-b.Median, []float64{alo - bhi, ahi - blo}, []float64{a.Min - b.Max, a.Max - b.Min}, min(a.N, b.N), a, b)
}

// Sum is a + b.
func Sum(a, b Stat) Stat {
	if a.N == 0 || b.N == 0 {
		return Stat{}
	}
	alo, ahi := a.Interval()
	blo, bhi := b.Interval()
	return derive(a.Median+b.Median, []float64{alo + blo, ahi + bhi}, []float64{a.Min + b.Min, a.Max + b.Max}, min(a.N, b.N), a, b)
}

// Scale is k × s.
func Scale(s Stat, k float64) Stat {
	if s.N == 0 {
		return Stat{}
	}
	lo, hi := s.Interval()
	return derive(s.Median*k, []float64{lo * k, hi * k}, []float64{s.Min * k, s.Max * k}, s.N, s)
}

// Inverse is k ÷ s, for k > 0; defined like Ratio.
func Inverse(k float64, s Stat) Stat {
	return Ratio(Stat{Median: k, Min: k, Max: k, Lo: k, Hi: k, N: s.N, Kind: s.IntervalKind()}, s)
}

// NonNegative clamps a quantity that cannot be negative (a size, a count, a
// time): an interval end below zero becomes zero, and the note says so. A
// median below zero means the difference is not resolvable at all: ok is
// false and the note says why; callers show the note instead of a number.
func NonNegative(s Stat) (out Stat, note string, ok bool) {
	if s.N == 0 {
		return s, "", true
	}
	if s.Median < 0 {
		return s, "not resolvable: the difference is smaller than its spread", false
	}
	lo, _ := s.Interval()
	if lo < 0 || s.Min < 0 {
		s.Lo, s.Min = math.Max(lo, 0), math.Max(s.Min, 0)
		if s.Kind == "" {
			s.Kind, s.Hi = KindRange, s.Max
		}
		return s, "lower end clamped at 0: the spread reaches below zero, which this quantity cannot", true
	}
	return s, "", true
}
