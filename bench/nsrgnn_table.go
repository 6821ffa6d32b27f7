package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/report"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// NSRGNNMarkdown renders the study's table of recs as markdown, from the
// records alone: the protocol, the results with the paired differences,
// and the λ selection.
func NSRGNNMarkdown(recs []Record) []byte {
	var b strings.Builder
	own := markdownStart(&b, "NSR on graph networks: a pre-registered study", TableNSRGNN, "nsr-gnn.jsonl and its shards' files", "gnsr bench nsr-gnn", recs)
	if own == nil {
		return []byte(b.String())
	}
	p, rows := NSRGNNTable(recs)
	first, n := p.testSeeds()
	b.WriteString("## Protocol\n\n")
	b.WriteString("Fixed in `gnsr bench nsr-gnn --help` before any result was seen.\n\n")
	writeDataProtocol(&b, p.Datasets)
	var depths []string
	for _, d := range p.Depths {
		depths = append(depths, fmt.Sprint(d))
	}
	batching := "full batch"
	if p.Sampled {
		var fan []string
		for _, d := range p.Depths {
			fan = append(fan, fmt.Sprintf("%v at depth %d", SampledFanouts(d), d))
		}
		batching = fmt.Sprintf("full batch, and %s also on neighbour-sampled mini-batches of %d training nodes (fanouts %s; NSR with the memory queue of K = 5 batches)",
			SampledModel, SampledBatch, strings.Join(fan, ", "))
	}
	writeModelProtocol(&b, own, p.Datasets, fmt.Sprintf("%s layers, plain stacks (no residual connections, no batch norm)", strings.Join(depths, " and ")), batching)
	b.WriteString("- **NSR arms**:")
	for _, a := range p.Arms {
		switch a {
		case ArmAuto:
			fmt.Fprintf(&b, " *auto*, the paper's rule: after %d vanilla epochs, the layer output with the largest aggregated intra-class variance on the training nodes, chosen by each run;", NSRGNNWarmup)
		case ArmLast:
			b.WriteString(" *last*, the last hidden layer's output (after its activation);")
		}
	}
	b.WriteString(" zero ReLU responses masked on hidden layers.\n")
	fmt.Fprintf(&b, "- **λ**: chosen per model, dataset and arm from {%s} by the mean validation accuracy over %s (the smaller λ on ties; a λ with a diverged run is out; test labels play no part).\n",
		joinFloats(p.Grid), seedRange(p.TuneSeeds))
	fmt.Fprintf(&b, "- **Held out**: vanilla and NSR at the chosen λ on seeds %d–%d, never used for the choice. A seed fixes the split (Amazon), the initial weights and the dropout draws, so the runs pair up by seed.\n",
		first, first+uint64(n)-1)
	b.WriteString("- **Reported**: test accuracy at the epoch of best validation accuracy, mean ± sample std (n−1) over the held-out seeds, in %. Δ: the mean per-seed difference NSR − vanilla in points, with its 95 % confidence interval (Student's t, n−1 degrees of freedom) and the two-sided p of the paired t-test; wins/losses: seeds where NSR is above/below vanilla. **Bold** Δ: the interval excludes zero. Layer: the regularised layer output (0 = the first hidden layer; the logits are depth−1), with how many held-out runs used it.\n")
	b.WriteString("- **Epoch ms**: median over seeds of each run's median training step.\n")
	writeMachines(&b, own)

	b.WriteString("\n## Results\n\n")
	b.WriteString("| dataset | model | vanilla (%) | arm | λ | layer | +NSR (%) | Δ (points) | 95 % CI | p | wins/losses | epoch ms vanilla | epoch ms NSR |\n")
	b.WriteString("|---|---|---:|---|---:|---|---:|---:|---|---:|---|---:|---:|\n")
	for _, r := range rows {
		for _, a := range r.Arms {
			lambda, layer, delta, ci, pv, wl := "—", "—", "—", "—", "—", "—"
			if a.Chosen {
				lambda, layer = fmt.Sprintf("%g", a.Lambda), layerCounts(a.Layers)
			}
			if a.Paired.N > 0 {
				delta = fmt.Sprintf("%+.2f", 100*a.Paired.Mean)
				if a.Paired.Lo > 0 || a.Paired.Hi < 0 {
					delta = "**" + delta + "**"
				}
				wl = fmt.Sprintf("%d/%d", a.Paired.Wins, a.Paired.Losses)
				if a.Missing > 0 {
					wl += fmt.Sprintf(" (%d unpaired)", a.Missing)
				}
			}
			if a.Paired.N > 1 {
				ci = fmt.Sprintf("[%+.2f, %+.2f]", 100*a.Paired.Lo, 100*a.Paired.Hi)
				pv = fmt.Sprintf("%.3f", a.Paired.P)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				r.Dataset, r.Model, pct(r.Vanilla, n), a.Arm, lambda, layer, pct(a.NSR, n), delta, ci, pv, wl, ms(r.Vanilla), ms(a.NSR))
		}
	}
	b.WriteString("\nA cell with fewer runs than held-out seeds shows their count n: the study has not finished it. λ —: not chosen yet, or every λ diverged.\n")

	fmt.Fprintf(&b, "\n## λ selection: mean validation accuracy (%%) of NSR over %s\n\n", seedRange(p.TuneSeeds))
	b.WriteString("| dataset | model | arm |")
	for _, l := range p.Grid {
		fmt.Fprintf(&b, " λ=%g |", l)
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---:|", len(p.Grid)) + "\n")
	for _, r := range rows {
		for _, a := range r.Arms {
			fmt.Fprintf(&b, "| %s | %s | %s |", r.Dataset, r.Model, a.Arm)
			for i, s := range a.Tuning {
				fmt.Fprintf(&b, " %s |", valPct(s, p.TuneSeeds, a.Chosen && p.Grid[i] == a.Lambda))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nBold: the chosen λ.\n")
	return []byte(b.String())
}

// layerCounts prints the layers runs used: "1", or "0 ×7, 1 ×3".
func layerCounts(c map[int]int) string {
	if len(c) == 0 {
		return "—"
	}
	var ls []int
	for l := range c {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	if len(ls) == 1 {
		return fmt.Sprint(ls[0])
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%d ×%d", l, c[l]))
	}
	return strings.Join(parts, ", ")
}

// WriteNSRGNNReport writes nsr-gnn.md and nsr-gnn.png (the paired
// differences with their intervals; not written before any cell has them)
// into dir from recs alone, each atomically.
func WriteNSRGNNReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TableNSRGNN+".md"), NSRGNNMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, rows := NSRGNNTable(recs)
	png, err := pairedChartPNG(rows)
	if err != nil || png == nil {
		return err
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, TableNSRGNN+".png"), png); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// pairedChartPNG draws each arm's mean paired difference with its 95 %
// interval, one line per model, dataset and arm, around a line at zero; nil
// when no arm has two pairs.
func pairedChartPNG(rows []NSRGNNRow) ([]byte, error) {
	type line struct {
		label        string
		mean, lo, hi float64
		arm          string
	}
	var lines []line
	for _, r := range rows {
		for _, a := range r.Arms {
			if a.Paired.N > 1 {
				lines = append(lines, line{fmt.Sprintf("%s %s %s", r.Dataset, r.Model, a.Arm), 100 * a.Paired.Mean, 100 * a.Paired.Lo, 100 * a.Paired.Hi, a.Arm})
			}
		}
	}
	if len(lines) == 0 {
		return nil, nil
	}
	p := plot.New()
	p.Title.Text = "NSR − vanilla, test accuracy: mean paired difference and 95 % CI"
	p.X.Label.Text = "difference (points)"
	p.Add(plotter.NewGrid())
	labels := make([]string, len(lines))
	lo, hi := 0.0, 0.0
	for _, arm := range []string{ArmAuto, ArmLast} {
		var pts struct {
			plotter.XYs
			plotter.XErrors
		}
		for i, l := range lines {
			// Top to bottom in table order.
			y := float64(len(lines) - 1 - i)
			labels[len(lines)-1-i] = l.label
			lo, hi = math.Min(lo, l.lo), math.Max(hi, l.hi)
			if l.arm != arm {
				continue
			}
			pts.XYs = append(pts.XYs, plotter.XY{X: l.mean, Y: y})
			pts.XErrors = append(pts.XErrors, struct{ Low, High float64 }{l.mean - l.lo, l.hi - l.mean})
		}
		if len(pts.XYs) == 0 {
			continue
		}
		col := blue
		if arm == ArmLast {
			col = vermilion
		}
		eb, err := plotter.NewXErrorBars(pts)
		if err != nil {
			return nil, fmt.Errorf("bench: chart: %w", err)
		}
		eb.LineStyle.Color, eb.LineStyle.Width = col, vg.Points(1.5)
		sc, err := plotter.NewScatter(pts.XYs)
		if err != nil {
			return nil, fmt.Errorf("bench: chart: %w", err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = col, draw.CircleGlyph{}, vg.Points(3)
		p.Add(eb, sc)
		p.Legend.Add("NSR arm "+arm, sc)
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.5}, {X: 0, Y: float64(len(lines)) - 0.5}})
	if err != nil {
		return nil, fmt.Errorf("bench: chart: %w", err)
	}
	zero.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.5, float64(len(lines))-0.5
	pad := 0.1 * (hi - lo)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	p.Legend.Top = true
	return encodePNG(p, 9*vg.Inch, vg.Length(1.5+0.22*float64(len(lines)))*vg.Inch)
}
