package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/serverlab/lab/loadgen/catalog"
	"github.com/serverlab/lab/loadgen/results"
	"github.com/serverlab/lab/loadgen/verdict"
)

// Chart is one SVG, referenced from the markdown as charts/Name.
type Chart struct {
	Name  string // file name under charts/: "io-wait.svg"
	Title string // alt text and caption
	SVG   []byte
}

// The chart files. The markdown refers to a chart only when it was drawn.
const (
	chartIOWait   = "io-wait-throughput.svg"
	chartCanary   = "canary-p99.svg"
	chartIdle     = "idle-rss.svg"
	chartCPU      = "cpu-throughput.svg"
	chartFanout   = "fanout-latency.svg"
	chartTwoByTwo = "two-by-two.svg"
)

const chartW, chartH = 24 * vg.Centimeter, 12 * vg.Centimeter

// charts draws every chart the data allows, in a fixed order. A chart
// without data is left out; an error from the plotting library is returned.
func charts(f *results.File) ([]Chart, error) {
	var out []Chart
	for _, c := range []struct {
		name, title string
		draw        func(*results.File) (*plot.Plot, error)
	}{
		{chartIOWait, "io-wait: throughput against concurrency, with Little's bound", ioWaitChart},
		{chartCanary, "blocking-in-loop: the canary's p99 by handler style", canaryChart},
		{chartIdle, "idle-connections: server RSS against idle connections held", idleChart},
		{chartCPU, "cpu: throughput on 1 and 2 cores, by workers and loops, with the ideal 2×", cpuChart},
		{chartFanout, "fanout: p50 latency of sequential against parallel calls", fanoutChart},
		{chartTwoByTwo, "code-x-server: the 2×2's throughput against its Little bounds", twoByTwoChart},
	} {
		p, err := c.draw(f)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.name, err)
		}
		if p == nil {
			continue
		}
		svg, err := renderSVG(p)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", c.name, err)
		}
		out = append(out, Chart{Name: c.name, Title: c.title, SVG: svg})
	}
	return out, nil
}

// renderSVG draws p with its legend below the plot area, where it never
// hides data and never takes width from it, and returns the SVG.
func renderSVG(p *plot.Plot) ([]byte, error) {
	legend := p.Legend
	p.Legend = plot.NewLegend()
	// The legend's height: one row per entry (measured on a scratch canvas).
	scratch := draw.New(vgsvg.New(chartW, chartH))
	lh := legend.Rectangle(scratch).Size().Y
	const pad = 4 * vg.Millimeter
	h := chartH + lh + pad
	c := vgsvg.New(chartW, h)
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, 0, lh+pad, 0))
	legend.Top, legend.Left = true, true
	legend.XOffs = 12 * vg.Millimeter
	legend.Draw(draw.Crop(dc, 0, 0, 0, -(chartH + pad/2)))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	// The SVG names Liberation Sans without a fallback; Arial and Helvetica
	// have the same metrics, so a viewer that lacks it keeps the layout.
	return bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:Liberation Sans,Arial,Helvetica,sans-serif;")), nil
}

// sans is the charts' font: Liberation Sans, embedded in the binary.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(10)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 10)
	}
	p.Legend.TextStyle.Font = font.From(sans, 10)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(3)
	p.Add(plotter.NewGrid())
	p.Y.Tick.Marker = commaTicks{}
	return p
}

// commaTicks are gonum's default ticks labelled with the report's number
// format (thousands separators), so that an axis reads like the tables.
type commaTicks struct{}

func (commaTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	// About five labelled ticks at 1, 2 or 5 × a power of ten.
	raw := (max - min) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+step*1e-9; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: num(v)})
	}
	return ts
}

// rowsOf returns a scenario's measured rows for cfg, by ascending concurrency.
func rowsOf(f *results.File, scn, cfg string) []*results.Row {
	var out []*results.Row
	for i := range f.Scenarios {
		s := &f.Scenarios[i]
		if s.Name != scn {
			continue
		}
		for j := range s.Rows {
			r := &s.Rows[j]
			if r.Config == cfg && measured(r) {
				out = append(out, r)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return concOf(out[i]) < concOf(out[j]) })
	return out
}

func concOf(r *results.Row) int {
	if r.Point.Idle > 0 {
		return r.Point.Idle
	}
	return r.Point.Conns
}

// ---- chart helpers ---------------------------------------------------------

// spread is a Stat's interval as error-bar lengths below and above its median.
func spread(s results.Stat) (lo, hi float64) {
	a, b := s.Interval()
	return math.Max(0, s.Median-a), math.Max(0, b-s.Median)
}

// errBars draws error bars at pts with the given lengths below and above.
func errBars(p *plot.Plot, pts plotter.XYs, errs plotter.YErrors, col color.Color) error {
	if len(pts) == 0 {
		return nil
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{pts, errs})
	if err != nil {
		return err
	}
	eb.Color = col
	eb.Width = vg.Points(1.2)
	eb.CapWidth = vg.Points(6)
	p.Add(eb)
	return nil
}

// series is one group of bars: values at x = XMin, XMin+1, …, with their
// intervals.
type series struct {
	name string
	vals []float64
	errs plotter.YErrors
}

// barSeries builds one bar series of k bars: bar i is metric's median of
// rowAt(i), with its spread; a missing row leaves a zero bar. found counts
// the rows that were there.
func barSeries(name string, k int, found *int, rowAt func(i int) *results.Row, metric func(*results.Row) results.Stat) series {
	s := series{name: name, vals: make([]float64, k), errs: make(plotter.YErrors, k)}
	for i := range k {
		if r := rowAt(i); r != nil {
			m := metric(r)
			s.vals[i] = m.Median
			s.errs[i].Low, s.errs[i].High = spread(m)
			*found++
		}
	}
	return s
}

// groupedBars draws k series side by side around each integer x and their
// error bars, and returns the top of the highest interval.
func groupedBars(p *plot.Plot, ss []series, width vg.Length) (float64, error) {
	top := 0.0
	k := len(ss)
	const groupW = 0.8 // of the distance between two x positions
	for i, s := range ss {
		b, err := plotter.NewBarChart(plotter.Values(s.vals), width)
		if err != nil {
			return 0, err
		}
		off := (float64(i) - float64(k-1)/2) * groupW / float64(k)
		b.XMin = off
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(s.name, b)
		var pts plotter.XYs
		var errs plotter.YErrors
		for j, v := range s.vals {
			if v <= 0 {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(j) + off, Y: v})
			e := struct{ Low, High float64 }{}
			if j < len(s.errs) {
				e = s.errs[j]
			}
			errs = append(errs, e)
			top = math.Max(top, v+e.High)
		}
		if err := errBars(p, pts, errs, color.Black); err != nil {
			return 0, err
		}
	}
	return top, nil
}

// hline draws a dashed horizontal line from x0 to x1 at y, in the legend as label.
func hline(p *plot.Plot, x0, x1, y float64, col color.Color, label string) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return err
	}
	l.Color = col
	l.Width = vg.Points(1.5)
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(l)
	if label != "" {
		p.Legend.Add(label, l)
	}
	return nil
}

var grey = color.RGBA{R: 90, G: 90, B: 90, A: 255}

// ---- io-wait ---------------------------------------------------------------

// ioWaitChart: throughput against concurrency. The tested concurrencies are
// categories, equally spaced and each labelled, and throughput is linear,
// so that a 5× gap looks like one. Each configuration's Little bound is a
// dashed line in its colour, and a bound that several configurations share
// is drawn once, in grey, naming them.
func ioWaitChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("I/O waits: throughput against concurrency", "concurrent connections c (each request waits 50 ms)", "requests per second")
	var labels []string
	var concs []int
	for _, cfg := range configsIn(f, "io-wait") {
		for _, r := range rowsOf(f, "io-wait", cfg) {
			if !contains(labels, r.Point.Label) {
				labels = append(labels, r.Point.Label)
				concs = append(concs, r.Point.Conns)
			}
		}
	}
	idx := map[string]int{}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return concs[order[a]] < concs[order[b]] })
	var sorted []string
	for i, o := range order {
		sorted = append(sorted, labels[o])
		idx[labels[o]] = i
	}
	labels = sorted
	if len(labels) == 0 {
		return nil, nil
	}
	type bound struct {
		pts  plotter.XYs
		cfgs []string
		col  color.Color
	}
	var bounds []*bound
	n := 0
	for i, cfg := range configsIn(f, "io-wait") {
		var pts plotter.XYs
		var errs plotter.YErrors
		var bpts plotter.XYs
		for _, r := range rowsOf(f, "io-wait", cfg) {
			x := float64(idx[r.Point.Label])
			pts = append(pts, plotter.XY{X: x, Y: r.RPS.Median})
			lo, hi := spread(r.RPS)
			errs = append(errs, struct{ Low, High float64 }{lo, hi})
			if r.LittleBoundRPS != nil && *r.LittleBoundRPS > 0 {
				bpts = append(bpts, plotter.XY{X: x, Y: *r.LittleBoundRPS})
			}
		}
		if len(pts) == 0 {
			continue
		}
		n++
		col := plotutil.Color(i)
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = col, col
		l.Width = vg.Points(1.5)
		s.Shape = plotutil.Shape(i)
		s.Radius = vg.Points(3.5)
		p.Add(l, s)
		p.Legend.Add(cfg, l, s)
		if err := errBars(p, pts, errs, col); err != nil {
			return nil, err
		}
		if len(bpts) == 0 {
			continue
		}
		key := fmt.Sprint(bpts)
		found := false
		for _, b := range bounds {
			if fmt.Sprint(b.pts) == key {
				b.cfgs = append(b.cfgs, cfg)
				found = true
			}
		}
		if !found {
			bounds = append(bounds, &bound{pts: bpts, cfgs: []string{cfg}, col: col})
		}
	}
	if n == 0 {
		return nil, nil
	}
	for _, b := range bounds {
		bl, err := plotter.NewLine(b.pts)
		if err != nil {
			return nil, err
		}
		bl.Color = b.col
		if len(b.cfgs) > 1 {
			bl.Color = grey
		}
		bl.Width = vg.Points(1.2)
		bl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(bl)
		p.Legend.Add(boundLabel(b.cfgs), bl)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.3, float64(len(labels))-0.7
	p.Y.Min = 0
	return p, nil
}

// boundLabel names a Little bound in the legend with the configurations it
// belongs to.
func boundLabel(cfgs []string) string {
	if len(cfgs) == 1 {
		c, ok := catalog.ConfigByName(cfgs[0])
		if ok && c.Limit != catalog.LimitNone {
			return fmt.Sprintf("bound of %s: min(c, %d %s) ÷ wait", cfgs[0], c.LimitN, c.Limit)
		}
		return fmt.Sprintf("bound of %s: c ÷ wait", cfgs[0])
	}
	return "bound c ÷ wait of " + strings.Join(cfgs, ", ")
}

// ---- blocking-in-loop --------------------------------------------------------

// canaryChart: the canary's p99 by handler style, on a linear axis, as bars
// with their interval; a starved canary (the blocked loop) is drawn as how
// long its oldest unanswered probe had waited, a lower bound, and labelled.
func canaryChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("A blocking call in the loop: what a bystander request waits", "handler style", "canary p99, ms")
	var names []string
	var vals []float64
	var errs plotter.YErrors
	var labels []string
	wait := 0.0
	points := map[string]bool{}
	for _, cfg := range configsIn(f, "blocking-in-loop") {
		for _, r := range rowsOf(f, "blocking-in-loop", cfg) {
			points[r.Point.Label] = true
		}
	}
	for _, cfg := range configsIn(f, "blocking-in-loop") {
		for _, r := range rowsOf(f, "blocking-in-loop", cfg) {
			if r.Canary == nil || r.Canary.P99Ms.N == 0 {
				continue
			}
			if r.Point.Ms > 0 {
				wait = float64(r.Point.Ms)
			}
			name := strings.TrimPrefix(cfg, "eventloop-")
			if len(points) > 1 {
				name += "\n" + r.Point.Label
			}
			if a := canaryAnswers(r); a.Starved {
				names = append(names, name+" (starved)")
				vals = append(vals, a.OldestWaitMs)
				errs = append(errs, struct{ Low, High float64 }{})
				labels = append(labels, fmt.Sprintf("≥ %s ms: %s of %s answered", num(a.OldestWaitMs), answeredText(a.Answered), inum(a.Scheduled)))
				continue
			}
			names = append(names, name)
			vals = append(vals, r.Canary.P99Ms.Median)
			lo, hi := spread(r.Canary.P99Ms)
			errs = append(errs, struct{ Low, High float64 }{lo, hi})
			labels = append(labels, num(r.Canary.P99Ms.Median)+" ms")
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	top, err := groupedBars(p, []series{{name: "canary p99 (starved: the oldest probe's wait, ≥)", vals: vals, errs: errs}}, vg.Points(40))
	if err != nil {
		return nil, err
	}
	var lpts plotter.XYs
	for i, v := range vals {
		lpts = append(lpts, plotter.XY{X: float64(i), Y: v + errs[i].High})
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: lpts, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font = font.From(sans, 10)
		lab.TextStyle[i].XAlign = draw.XCenter
	}
	lab.Offset = vg.Point{Y: vg.Points(4)}
	p.Add(lab)
	if wait > 0 {
		if err := hline(p, -0.5, float64(len(names))-0.5, wait, color.RGBA{R: 200, A: 255}, fmt.Sprintf("the handler's wait (%s ms)", num(wait))); err != nil {
			return nil, err
		}
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.Y.Min, p.Y.Max = 0, math.Max(top, wait)*1.15
	return p, nil
}

// ---- idle connections -------------------------------------------------------

// idleChart: server RSS while holding idle connections, from each point's
// first repetition (the one the tables use: later repetitions start from
// the heap the larger points grew), with the range over repetitions as
// error bars.
func idleChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("Idle keep-alive connections: server memory (first repetition)", "idle connections held", "server RSS, MiB")
	n := 0
	ticks := plot.ConstantTicks{{Value: 0, Label: "0"}}
	top := 0.0
	for i, cfg := range configsIn(f, "idle-connections") {
		var pts plotter.XYs
		var errs plotter.YErrors
		for _, r := range rowsOf(f, "idle-connections", cfg) {
			if r.Idle == nil {
				continue
			}
			fr := verdict.FreshOf(r)
			if len(pts) == 0 && fr.RSSBeforeBytes > 0 {
				pts = append(pts, plotter.XY{X: 0, Y: fr.RSSBeforeBytes / (1 << 20)})
				errs = append(errs, struct{ Low, High float64 }{})
			}
			y := fr.RSSBytes / (1 << 20)
			pts = append(pts, plotter.XY{X: r.Idle.Held.Median, Y: y})
			if x := float64(r.Point.Idle); x > top {
				top = x
			}
			if !hasTick(ticks, float64(r.Point.Idle)) {
				ticks = append(ticks, plot.Tick{Value: float64(r.Point.Idle), Label: num(float64(r.Point.Idle))})
			}
			s := r.Server.RSSPeakBytes
			errs = append(errs, struct{ Low, High float64 }{math.Max(0, y-s.Min/(1<<20)), math.Max(0, s.Max/(1<<20)-y)})
		}
		if len(pts) == 0 {
			continue
		}
		n++
		col := plotutil.Color(i)
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = col, col
		l.Width = vg.Points(1.5)
		s.Shape = plotutil.Shape(i)
		s.Radius = vg.Points(3.5)
		p.Add(l, s)
		p.Legend.Add(cfg, l, s)
		if err := errBars(p, pts, errs, col); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, nil
	}
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max = top * 1.04
	p.X.Tick.Marker = ticks
	return p, nil
}

func hasTick(ts plot.ConstantTicks, v float64) bool {
	for _, t := range ts {
		if t.Value == v {
			return true
		}
	}
	return false
}

// ---- cpu ----------------------------------------------------------------

// cpuChart: CPU-bound throughput per configuration on 1 and 2 server cores,
// with intervals, and the ideal on 2 cores (twice the 1-core rate) as a
// dashed mark over each configuration.
func cpuChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("CPU-bound work: throughput by cores", "configuration", "requests per second")
	cfgs := configsIn(f, "cpu")
	var labels []string
	for i := range f.Scenarios {
		if f.Scenarios[i].Name != "cpu" {
			continue
		}
		for _, r := range f.Scenarios[i].Rows {
			if !contains(labels, r.Point.Label) {
				labels = append(labels, r.Point.Label)
			}
		}
	}
	sort.Strings(labels) // "1 core(s)" before "2 core(s)"
	if len(cfgs) == 0 || len(labels) == 0 {
		return nil, nil
	}
	var ss []series
	n := 0
	for _, l := range labels {
		ss = append(ss, barSeries("on "+coresLabel(l), len(cfgs), &n,
			func(i int) *results.Row { return get(f, "cpu", cfgs[i], l) },
			func(r *results.Row) results.Stat { return r.RPS }))
	}
	if n == 0 {
		return nil, nil
	}
	top, err := groupedBars(p, ss, vg.Points(22))
	if err != nil {
		return nil, err
	}
	// The ideal: twice the 1-core rate, over each configuration's 2-core bar.
	if len(ss) >= 2 {
		first := true
		for ci := range cfgs {
			if ss[0].vals[ci] <= 0 {
				continue
			}
			ideal := 2 * ss[0].vals[ci]
			lbl := ""
			if first {
				lbl = "ideal on 2 cores: 2 × the 1-core rate"
				first = false
			}
			x := float64(ci)
			if err := hline(p, x-0.4, x+0.4, ideal, color.RGBA{R: 200, A: 255}, lbl); err != nil {
				return nil, err
			}
			top = math.Max(top, ideal)
		}
	}
	p.NominalX(cfgs...)
	p.X.Min, p.X.Max = -0.5, float64(len(cfgs))-0.5
	p.Y.Min, p.Y.Max = 0, top*1.1
	return p, nil
}

// coresLabel turns a cpu point label into words: "1 core(s)" → "1 core".
func coresLabel(l string) string { return tidy(l) }

// ---- fan-out ------------------------------------------------------------

// fanoutChart: p50 latency of sequential against parallel calls, by number
// of calls, per configuration, with the sum and the largest of the waits.
func fanoutChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("Fan-out: sequential calls add their waits, parallel calls take the largest", "calls per request, and how they are made", "p50 latency, ms")
	cfgs := configsIn(f, "fanout")
	sc, ok := catalog.ScenarioByName("fanout")
	if !ok || len(cfgs) == 0 {
		return nil, nil
	}
	var labels []string
	var pts []catalog.Point
	for _, pt := range sc.Points {
		for _, cfg := range cfgs {
			if get(f, "fanout", cfg, pt.Label) != nil {
				labels = append(labels, pt.Label)
				pts = append(pts, pt)
				break
			}
		}
	}
	var ss []series
	n := 0
	for _, cfg := range cfgs {
		ss = append(ss, barSeries(cfg, len(labels), &n,
			func(i int) *results.Row { return get(f, "fanout", cfg, labels[i]) },
			func(r *results.Row) results.Stat { return r.P50Ms }))
	}
	if n == 0 {
		return nil, nil
	}
	top, err := groupedBars(p, ss, vg.Points(9))
	if err != nil {
		return nil, err
	}
	// The predictions: over each point, the sum (seq) or the largest (par) wait.
	first := map[string]bool{}
	for i, pt := range pts {
		if pt.Ms <= 0 || pt.Calls <= 0 || !simpleFan.MatchString(pt.Label) {
			continue // cold connections and unequal waits: their predictions are the verdicts'
		}
		y, lbl := float64(pt.Ms), "par: the largest wait"
		if pt.Mode == "seq" {
			y, lbl = float64(pt.Ms*pt.Calls), "seq: the sum of the waits"
		}
		if first[lbl] {
			lbl = ""
		} else {
			first[lbl] = true
		}
		if err := hline(p, float64(i)-0.45, float64(i)+0.45, y, color.RGBA{R: 200, A: 255}, lbl); err != nil {
			return nil, err
		}
		top = math.Max(top, y)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.Y.Min, p.Y.Max = 0, top*1.1
	return p, nil
}

// simpleFan matches the fan-out points with equal waits and pooled
// connections, whose prediction is plainly the sum or the largest wait.
var simpleFan = regexp.MustCompile(`^calls=\d+ (seq|par)$`)

// ---- the 2×2 -----------------------------------------------------------------

// twoByTwoChart: the four cells' throughput with intervals, each with its
// Little bound (slots ÷ the time a request holds one) drawn over its bar.
func twoByTwoChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("Django's 2×2: throughput of each cell against its Little bound", "code on server (configuration)", "requests per second")
	cells := verdict.Cells(f)
	var names []string
	var vals []float64
	var errs plotter.YErrors
	var bnds []float64
	for _, c := range cells {
		if c.Row == nil {
			continue
		}
		names = append(names, fmt.Sprintf("%s on %s\n(%s)", c.Code, c.Server, c.Config))
		vals = append(vals, c.Row.RPS.Median)
		lo, hi := spread(c.Row.RPS)
		errs = append(errs, struct{ Low, High float64 }{lo, hi})
		b := 0.0
		if c.Row.LittleBoundRPS != nil {
			b = *c.Row.LittleBoundRPS
		}
		bnds = append(bnds, b)
	}
	if len(names) == 0 {
		return nil, nil
	}
	top, err := groupedBars(p, []series{{name: "measured rps", vals: vals, errs: errs}}, vg.Points(50))
	if err != nil {
		return nil, err
	}
	var lpts plotter.XYs
	var lbls []string
	first := true
	for i, b := range bnds {
		if b <= 0 {
			continue
		}
		lbl := ""
		if first {
			lbl = "Little bound: min(c, slots) ÷ time a slot is held"
			first = false
		}
		if err := hline(p, float64(i)-0.35, float64(i)+0.35, b, color.RGBA{R: 200, A: 255}, lbl); err != nil {
			return nil, err
		}
		lpts = append(lpts, plotter.XY{X: float64(i), Y: b})
		lbls = append(lbls, "bound "+num(b))
		top = math.Max(top, b)
	}
	if len(lpts) > 0 {
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: lpts, Labels: lbls})
		if err != nil {
			return nil, err
		}
		for i := range lab.TextStyle {
			lab.TextStyle[i].Font = font.From(sans, 10)
			lab.TextStyle[i].XAlign = draw.XCenter
		}
		lab.Offset = vg.Point{Y: vg.Points(4)}
		p.Add(lab)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.Y.Min, p.Y.Max = 0, top*1.15
	return p, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
