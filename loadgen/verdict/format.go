package verdict

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/serverlab/lab/loadgen/results"
)

// Number formatting shared by the verdicts and the report, so that a number
// reads the same in a reason and in a table. Every function is pure and
// deterministic (fixed precision, no locale).

// Num formats x with a precision that suits its size: thousands separators
// from 1,000 up, one decimal from 10, two from 1, and three significant
// digits below 1, trailing zeros dropped. NaN and ±Inf read "–".
func Num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	a := math.Abs(x)
	var s string
	switch {
	case a >= 1000:
		s = group(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	case a >= 100:
		s = strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(x, 'f', 2, 64)
	case a == 0:
		s = "0"
	default:
		s = strconv.FormatFloat(x, 'g', 3, 64)
		if strings.Contains(s, "e") {
			s = strconv.FormatFloat(x, 'f', 6, 64)
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	}
	if strings.Contains(s, ".") && !strings.Contains(s, ",") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".") // 2.00 → 2, 1.50 → 1.5
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// group inserts thousands separators into an integer string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Count formats a number of things: whole numbers without decimals
// ("6 threads"), a median between two counts with its fraction ("6.5").
func Count(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return group(strconv.FormatFloat(x, 'f', 0, 64))
	}
	return Num(x)
}

// Int formats a count with thousands separators.
func Int(n int) string { return group(strconv.Itoa(n)) }

// Pct formats a fraction as a percentage: 0.853 → "85%", 0.042 → "4.2%".
func Pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	p := 100 * x
	if math.Abs(p) < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// Times formats a ratio as a multiple: 2.04 → "2.04×".
func Times(x float64) string { return Num(x) + "×" }

// Bytes formats a byte count in KiB or MiB.
func Bytes(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1<<20:
		return Num(x/(1<<20)) + " MiB"
	case a >= 1<<10:
		return Num(x/(1<<10)) + " KiB"
	default:
		return Num(x) + " B"
	}
}

// Stat formats a statistic as "median unit [lo–hi]": the interval of
// results/interval.go, which with fewer than 6 repetitions is the
// [min–max] range and with more the 95 % interval of the median, marked
// "95% CI". The bracket is left out when there was one repetition or the
// interval rounds away; a Stat with no values reads "–".
func Stat(s results.Stat, unit string) string {
	return StatWith(s, unit, Num)
}

// StatWith is Stat with another number format (Bytes, Pct, Times).
func StatWith(s results.Stat, unit string, f func(float64) string) string {
	if s.N == 0 {
		return "–"
	}
	u := ""
	if unit != "" {
		u = " " + unit
	}
	med := f(s.Median) + u
	lo, hi := s.Interval()
	l, h := f(lo), f(hi)
	if s.N <= 1 || l == h {
		return med
	}
	if s.IntervalKind() == results.KindCI95 {
		return med + " [95% CI " + l + "–" + h + "]"
	}
	return med + " [" + l + "–" + h + "]"
}

// Interval formats a deciding figure with its interval named: "3.01×
// (range 2.9×–3.1× over 3 reps)" or "3.01× (95% CI 2.9×–3.1×, 9 reps)".
// f defaults to Num.
func Interval(s results.Stat, unit string, f func(float64) string) string {
	if f == nil {
		f = Num
	}
	if s.N == 0 {
		return "–"
	}
	u := ""
	if unit != "" {
		u = " " + unit
	}
	lo, hi := s.Interval()
	med := f(s.Median) + u
	if s.N <= 1 {
		return med + " (one repetition: no spread)"
	}
	if s.IntervalKind() == results.KindCI95 {
		return fmt.Sprintf("%s (95%% CI %s–%s%s, %d reps)", med, f(lo), f(hi), u, s.N)
	}
	return fmt.Sprintf("%s (range %s–%s%s over %d reps)", med, f(lo), f(hi), u, s.N)
}

// Derived statistics come from results (the one definition of an
// interval); these names keep the claim files short.
var (
	ratio = results.Ratio
	plus  = results.Sum
	diff  = results.Diff
	scale = results.Scale
)

func inverse(k float64, s results.Stat) results.Stat { return results.Inverse(k, s) }

// NonNegativeStat formats a quantity that cannot be negative (a size, a
// count, a time) with f: an interval reaching below zero is clamped at
// zero and marked "≥ 0", and a median below zero reads "not resolvable"
// (results.NonNegative). Tables use it for per-connection memory.
func NonNegativeStat(s results.Stat, unit string, f func(float64) string) string {
	c, note, ok := results.NonNegative(s)
	switch {
	case !ok:
		return "not resolvable (smaller than its spread)"
	case note != "":
		return StatWith(c, unit, f) + " (clamped at 0)"
	}
	return StatWith(s, unit, f)
}
