package main

import (
	"fmt"
	"github.com/gnsr/gnsr/internal/stats"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

// defaultLambdaGrid spans three decades: a GCN's hidden responses are small
// (Σ_n σ_n ≈ 0.05 on PubMed), so λ below 0.1 changes nothing measurable.
const defaultLambdaGrid = "0.1,0.3,1,3,10,30,100"

func newTuneCmd() *cobra.Command {
	f := &trainFlags{cfg: gnn.DefaultConfig()}
	var grid string
	cmd := &cobra.Command{
		Use:   "tune --dataset NAME [--nsr-lambda-grid L1,L2,...] [flags]",
		Short: "Choose the NSR λ on validation accuracy and report vanilla against NSR",
		Long: `Train without NSR and with each λ of --nsr-lambda-grid (on --nsr-layers), over
--seeds seeds each, choose the λ with the best mean validation accuracy (the
smaller λ on ties), and report the test accuracy of vanilla and of NSR at the
chosen λ, mean ± std over the seeds. Test labels play no part in the choice.

--json prints one object per λ (0 is vanilla) and a summary object.`,
		Example: `  gnsr tune --dataset cora --seeds 10
  gnsr tune --dataset pubmed --seeds 10 --nsr-lambda-grid 0.1,1,10 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTune(cmd, f, grid)
		},
	}
	addRunFlags(cmd, f)
	cmd.Flags().StringVar(&grid, "nsr-lambda-grid", defaultLambdaGrid, "comma-separated λ values to choose from (each > 0)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print JSON Lines on stdout: one object per λ, then a summary object")
	return cmd
}

// parseGrid reads --nsr-lambda-grid: positive, finite, distinct values.
func parseGrid(s string) ([]float64, error) {
	var grid []float64
	for _, field := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
		if err != nil || !(v > 0) || v > 1e12 {
			return nil, fmt.Errorf("--nsr-lambda-grid: %q is not a positive number", field)
		}
		if slices.Contains(grid, v) {
			return nil, fmt.Errorf("--nsr-lambda-grid: %v given twice", v)
		}
		grid = append(grid, v)
	}
	return grid, nil
}

type tuneRow struct {
	Lambda        float64 `json:"lambda"`
	ValAccMean    float64 `json:"val_acc_mean"`
	TestAccMean   float64 `json:"test_acc_mean"`
	TestAccStd    float64 `json:"test_acc_std"`
	EpochMsMedian float64 `json:"epoch_ms_median"`
}

type tuneSummary struct {
	Summary          bool    `json:"summary"`
	Dataset          string  `json:"dataset"`
	Model            string  `json:"model"`
	Seeds            int     `json:"seeds"`
	Epochs           int     `json:"epochs"`
	Hidden           int     `json:"hidden"`
	NSRLayers        string  `json:"nsr_layers"`
	NSRLambda        float64 `json:"nsr_lambda"` // the chosen λ
	VanillaTestMean  float64 `json:"vanilla_test_acc_mean"`
	VanillaTestStd   float64 `json:"vanilla_test_acc_std"`
	NSRTestMean      float64 `json:"nsr_test_acc_mean"`
	NSRTestStd       float64 `json:"nsr_test_acc_std"`
	Gain             float64 `json:"gain"`     // NSR − vanilla, in accuracy points (fraction)
	RelGain          float64 `json:"rel_gain"` // gain / vanilla
	VanillaEpochMs   float64 `json:"vanilla_epoch_ms_median"`
	NSREpochMs       float64 `json:"nsr_epoch_ms_median"`
	NSROverheadRatio float64 `json:"nsr_overhead_ratio"` // NSR epoch time / vanilla's
	WallS            float64 `json:"wall_s"`
}

func runTune(cmd *cobra.Command, f *trainFlags, gridFlag string) error {
	grid, err := parseGrid(gridFlag)
	if err != nil {
		return err
	}
	if f.nsrLambda != "0" && f.nsrLambda != "" {
		return fmt.Errorf("tune chooses λ itself: give the candidates with --nsr-lambda-grid, not --nsr-lambda")
	}
	f.nsrLambda = "1" // checked like a real run; replaced per grid point
	start := time.Now()
	data, err := prepare(cmd, f)
	if err != nil {
		return err
	}
	if f.cfg.NSR.Auto {
		return fmt.Errorf("tune needs explicit --nsr-layers, not auto")
	}
	out := cmd.OutOrStdout()
	prog := newProgress(cmd.ErrOrStderr(), f.quiet, (len(grid)+1)*f.seeds*f.cfg.Epochs)
	defer prog.finish()
	var rows []tuneRow
	for _, lambda := range append([]float64{0}, grid...) {
		cfg := f.cfg
		cfg.NSR.Lambdas = nil
		if lambda > 0 {
			cfg.NSR.Lambdas = slices.Repeat([]float64{lambda}, len(cfg.NSR.Layers))
		}
		rs, err := trainSeeds(cmd, f, cfg, data, prog, nil)
		if err != nil {
			return err
		}
		row := tuneRow{Lambda: lambda}
		var val, test, ms []float64
		for _, r := range rs {
			val, test, ms = append(val, r.ValAcc), append(test, r.TestAcc), append(ms, r.EpochMsMedian)
		}
		row.ValAccMean, _ = stats.MeanStd(val)
		row.TestAccMean, row.TestAccStd = stats.MeanStd(test)
		row.EpochMsMedian = stats.Median(ms)
		rows = append(rows, row)
		if f.jsonOut {
			if err := writeJSON(out, row); err != nil {
				return err
			}
		}
	}
	prog.finish()
	best := 1
	for i := 2; i < len(rows); i++ {
		if rows[i].ValAccMean > rows[best].ValAccMean {
			best = i
		}
	}
	v, n := rows[0], rows[best]
	sum := tuneSummary{
		Summary: true, Dataset: f.dataset, Model: f.cfg.Model, Seeds: f.seeds, Epochs: f.cfg.Epochs, Hidden: f.cfg.Hidden,
		NSRLayers: nsrLayersString(f), NSRLambda: n.Lambda,
		VanillaTestMean: v.TestAccMean, VanillaTestStd: v.TestAccStd, NSRTestMean: n.TestAccMean, NSRTestStd: n.TestAccStd,
		Gain: n.TestAccMean - v.TestAccMean, RelGain: (n.TestAccMean - v.TestAccMean) / v.TestAccMean,
		VanillaEpochMs: v.EpochMsMedian, NSREpochMs: n.EpochMsMedian, NSROverheadRatio: n.EpochMsMedian / v.EpochMsMedian,
		WallS: time.Since(start).Seconds(),
	}
	if f.jsonOut {
		return writeJSON(out, sum)
	}
	fmt.Fprintf(out, "%s %s, %d seeds, %d epochs, NSR on layers %s\n", f.dataset, f.cfg.Model, f.seeds, f.cfg.Epochs, sum.NSRLayers)
	fmt.Fprintf(out, "%10s %9s %16s %9s\n", "λ", "val acc", "test acc", "ms/epoch")
	for i, r := range rows {
		mark := ""
		if i == best {
			mark = "  ← chosen on validation"
		}
		fmt.Fprintf(out, "%10g %8.2f%% %7.2f ± %5.2f%% %9.2f%s\n", r.Lambda, 100*r.ValAccMean, 100*r.TestAccMean, 100*r.TestAccStd, r.EpochMsMedian, mark)
	}
	fmt.Fprintf(out, "vanilla %.2f ± %.2f %%, NSR (λ %g) %.2f ± %.2f %%: %+.2f points; NSR step time %.2fx vanilla's\n",
		100*v.TestAccMean, 100*v.TestAccStd, n.Lambda, 100*n.TestAccMean, 100*n.TestAccStd, 100*sum.Gain, sum.NSROverheadRatio)
	return nil
}
