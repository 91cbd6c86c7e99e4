package verdict

import "github.com/serverlab/lab/loadgen/results"

// Intervals decide. Every comparison in a verdict goes through these three
// functions, which look at the whole interval of a Stat
// (results/interval.go), never its median alone. Where the interval
// touches both sides of the line, the answer is Straddles, and the claim
// that asked reads "inconclusive", never "reproduced". This is benchstat's
// "~": the data cannot tell.

// Pos is where an interval lies against a line.
type Pos int

const (
	Below     Pos = -1 // the whole interval is below the line
	Straddles Pos = 0  // the interval reaches both sides
	Above     Pos = 1  // the whole interval is above the line
)

// against places s's interval against a threshold t: at or above t counts
// as Above when the whole interval is ≥ t.
func against(s results.Stat, t float64) Pos {
	lo, hi := s.Interval()
	switch {
	case lo >= t:
		return Above
	case hi < t:
		return Below
	}
	return Straddles
}

// versus places a's interval against b's: Above when they do not overlap
// and a is higher.
func versus(a, b results.Stat) Pos {
	alo, ahi := a.Interval()
	blo, bhi := b.Interval()
	switch {
	case alo > bhi:
		return Above
	case ahi < blo:
		return Below
	}
	return Straddles
}

// Band is where an interval lies against a band [lo, hi].
type Band int

const (
	Inside  Band = iota // the whole interval is inside the band
	Outside             // no part of it is inside
	Across              // part in, part out: undecided
)

// inBand places s's interval against [lo, hi].
func inBand(s results.Stat, lo, hi float64) Band {
	slo, shi := s.Interval()
	switch {
	case slo >= lo && shi <= hi:
		return Inside
	case shi < lo || slo > hi:
		return Outside
	}
	return Across
}

// near is inBand around a target with a relative tolerance.
func near(s results.Stat, target, tol float64) Band {
	return inBand(s, target*(1-tol), target*(1+tol))
}
