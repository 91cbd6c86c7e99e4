package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverlab/lab/internal/spans"
	"github.com/serverlab/lab/loadgen/timeline"
)

// TestTimelinesSection: the section appears only when the run directory
// holds timeline SVGs, with facts computed from the spans, and the HTML
// inlines the SVGs.
func TestTimelinesSection(t *testing.T) {
	dir := t.TempDir()
	js, err := os.ReadFile("testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "results.json")
	if err := os.WriteFile(jsonPath, js, 0o644); err != nil {
		t.Fatal(err)
	}
	_, r, err := RenderFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(r.Markdown), "Per-model timelines") {
		t.Fatal("timelines section without timelines")
	}

	// Two serial waits on one thread.
	ms := int64(1e6)
	tl := timeline.Timeline{Model: "eventloop-inline", WaitMs: 50, HoldsThread: true,
		Requests: []timeline.Request{{SentNs: 0, ReceivedNs: 51 * ms, Status: 200}, {SentNs: 10 * ms, ReceivedNs: 101 * ms, Status: 200}},
		Spans: []spans.Span{
			{Pid: 1, Req: 1, Route: "io", StartTid: 7, StartNs: ms, WaitStartTid: 7, WaitStartNs: ms, WaitEndTid: 7, WaitEndNs: 51 * ms, EndTid: 7, EndNs: 51 * ms},
			{Pid: 1, Req: 2, Route: "io", StartTid: 7, StartNs: 51 * ms, WaitStartTid: 7, WaitStartNs: 51 * ms, WaitEndTid: 7, WaitEndNs: 101 * ms, EndTid: 7, EndNs: 101 * ms},
		}}
	if err := os.MkdirAll(filepath.Join(dir, ChartsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tl)
	os.WriteFile(filepath.Join(dir, ChartsDir, timeline.JSONName(tl.Model)), b, 0o644)
	os.WriteFile(filepath.Join(dir, ChartsDir, timeline.SVGName(tl.Model)), timeline.Render(tl), 0o644)
	_, r, err = RenderFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	md := string(r.Markdown)
	for _, want := range []string{"## Per-model timelines", "charts/timeline-eventloop-inline.svg", "The waits ran one after another; the one event loop served them all, seen on 1 OS thread"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(string(r.HTML), `src="charts/timeline-`) {
		t.Error("HTML links the timeline instead of inlining it")
	}
}
