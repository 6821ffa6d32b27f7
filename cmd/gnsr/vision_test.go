package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/vision"
)

// evalModelFile runs gnsr eval --model path --json.
func evalModelFile(t *testing.T, path string, args ...string) evalJSON {
	t.Helper()
	out, err := gnsr(t, append([]string{"eval", "--model", path, "--json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var e evalJSON
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return e
}

// TestEvalImageModel trains MLP-3 on MNIST for an epoch with the library,
// saving the model, and checks that gnsr eval --model reports the test and
// validation accuracy of the run's best epoch.
func TestEvalImageModel(t *testing.T) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	data, err := datasets.LoadImages(root, "mnist", datasets.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := vision.DefaultConfig()
	cfg.Arch, cfg.Epochs, cfg.Seed = "mlp3", 1, 2
	cfg.Optimizer.LR, cfg.Optimizer.Momentum = 0.05, 0.9
	path := filepath.Join(t.TempDir(), "mnist.model")
	res, err := vision.TrainWith(context.Background(), data, cfg, vision.Options{Model: path, Dataset: "mnist"})
	if err != nil {
		t.Fatal(err)
	}
	e := evalModelFile(t, path, "--data-dir", root)
	if e.TestAcc != res.TestAcc || e.ValAcc != res.ValAcc || e.Seed != 2 || e.Model != "mlp3" || e.Dataset != "mnist" || e.EpochsDone != res.BestEpoch {
		t.Errorf("eval %+v; training reported test %v val %v at epoch %d", e, res.TestAcc, res.ValAcc, res.BestEpoch)
	}
	if _, err := gnsr(t, "eval", "--model", path, "--data-dir", root, "--dataset", "cora"); err == nil {
		t.Error("an image model evaluated on a graph dataset")
	}
}
