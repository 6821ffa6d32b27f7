package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnsr/gnsr/bench"
	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

// defaultLambdaGrid spans three decades: a GCN's hidden responses are small
// (Σ_n σ_n ≈ 0.05 on PubMed), so λ below 0.1 changes nothing measurable.
const defaultLambdaGrid = "0.1,0.3,1,3,10,30,100"

func newTuneCmd() *cobra.Command {
	f := &trainFlags{cfg: gnn.DefaultConfig()}
	t := &tuneFlags{}
	cmd := &cobra.Command{
		Use:   "tune --dataset NAME [--nsr-lambda-grid L1,L2,...] [flags]",
		Short: "Choose the NSR λ on validation accuracy and report vanilla against NSR",
		Long: `Train without NSR and with each λ of --nsr-lambda-grid (on --nsr-layers), over
--seeds seeds each, choose the λ with the best mean validation accuracy (the
smaller λ on ties; a λ whose loss diverged on some seed is out), and report the
test accuracy of vanilla and of NSR at the chosen λ, mean ± std over the seeds.
Test labels play no part in the choice.

--json prints one object per λ (0 is vanilla) and a summary object.

--out DIR records every run as one JSON line in DIR/tune.jsonl, as the bench
tables do: a rerun with the same flags skips the recorded runs (it resumes),
and 'gnsr bench report --out DIR' writes DIR/tune.md. A directory holds one
tune: other flags are refused. --shard i/n (or auto, in a Slurm job array or a
Kubernetes Indexed Job) runs part i of n of the runs into
DIR/tune.shard-<i>-of-<n>.jsonl; once every shard has finished, the same
command without --shard (or 'gnsr bench report') joins them and reports.`,
		Example: `  gnsr tune --dataset cora --seeds 10
  gnsr tune --dataset pubmed --seeds 10 --nsr-lambda-grid 0.1,1,10 --json
  gnsr tune --dataset pubmed --seeds 10 --out runs/tune-pubmed --shard auto   # one task of an array`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTune(cmd, f, t)
		},
	}
	addRunFlags(cmd, f)
	graphOnly(cmd)
	cmd.Flags().StringVar(&t.grid, "nsr-lambda-grid", defaultLambdaGrid, "comma-separated λ values to choose from (each > 0)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print JSON Lines on stdout: one object per λ, then a summary object")
	cmd.Flags().StringVar(&t.out, "out", "", "results directory: every run recorded in <out>/tune.jsonl, and skipped when rerun")
	addShardFlag(cmd.Flags(), &t.shard, "<out>/tune.shard-<i>-of-<n>.jsonl")
	return cmd
}

// tuneFlags are the flags of gnsr tune beside the training ones.
type tuneFlags struct {
	grid  string
	out   string
	shard string
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
	Diverged      int     `json:"diverged,omitempty"` // seeds whose loss diverged, left out of the means
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

// tuneSettings returns every training setting of f that is not part of a
// tune run's key (model, dataset, seed, epochs, λ), for bench.TunePlan's
// Config: JSON of the resolved configuration, so that a setting added to
// gnn.Config later is covered too.
func tuneSettings(f *trainFlags) (string, error) {
	cfg := f.cfg
	cfg.Arch, cfg.Seed, cfg.Epochs, cfg.NSR.Lambdas, cfg.NSR.Auto, cfg.NSR.Warmup = "", 0, 0, nil, false, 0
	b, err := json.Marshal(struct {
		gnn.Config
		Split int `json:"split"`
	}{cfg, f.split})
	if err != nil {
		return "", fmt.Errorf("tune: %w", err)
	}
	// Cleared fields are the key's, not settings: leave them out.
	for _, k := range []string{`"Model":"",`, `"Epochs":0,`, `"Seed":0,`, `"Lambdas":null,`, `"Auto":false,`, `"Warmup":0,`} {
		b = bytes.Replace(b, []byte(k), nil, 1)
	}
	return string(b), nil
}

// tuneRunner returns a bench.Runner that trains f's configuration on data
// with the cell's λ (on every layer of --nsr-layers) and seed, showing its
// epochs on prog.
func tuneRunner(f *trainFlags, data *gnn.Data, prog *progress) bench.Runner {
	return func(ctx context.Context, c bench.Cell, seed uint64) (bench.Record, error) {
		cfg := f.cfg
		cfg.Seed = seed
		cfg.NSR.Lambdas = nil
		if c.Variant == bench.NSR {
			cfg.NSR.Lambdas = slices.Repeat([]float64{c.Lambda}, len(cfg.NSR.Layers))
		}
		prog.describe(runLabel(f.dataset, cfg.Arch, cfg.NSR.Lambdas, seed))
		return bench.TrainGNN(ctx, data, cfg, prog.step)
	}
}

func runTune(cmd *cobra.Command, f *trainFlags, t *tuneFlags) error {
	if err := checkGraphDataset(f); err != nil {
		return err
	}
	grid, err := parseGrid(t.grid)
	if err != nil {
		return err
	}
	if f.nsrLambda != "0" && f.nsrLambda != "" {
		return fmt.Errorf("tune chooses λ itself: give the candidates with --nsr-lambda-grid, not --nsr-lambda")
	}
	shard, err := parseShard(t.shard)
	if err != nil {
		return err
	}
	if shard.Sharded() && t.out == "" {
		return fmt.Errorf("--shard needs --out: each shard records its runs in <out>/tune.shard-<i>-of-<n>.jsonl")
	}
	f.nsrLambda = "1" // checked like a real run; replaced per grid point
	start := time.Now()
	if err := resolveFlags(cmd, f); err != nil {
		return err
	}
	if f.cfg.NSR.Auto {
		return fmt.Errorf("tune needs explicit --nsr-layers, not auto")
	}
	settings, err := tuneSettings(f)
	if err != nil {
		return err
	}
	plan := bench.TunePlan{Model: f.cfg.Arch, Dataset: f.dataset, FirstSeed: f.seed, Seeds: f.seeds, Grid: grid,
		Layer: f.cfg.NSR.Layers[0], Epochs: f.cfg.Epochs, Config: settings}
	if err := plan.Validate(); err != nil {
		return err
	}
	s := bench.NewMemStore()
	if t.out != "" {
		if s, err = openStore(cmd, t.out, bench.TableTune, shard); err != nil {
			return err
		}
		defer s.Close()
	}
	keep := bench.NewSharding(plan, shard, bench.PhaseAll)
	todo := keep.Filter(plan.Todo(s.Records()))
	var data *gnn.Data
	if len(todo) > 0 {
		if data, err = loadData(cmd, f); err != nil {
			return err
		}
	}
	out := cmd.OutOrStdout()
	prog := newProgress(cmd.ErrOrStderr(), f.quiet, len(todo)*f.cfg.Epochs)
	rows := &tuneRows{w: out, json: f.jsonOut, layers: nsrLayersString(f), hidden: f.cfg.Hidden, start: start, prog: prog}
	defer prog.finish()
	runErr := bench.RunTune(cmd.Context(), s, plan, tuneRunner(f, data, prog), bench.Options{
		Meta: bench.CollectMeta(), Shard: shard,
		OnRun: func(bench.Progress) {
			if !shard.Sharded() {
				rows.flush(s.Records(), false)
			}
		},
	})
	prog.finish()
	if runErr != nil {
		if cmd.Context().Err() != nil && t.out != "" {
			return fmt.Errorf("interrupted; what finished is recorded in %s: rerun the same 'gnsr tune' to resume: %w", s.Path(), runErr)
		}
		return runErr
	}
	if shard.Sharded() {
		fmt.Fprintf(out, "shard %s: %s holds its runs; once every shard has finished, the same gnsr tune without --shard reports (or 'gnsr bench report --out %s')\n", shard, s.Path(), t.out)
		return nil
	}
	if missing := len(plan.Todo(s.Records())); missing > 0 {
		return fmt.Errorf("tune: %d runs are not recorded yet", missing)
	}
	return rows.flush(s.Records(), true)
}

// tuneRows prints the rows of a tune as they complete (a row is complete
// once every seed of its λ has run), flushed, then the summary: JSON
// objects with --json, else the table's head before its first row and the
// λ chosen on validation after its last.
type tuneRows struct {
	w       io.Writer
	json    bool
	layers  string    // --nsr-layers, for the summary
	hidden  int       // the hidden width
	start   time.Time // of the command
	prog    *progress // cleared before each row, so that the bar does not cut it
	printed int       // rows written
	err     error
}

// flush writes the rows of recs' table complete and not yet written, in
// order, and with end the JSON summary or the human table's last lines.
func (t *tuneRows) flush(recs []bench.Record, end bool) error {
	p, rows, lambda, chosen := bench.TuneTable(recs)
	out := make([]tuneRow, len(rows))
	for i, r := range rows {
		out[i] = tuneRow{Lambda: r.Lambda, ValAccMean: r.ValMean, TestAccMean: r.Mean, TestAccStd: r.Std, EpochMsMedian: r.EpochMs, Diverged: r.Failed}
	}
	for t.err == nil && t.printed < len(rows) && rows[t.printed].N+rows[t.printed].Failed == p.Seeds {
		if t.prog != nil {
			t.prog.clear()
		}
		r := out[t.printed]
		switch {
		case t.json:
			t.err = writeJSON(t.w, r)
		default:
			if t.printed == 0 {
				_, t.err = fmt.Fprintf(t.w, "%s %s, %s, %s, NSR on layers %s\n%10s %9s %16s %9s\n", p.Dataset, p.Model, plural(p.Seeds, "seed"), plural(p.Epochs, "epoch"), t.layers,
					"λ", "val acc", "test acc", "ms/epoch")
			}
			mark := ""
			if r.Diverged > 0 {
				mark = fmt.Sprintf("  (diverged on %d of %s)", r.Diverged, plural(p.Seeds, "seed"))
			}
			if t.err == nil {
				_, t.err = fmt.Fprintf(t.w, "%10g %8.2f%% %7.2f ± %5.2f%% %9.2f%s\n", r.Lambda, 100*r.ValAccMean, 100*r.TestAccMean, 100*r.TestAccStd, r.EpochMsMedian, mark)
			}
		}
		if t.err == nil {
			t.err = flush(t.w)
		}
		t.printed++
	}
	if !end || t.err != nil {
		return t.err
	}
	best := 1 + slices.Index(p.Grid, lambda)
	v, n := out[0], tuneRow{Lambda: math.NaN(), ValAccMean: math.NaN(), TestAccMean: math.NaN(), TestAccStd: math.NaN(), EpochMsMedian: math.NaN()}
	if chosen {
		n = out[best]
	}
	sum := tuneSummary{
		Summary: true, Dataset: p.Dataset, Model: p.Model, Seeds: p.Seeds, Epochs: p.Epochs, Hidden: t.hidden,
		NSRLayers: t.layers, NSRLambda: n.Lambda,
		VanillaTestMean: v.TestAccMean, VanillaTestStd: v.TestAccStd, NSRTestMean: n.TestAccMean, NSRTestStd: n.TestAccStd,
		Gain: n.TestAccMean - v.TestAccMean, RelGain: (n.TestAccMean - v.TestAccMean) / v.TestAccMean,
		VanillaEpochMs: v.EpochMsMedian, NSREpochMs: n.EpochMsMedian, NSROverheadRatio: n.EpochMsMedian / v.EpochMsMedian,
		WallS: time.Since(t.start).Seconds(),
	}
	if !chosen {
		return errors.New("tune: no λ can be chosen: every λ diverged on some seed")
	}
	if t.json {
		return writeJSON(t.w, sum)
	}
	_, err := fmt.Fprintf(t.w, "vanilla %.2f ± %.2f %%, NSR (λ %g, chosen on validation) %.2f ± %.2f %%: %+.2f points; NSR step time %.2fx vanilla's\n",
		100*v.TestAccMean, 100*v.TestAccStd, n.Lambda, 100*n.TestAccMean, 100*n.TestAccStd, 100*sum.Gain, sum.NSROverheadRatio)
	return err
}
