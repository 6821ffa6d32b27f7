package gnn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/internal/modelfile"
)

// TestSavedModel trains with a model path and checks that the saved model
// reproduces the run's best-epoch accuracies exactly, for every
// architecture, and predicts on a graph it never saw.
func TestSavedModel(t *testing.T) {
	d := communities(t, 11, 200, 3)
	other := communities(t, 12, 90, 3) // another graph, same feature width
	for _, arch := range Archs() {
		t.Run(arch, func(t *testing.T) {
			cfg, err := ConfigFor(arch, Protocol{})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Epochs, cfg.Seed = 30, 4
			path := filepath.Join(t.TempDir(), "m.gnsr")
			res, err := TrainWith(context.Background(), d, cfg, Options{Model: path})
			if err != nil {
				t.Fatal(err)
			}
			m, err := LoadModel(path)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := m.Evaluate(d)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Test != res.TestAcc || acc.Val != res.ValAcc {
				t.Errorf("saved model: test %v val %v; training reported test %v val %v at epoch %d", acc.Test, acc.Val, res.TestAcc, res.ValAcc, res.BestEpoch)
			}
			if m.Info.BestEpoch != res.BestEpoch || m.Info.Seed != 4 || m.Info.Config == nil || m.Info.Config.Arch != arch {
				t.Errorf("info %+v", m.Info)
			}
			p, err := m.Predict(other.Graph, other.Features, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Nodes) != other.Graph.NumNodes() || p.Classes != 3 || p.EmbeddingWidth == 0 {
				t.Fatalf("prediction of %d nodes, %d classes, embeddings %d wide", len(p.Nodes), p.Classes, p.EmbeddingWidth)
			}
			correct := 0
			for i, v := range p.Nodes {
				if c := p.Class(i); c < 0 || c >= 3 {
					t.Fatalf("node %d: class %d", v, c)
				} else if c == other.Labels[v] {
					correct++
				}
				var sum float32
				for _, q := range p.Probs[i*3 : i*3+3] {
					sum += q
				}
				if sum < 0.999 || sum > 1.001 {
					t.Fatalf("node %d: probabilities sum to %v", v, sum)
				}
			}
			if frac := float64(correct) / float64(len(p.Nodes)); frac < 0.7 {
				t.Errorf("on an unseen graph of the same kind: %.2f correct, want >= 0.7", frac)
			}
		})
	}
}

// TestSavedModelBadInput covers model files that lie and data that does
// not fit: each is an error naming the file or what differs.
func TestSavedModelBadInput(t *testing.T) {
	d := communities(t, 11, 120, 3)
	cfg := DefaultConfig()
	cfg.Epochs = 3
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gnsr")
	if _, err := TrainWith(context.Background(), d, cfg, Options{Model: path}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	unknown, err := modelfile.EditHeader(good, func(h map[string]any) { h["spec"].(map[string]any)["arch"] = "transformer" })
	if err != nil {
		t.Fatal(err)
	}
	lying, err := modelfile.EditHeader(good, func(h map[string]any) { h["spec"].(map[string]any)["hidden"] = []int{1 << 19} })
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"truncated": good[:len(good)-10], "bit-flip": flipped, "unknown-arch": unknown, "lying-width": lying,
	} {
		p := write(name, b)
		_, err := LoadModel(p)
		if err == nil || !(errors.Is(err, ErrModel) || errors.Is(err, modelfile.ErrFormat)) {
			t.Errorf("%s: error %v", name, err)
			continue
		}
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	m, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	wide := communities(t, 3, 60, 3)
	wide.Features.Cols++
	if _, err := m.Predict(wide.Graph, wide.Features, nil); !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "features a node") {
		t.Errorf("another feature width: %v", err)
	}
	if _, err := m.Predict(d.Graph, d.Features, []int{-1}); !errors.Is(err, ErrModel) {
		t.Errorf("node out of range: %v", err)
	}
}
