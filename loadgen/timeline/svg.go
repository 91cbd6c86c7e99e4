package timeline

import (
	"fmt"
	"html"
	"sort"
	"strings"
)

// palette is Okabe–Ito's colour-blind-safe set: request i is palette[i].
var palette = []string{"#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442"}

// Layout, in SVG user units.
const (
	svgW    = 920.0
	labelW  = 250.0
	plotR   = 900.0
	rowH    = 26.0
	barH    = 16.0
	topPad  = 58.0
	minMark = 3.0 // handling takes microseconds; it is drawn at least this wide
)

type row struct {
	label string
	bars  []string
}

// Render draws tl as an SVG: one row per request as its client saw it, one
// row per OS thread that touched a request (what that thread did for
// which request), and, for models whose waits hold no thread, one row per
// request's parked wait. Time runs left to right in ms from the first send.
// Request i has colour i throughout. Hand-written SVG: a few rects and
// lines; a plotting library would add nothing but weight here.
func Render(tl Timeline) []byte {
	t0, t1 := int64(1<<62), int64(0)
	for _, r := range tl.Requests {
		t0, t1 = min(t0, r.SentNs), max(t1, r.ReceivedNs)
	}
	for _, s := range tl.Spans {
		t0, t1 = min(t0, s.StartNs), max(t1, s.EndNs)
	}
	if t1 <= t0 {
		t1 = t0 + 1
	}
	spanMs := float64(t1-t0) / 1e6
	step := 10.0
	for _, s := range []float64{10, 20, 25, 50, 100, 200, 500, 1000} {
		step = s
		if spanMs/s <= 10 {
			break
		}
	}
	axisMs := step * float64(int(spanMs/step)+1)
	x := func(ns int64) float64 { return labelW + float64(ns-t0)/1e6/axisMs*(plotR-labelW) }
	bar := func(a, b int64, y float64, style string) string {
		xa, xb := x(a), x(b)
		if xb-xa < minMark {
			xb = xa + minMark
		}
		return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" %s/>`, xa, y+(rowH-barH)/2, xb-xa, barH, style)
	}
	solid := func(i int) string { return fmt.Sprintf(`fill="%s"`, colour(i)) }
	held := func(i int) string {
		return fmt.Sprintf(`fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1.5"`, colour(i), colour(i))
	}
	parked := func(i int) string {
		return fmt.Sprintf(`fill="none" stroke="%s" stroke-width="2" stroke-dasharray="5 3"`, colour(i))
	}

	var rows []row
	for i, r := range tl.Requests {
		rows = append(rows, row{
			label: fmt.Sprintf("request %d: client, sent→answered", i+1),
			bars: []string{
				fmt.Sprintf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`, x(r.SentNs), rowH/2, x(r.ReceivedNs), rowH/2, colour(i)),
				fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(r.SentNs), rowH/2, colour(i)),
				fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, x(r.ReceivedNs), rowH/2, colour(i)),
			},
		})
	}
	// Threads, in order of first appearance.
	// On the event loop's async and inline styles every event runs on the
	// one loop (gnet callbacks and loop tasks, -loops 1), a goroutine that
	// gnet does not lock to a thread: their threads are one row, "the loop",
	// labelled with the OS threads it was seen on.
	type thread struct{ pid, tid int }
	first := map[thread]int64{}
	loopTids := map[int]bool{}
	key := func(pid, tid int) thread {
		if onLoop[tl.Model] {
			loopTids[tid] = true
			return thread{pid, -1}
		}
		return thread{pid, tid}
	}
	note := func(th thread, ns int64) {
		if th.tid == 0 {
			return
		}
		if f, ok := first[th]; !ok || ns < f {
			first[th] = ns
		}
	}
	pids := map[int]bool{}
	for _, s := range tl.Spans {
		pids[s.Pid] = true
		note(key(s.Pid, s.StartTid), s.StartNs)
		if s.WaitStartNs != 0 {
			note(key(s.Pid, s.WaitStartTid), s.WaitStartNs)
			note(key(s.Pid, s.WaitEndTid), s.WaitEndNs)
		}
		note(key(s.Pid, s.EndTid), s.EndNs)
	}
	threads := make([]thread, 0, len(first))
	for th := range first {
		threads = append(threads, th)
	}
	sort.Slice(threads, func(i, j int) bool { return first[threads[i]] < first[threads[j]] })
	for _, th := range threads {
		r := row{label: threadLabel(tl.Model, th.tid, loopTids)}
		if len(pids) > 1 || strings.HasPrefix(tl.Model, "prefork") {
			r.label = fmt.Sprintf("worker pid %d, thread %d", th.pid, th.tid)
		}
		for i, s := range tl.Spans {
			if s.Pid != th.pid {
				continue
			}
			if s.WaitStartNs == 0 { // no wait: one handling bar
				if key(s.Pid, s.StartTid) == th {
					r.bars = append(r.bars, bar(s.StartNs, s.EndNs, 0, solid(i)))
				}
				continue
			}
			if key(s.Pid, s.StartTid) == th {
				r.bars = append(r.bars, bar(s.StartNs, s.WaitStartNs, 0, solid(i)))
			}
			if tl.HoldsThread && key(s.Pid, s.WaitStartTid) == th {
				r.bars = append(r.bars, bar(s.WaitStartNs, s.WaitEndNs, 0, held(i)))
			}
			if key(s.Pid, s.WaitEndTid) == th {
				r.bars = append(r.bars, bar(s.WaitEndNs, s.EndNs, 0, solid(i)))
			}
		}
		rows = append(rows, r)
	}
	if !tl.HoldsThread {
		for i, s := range tl.Spans {
			if s.WaitStartNs == 0 {
				continue
			}
			rows = append(rows, row{
				label: fmt.Sprintf("request %d: waiting, no thread held", i+1),
				bars:  []string{bar(s.WaitStartNs, s.WaitEndNs, 0, parked(i))},
			})
		}
	}

	plotH := float64(len(rows)) * rowH
	legendY := topPad + plotH + 40
	h := legendY + 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", svgW, h, svgW, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">%s</text>`+"\n",
		esc(fmt.Sprintf("%s: %d overlapping GET /io?ms=%d, each on its own connection", tl.Model, len(tl.Requests), tl.WaitMs)))
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#444">%s</text>`+"\n", esc(subtitle(tl)))
	// Grid and axis.
	for ms := 0.0; ms <= axisMs+1e-9; ms += step {
		gx := labelW + ms/axisMs*(plotR-labelW)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", gx, topPad, gx, topPad+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%g</text>`+"\n", gx, topPad+plotH+16, ms)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">ms since the first request was sent</text>`+"\n", (labelW+plotR)/2, topPad+plotH+32)
	for i, r := range rows {
		y := topPad + float64(i)*rowH
		if i%2 == 0 {
			fmt.Fprintf(&b, `<rect x="0" y="%.1f" width="%.0f" height="%.0f" fill="#f6f6f6"/>`+"\n", y, svgW, rowH)
		}
		fmt.Fprintf(&b, `<text x="10" y="%.1f">%s</text>`+"\n", y+rowH/2+4, esc(r.label))
		fmt.Fprintf(&b, `<g transform="translate(0 %.1f)">`+"\n", y)
		for _, s := range r.bars {
			b.WriteString(s + "\n")
		}
		b.WriteString("</g>\n")
	}
	// Legend.
	lx := 10.0
	for i := range tl.Requests {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">request %d</text>`+"\n", lx, legendY, colour(i), lx+16, legendY+10, i+1)
		lx += 90
	}
	keys := []struct{ style, text string }{
		{solid(-1), "handling (µs; drawn wider)"},
		{held(-1), "blocked in nanosleep: thread held"},
		{parked(-1), "waiting, no thread held"},
	}
	lx = 10
	for _, k := range keys {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="24" height="12" %s/><text x="%.0f" y="%.0f">%s</text>`+"\n", lx, legendY+24, k.style, lx+30, legendY+34, esc(k.text))
		lx += 250
	}
	fmt.Fprintf(&b, `<text x="10" y="%.0f" fill="#444">Blank: the thread is idle or doing other work. Measured spans (LAB_SPANS), not drawn by hand.</text>`+"\n", legendY+54)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func colour(i int) string {
	if i < 0 {
		return "#777"
	}
	return palette[i%len(palette)]
}

func threadLabel(model string, tid int, loopTids map[int]bool) string {
	if tid == -1 {
		ids := make([]int, 0, len(loopTids))
		for t := range loopTids {
			ids = append(ids, t)
		}
		sort.Ints(ids)
		s := fmt.Sprint(ids)
		return "the loop (on threads " + strings.Trim(s, "[]") + ")"
	}
	switch model {
	case "eventloop-pool":
		return fmt.Sprintf("pool worker (thread %d)", tid)
	}
	return fmt.Sprintf("thread %d", tid)
}

func subtitle(tl Timeline) string {
	if tl.HoldsThread {
		return "Each wait holds an OS thread (nanosleep on a locked thread)."
	}
	if onLoop[tl.Model] {
		return "Waits hold no OS thread: each is an entry in the loop's timer wheel."
	}
	return "Waits hold no OS thread: the goroutine parks in time.Sleep, and its thread runs others."
}

func esc(s string) string { return html.EscapeString(s) }
