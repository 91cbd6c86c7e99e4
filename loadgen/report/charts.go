package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

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
	chartIOWait = "io-wait-throughput.svg"
	chartCanary = "canary-p99.svg"
	chartIdle   = "idle-rss.svg"
	chartCPU    = "cpu-throughput.svg"
)

const chartW, chartH = 18 * vg.Centimeter, 10 * vg.Centimeter

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
		{chartCPU, "cpu: throughput on 1 and 2 cores, by workers and loops", cpuChart},
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

// renderSVG draws p with its legend to the right of the plot area, where
// it never hides data, and returns the SVG.
func renderSVG(p *plot.Plot) ([]byte, error) {
	c := vgsvg.New(chartW, chartH)
	dc := draw.New(c)
	legend := p.Legend
	p.Legend = plot.NewLegend()
	// 15 % slack: a viewer without Liberation Sans substitutes a font that
	// may be wider than the metrics the layout used.
	lw := legend.Rectangle(dc).Size().X * 1.15
	const pad = 6 * vg.Millimeter
	p.Draw(draw.Crop(dc, 0, -(lw + pad), 0, 0))
	legend.Top, legend.Left = true, true
	legend.Draw(draw.Crop(dc, chartW-lw-pad/2, 0, 0, -p.Title.TextStyle.Height(p.Title.Text)-pad))
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
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = x
	p.Y.Label.Text = y
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 9)
		a.Tick.Label.Font = font.From(sans, 8)
	}
	p.Legend.TextStyle.Font = font.From(sans, 8)
	p.Legend.ThumbnailWidth = vg.Points(18)
	p.Legend.Padding = vg.Points(3)
	p.Add(plotter.NewGrid())
	return p
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

func ioWaitChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("I/O waits: throughput against concurrency", "concurrent connections (c)", "requests per second")
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	bounds := map[string]bool{}
	n := 0
	for i, cfg := range configsIn(f, "io-wait") {
		rows := rowsOf(f, "io-wait", cfg)
		var pts, bpts plotter.XYs
		c, _ := catalog.ConfigByName(cfg)
		for j, r := range rows {
			if r.RPS.Median > 0 {
				pts = append(pts, plotter.XY{X: float64(r.Point.Conns), Y: r.RPS.Median})
			}
			if r.LittleBoundRPS == nil || *r.LittleBoundRPS <= 0 {
				continue
			}
			// The bound min(c, limit) ÷ wait bends at c = limit: draw the bend
			// where it falls between two measured points.
			if j > 0 && c.Limit != catalog.LimitNone && r.Point.Ms > 0 &&
				rows[j-1].Point.Conns < c.LimitN && c.LimitN < r.Point.Conns {
				bpts = append(bpts, plotter.XY{X: float64(c.LimitN), Y: float64(c.LimitN) / (float64(r.Point.Ms) / 1000)})
			}
			bpts = append(bpts, plotter.XY{X: float64(r.Point.Conns), Y: *r.LittleBoundRPS})
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
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(cfg, l, s)
		if len(bpts) == 0 {
			continue
		}
		key := fmt.Sprint(bpts)
		if bounds[key] {
			continue // the same bound as an earlier configuration (c ÷ wait)
		}
		bounds[key] = true
		bl, err := plotter.NewLine(bpts)
		if err != nil {
			return nil, err
		}
		bl.Color = col
		bl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(bl)
		p.Legend.Add(boundLabel(cfg), bl)
	}
	if n == 0 {
		return nil, nil
	}
	return p, nil
}

// boundLabel names a configuration's Little bound in the legend.
func boundLabel(cfg string) string {
	c, ok := catalog.ConfigByName(cfg)
	if !ok || c.Limit == catalog.LimitNone {
		return "Little's bound: c ÷ wait"
	}
	return fmt.Sprintf("bound: min(c, %d %s) ÷ wait", c.LimitN, c.Limit)
}

func canaryChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("A blocking call in the loop: the canary's p99", "handler style", "canary latency, ms (log)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var names []string
	var pts, starved plotter.XYs
	var errs plotter.YErrors
	wait := 0.0
	for _, cfg := range configsIn(f, "blocking-in-loop") {
		for _, r := range rowsOf(f, "blocking-in-loop", cfg) {
			if r.Canary == nil || r.Canary.P99Ms.N == 0 {
				continue
			}
			wait = float64(r.Point.Ms)
			x := float64(len(names))
			if a := verdict.CanaryOf(r); a.Starved && a.OldestWaitMs > 0 {
				// Its p99 describes the few probes answered; plot how long
				// the oldest unanswered one had waited instead.
				names = append(names, r.Style)
				starved = append(starved, plotter.XY{X: x, Y: a.OldestWaitMs})
				continue
			}
			c := r.Canary.P99Ms
			if c.Min <= 0 {
				continue
			}
			names = append(names, r.Style)
			pts = append(pts, plotter.XY{X: x, Y: c.Median})
			errs = append(errs, struct{ Low, High float64 }{c.Median - c.Min, c.Max - c.Median})
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.Shape = draw.BoxGlyph{}
		s.Radius = vg.Points(5)
		s.Color = plotutil.Color(0)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{pts, errs})
		if err != nil {
			return nil, err
		}
		p.Add(s, eb)
		p.Legend.Add("canary p99", s)
		for i, q := range pts {
			lo = math.Min(lo, q.Y-errs[i].Low)
			hi = math.Max(hi, q.Y+errs[i].High)
		}
	}
	if len(starved) > 0 {
		s, err := plotter.NewScatter(starved)
		if err != nil {
			return nil, err
		}
		s.Shape = draw.TriangleGlyph{}
		s.Radius = vg.Points(6)
		s.Color = plotutil.Color(1)
		p.Add(s)
		p.Legend.Add("starved: oldest probe's wait (≥)", s)
		for _, q := range starved {
			lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
		}
	}
	if wait > 0 {
		wl, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: wait}, {X: float64(len(names)) - 0.5, Y: wait}})
		if err != nil {
			return nil, err
		}
		wl.Color = color.RGBA{R: 200, A: 255}
		wl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(wl)
		p.Legend.Add(fmt.Sprintf("the handler's wait (%g ms)", wait), wl)
		lo, hi = math.Min(lo, wait), math.Max(hi, wait)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.Y.Min, p.Y.Max = lo/2, hi*2
	return p, nil
}

func idleChart(f *results.File) (*plot.Plot, error) {
	p := newPlot("Idle keep-alive connections: server memory", "idle connections held", "server RSS, MiB")
	n := 0
	for i, cfg := range configsIn(f, "idle-connections") {
		var pts plotter.XYs
		for _, r := range rowsOf(f, "idle-connections", cfg) {
			if r.Idle == nil {
				continue
			}
			fr := verdict.FreshOf(r) // later repetitions reuse the heap of larger points
			if len(pts) == 0 && fr.RSSBeforeBytes > 0 {
				pts = append(pts, plotter.XY{X: 0, Y: fr.RSSBeforeBytes / (1 << 20)})
			}
			pts = append(pts, plotter.XY{X: r.Idle.Held.Median, Y: fr.RSSBytes / (1 << 20)})
		}
		if len(pts) == 0 {
			continue
		}
		n++
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
		s.Shape = plotutil.Shape(i)
		p.Add(l, s)
		p.Legend.Add(cfg, l, s)
	}
	if n == 0 {
		return nil, nil
	}
	p.X.Min, p.Y.Min = 0, 0
	return p, nil
}

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
	w := vg.Points(60 / float64(len(labels)))
	n := 0
	for li, l := range labels {
		vals := make(plotter.Values, len(cfgs))
		for ci, cfg := range cfgs {
			for _, r := range rowsOf(f, "cpu", cfg) {
				if r.Point.Label == l {
					vals[ci] = r.RPS.Median
					n++
				}
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(li)
		b.LineStyle.Width = 0
		b.Offset = w * vg.Length(float64(li)-float64(len(labels)-1)/2)
		p.Add(b)
		p.Legend.Add(l, b)
	}
	if n == 0 {
		return nil, nil
	}
	p.NominalX(cfgs...)
	p.Y.Min = 0
	top := 0.0
	for _, cfg := range cfgs {
		for _, r := range rowsOf(f, "cpu", cfg) {
			top = math.Max(top, r.RPS.Median)
		}
	}
	p.Y.Max = top * 1.1
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
