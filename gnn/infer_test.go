package gnn

import (
	"context"
	"math"
	"testing"

	"github.com/gnsr/gnsr/sparse"
)

// TestEvaluateRows checks that layer-wise inference in row blocks gives
// the whole-graph evaluation's outputs bit for bit, for every architecture
// and for a deeper model with batch norm and residual connections, with
// blocks of 4 rows, of sizes that are no multiple of 4, and of all rows.
func TestEvaluateRows(t *testing.T) {
	d := sparseGraphData(t, 1499)
	n := d.Graph.NumNodes()
	check := func(t *testing.T, cfg Config) {
		cfg.Epochs = 3
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := res.Model
		full, xm := FullBlock(d.Graph), sparse.NewMatrix(d.Features)
		whole, err := m.evaluateNetwork(xm, sameBlocks(full, len(m.Layers)))
		if err != nil {
			t.Fatal(err)
		}
		for _, rows := range []int{3, 257, 1000, n} {
			got, err := m.evaluateRows(d.Graph, full, xm, rows)
			if err != nil {
				t.Fatal(err)
			}
			for l := range whole {
				for i, v := range got[l] {
					if math.Float32bits(v) != math.Float32bits(whole[l][i]) {
						t.Fatalf("blocks of %d rows: layer %d, node %d [%d] = %v, want %v", rows, l, i/m.Layers[l].Width(), i%m.Layers[l].Width(), v, whole[l][i])
					}
				}
			}
		}
	}
	for _, a := range archs {
		t.Run(a.Name, func(t *testing.T) {
			cfg, err := ConfigFor(a.Name, Protocol{})
			if err != nil {
				t.Fatal(err)
			}
			check(t, cfg)
		})
	}
	t.Run("sage-3-layers-bn-residual", func(t *testing.T) {
		cfg, err := ConfigFor("sage", Protocol{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Layers, cfg.BatchNorm, cfg.Residual = 3, true, true
		check(t, cfg)
	})
}
