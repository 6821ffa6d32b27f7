package datasets

import (
	"slices"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/sparse"
)

func TestStats(t *testing.T) {
	feats, err := sparse.FromCOO(5, 3, []int{0, 1, 1}, []int{2, 0, 1}, []float32{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	ds := &NodeDataset{
		Name: "toy", Features: feats, Labels: []int{0, 1, 1, -1, 1}, NumClasses: 2,
		Graph: mustGraph(t, 5, [][2]int{{0, 1}, {1, 4}}), Split: Split{Train: []int{0, 1}, Val: []int{2}, Test: []int{4}},
		ClassNames: []string{"a", "b"},
	}
	got := Stats(ds)
	want := DatasetStats{Name: "toy", Nodes: 5, Edges: 2, Features: 3, FeatureNNZ: 3, Classes: 2,
		ClassCounts: []int{1, 3}, ClassNames: []string{"a", "b"}, Unlabeled: 1, Train: 2, Val: 1, Test: 1, Isolated: 2}
	if got.Name != want.Name || !slices.Equal(got.ClassCounts, want.ClassCounts) || !slices.Equal(got.ClassNames, want.ClassNames) {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	got.ClassCounts, got.ClassNames, want.ClassCounts, want.ClassNames = nil, nil, nil, nil
	if got.String() != want.String() {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	table := Stats(ds).String()
	for _, line := range []string{
		"nodes            5\n",
		"edges            2 undirected (4 directed)\n",
		"isolated nodes   2\n",
		"features         3 (3 non-zeros, 20.00% dense; stored sparse)\n",
		"unlabeled nodes  1\n",
		"split            2 train / 1 val / 1 test\n",
		"class  nodes  name\n",
		"    1      3  b\n",
	} {
		if !strings.Contains(table, line) {
			t.Errorf("table lacks %q:\n%s", line, table)
		}
	}
	// No features, and edges beyond the labels: no panic.
	empty := Stats(&NodeDataset{Labels: []int{0}, NumClasses: 1})
	if empty.Features != 0 || empty.Isolated != 1 || empty.Edges != 0 {
		t.Errorf("Stats = %+v", empty)
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 245861: "245,861", -1234567: "-1,234,567"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestStatsPlanetoidReal checks Stats on the Planetoid datasets against
// ../shared/datasets/SOURCES.md; the isolated-node counts are those PyTorch
// Geometric reports (CiteSeer's 48 include the 15 nodes without features).
func TestStatsPlanetoidReal(t *testing.T) {
	root := dataRoot(t)
	isolated := map[string]int{"cora": 0, "citeseer": 48, "pubmed": 0}
	for _, want := range planetoidStats {
		t.Run(want.name, func(t *testing.T) {
			ds, err := Load(root, want.name)
			if err != nil {
				t.Fatal(err)
			}
			s := Stats(ds)
			if s.Name != want.name || s.Nodes != want.nodes || s.Edges != want.edges || s.Features != want.feats ||
				s.FeatureNNZ != want.nnz || s.Classes != want.classes || !slices.Equal(s.ClassCounts, want.counts) ||
				s.Unlabeled != want.unlabeled || s.Train != want.train || s.Val != want.val || s.Test != want.test ||
				s.Isolated != isolated[want.name] {
				t.Errorf("Stats = %+v, want %+v and %d isolated", s, want, isolated[want.name])
			}
			t.Logf("\n%s", s)
		})
	}
}
