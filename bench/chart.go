package bench

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"github.com/gnsr/gnsr/report"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// errBars is one series of a grouped bar chart, with ± errors.
type errBars struct {
	name      string
	mean, err []float64
	color     color.RGBA
}

// points places error bars on a series' bars.
type points struct {
	plotter.XYs
	plotter.YErrors
}

// barChartPNG renders a grouped bar chart with error bars as PNG. It is
// drawn with gonum/plot directly rather than report.BarPlot, which has no
// error bars: bars and error bars are both placed in data units so that
// they line up whatever the chart's width.
func barChartPNG(title, ylabel string, cats []string, series ...errBars) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	const groupWidth = 0.8 // of the unit between categories
	step := groupWidth / float64(len(series))
	// Points per data unit, roughly: the x axis runs from -0.5 to n-0.5 over
	// the data area, about 9.2 of the chart's 10 inches.
	unit := 9.2 * 72 / float64(len(cats))
	top, bottom := 0.0, math.Inf(1)
	for i, s := range series {
		shift := (float64(i) - float64(len(series)-1)/2) * step
		b, err := plotter.NewBarChart(plotter.Values(s.mean), vg.Points(0.9*step*unit))
		if err != nil {
			return nil, fmt.Errorf("bench: chart: %w", err)
		}
		b.XMin = shift
		b.Color = s.color
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(s.name, b)
		pts := points{XYs: make(plotter.XYs, len(s.mean)), YErrors: make(plotter.YErrors, len(s.mean))}
		for j := range s.mean {
			pts.XYs[j] = plotter.XY{X: float64(j) + shift, Y: s.mean[j]}
			pts.YErrors[j].Low, pts.YErrors[j].High = s.err[j], s.err[j]
			top = math.Max(top, s.mean[j]+s.err[j])
			bottom = math.Min(bottom, s.mean[j]-s.err[j])
		}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, fmt.Errorf("bench: chart: %w", err)
		}
		eb.LineStyle.Width = vg.Points(1)
		p.Add(eb)
	}
	if len(cats) <= 6 {
		// Upright labels have room for two lines: dataset over model.
		for i, c := range cats {
			cats[i] = strings.Replace(c, " ", "\n", 1)
		}
	}
	p.NominalX(cats...)
	p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
	if len(cats) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	// Accuracies differ by a point or two around 80%: an axis from 0 would
	// hide every difference, so it starts below the lowest error bar, and
	// the label says where.
	p.Y.Min = math.Max(0, 10*math.Floor((bottom-5)/10))
	p.Y.Max = top + 0.35*(top-p.Y.Min) // room for the legend
	if p.Y.Min > 0 {
		p.Y.Label.Text = fmt.Sprintf("%s, axis from %g", ylabel, p.Y.Min)
	}
	return encodePNG(p, 10*vg.Inch, 5*vg.Inch)
}

// encodePNG renders p at width × height as PNG.
func encodePNG(p *plot.Plot, width, height vg.Length) ([]byte, error) {
	w, err := p.WriterTo(width, height, "png")
	if err != nil {
		return nil, fmt.Errorf("bench: chart: %w", err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("bench: chart: %w", err)
	}
	return buf.Bytes(), nil
}

// Okabe–Ito blue and vermillion, as report's palette.
var (
	blue      = color.RGBA{0, 114, 178, 255}
	vermilion = color.RGBA{213, 94, 0, 255}
)

// WriteGNNReport writes gnn.md and gnn.png into dir from recs alone, each
// atomically. The chart holds the rows that have both vanilla and NSR
// results; without any, it is not written.
func WriteGNNReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TableGNN+".md"), GNNMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, rows := GNNTable(recs)
	var cats []string
	van := errBars{name: "vanilla", color: blue}
	nsr := errBars{name: "+NSR (λ chosen on validation)", color: vermilion}
	for _, r := range rows {
		if r.Vanilla.N == 0 || r.NSR.N == 0 {
			continue
		}
		cats = append(cats, r.Dataset+" "+r.Model)
		van.mean, van.err = append(van.mean, 100*r.Vanilla.Mean), append(van.err, 100*r.Vanilla.Std)
		nsr.mean, nsr.err = append(nsr.mean, 100*r.NSR.Mean), append(nsr.err, 100*r.NSR.Std)
	}
	if len(cats) == 0 {
		return nil
	}
	png, err := barChartPNG("Test accuracy, vanilla against NSR (mean ± std over seeds)", "test accuracy (%)", cats, van, nsr)
	if err != nil {
		return err
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, TableGNN+".png"), png); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
