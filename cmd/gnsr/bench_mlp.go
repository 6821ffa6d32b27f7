package main

import (
	"fmt"
	"slices"
	"sort"

	"github.com/gnsr/gnsr/bench"
	"github.com/gnsr/gnsr/datasets"
	"github.com/spf13/cobra"
)

// peerMLP is the MLP of the peer table: the paper's headline model.
const peerMLP = "mlp4"

func newBenchMLPCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "mlp [flags]",
		Short: "MNIST MLPs, vanilla against NSR with the published λ, beside the published numbers",
		Long: `For each model of --model (default mlp3, mlp4, mlp6, mlp8, mlp10) on MNIST:
vanilla training, and NSR on the logits with the λ the paper published for that
architecture, on --seeds seeds, under the published protocol: 10,000 training
images held out for validation, plain SGD with learning rate 0.01, batch 100,
NSR through a 5-batch queue, test error at the epoch of best validation
accuracy.

Epochs: --epochs for every model (default 100, the published protocol), except
the models --model-epochs names: '--epochs 20 --model-epochs mlp4=100' runs
MLP-4 as published and the others for 20 epochs. The epochs are part of each
run's key: runs at other epochs (a quick check) stay in the file but never
stand in for these, and the table shows each model at the epochs of the last
command that ran it.

Writes <out>/mlp.jsonl (the runs), and from it mlp.md (our test error beside
the published one, with the protocol and the epochs of each row) and mlp.png.`,
		Example: `  gnsr bench mlp --dry-run --epochs 20 --model-epochs mlp4=100        # the plan and its estimated cost
  GNSR_DATA=../shared/datasets gnsr bench mlp --epochs 20 --model-epochs mlp4=100   # rerun to resume
  GNSR_DATA=../shared/datasets gnsr bench mlp                          # every model at 100 epochs
  gnsr bench mlp --model mlp3 --seeds 1 --epochs 1 --out /tmp/b       # a smoke test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchMLP(cmd, f) },
	}
	addCommonBenchFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.models, "model", bench.MLPModels(), "models of the table")
	addAlias(fl, "models", "model")
	fl.IntVar(&f.seeds, "seeds", 3, "seeds 0..N-1 per model and variant")
	fl.IntVar(&f.epochs, "epochs", 100, "epochs of every model not in --model-epochs (100: the published protocol)")
	fl.StringToIntVar(&f.modelEpochs, "model-epochs", nil, "epochs per model, overriding --epochs: mlp4=100,mlp8=50")
	return cmd
}

// mlpPlan checks the flags of bench mlp and returns its plan, with errors
// that name the flag at fault.
func (f *benchFlags) mlpPlan() (bench.MLPPlan, error) {
	p := bench.MLPPlan{Models: f.models, Seeds: f.seeds, Epochs: f.epochs, ModelEpochs: f.modelEpochs}
	switch {
	case f.seeds < 1:
		return p, fmt.Errorf("--seeds = %d, need at least 1", f.seeds)
	case f.epochs < 1:
		return p, fmt.Errorf("--epochs = %d, need at least 1", f.epochs)
	}
	for _, m := range f.models {
		if !slices.Contains(bench.MLPModels(), m) {
			return p, fmt.Errorf("--model: unknown model %q (%v)", m, bench.MLPModels())
		}
	}
	names := make([]string, 0, len(f.modelEpochs))
	for m := range f.modelEpochs {
		names = append(names, m)
	}
	sort.Strings(names) // the first error the same on every run
	for _, m := range names {
		if !slices.Contains(f.models, m) {
			return p, fmt.Errorf("--model-epochs: %q is not among --model %v", m, f.models)
		}
		if e := f.modelEpochs[m]; e < 1 {
			return p, fmt.Errorf("--model-epochs: %s=%d, need at least 1", m, e)
		}
	}
	return p, p.Validate()
}

func runBenchMLP(cmd *cobra.Command, f *benchFlags) error {
	plan, err := f.mlpPlan()
	if err != nil {
		return err
	}
	root, err := datasets.Root(f.dataDir)
	if err != nil {
		return err
	}
	out, err := benchOut(f.out)
	if err != nil {
		return err
	}
	if err := f.resolveShard(false); err != nil {
		return err
	}
	if f.dryRun {
		return dryRun(cmd, f, out, bench.TableMLP, plan)
	}
	m := bench.NewMLP(root)
	return runBenchTable(cmd, f, out, bench.TableMLP, plan, func(todo []bench.Job) error {
		if len(todo) == 0 {
			return nil
		}
		return m.Load() // a missing file now, not an hour in
	}, func(s *bench.Store, opt bench.Options) error {
		return bench.RunMLP(cmd.Context(), s, plan, m.Run, opt)
	})
}
