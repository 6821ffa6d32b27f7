package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

// lookupNodeSet returns the registry entry of the dataset name, given with
// flag to a command that trains graph models on it, or an error naming the
// flag and the datasets the command takes: the node-classification ones,
// and also (handled by the command before) if any.
func lookupNodeSet(flag, name string, also ...string) (datasets.Entry, error) {
	takes := strings.Join(append(datasets.KnownOf(datasets.NodeClassification), also...), ", ")
	e, err := datasets.Lookup(name)
	if err != nil {
		return e, fmt.Errorf("%s: %w %q: this command takes %s", flag, datasets.ErrUnknownDataset, name, takes)
	}
	if e.Kind != datasets.NodeClassification {
		return e, fmt.Errorf("%s: %s is not a node-classification dataset (it is for %s): this command takes %s", flag, name, e.Kind, takes)
	}
	return e, nil
}

// checkSeeds checks --seeds and that the last seed of --seed and --seeds
// fits in a uint64 rather than wrapping around to 0.
func checkSeeds(f *trainFlags) error {
	if f.seeds < 1 {
		return fmt.Errorf("--seeds = %d, need at least 1", f.seeds)
	}
	if last := uint64(f.seeds - 1); f.seed > math.MaxUint64-last {
		return fmt.Errorf("--seed %d with --seeds %d: the last seed would be past %d, the largest", f.seed, f.seeds, uint64(math.MaxUint64))
	}
	return nil
}

// graphOnly narrows the help of the flags addRunFlags added to cmd, a
// command that trains graph models only (tune, analyze), to what it takes:
// node-classification datasets and graph architectures.
func graphOnly(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Lookup("dataset").Usage = fmt.Sprintf("dataset to train on (required), one of %v", datasets.KnownOf(datasets.NodeClassification))
	fl.Lookup("model").Usage = fmt.Sprintf("architecture, one of %v", gnn.Archs())
}

// checkGraphDataset refuses, naming --dataset, a dataset that a command
// training graph models only does not take.
func checkGraphDataset(f *trainFlags) error {
	if f.dataset == "" || f.graph != "" {
		return nil // runProtocol says what is missing or conflicting
	}
	_, err := lookupNodeSet("--dataset", f.dataset)
	return err
}
