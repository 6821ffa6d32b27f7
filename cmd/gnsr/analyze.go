package main

import (
	"fmt"

	"os"
	"path/filepath"
	"strconv"

	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/report"
	"github.com/spf13/cobra"
)

func newAnalyzeCmd() *cobra.Command {
	f := &trainFlags{cfg: gnn.DefaultConfig()}
	var out string
	cmd := &cobra.Command{
		Use:   "analyze --dataset NAME [--nsr-lambda L] [flags]",
		Short: "Plot the paper's two observations: intra-class variance vs errors, and during training",
		Long: `Train the model twice with the same seed, without NSR and with it (--nsr-lambda,
default 1, on --nsr-layers), and write to --out:

  variance_by_class.png/.csv  per class, the aggregated intra-class variance Σ_n σ_n
                              of the analysed layer on correctly and on wrongly
                              classified test nodes (the paper's observation 1:
                              misclassified nodes respond less steadily)
  by_epoch.csv,
  loss_by_epoch.png,
  variance_by_epoch.png       per epoch, the training cross-entropy and the layer's
                              intra-class variance on the training nodes, vanilla
                              against NSR (observation 2: cross-entropy alone lets
                              the variance grow; NSR holds it down)

The analysed layer is the first NSR layer (default 0, the hidden layer).`,
		Example: `  gnsr analyze --dataset pubmed --nsr-lambda 1 --out analysis/pubmed`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAnalyze(cmd, f, out)
		},
	}
	addRunFlags(cmd, f)
	graphOnly(cmd)
	cmd.Flags().Lookup("nsr-lambda").DefValue = "1"
	if err := cmd.Flags().Set("nsr-lambda", "1"); err != nil {
		panic(err)
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for the PNG and CSV files (default analysis-<dataset>-<model>)")
	return cmd
}

func runAnalyze(cmd *cobra.Command, f *trainFlags, out string) error {
	if cmd.Flags().Changed("seeds") && f.seeds != 1 {
		return fmt.Errorf("--seeds = %d: analyze trains one seed, vanilla and with NSR, and plots that pair; choose it with --seed", f.seeds)
	}
	if err := checkGraphDataset(f); err != nil {
		return err
	}
	f.seeds = 1
	data, err := prepare(cmd, f)
	if err != nil {
		return err
	}
	if !f.cfg.NSR.Enabled() || f.cfg.NSR.Auto {
		return fmt.Errorf("analyze needs --nsr-lambda > 0 and explicit --nsr-layers (not auto)")
	}
	layer := f.cfg.NSR.Layers[0]
	if out == "" {
		out = fmt.Sprintf("analysis-%s-%s", filepath.Base(f.dataset), f.cfg.Arch) // a --graph directory by its last element
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	vanilla := f.cfg
	vanilla.NSR.Lambdas = nil
	prog := newProgress(cmd.ErrOrStderr(), f.quiet, 2*f.cfg.Epochs)
	defer prog.finish()
	runs := make([]*gnn.Result, 2)
	for i, cfg := range []gnn.Config{vanilla, f.cfg} {
		rs, err := trainSeeds(cmd, f, cfg, data, prog, nil)
		if err != nil {
			return err
		}
		runs[i] = rs[0]
	}
	prog.finish()
	names := []string{"vanilla", fmt.Sprintf("NSR λ=%g", f.cfg.NSR.Lambdas[0])}
	title := fmt.Sprintf("%s, %s, layer %d, seed %d", f.dataset, f.cfg.Arch, layer, f.seed)
	mask := f.cfg.NSR.MaskZeros && layer+1 < f.cfg.Layers
	if err := writeByClass(out, title, names, runs, data, layer, mask); err != nil {
		return err
	}
	if err := writeByEpoch(out, title, names, runs, layer); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	for i, r := range runs {
		last := r.Epochs[len(r.Epochs)-1]
		fmt.Fprintf(w, "%-12s test acc %.2f%%  final training cross-entropy %.4f  layer %d intra-class variance on training nodes %.4g\n",
			names[i], 100*r.TestAcc, last.Loss, layer, last.Variance[layer])
	}
	fmt.Fprintf(w, "wrote %s\n", out)
	return nil
}

// writeByClass writes observation 1: per class, the aggregated intra-class
// variance of the layer on correct and on wrong test nodes, each about the
// mean of all test nodes of its class.
func writeByClass(dir, title string, names []string, runs []*gnn.Result, d *gnn.Data, layer int, mask bool) error {
	classes := make([]string, d.NumClasses)
	for c := range classes {
		classes[c] = strconv.Itoa(c)
	}
	var rows [][]string
	var bars []report.Bars
	for i, r := range runs {
		h := r.Outputs[layer]
		width := len(h) / d.Graph.NumNodes()
		logits := r.Outputs[len(r.Outputs)-1]
		testLabels := labelsOf(d, d.Test)
		means, _ := nsr.ClassMeans(h, width, d.Test, testLabels, d.NumClasses, mask)
		right, wrong := make([]float64, d.NumClasses), make([]float64, d.NumClasses)
		for c := 0; c < d.NumClasses; c++ {
			var ok, bad []int
			for _, v := range d.Test {
				if d.Labels[v] != c {
					continue
				}
				if argmax(logits[v*d.NumClasses:(v+1)*d.NumClasses]) == c {
					ok = append(ok, v)
				} else {
					bad = append(bad, v)
				}
			}
			if len(ok) > 0 {
				right[c] = nsr.Aggregate(nsr.VarianceAround(h, width, ok, repeat(c, len(ok)), means, mask))
			}
			if len(bad) > 0 {
				wrong[c] = nsr.Aggregate(nsr.VarianceAround(h, width, bad, repeat(c, len(bad)), means, mask))
			}
			rows = append(rows, []string{names[i], classes[c], strconv.Itoa(len(ok)), strconv.Itoa(len(bad)), ftoa(right[c]), ftoa(wrong[c])})
		}
		bars = append(bars, report.Bars{Name: names[i] + ", correct", Values: right}, report.Bars{Name: names[i] + ", wrong", Values: wrong})
	}
	if err := report.WriteCSV(filepath.Join(dir, "variance_by_class.csv"),
		[]string{"variant", "class", "correct", "wrong", "variance_correct", "variance_wrong"}, rows); err != nil {
		return err
	}
	return report.BarPlot(filepath.Join(dir, "variance_by_class.png"), report.Chart{
		Title:  "Intra-class variance of test nodes, correct vs wrong: " + title,
		XLabel: "class", YLabel: "aggregated intra-class variance Σn σn",
	}, classes, bars...)
}

// writeByEpoch writes observation 2: training cross-entropy and the layer's
// intra-class variance on the training nodes, per epoch.
func writeByEpoch(dir, title string, names []string, runs []*gnn.Result, layer int) error {
	var rows [][]string
	var loss, variance []report.Series
	for i, r := range runs {
		ls, vs := report.Series{Name: names[i]}, report.Series{Name: names[i]}
		for _, e := range r.Epochs {
			x := float64(e.Epoch)
			ls.X, ls.Y = append(ls.X, x), append(ls.Y, e.Loss)
			vs.X, vs.Y = append(vs.X, x), append(vs.Y, e.Variance[layer])
			rows = append(rows, []string{names[i], strconv.Itoa(e.Epoch), ftoa(e.Loss), ftoa(e.NSRLoss), ftoa(e.Variance[layer]), ftoa(e.ValAcc)})
		}
		loss, variance = append(loss, ls), append(variance, vs)
	}
	if err := report.WriteCSV(filepath.Join(dir, "by_epoch.csv"),
		[]string{"variant", "epoch", "cross_entropy", "nsr_loss", "intra_class_variance", "val_acc"}, rows); err != nil {
		return err
	}
	if err := report.LinePlot(filepath.Join(dir, "loss_by_epoch.png"), report.Chart{
		Title: "Training cross-entropy: " + title, XLabel: "epoch", YLabel: "cross-entropy on training nodes",
	}, loss...); err != nil {
		return err
	}
	return report.LinePlot(filepath.Join(dir, "variance_by_epoch.png"), report.Chart{
		Title: "Intra-class variance on training nodes: " + title, XLabel: "epoch", YLabel: "aggregated intra-class variance Σn σn",
	}, variance...)
}

func labelsOf(d *gnn.Data, nodes []int) []int {
	out := make([]int, len(nodes))
	for i, v := range nodes {
		out[i] = d.Labels[v]
	}
	return out
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func argmax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
