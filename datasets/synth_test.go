package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func synthConfig(format string) SynthConfig {
	return SynthConfig{Nodes: 600, AvgDegree: 6, Classes: 4, Features: 40, NNZPerRow: 6, Homophily: 0.8,
		Train: 0.5, Val: 0.2, Seed: 7, Format: format}
}

func writeSynth(t testing.TB, c SynthConfig) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "g")
	if _, err := WriteSynthetic(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadDir(t testing.TB, dir string) *NodeDataset {
	t.Helper()
	ds, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// sameDataset reports where two datasets differ.
func sameDataset(t *testing.T, a, b *NodeDataset) {
	t.Helper()
	if !slices.Equal(a.Labels, b.Labels) || a.NumClasses != b.NumClasses {
		t.Errorf("labels differ")
	}
	if !splitsEqual(a.Split, b.Split) {
		t.Errorf("splits differ: %d/%d/%d and %d/%d/%d", len(a.Split.Train), len(a.Split.Val), len(a.Split.Test),
			len(b.Split.Train), len(b.Split.Val), len(b.Split.Test))
	}
	if !slices.Equal(edgesOf(a.Graph), edgesOf(b.Graph)) {
		t.Errorf("graphs differ: %d and %d edges", a.Graph.NumEdges(), b.Graph.NumEdges())
	}
	switch {
	case a.Features != nil && b.Features != nil:
		if !a.Features.Equal(b.Features) {
			t.Errorf("sparse features differ")
		}
	case a.Dense != nil && b.Dense != nil:
		if a.Dense.Rows != b.Dense.Rows || a.Dense.Cols != b.Dense.Cols || !slices.Equal(a.Dense.Data, b.Dense.Data) {
			t.Errorf("dense features differ")
		}
	default:
		t.Errorf("features stored differently: %v/%v and %v/%v", a.Features != nil, a.Dense != nil, b.Features != nil, b.Dense != nil)
	}
}

// TestSynthFormatsAgree writes one graph in both layouts and checks that
// they load to the same dataset, sparse and dense, and that the graph has
// the signal it promises.
func TestSynthFormatsAgree(t *testing.T) {
	for _, dense := range []bool{false, true} {
		c := synthConfig("ogb")
		c.Dense = dense
		ogb := loadDir(t, writeSynth(t, c))
		c.Format = "parquet"
		pq := loadDir(t, writeSynth(t, c))
		sameDataset(t, ogb, pq)
		if ogb.NodeIDs != nil || pq.NodeIDs != nil {
			t.Errorf("node ids kept for ids 0..N-1")
		}
		if dense != (ogb.Dense != nil) {
			t.Errorf("dense %v: loaded dense %v", dense, ogb.Dense != nil)
		}
		st := Stats(ogb)
		if st.Nodes != 600 || st.Classes != 4 || st.Features != 40 || st.Train != 300 || st.Val != 120 || st.Test != 180 {
			t.Errorf("stats %+v", st)
		}
		if !dense && st.FeatureNNZ != 600*6 {
			t.Errorf("%d non-zeros, want %d", st.FeatureNNZ, 600*6)
		}
		// 1,800 edges drawn; a few repeat. With homophily 0.8 and 4
		// classes, 0.8 + 0.2/4 = 85% of the edges join one class.
		same := 0
		es := edgesOf(ogb.Graph)
		for _, e := range es {
			if ogb.Labels[e[0]] == ogb.Labels[e[1]] {
				same++
			}
		}
		if len(es) < 1700 || len(es) > 1800 || float64(same)/float64(len(es)) < 0.8 || float64(same)/float64(len(es)) > 0.9 {
			t.Errorf("%d edges, %d within a class", len(es), same)
		}
	}
}

// TestSynthDeterministic checks that a seed gives the same bytes, and
// another seed other ones.
func TestSynthDeterministic(t *testing.T) {
	read := func(dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "raw", "edge.csv.gz"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := synthConfig("ogb")
	a, b := read(writeSynth(t, c)), read(writeSynth(t, c))
	c.Seed++
	other := read(writeSynth(t, c))
	if !bytes.Equal(a, b) || bytes.Equal(a, other) {
		t.Errorf("same seed: equal %v; other seed: equal %v", bytes.Equal(a, b), bytes.Equal(a, other))
	}
}

func TestSynthErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteSynthetic(dir, synthConfig("ogb")); err == nil {
		t.Error("an existing directory was accepted")
	}
	for _, mod := range []func(*SynthConfig){
		func(c *SynthConfig) { c.Nodes = 1 },
		func(c *SynthConfig) { c.NNZPerRow = 41 },
		func(c *SynthConfig) { c.Homophily = 1.5 },
		func(c *SynthConfig) { c.Train = 0.9 },
		func(c *SynthConfig) { c.Format = "csv" },
		func(c *SynthConfig) { c.Classes = 1 },
	} {
		c := synthConfig("ogb")
		mod(&c)
		if _, err := WriteSynthetic(filepath.Join(dir, "new"), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
			t.Errorf("%+v left a directory", c)
		}
	}
}
