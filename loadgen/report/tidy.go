package report

import (
	"regexp"
	"strings"
)

// tidy is the last pass over the rendered markdown. Point labels, formulas
// and notes come from results.json, written by the suite and the verdicts
// of whatever commit ran it, so a committed file can hold template
// leftovers ("1 core(s)", "one loop gained 0.973×", a note cut off after
// "this machine has 2"). The report fixes them where it writes them, so
// that an old results.json renders as cleanly as a new one; TestLeftovers
// scans the output for what this pass must have removed.
func tidy(md string) string {
	md = pluralRE.ReplaceAllStringFunc(md, func(m string) string {
		sub := pluralRE.FindStringSubmatch(m)
		n, word := sub[1], sub[2]
		if n == "1" {
			return n + " " + word
		}
		return n + " " + word + "s"
	})
	// "N thing(s)" where the number is not next to the word.
	md = strings.ReplaceAll(md, "(s)", "s")
	md = strings.ReplaceAll(md, "answers to only 0 of", "no answer to any of")
	md = strings.ReplaceAll(md, "answered 0 of", "answered none of")
	md = strings.ReplaceAll(md, "only 0 of", "none of")
	md = gainedRE.ReplaceAllString(md, "${1}changed by ${2}× (a loss, not a gain)")
	md = cutNoteRE.ReplaceAllString(md, "this machine has ${1} cores, so these points share a CPU with the load generator${2}")
	return md
}

var (
	// "1 core(s)", "2 CPU(s)", "0 thread(s)", "1 OS thread(s)".
	pluralRE = regexp.MustCompile(`\b(\d[\d,.]*) ((?:OS )?[A-Za-z]+)\(s\)`)
	// "gained 0.973×": a ratio under one is a loss.
	gainedRE = regexp.MustCompile(`(\b)gained (0\.\d+)×`)
	// The suite's overlap note ends without saying what the number counts.
	cutNoteRE = regexp.MustCompile(`(?m)this machine has (\d+)([.;]|$)`)
)

// Leftovers lists what TestLeftovers (and anyone checking a committed
// report) must not find in rendered markdown: each entry is a pattern and
// what it means.
var Leftovers = []struct {
	Re   *regexp.Regexp
	What string
}{
	{regexp.MustCompile(`\w\(s\)`), "a \"(s)\" plural left by a template"},
	{regexp.MustCompile(`\bonly 0\b`), "\"only 0\": say \"none\""},
	{regexp.MustCompile(`\bgained 0\.`), "a gain below 1×, which is a loss"},
	{regexp.MustCompile(`(?m)this machine has \d+\s*$`), "a sentence cut off after a number"},
	{regexp.MustCompile(`(?m)(?:[,;]|\b(?:the|a|an|of|to|and|has|is|at|on|by|with|than))\s*$`), "a sentence cut off mid-way (a line ends on a connective)"},
	{regexp.MustCompile(`-\d[\d,.]*\s?(?:B|KiB|MiB|GiB)\b`), "a negative size"},
	{regexp.MustCompile(`\[-\d`), "a negative bound in an interval"},
	{regexp.MustCompile(`(?:^|[\s(])-\d[\d,.]* (?:threads?|connections?|probes?|requests?|errors?|processes)\b`), "a negative count"},
}
