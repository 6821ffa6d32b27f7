package gnn

import (
	"slices"
	"testing"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/graph"
)

// TestProtocolFor checks the settings the registry's protocols give
// ConfigFor: Planetoid's hidden 16, Amazon's 64, OGB's 3 layers of 256
// without weight decay, the GAT paper's on PubMed, none for an unknown name.
func TestProtocolFor(t *testing.T) {
	for _, tc := range []struct {
		dataset, arch            string
		layers, hidden, outHeads int
		lr, weightDecay          float64
		epochs                   int
	}{
		{"cora", "gcn", 2, 16, 0, 0.01, 5e-4, 200},
		{"amazon-photo", "sage", 2, 64, 0, 0.01, 5e-4, 200},
		{"wikics", "gcn", 2, 64, 0, 0.01, 5e-4, 200},
		{"ogbn-arxiv", "gcn", 3, 256, 0, 0.01, 0, 500},
		{"ogbn-products", "sage", 3, 256, 0, 0.01, 0, 300},
		{"pubmed", "gat", 2, 0, 8, 0.01, 0.001, 200},
		{"nosuch", "gcn", 2, 16, 0, 0.01, 5e-4, 200}, // DefaultConfig
	} {
		cfg, err := ConfigFor(tc.arch, ProtocolFor(tc.dataset))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Layers != tc.layers || (tc.hidden > 0 && cfg.Hidden != tc.hidden) || (tc.outHeads > 0 && cfg.OutHeads != tc.outHeads) ||
			cfg.LR != tc.lr || cfg.WeightDecay != tc.weightDecay || cfg.Epochs != tc.epochs {
			t.Errorf("%s %s: %+v", tc.dataset, tc.arch, cfg)
		}
	}
	if p := ProtocolOf(datasets.Protocol{}); p.Defaults != (Defaults{}) || p.ByArch != nil {
		t.Errorf("an empty protocol gives %+v", p)
	}
}

// TestFromDatasetProtocol checks that FromDataset applies the dataset's
// protocol: its feature transform (dense features too, as CSR for now),
// its per-seed split, and the saved models' name of the transform.
func TestFromDatasetProtocol(t *testing.T) {
	g, err := graph.FromEdges(4, [][2]int{{0, 1}, {2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	ds := &datasets.NodeDataset{
		Name: "toy", Graph: g, Labels: []int{0, 1, 0, 1}, NumClasses: 2,
		Dense:    &datasets.DenseFeatures{Rows: 4, Cols: 2, Data: []float32{1, 3, 0, 0, -2, 2, 0, 5}},
		Split:    datasets.Split{Train: []int{0, 1}, Val: []int{2}, Test: []int{3}},
		Protocol: datasets.Protocol{Features: datasets.L1RowNormalized},
	}
	d, err := FromDataset(ds)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.25, 0.75, -0.5, 0.5, 1}; !slices.Equal(d.Features.Data, want) || d.Features.NNZ() != 5 || d.FeatureTransform != "l1-rows" {
		t.Errorf("features %v (%d stored), transform %q", d.Features.Data, d.Features.NNZ(), d.FeatureTransform)
	}
	if d.Resplit != nil {
		t.Error("a fixed split got a Resplit")
	}
	ds.Protocol = datasets.Protocol{Split: datasets.SplitPolicy{Kind: datasets.FileSplits, Count: 2}}
	ds.Splits = []datasets.Split{ds.Split, {Train: []int{2, 3}, Val: []int{0}, Test: []int{1}}}
	if d, err = FromDataset(ds); err != nil {
		t.Fatal(err)
	}
	if s, err := d.Resplit(3); err != nil || !slices.Equal(s.Train, []int{2, 3}) || d.FeatureTransform != "" {
		t.Errorf("seed 3: %v, %v; transform %q", s, err, d.FeatureTransform)
	}
}
