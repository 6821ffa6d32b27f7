package main

import (
	"fmt"
	"strconv"

	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

type evalJSON struct {
	Checkpoint string  `json:"checkpoint,omitempty"`
	ModelFile  string  `json:"model_file,omitempty"`
	Dataset    string  `json:"dataset"`
	Model      string  `json:"model"`
	Seed       uint64  `json:"seed"`
	EpochsDone int     `json:"epochs_done"`
	Epochs     int     `json:"epochs"`
	TrainAcc   float64 `json:"train_acc"`
	ValAcc     float64 `json:"val_acc"`
	TestAcc    float64 `json:"test_acc"`
}

func newEvalCmd() *cobra.Command {
	var path, modelPath, dataDir, dataset, graph string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "eval --model FILE | --checkpoint FILE [flags]",
		Short: "Report the accuracy of a saved model or a checkpoint",
		Long: `Report the train, validation and test accuracy (full batch, no dropout)
of a saved model (--model, the seed-N.model that gnsr train --out writes: the
weights of the best validation epoch) or of the latest weights of a checkpoint
(--checkpoint, seed-N.ckpt), on the dataset it was trained on with the split
of its seed. For a saved model this is exactly the test accuracy that gnsr
train reported for that seed. The dataset is read again; a checkpoint refuses
other data, a model other feature widths or class counts. Image models (MLP,
CNN, saved by gnsr train --dataset mnist|cifar10... --out DIR) are evaluated
on their image dataset with the validation split of their seed.`,
		Example: `  gnsr eval --model runs/pubmed/seed-0.model
  gnsr eval --checkpoint runs/pubmed/seed-0.ckpt
  gnsr eval --model runs/cora/seed-3.model --data-dir /data --json
  gnsr eval --model runs/mnist/seed-0.model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (path == "") == (modelPath == "") {
				return fmt.Errorf("give one of --model (a saved model) and --checkpoint")
			}
			if modelPath != "" {
				return evalModel(cmd, modelPath, dataDir, dataset, graph, jsonOut)
			}
			if isImageCheckpoint(path) {
				return fmt.Errorf("%s is the checkpoint of an image run: evaluate the run's saved model instead (gnsr eval --model DIR/seed-N.model)", path)
			}
			ck, err := gnn.ReadCheckpoint(path)
			if err != nil {
				return err
			}
			if dataset == "" {
				dataset = ck.Meta["dataset"]
			}
			if dataset == "" {
				return fmt.Errorf("%s does not name its dataset; give --dataset", path)
			}
			split := 0
			if s, ok := ck.Meta["split"]; ok {
				if split, err = strconv.Atoi(s); err != nil {
					return fmt.Errorf("%s: bad split %q", path, s)
				}
			}
			src := &trainFlags{dataDir: dataDir, dataset: dataset, split: split}
			switch {
			case graph != "":
				src.graph, src.dataset, dataset = graph, graph, graph
			case !cmd.Flags().Changed("dataset") && ck.Meta["graph"] != "":
				src.graph = ck.Meta["graph"]
			}
			data, err := loadData(cmd, src)
			if err != nil {
				return err
			}
			acc, err := gnn.Evaluate(data, ck)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			rec := evalJSON{Checkpoint: path, Dataset: dataset, Model: ck.Config.Arch, Seed: ck.Config.Seed,
				EpochsDone: ck.EpochsDone, Epochs: ck.Config.Epochs, TrainAcc: acc.Train, ValAcc: acc.Val, TestAcc: acc.Test}
			w := cmd.OutOrStdout()
			if jsonOut {
				return writeJSON(w, rec)
			}
			fmt.Fprintf(w, "%s: %s %s seed %d after %d of %d epochs\n", path, dataset, rec.Model, rec.Seed, rec.EpochsDone, rec.Epochs)
			fmt.Fprintf(w, "train %.2f%%  val %.2f%%  test %.2f%%\n", 100*acc.Train, 100*acc.Val, 100*acc.Test)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&path, "checkpoint", "", "checkpoint file, e.g. DIR/seed-0.ckpt of gnsr train --out DIR: the latest weights")
	fl.StringVar(&modelPath, "model", "", "saved model file, e.g. DIR/seed-0.model of gnsr train --out DIR: the best validation epoch's weights")
	fl.StringVar(&dataDir, "data-dir", "", "data root holding <dataset>/raw/ (default $GNSR_DATA, else the user cache directory)")
	fl.StringVar(&dataset, "dataset", "", "dataset to evaluate on (default: the one recorded in the checkpoint)")
	fl.StringVar(&graph, "graph", "", "a graph directory to evaluate on (default: the one a model or checkpoint trained with --graph records)")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object")
	return cmd
}

// evalModel reports the accuracies of the saved model at path.
func evalModel(cmd *cobra.Command, path, dataDir, dataset, graph string, jsonOut bool) error {
	if isImageModel(path) {
		if graph != "" {
			return fmt.Errorf("--graph: %s is an image model", path)
		}
		return evalImageModel(cmd, path, dataDir, dataset, jsonOut)
	}
	m, err := gnn.LoadModel(path)
	if err != nil {
		return err
	}
	data, dataset, err := modelData(cmd, m, dataDir, dataset, graph)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	acc, err := m.Evaluate(data)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", path, dataset, err)
	}
	rec := evalJSON{ModelFile: path, Dataset: dataset, Model: m.Spec.Arch, Seed: m.Info.Seed, EpochsDone: m.Info.BestEpoch}
	if m.Info.Config != nil {
		rec.Epochs = m.Info.Config.Epochs
	}
	return printEval(cmd, rec, acc.Train, acc.Val, acc.Test, jsonOut)
}

// printEval prints rec, the evaluation of a saved model, with its
// accuracies.
func printEval(cmd *cobra.Command, rec evalJSON, train, val, test float64, jsonOut bool) error {
	rec.TrainAcc, rec.ValAcc, rec.TestAcc = train, val, test
	w := cmd.OutOrStdout()
	if jsonOut {
		return writeJSON(w, rec)
	}
	fmt.Fprintf(w, "%s: %s %s seed %d, weights of epoch %d\n", rec.ModelFile, rec.Dataset, rec.Model, rec.Seed, rec.EpochsDone)
	fmt.Fprintf(w, "train %.2f%%  val %.2f%%  test %.2f%%\n", 100*rec.TrainAcc, 100*rec.ValAcc, 100*rec.TestAcc)
	return nil
}
