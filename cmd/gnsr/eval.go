package main

import (
	"fmt"
	"strconv"

	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

type evalJSON struct {
	Checkpoint string  `json:"checkpoint"`
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
	var path, dataDir, dataset, graph string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "eval --checkpoint FILE [flags]",
		Short: "Report the accuracy of a checkpointed model",
		Long: `Load the model of a checkpoint written by gnsr train --out and report its
train, validation and test accuracy (full batch, no dropout) on the dataset it
was trained on. The dataset is read again and must be the one of the
checkpoint: other data or another architecture is refused.`,
		Example: `  gnsr eval --checkpoint runs/pubmed/seed-0.ckpt
  gnsr eval --checkpoint runs/cora/seed-3.ckpt --data-dir /data --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("--checkpoint is required")
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
			rec := evalJSON{Checkpoint: path, Dataset: dataset, Model: ck.Config.Model, Seed: ck.Config.Seed,
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
	fl.StringVar(&path, "checkpoint", "", "checkpoint file (required), e.g. DIR/seed-0.ckpt of gnsr train --out DIR")
	fl.StringVar(&dataDir, "data-dir", "", "data root holding <dataset>/raw/ (default $GNSR_DATA, else the user cache directory)")
	fl.StringVar(&dataset, "dataset", "", "dataset to evaluate on (default: the one recorded in the checkpoint)")
	fl.StringVar(&graph, "graph", "", "a graph directory to evaluate on (default: the checkpoint's, for a model trained with --graph)")
	fl.BoolVar(&jsonOut, "json", false, "print one JSON object")
	return cmd
}
