package vision

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/nn"
)

// stopAfter is a context that is done from the (n+1)-th call of Err on:
// the trainer asks before every step but an epoch's first, so n steps
// (and epoch starts) in.
type stopAfter struct {
	context.Context
	calls, n int
}

func (c *stopAfter) Err() error {
	if c.calls++; c.calls > c.n {
		return context.Canceled
	}
	return nil
}

// resumeConfigs are an MLP run with NSR on two layers, SGD with Nesterov
// momentum and a learning-rate step, and a CNN run with Adam, augmentation
// and NSR on the logits: every kind of state a checkpoint holds.
func resumeConfigs() map[string]Config {
	mlp := smallConfig()
	mlp.Epochs, mlp.ValSize, mlp.LRStep = 4, 100, 2
	mlp.Optimizer.Nesterov = true
	mlp.NSR.Layers, mlp.NSR.Lambdas, mlp.NSR.Queue = []int{0, -1}, []float64{0.01, 0.5}, 3
	cnn := DefaultConfig()
	cnn.Arch, cnn.BatchSize, cnn.EvalBatch, cnn.Epochs, cnn.ValSize, cnn.Seed, cnn.Augment = "cnn", 32, 64, 3, 100, 5, true
	cnn.Optimizer = nn.OptimizerSpec{Kind: nn.OptimizerAdam, LR: 0.003, WeightDecay: 1e-4}
	cnn.NSR.Lambdas = []float64{0.3}
	return map[string]Config{"mlp4": mlp, "cnn": cnn}
}

// withoutTimes returns the encoding of the checkpoint at path with its
// wall times zeroed.
func withoutTimes(t *testing.T, path string) []byte {
	t.Helper()
	c, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Epochs {
		c.Epochs[i].TrainMs = 0
	}
	c.Partial.TrainMs = 0
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResume interrupts runs between steps, in the middle of an epoch and
// at an epoch boundary, resumes them from their checkpoints, and checks
// that they end with the same checkpoint (weights, optimizer, queues,
// random states, history), results and saved model, bit for bit, as the
// run never interrupted.
func TestResume(t *testing.T) {
	ds := synthetic(9, 3, 420, 120, 90)
	for name, cfg := range resumeConfigs() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want := filepath.Join(dir, "want.ckpt")
			wantModel := filepath.Join(dir, "want.model")
			exp, err := TrainWith(context.Background(), ds, cfg, Options{Checkpoint: want, Model: wantModel, CheckpointEvery: 1})
			if err != nil {
				t.Fatal(err)
			}
			steps := (420 - cfg.ValSize) / cfg.BatchSize
			// Stops: 3 steps into epoch 1; at the start of epoch 2 (after
			// epoch 1's steps); in the middle of the last epoch.
			path, model := filepath.Join(dir, "run.ckpt"), filepath.Join(dir, "run.model")
			opts := Options{Checkpoint: path, Model: model, CheckpointEvery: 2}
			for i, n := range []int{3, steps - 3, steps + steps/2} {
				_, err := TrainWith(&stopAfter{Context: context.Background(), n: n}, ds, cfg, opts)
				var ie *InterruptedError
				if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Checkpoint != path {
					t.Fatalf("stop %d: %v", i, err)
				}
				ck, err := ReadCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				if ck.EpochsDone != ie.Epoch || ck.Done() {
					t.Fatalf("stop %d: checkpoint after %d epochs and %d steps, error says %d", i, ck.EpochsDone, ck.Step, ie.Epoch)
				}
				t.Logf("stop %d: %d epochs and %d steps done", i, ck.EpochsDone, ck.Step)
				opts.Resume = ck
			}
			got, err := TrainWith(context.Background(), ds, cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(withoutTimes(t, path), withoutTimes(t, want)) {
				t.Error("the resumed run's final checkpoint differs from the uninterrupted run's")
			}
			a, _ := os.ReadFile(model)
			b, _ := os.ReadFile(wantModel)
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Error("the resumed run saved another model")
			}
			for _, r := range []*Result{got, exp} {
				for i := range r.Epochs {
					r.Epochs[i].TrainMs = 0
				}
			}
			if !slices.Equal(got.Epochs, exp.Epochs) || got.TestAcc != exp.TestAcc || got.BestEpoch != exp.BestEpoch || !slices.Equal(got.Variance, exp.Variance) {
				t.Errorf("resumed: %+v\nuninterrupted: %+v", got.Epochs, exp.Epochs)
			}
			// A finished run resumes to its results without training.
			ck, err := ReadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			again, err := TrainWith(context.Background(), ds, cfg, Options{Resume: ck})
			if err != nil || again.TestAcc != exp.TestAcc || len(again.Epochs) != cfg.Epochs {
				t.Errorf("resuming a finished run: %v, %+v", err, again)
			}
		})
	}
}

// TestResumeRefused checks that a checkpoint does not resume another
// configuration, other data, or a damaged file.
func TestResumeRefused(t *testing.T) {
	ds := synthetic(9, 3, 300, 60, 90)
	cfg := resumeConfigs()["mlp4"]
	cfg.Epochs = 1
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if _, err := TrainWith(context.Background(), ds, cfg, Options{Checkpoint: path}); err != nil {
		t.Fatal(err)
	}
	ck, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Optimizer.LR *= 2
	if _, err := TrainWith(context.Background(), ds, other, Options{Resume: ck}); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "configuration") {
		t.Errorf("another configuration: %v", err)
	}
	if _, err := TrainWith(context.Background(), synthetic(10, 3, 300, 60, 90), cfg, Options{Resume: ck}); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "other data") {
		t.Errorf("other data: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{"truncated": b[:len(b)-7], "bit-flip": append(bytes.Clone(b[:100]), append([]byte{b[100] ^ 4}, b[101:]...)...)} {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadCheckpoint(p); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzCheckpoint checks that decoding a checkpoint never panics and that
// every error wraps ErrCheckpoint.
func FuzzCheckpoint(f *testing.F) {
	ds := synthetic(9, 3, 200, 40, 90)
	cfg := resumeConfigs()["mlp4"]
	cfg.Epochs, cfg.ValSize = 1, 50
	path := filepath.Join(f.TempDir(), "run.ckpt")
	if _, err := TrainWith(&stopAfter{Context: context.Background(), n: 2}, ds, cfg, Options{Checkpoint: path}); err == nil {
		f.Fatal("not interrupted")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := DecodeCheckpoint(b); err != nil && !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("error %v does not wrap ErrCheckpoint", err)
		}
	})
}
