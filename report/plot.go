package report

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Series is one named line of a chart: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// Chart describes the texts of a chart.
type Chart struct {
	Title, XLabel, YLabel string
	LogY                  bool // logarithmic y axis (all values must be positive)
}

// palette is the colours of successive series or bar groups: colour-blind
// safe (Okabe–Ito).
var palette = [...]color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {240, 228, 66, 255}, {0, 0, 0, 255},
}

func newPlot(c Chart) *plot.Plot {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	return p
}

// LinePlot writes a PNG line chart of the series to path, atomically. It
// returns an error if a series has X and Y of different lengths.
func LinePlot(path string, c Chart, series ...Series) error {
	p := newPlot(c)
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("report: %s: series %q has %d x and %d y values", path, s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.X))
		for j := range s.X {
			xy[j].X, xy[j].Y = s.X[j], s.Y[j]
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("report: %s: series %q: %w", path, s.Name, err)
		}
		l.Color = palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		l.Dashes = plotutil.Dashes(i / len(palette))
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	return save(p, path)
}

// Bars is one group of bars of a bar chart: Values[i] belongs to the i-th
// category.
type Bars struct {
	Name   string
	Values []float64
}

// BarPlot writes a PNG grouped bar chart to path, atomically: one group per
// category, one bar per Bars in each group. It returns an error if a Bars
// has a value count other than the number of categories.
func BarPlot(path string, c Chart, categories []string, groups ...Bars) error {
	p := newPlot(c)
	width := vg.Points(float64(min(40, 320/max(1, len(categories)*len(groups)))))
	for i, g := range groups {
		if len(g.Values) != len(categories) {
			return fmt.Errorf("report: %s: bars %q have %d values for %d categories", path, g.Name, len(g.Values), len(categories))
		}
		b, err := plotter.NewBarChart(plotter.Values(g.Values), width)
		if err != nil {
			return fmt.Errorf("report: %s: bars %q: %w", path, g.Name, err)
		}
		b.Color = palette[i%len(palette)]
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(len(groups)-1)/2) * width
		p.Add(b)
		p.Legend.Add(g.Name, b)
	}
	p.NominalX(categories...)
	// Room for the outer bars of the first and last groups, whose width is
	// in points, not in data units.
	p.X.Min, p.X.Max = -0.75, float64(len(categories))-0.25
	return save(p, path)
}

func save(p *plot.Plot, path string) error {
	// Headroom above the data, so that the legend in the top corner does not
	// hide the highest points or bars.
	if _, log := p.Y.Scale.(plot.LogScale); log {
		p.Y.Max *= 4
	} else {
		p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min)
	}
	w, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return writeAtomic(path, func(f io.Writer) error {
		_, err := w.WriteTo(f)
		return err
	})
}
