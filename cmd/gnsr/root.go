package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "gnsr",
		Short: "Graph neural networks with Neuron Steadiness Regularization",
		Long: `gnsr trains graph neural networks (GCN, GraphSAGE) on the standard
node-classification benchmarks, and MLPs on MNIST, optionally with Neuron
Steadiness Regularization (NSR), a penalty on each hidden neuron's intra-class
response variance.

Start with:
  gnsr data list                                   what is known and present
  gnsr train --dataset pubmed                      GCN, the protocol's defaults
  gnsr tune --dataset cora --seeds 10              vanilla against NSR, λ chosen on validation
  gnsr analyze --dataset pubmed --nsr-lambda 1     plots of what NSR does

Datasets are read from their original files under the data root: --data-dir,
else $GNSR_DATA, else the user cache directory (for example ~/.cache/gnsr), laid
out as <root>/<dataset>/raw/<files>.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var cpuProfile string
	var profFile *os.File
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file (for go tool pprof)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := resolveAliases(cmd.Flags()); err != nil {
			return err
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		profFile = f
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		if profFile == nil {
			return nil
		}
		pprof.StopCPUProfile()
		return profFile.Close()
	}
	root.Version = readBuildInfo().String()
	root.SetVersionTemplate("{{.Version}}")
	root.AddCommand(newVersionCmd(), newTrainCmd(), newTuneCmd(), newAnalyzeCmd(), newDataCmd(), newBenchCmd(), newEvalCmd(), newPredictCmd())
	return root
}
