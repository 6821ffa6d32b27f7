package gnn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// sparseGraphData returns a random graph of n nodes and about 2 edges a
// node, whose 20 training nodes have a receptive field well short of the
// graph, with random sparse features of 40 columns and 3 classes.
func sparseGraphData(tb testing.TB, n int) *Data {
	tb.Helper()
	rng := rand.New(rand.NewPCG(21, 22))
	var edges [][2]int
	for i := range n {
		for range 2 {
			if j := rng.IntN(n); j != i {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	g, err := graph.FromEdges(n, edges)
	if err != nil {
		tb.Fatal(err)
	}
	const f, c = 40, 3
	labels := make([]int, n)
	var r, col []int
	var v []float32
	for i := range n {
		labels[i] = rng.IntN(c)
		for j := range f {
			if rng.Float64() < 0.15 || j == 3*labels[i] {
				r, col, v = append(r, i), append(col, j), append(v, float32(1+rng.IntN(3)))
			}
		}
	}
	x, err := sparse.FromCOO(n, f, r, col, v)
	if err != nil {
		tb.Fatal(err)
	}
	d := &Data{Features: x, Graph: g, Labels: labels, NumClasses: c}
	for i := range n {
		switch {
		case i%50 == 7 && len(d.Train) < 20:
			d.Train = append(d.Train, i)
		case i%5 == 1:
			d.Val = append(d.Val, i)
		default:
			d.Test = append(d.Test, i)
		}
	}
	return d
}

// forLocalArchs runs test for every local architecture of the registry,
// with its default configuration.
func forLocalArchs(t *testing.T, test func(t *testing.T, a Arch, cfg Config)) {
	for _, a := range archs {
		if !a.Local {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			cfg, err := ConfigFor(a.Name, Protocol{})
			if err != nil {
				t.Fatal(err)
			}
			test(t, a, cfg)
		})
	}
}

// TestFieldRestrictionExact checks that full-batch training restricted to
// the loss's receptive field (run.restrictToField) gives, bit for bit, the
// losses, accuracies and outputs of training on the whole graph, for every
// local architecture, with NSR on the hidden layer and dropout: the whole
// graph's run is the same run with the restriction off.
func TestFieldRestrictionExact(t *testing.T) {
	d := sparseGraphData(t, 1500)
	forLocalArchs(t, func(t *testing.T, a Arch, cfg Config) {
		cfg.Epochs, cfg.Seed, cfg.Dropout = 6, 5, 0.5
		cfg.NSR.Layers, cfg.NSR.Lambdas, cfg.NSR.MaskZeros = []int{0}, []float64{0.3}, true
		r, err := newRun(d, cfg, a)
		if err != nil {
			t.Fatal(err)
		}
		r.restrictToField()
		if len(r.fields) != 3 {
			t.Fatalf("%d fields, want 3 (none, 1 and 2 hops)", len(r.fields))
		}
		if n := len(r.fields[2]); n > d.Graph.NumNodes()/2 {
			t.Fatalf("receptive field of %d nodes of %d: the test needs a strict part", n, d.Graph.NumNodes())
		}
		pruned, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := TrainWith(context.Background(), d, cfg, Options{wholeGraph: true})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, pruned, whole)
		for i, p := range pruned.Model.Params() {
			w := whole.Model.Params()[i].Value.Data().([]float32)
			for k, x := range p.Value.Data().([]float32) {
				if math.Float32bits(x) != math.Float32bits(w[k]) {
					t.Fatalf("%s[%d] = %v, want %v", p.Name, k, x, w[k])
				}
			}
		}
	})
}

// TestPredictFieldExact checks that predicting a few nodes, which computes
// their receptive field only, gives the logits and embeddings of
// predicting every node, bit for bit, for every local architecture.
func TestPredictFieldExact(t *testing.T) {
	d := sparseGraphData(t, 1500)
	nodes := []int{1400, 7, 7, 300}
	if f := receptiveFields(d.Graph, nodes, 2); f == nil || len(f[2]) > d.Graph.NumNodes()/2 {
		t.Fatal("the test needs a receptive field well short of the graph")
	}
	forLocalArchs(t, func(t *testing.T, _ Arch, cfg Config) {
		cfg.Epochs = 3
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		all, err := res.Model.PredictData(d, nil)
		if err != nil {
			t.Fatal(err)
		}
		some, err := res.Model.PredictData(d, nodes)
		if err != nil {
			t.Fatal(err)
		}
		same := func(what string, got, all []float32, w int) {
			t.Helper()
			for r, v := range nodes {
				for j := range w {
					if g, want := got[r*w+j], all[v*w+j]; math.Float32bits(g) != math.Float32bits(want) {
						t.Fatalf("%s of node %d [%d] = %v, want %v", what, v, j, g, want)
					}
				}
			}
		}
		same("logits", some.Logits, all.Logits, some.Classes)
		same("embeddings", some.Embeddings, all.Embeddings, some.EmbeddingWidth)
	})
}
