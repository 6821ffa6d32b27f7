package vision

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
)

// TestTrainCNN trains the small cnn on 1-channel 8×8 synthetic images
// (three 2×2 poolings leave one pixel), with NSR on the logits and on a
// convolutional stage (flattened), and checks that it learns, that the run
// is reproducible, and that augmentation changes it.
func TestTrainCNN(t *testing.T) {
	ds := synthetic(5, 3, 700, 200, 40)
	cfg := DefaultConfig()
	cfg.Arch, cfg.BatchSize, cfg.EvalBatch, cfg.Epochs, cfg.ValSize = "cnn", 32, 100, 3, 100
	cfg.Optimizer = nn.OptimizerSpec{Kind: nn.OptimizerAdam, LR: 0.003}
	names, err := CNNLayerNames(CNNSpec{Arch: "cnn", Input: [3]int{1, 8, 8}, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		layers  []int
		lambdas []float64
		augment bool
		minAcc  float64
	}{
		{"vanilla", nil, nil, false, 0.9},
		{"NSR on logits and stage 0", []int{-1, 0}, []float64{0.5, 0.1}, false, 0.9},
		// Shifts of up to 4 pixels are harsh on 8×8 images: above chance.
		{"augmented", nil, nil, true, 0.5},
	}
	var first *Result
	for _, test := range tests {
		c := cfg
		c.NSR.Layers, c.NSR.Lambdas, c.Augment = test.layers, test.lambdas, test.augment
		run := func() *Result {
			res, err := Train(context.Background(), ds, c, nil)
			if err != nil {
				t.Fatalf("%s: %v", test.name, err)
			}
			return res
		}
		a, b := run(), run()
		if a.TestAcc != b.TestAcc || a.Epochs[len(a.Epochs)-1].Loss != b.Epochs[len(b.Epochs)-1].Loss {
			t.Errorf("%s: two runs differ: %v/%v and %v/%v", test.name, a.TestAcc, a.Epochs[2].Loss, b.TestAcc, b.Epochs[2].Loss)
		}
		if a.TestAcc < test.minAcc {
			t.Errorf("%s: test accuracy %v, want >= %v", test.name, a.TestAcc, test.minAcc)
		}
		for _, e := range a.Epochs {
			if math.IsNaN(e.Loss) || (test.lambdas != nil) != (e.NSRLoss > 0) {
				t.Errorf("%s: epoch %d loss %v, NSR loss %v", test.name, e.Epoch, e.Loss, e.NSRLoss)
			}
		}
		if test.lambdas != nil && !slices.Equal(a.NSRLayers, []int{len(names) - 1, 0}) {
			t.Errorf("%s: NSR layers %v, want [%d 0]", test.name, a.NSRLayers, len(names)-1)
		}
		if first == nil {
			first = a
		} else if a.Epochs[0].Loss == first.Epochs[0].Loss {
			t.Errorf("%s: first-epoch loss equals vanilla's", test.name)
		}
	}
}

// TestTrainCNNErrors checks settings that only convolutional or only dense
// architectures take.
func TestTrainCNNErrors(t *testing.T) {
	ds := synthetic(5, 3, 300, 50, 40)
	for _, c := range []Config{
		{Arch: "mlp4", Width: 2},
		{Arch: "mlp4", Augment: true},
		{Arch: "cnn", Width: -1},
		{Arch: "cnn", NSR: nsr.Spec{Layers: []int{9}, Lambdas: []float64{1}}},
		{Arch: "vgg7"},
	} {
		cfg := DefaultConfig()
		cfg.Arch, cfg.Width, cfg.Augment, cfg.NSR = c.Arch, c.Width, c.Augment, c.NSR
		cfg.BatchSize, cfg.EvalBatch, cfg.Epochs, cfg.ValSize = 32, 50, 1, 50
		if _, err := Train(context.Background(), ds, cfg, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
