package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/report"
)

// MLPRow is one row of the MLP table: a model at the epochs of the latest
// plan naming it.
type MLPRow struct {
	Model     string
	Epochs    int
	Lambda    float64 // of the NSR runs: the published λ
	Vanilla   Summary
	NSR       Summary
	Published PublishedMLP
	Known     bool // whether the model is in the published table
	// Other counts the model's records left out of the row: at other
	// epochs (an earlier quick run) or seeds beyond the plan's.
	Other int
}

// Gain returns NSR's mean test accuracy minus vanilla's, a fraction: the
// drop in test error, positive when NSR helps; NaN when either is missing.
func (r MLPRow) Gain() float64 {
	if r.Vanilla.N == 0 || r.NSR.N == 0 {
		return math.NaN()
	}
	return r.NSR.Mean - r.Vanilla.Mean
}

// MLPTable computes the MLP table from records alone: the plan they were
// run under (see planOf) and one row per model of it, with whatever runs
// are recorded at the model's epochs.
func MLPTable(recs []Record) (Plan, []MLPRow) {
	p, _ := planOf(recs, TableMLP)
	var rows []MLPRow
	for _, m := range p.Models {
		cell := cellRecords(recs, TableMLP, ImplGNSR, m, MLPDataset)
		pub, known := Published(m)
		row := MLPRow{Model: m, Epochs: p.Epochs[m], Lambda: pub.Lambda, Published: pub, Known: known}
		if !known {
			// Not from this code's plans; show the λ the records ran.
			for _, r := range cell {
				if r.Variant == NSR {
					row.Lambda = r.Lambda
					break
				}
			}
		}
		van := selectRuns(cell, Cell{Variant: Vanilla, Epochs: row.Epochs}, p.Seeds)
		nsr := selectRuns(cell, Cell{Variant: NSR, Layer: MLPLayer, Lambda: row.Lambda, Epochs: row.Epochs}, p.Seeds)
		row.Vanilla, row.NSR = summarize(van), summarize(nsr)
		row.Other = len(cell) - len(van) - len(nsr)
		rows = append(rows, row)
	}
	return p, rows
}

// errPct prints a summary's test error as "2.29 ± 0.07" percent, with the
// notes of pct.
func errPct(s Summary, seeds int) string {
	if s.N == 0 {
		return pct(s, seeds)
	}
	e := s
	e.Mean = 1 - s.Mean
	return pct(e, seeds)
}

// MLPMarkdown renders the MLP table of recs as markdown: the protocol and
// the machine first, then our numbers beside the published ones. It uses
// the records alone.
func MLPMarkdown(recs []Record) []byte {
	p, rows := MLPTable(recs)
	var b strings.Builder
	mlpRecs := markdownStart(&b, "MNIST MLPs: vanilla against NSR, beside the published numbers", TableMLP, "mlp.jsonl", "gnsr bench mlp", recs)
	if mlpRecs == nil {
		return []byte(b.String())
	}
	var epochs []string
	short := false
	for _, r := range rows {
		if e := fmt.Sprint(r.Epochs); !slices.Contains(epochs, e) {
			epochs = append(epochs, e)
		}
		short = short || r.Epochs < r.Published.Epochs
	}
	epochText := epochsPhrase(epochs[0])
	if len(epochs) > 1 {
		epochText = "epochs per row (" + strings.Join(epochs, " / ") + ")"
	}
	b.WriteString("## Protocol\n\n")
	b.WriteString("The MNIST protocol of the NSR paper (Fu et al., NeurIPS 2022) and its authors' code, as `docs/nsr.md` of the shared folder states it:\n\n")
	b.WriteString("- **Data**: MNIST's 60,000 training images, of which 10,000 are held out for validation (a random permutation drawn from the seed), and its 10,000 test images; pixels scaled to [0, 1].\n")
	b.WriteString("- **Models**: MLP-k has k layers counting input and output: the hidden widths of the table, ReLU, Xavier-normal weights and zero biases.\n")
	fmt.Fprintf(&b, "- **Training**: plain SGD (no momentum), learning rate %s, weight decay %s, batch %s, %s; the published protocol has 100.\n",
		distinct(mlpRecs, func(r Record) string { return fmt.Sprint(r.LR) }),
		distinct(mlpRecs, func(r Record) string { return fmt.Sprint(r.WeightDecay) }),
		distinct(mlpRecs, func(r Record) string { return fmt.Sprint(r.Batch) }), epochText)
	fmt.Fprintf(&b, "- **NSR**: on the logits (layer %d) with a memory queue of the last 5 batches, with the published λ of each architecture (not tuned here).\n", MLPLayer)
	fmt.Fprintf(&b, "- **Reported**: test error at the epoch of best validation accuracy (the latest on ties), mean ± sample std (n−1) over %s, in %%. Gain: vanilla error minus +NSR error, in points (positive: NSR helps). Published: the paper's numbers after 100 epochs, mean ± std over its runs.\n", seedRange(p.Seeds))
	b.WriteString("- **Epoch ms**: median over seeds of each run's median epoch of training steps (batch copy, forward, backward, update; evaluation excluded).\n")
	writeMachines(&b, mlpRecs)

	b.WriteString("\n## Results\n\n")
	b.WriteString("| model | hidden | epochs | seeds | vanilla test error (%) | +NSR test error (%) | gain (points) | published vanilla (%) | published +NSR (%) | published gain (points) | λ | epoch ms vanilla | epoch ms NSR |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	other := 0
	for _, r := range rows {
		hidden, pubVan, pubNSR, pubGain := "—", "—", "—", "—"
		if r.Known {
			hidden = joinInts(r.Published.Hidden)
			pubVan = fmt.Sprintf("%.2f ± %.2f", r.Published.Vanilla, r.Published.VanillaStd)
			pubNSR = fmt.Sprintf("%.2f ± %.2f", r.Published.NSR, r.Published.NSRStd)
			pubGain = fmt.Sprintf("%+.2f", r.Published.Vanilla-r.Published.NSR)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %g | %s | %s |\n",
			r.Model, hidden, r.Epochs, p.Seeds, errPct(r.Vanilla, p.Seeds), errPct(r.NSR, p.Seeds), signed(100*r.Gain(), ".2f"),
			pubVan, pubNSR, pubGain, r.Lambda, ms(r.Vanilla), ms(r.NSR))
		other += r.Other
	}
	b.WriteString("\nA cell with fewer runs than seeds shows their count n: the bench has not finished it.")
	if short {
		b.WriteString(" Rows under 100 epochs are shortened runs: they do not compare with the published numbers, which are after 100.")
	}
	b.WriteString("\n")
	if other > 0 {
		fmt.Fprintf(&b, "\n%d other runs in mlp.jsonl (at other epochs or seeds than the rows') are left out.\n", other)
	}
	return []byte(b.String())
}

// Okabe–Ito sky blue and orange, the published counterparts of blue and
// vermilion in the MLP chart.
var (
	skyBlue = color.RGBA{86, 180, 233, 255}
	orange  = color.RGBA{230, 159, 0, 255}
)

// WriteMLPReport writes mlp.md and mlp.png into dir from recs alone, each
// atomically. The chart holds the rows that have both vanilla and NSR
// results, beside the published numbers; without any, it is not written.
func WriteMLPReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TableMLP+".md"), MLPMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, rows := MLPTable(recs)
	var cats []string
	van := errBars{name: "vanilla (ours)", color: blue}
	nsr := errBars{name: "+NSR (ours)", color: vermilion}
	pubVan := errBars{name: "vanilla (published)", color: skyBlue}
	pubNSR := errBars{name: "+NSR (published)", color: orange}
	for _, r := range rows {
		if r.Vanilla.N == 0 || r.NSR.N == 0 || !r.Known {
			continue
		}
		cats = append(cats, r.Model+" "+epochsPhrase(fmt.Sprint(r.Epochs)))
		van.mean, van.err = append(van.mean, 100*(1-r.Vanilla.Mean)), append(van.err, 100*r.Vanilla.Std)
		nsr.mean, nsr.err = append(nsr.mean, 100*(1-r.NSR.Mean)), append(nsr.err, 100*r.NSR.Std)
		pubVan.mean, pubVan.err = append(pubVan.mean, r.Published.Vanilla), append(pubVan.err, r.Published.VanillaStd)
		pubNSR.mean, pubNSR.err = append(pubNSR.mean, r.Published.NSR), append(pubNSR.err, r.Published.NSRStd)
	}
	if len(cats) == 0 {
		return nil
	}
	png, err := barChartPNG("MNIST test error, vanilla against NSR (mean ± std over seeds; published: 100 epochs)", "test error (%)", cats, van, nsr, pubVan, pubNSR)
	if err != nil {
		return err
	}
	if err := report.WriteFileAtomic(filepath.Join(dir, TableMLP+".png"), png); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// epochsPhrase prints a count of epochs: "1 epoch", "20 epochs", "3 / 100
// epochs".
func epochsPhrase(n string) string {
	if n == "1" {
		return "1 epoch"
	}
	return n + " epochs"
}
