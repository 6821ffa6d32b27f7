package vision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nn"
)

// savedConfigs are an MLP and a CNN configuration that train in a moment
// on synthetic 8×8 images.
func savedConfigs() map[string]Config {
	mlp := smallConfig()
	mlp.Arch, mlp.Epochs, mlp.ValSize = "mlp3", 3, 100
	mlp.NSR.Layers, mlp.NSR.Lambdas = []int{-1}, []float64{0.5}
	cnn := DefaultConfig()
	cnn.Arch, cnn.BatchSize, cnn.EvalBatch, cnn.Epochs, cnn.ValSize, cnn.Seed = "cnn", 32, 64, 2, 100, 5
	cnn.Optimizer = nn.OptimizerSpec{Kind: nn.OptimizerAdam, LR: 0.003}
	cnn.NSR.Lambdas = nil
	return map[string]Config{"mlp3": mlp, "cnn": cnn}
}

// TestSavedModel trains with a model path and checks that the saved model
// reproduces the run's best-epoch accuracies exactly, for an MLP and a
// convolutional network.
func TestSavedModel(t *testing.T) {
	ds := synthetic(6, 3, 500, 150, 90)
	for name, cfg := range savedConfigs() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.model")
			res, err := TrainWith(context.Background(), ds, cfg, Options{Model: path, Dataset: "synthetic"})
			if err != nil {
				t.Fatal(err)
			}
			m, acc := evaluateFile(t, path, ds)
			if acc.Test != res.TestAcc || acc.Val != res.ValAcc {
				t.Errorf("saved model: test %v val %v; training reported test %v val %v at epoch %d", acc.Test, acc.Val, res.TestAcc, res.ValAcc, res.BestEpoch)
			}
			if !(acc.Train > 0.5) {
				t.Errorf("training accuracy %v", acc.Train)
			}
			if m.Info.BestEpoch != res.BestEpoch || m.Info.Seed != cfg.Seed || m.Info.Dataset != "synthetic" || m.Info.Config == nil || m.Info.Config.Arch != name {
				t.Errorf("info %+v", m.Info)
			}
			if (m.Info.Normalization != nil) != (name == "cnn") || m.Spec.Input != [3]int{1, 8, 8} || m.Spec.Classes != 3 {
				t.Errorf("spec %+v, normalization %v", m.Spec, m.Info.Normalization)
			}
			// Saving the loaded model gives the same bytes.
			again := filepath.Join(t.TempDir(), "again.model")
			if err := m.Save(again); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(path)
			b, _ := os.ReadFile(again)
			if !bytes.Equal(a, b) {
				t.Error("a loaded model saves to other bytes")
			}
		})
	}
}

// evaluateFile loads the model at path and evaluates it on ds.
func evaluateFile(t *testing.T, path string, ds *datasets.ImageDataset) (*Model, Accuracy) {
	t.Helper()
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := m.Evaluate(ds)
	if err != nil {
		t.Fatal(err)
	}
	return m, acc
}

// TestSavedModelBadInput covers model files that lie and images that do
// not fit: each is an error naming the file or what differs.
func TestSavedModelBadInput(t *testing.T) {
	ds := synthetic(7, 3, 300, 60, 90)
	cfg := savedConfigs()["mlp3"]
	cfg.Epochs = 1
	res, err := Train(context.Background(), ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.model")
	if err := res.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 1
	edited := func(edit func(spec map[string]any)) []byte {
		b, err := modelfile.EditHeader(good, func(h map[string]any) { edit(h["spec"].(map[string]any)) })
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"truncated":    {good[:len(good)-10], "checksum"},
		"bit-flip":     {flipped, "checksum"},
		"unknown-arch": {edited(func(s map[string]any) { s["arch"] = "transformer" }), "unknown architecture"},
		"input-size":   {edited(func(s map[string]any) { s["input"] = []int{1, 9, 8} }), "needs W0 [72 100]"},
		"huge-input":   {edited(func(s map[string]any) { s["input"] = []int{3, 1 << 20, 1 << 20} }), "input size"},
		"cnn-on-mlp":   {edited(func(s map[string]any) { s["arch"] = "cnn" }), "needs"},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadModel(p)
		if err == nil || !(errors.Is(err, ErrModel) || errors.Is(err, modelfile.ErrFormat)) {
			t.Errorf("%s: error %v", name, err)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name the file or say %q", name, err, c.want)
		}
	}
	m, acc := evaluateFile(t, path, ds)
	if acc.Test != res.TestAcc {
		t.Errorf("test accuracy %v, training reported %v", acc.Test, res.TestAcc)
	}
	other := synthetic(8, 3, 300, 60, 90)
	other.Train.H, other.Train.W = 4, 16
	if _, err := m.Evaluate(other); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "1×4×16") {
		t.Errorf("images of another size: %v", err)
	}
	m.Info.Config = nil
	if _, err := m.Evaluate(ds); !errors.Is(err, ErrModel) {
		t.Errorf("no configuration: %v", err)
	}
}

// FuzzDecodeModel checks that decoding a vision model never panics, and
// that every error wraps ErrModel or modelfile.ErrFormat, whatever the
// header says: the header is
// what the file's checksum does not protect against a careless or hostile
// writer.
func FuzzDecodeModel(f *testing.F) {
	tensors := []modelfile.Tensor{
		{Name: "W0", Shape: []int{4, 100}, Data: make([]float32, 400)},
		{Name: "b0", Shape: []int{1, 100}, Data: make([]float32, 100)},
		{Name: "W1", Shape: []int{100, 2}, Data: make([]float32, 200)},
		{Name: "b1", Shape: []int{1, 2}, Data: make([]float32, 2)},
	}
	f.Add([]byte(`{"spec":{"arch":"mlp3","input":[1,2,2],"classes":2},"info":{"seed":1,"best_epoch":1,"val_acc":1,"test_acc":1}}`))
	f.Add([]byte(`{"spec":{"arch":"cnn","width":1,"input":[1,8,8],"classes":2},"info":{"normalization":{"Mean":[0.5],"Std":[0.2]}}}`))
	f.Add([]byte(`{"spec":{"arch":"resnet18","width":16,"input":[64,1024,1024],"classes":65536}}`))
	f.Add([]byte(`{"spec":{"arch":"mlp3","input":[1,2,2],"classes":2},"info":{"class_names":["a"],"config":{"Arch":"mlp3","ValSize":0}}}`))
	f.Fuzz(func(t *testing.T, header []byte) {
		if !json.Valid(header) {
			return
		}
		m, err := modelfile.DecodeModel(&modelfile.File{Kind: modelKind, Header: header, Tensors: tensors}, modelKind, buildModel)
		if err != nil {
			if !errors.Is(err, ErrModel) && !errors.Is(err, modelfile.ErrFormat) {
				t.Fatalf("error %v wraps neither ErrModel nor modelfile.ErrFormat", err)
			}
			return
		}
		if m.Spec.Arch != "mlp3" || len(m.state()) != len(tensors) {
			t.Fatalf("accepted %+v", m.Spec)
		}
	})
}
