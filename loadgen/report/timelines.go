package report

// timelines.go (helper "timelines"): the "Per-model timelines" section. The
// SVGs and their spans are measured and drawn by loadgen/timeline (`loadgen
// timelines -out DIR`) into DIR/charts/; RenderFileWith picks them up when
// they lie beside results.json, and the section appears only then.

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/serverlab/lab/loadgen/timeline"
)

// loadTimelines reads dir/charts/timeline-<model>.svg for each of
// timeline.Models that was drawn, in that order. A missing file is no error.
func loadTimelines(dir string) ([]Chart, error) {
	var out []Chart
	for _, m := range timeline.Models {
		b, err := os.ReadFile(filepath.Join(dir, ChartsDir, timeline.SVGName(m)))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c := Chart{Name: timeline.SVGName(m), Title: "Timeline: " + m, SVG: b}
		if js, err := os.ReadFile(filepath.Join(dir, ChartsDir, timeline.JSONName(m))); err == nil {
			var tl timeline.Timeline
			if json.Unmarshal(js, &tl) == nil {
				c.Title = "Timeline: " + m + factsSep + timelineFacts(tl)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// factsSep separates a timeline's name from its facts in Chart.Title.
const factsSep = " — "

// timelineFacts says, from the spans, how many OS threads ran the requests,
// whether the waits overlapped, and when the last answer arrived.
func timelineFacts(tl timeline.Timeline) string {
	tids := map[[2]int]bool{}
	for _, s := range tl.Spans {
		for _, t := range []int{s.StartTid, s.WaitStartTid, s.WaitEndTid, s.EndTid} {
			if t != 0 {
				tids[[2]int{s.Pid, t}] = true
			}
		}
	}
	overlap := false
	for i := range tl.Spans {
		for j := i + 1; j < len(tl.Spans); j++ {
			a, b := tl.Spans[i], tl.Spans[j]
			if a.WaitStartNs < b.WaitEndNs && b.WaitStartNs < a.WaitEndNs {
				overlap = true
			}
		}
	}
	var first, last int64
	for i, r := range tl.Requests {
		if i == 0 || r.SentNs < first {
			first = r.SentNs
		}
		last = max(last, r.ReceivedNs)
	}
	waits := "the waits ran one after another"
	if overlap {
		waits = "the waits overlapped"
	}
	word := "OS threads"
	if len(tids) == 1 {
		word = "OS thread"
	}
	who := fmt.Sprintf("%d %s took part", len(tids), word)
	if timeline.OnLoop(tl.Model) {
		who = fmt.Sprintf("the one event loop served them all, seen on %d %s", len(tids), word)
	}
	return fmt.Sprintf("%s; %s; the last answer came %s ms after the first request was sent",
		strings.ToUpper(waits[:1])+waits[1:], who, num(float64(last-first)/1e6))
}

// timelinesSection writes "Per-model timelines" when timelines were found.
func (r *renderer) timelinesSection(ts []Chart) {
	if len(ts) == 0 {
		return
	}
	r.h(2, "Per-model timelines")
	r.p("What an OS thread (or the event loop) does while three `GET /io?ms=50` requests, sent 10 ms apart on separate connections, overlap.",
		"Drawn from spans each server recorded with `LAB_SPANS` (internal/spans): the thread id and monotonic time when the handler got the request, began and ended its wait, and handed the answer to the connection. Not drawn by hand.",
		"Regenerate with `loadgen timelines -out DIR`.")
	for _, c := range ts {
		r.b.WriteString(fmt.Sprintf("![%s](%s)\n\n", strings.SplitN(c.Title, factsSep, 2)[0], path.Join(ChartsDir, c.Name)))
		r.b.WriteString("*" + strings.Replace(c.Title, factsSep, ": ", 1) + ".*\n\n")
	}
}
