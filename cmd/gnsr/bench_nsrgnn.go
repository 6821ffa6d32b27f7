package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/bench"
	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

// The study's pre-registered protocol (issue 17): its flags' defaults.
const (
	nsrGNNGrid      = "0.01,0.03,0.1,0.3,1,3"
	nsrGNNTuneSeeds = 3
	nsrGNNTestSeeds = 10
)

var (
	nsrGNNModels   = []string{"gcn", "sage", "gat"}
	nsrGNNDatasets = []string{"cora", "citeseer", "pubmed", "amazon-photo", "amazon-computers"}
	nsrGNNDepths   = []int{2, 4}
	nsrGNNArms     = []string{bench.ArmAuto, bench.ArmLast}
)

func newBenchNSRGNNCmd() *cobra.Command {
	f := &benchFlags{}
	var depths []int
	var arms []string
	var sampled bool
	cmd := &cobra.Command{
		Use:   "nsr-gnn [flags]",
		Short: "Does NSR help graph networks? The pre-registered study: depths, arms, held-out seeds, paired tests",
		Long: fmt.Sprintf(`The study of NSR on graph networks, with its protocol fixed here before any
result was seen. The defaults are the protocol; other values are for quick
checks, and the records say which plan they ran under.

Cells: every model of --model (%s) at every depth of --depths (%s), plain
stacks (no residual connections, no batch norm), trained full batch; and,
with --sampled, %s on neighbour-sampled mini-batches of %d training nodes
(fanouts %v at depth 2, %v at depth 4) with NSR's memory queue of K = 5
batches; on every dataset of --dataset (%s). Everything else is the
project's protocol for the dataset and architecture: public Planetoid
splits, per-seed gnn-benchmark splits on Amazon, hidden 16 on Planetoid and
64 on Amazon (GAT: 8 heads of 8, ELU), dropout 0.5, Adam 0.01 with weight
decay 5e-4, 200 epochs, test accuracy at the epoch of best validation
accuracy.

Arms (--nsr-arms): auto, the paper's rule, regularises the layer output with
the largest aggregated intra-class variance on the training nodes after %d
vanilla epochs (each run chooses; a full-batch epoch is one step, so the
CLI's one-epoch warm-up would judge an untrained network); last regularises
the last hidden layer's output. Zero ReLU responses are masked.

λ: per cell and arm, each λ of --nsr-lambda-grid (%s) on seeds
0..--tune-seeds−1 (0–%d); the λ with the best mean validation accuracy (the
smaller on ties; a λ whose loss diverged is out). Then vanilla and NSR at
that λ on the --seeds held-out seeds that follow (%d–%d), which play no part
in the choice. A seed fixes the split, the initial weights and the dropout
draws, so vanilla and NSR pair up by seed.

Reported per cell and arm: mean ± std of both, the mean per-seed difference
with its 95 %% confidence interval (Student's t) and the paired t-test's p,
wins and losses, the λ and layer chosen, epoch times. No cell is dropped or
rerun with other settings after the fact.

Writes <out>/nsr-gnn.jsonl (the runs), and from it nsr-gnn.md and
nsr-gnn.png (the paired differences). Resumes like every bench table;
--shard splits it among the tasks of a job array in two phases (tune, then
final), as 'gnsr bench gnn' does.`,
			strings.Join(nsrGNNModels, ", "), joinInts(nsrGNNDepths), bench.SampledModel, bench.SampledBatch,
			bench.SampledFanouts(2), bench.SampledFanouts(4), strings.Join(nsrGNNDatasets, ", "),
			bench.NSRGNNWarmup, strings.ReplaceAll(nsrGNNGrid, ",", ", "), nsrGNNTuneSeeds-1, nsrGNNTuneSeeds, nsrGNNTuneSeeds+nsrGNNTestSeeds-1),
		Example: `  gnsr bench nsr-gnn --dry-run                  # the plan and its estimated cost
  GNSR_DATA=../shared/datasets gnsr bench nsr-gnn   # the study; rerun to resume
  gnsr bench nsr-gnn --dataset cora --model gcn --depths 2 --sampled=false --out /tmp/s
  gnsr bench nsr-gnn --shard 3/8 --phase tune --out /shared/s   # then --phase final`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchNSRGNN(cmd, f, depths, arms, sampled)
		},
	}
	addCommonBenchFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.models, "model", nsrGNNModels, fmt.Sprintf("full-batch models of the study, of %v", gnn.Archs()))
	fl.StringSliceVar(&f.datasets, "dataset", nsrGNNDatasets, fmt.Sprintf("datasets of the study, of %v", datasets.KnownOf(datasets.NodeClassification)))
	fl.IntSliceVar(&depths, "depths", nsrGNNDepths, "model depths (layers, each at least 2)")
	fl.StringSliceVar(&arms, "nsr-arms", nsrGNNArms, "how NSR's layer is picked: auto (the paper's rule), last (the last hidden layer)")
	fl.BoolVar(&sampled, "sampled", true, "also "+bench.SampledModel+" on sampled mini-batches with the memory queue (--sampled=false: full batch only)")
	fl.IntVar(&f.tuneSeeds, "tune-seeds", nsrGNNTuneSeeds, "seeds 0..K-1 on which λ is chosen")
	fl.IntVar(&f.seeds, "seeds", nsrGNNTestSeeds, "held-out seeds (after the tuning seeds) for vanilla and the chosen λ")
	fl.StringVar(&f.grid, "nsr-lambda-grid", nsrGNNGrid, "comma-separated candidate λ values (each > 0)")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs of every run (0: the protocol's 200); other than 200, part of each run's key")
	fl.StringVar(&f.phaseFlag, "phase", "all", "with --shard: tune (vanilla, and the λ grid on the tuning seeds) or final (the chosen λ on the held-out seeds, once every shard's tune phase has finished); all: both")
	return cmd
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func runBenchNSRGNN(cmd *cobra.Command, f *benchFlags, depths []int, arms []string, sampled bool) error {
	root, out, err := f.resolve(cmd.Flags())
	if err != nil {
		return err
	}
	if f.epochs < 0 {
		return fmt.Errorf("--epochs = %d, need 0 (the protocol's) or more", f.epochs)
	}
	if f.epochs == gnn.DefaultConfig().Epochs {
		f.epochs = 0
	}
	grid, err := parseGrid(f.grid)
	if err != nil {
		return err
	}
	if f.tuneSeeds < 1 {
		return fmt.Errorf("--tune-seeds = %d, need at least 1", f.tuneSeeds)
	}
	for _, d := range depths {
		if d < 2 {
			return fmt.Errorf("--depths: %d, need at least 2 (a hidden layer for NSR)", d)
		}
	}
	for _, a := range arms {
		if !slices.Contains(nsrGNNArms, a) {
			return fmt.Errorf("--nsr-arms: %q, want %s", a, strings.Join(nsrGNNArms, " or "))
		}
	}
	plan := bench.NSRGNNPlan{Models: f.models, Datasets: f.datasets, Depths: depths, Sampled: sampled, Arms: arms, Grid: grid,
		TuneSeeds: f.tuneSeeds, TestSeeds: f.seeds, Epochs: f.epochs}
	if err := plan.Validate(); err != nil {
		return err
	}
	if err := f.resolveShard(true); err != nil {
		return err
	}
	if f.dryRun {
		return dryRun(cmd, f, out, bench.TableNSRGNN, plan)
	}
	g := bench.NewGNSR(root, 0)
	return runBenchTable(cmd, f, out, bench.TableNSRGNN, plan, loadGraphs(cmd, root, f.quiet, g), func(s *bench.Store, opt bench.Options) error {
		return bench.RunNSRGNN(cmd.Context(), s, plan, g.Run, opt)
	})
}
