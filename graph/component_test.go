package graph

import (
	"cmp"
	"slices"
	"testing"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
)

// gonumComponents returns topo.ConnectedComponents(g) as sorted node lists
// ordered by their smallest node.
func gonumComponents(g gonum.Undirected) [][]int {
	var cc [][]int
	for _, c := range topo.ConnectedComponents(g) {
		ids := make([]int, len(c))
		for k, n := range c {
			ids[k] = int(n.ID())
		}
		slices.Sort(ids)
		cc = append(cc, ids)
	}
	slices.SortFunc(cc, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	return cc
}

func componentLists(g *Graph) [][]int {
	comp, count := Components(g)
	cc := make([][]int, count)
	for i, c := range comp {
		cc[c] = append(cc[c], i)
	}
	return cc
}

func TestComponents(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			g := mustGraph(t, test.n, test.edges)
			got, want := componentLists(g), gonumComponents(g)
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("components %v, gonum's %v", got, want)
			}
		})
	}
}

func TestLargestConnectedComponent(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		edges     [][2]int
		wantNodes []int
		wantEdges [][2]int // of the relabelled subgraph
	}{
		{"empty", 0, nil, []int{}, nil},
		{"isolated nodes", 3, nil, []int{0}, nil},
		{"two components", 7, [][2]int{{0, 1}, {1, 2}, {3, 4}, {4, 5}, {5, 3}, {6, 4}},
			[]int{3, 4, 5, 6}, [][2]int{{0, 1}, {1, 2}, {2, 0}, {3, 1}}},
		{"tie goes to the smallest node", 6, [][2]int{{5, 4}, {1, 2}, {0, 3}},
			[]int{0, 3}, [][2]int{{0, 1}}},
		{"interleaved", 6, [][2]int{{0, 2}, {2, 4}, {1, 3}, {5, 4}},
			[]int{0, 2, 4, 5}, [][2]int{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			g := mustGraph(t, test.n, test.edges)
			sub, nodes := LargestConnectedComponent(g)
			checkGraph(t, sub)
			if nodes == nil || !slices.Equal(nodes, test.wantNodes) {
				t.Errorf("nodes = %#v, want %v", nodes, test.wantNodes)
			}
			want := mustGraph(t, len(test.wantNodes), test.wantEdges)
			if !sameGraph(sub, want) {
				t.Errorf("subgraph %v, want %v", neighborLists(sub), neighborLists(want))
			}
		})
	}
}

func TestSubgraph(t *testing.T) {
	g := mustGraph(t, 6, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 0}, {4, 5}, {2, 5}})
	tests := []struct {
		nodes []int
		want  [][]int32
	}{
		{nil, [][]int32{}},
		{[]int{0, 1, 2, 3}, [][]int32{{1, 3}, {0, 2}, {1, 3}, {0, 2}}},
		// Unsorted: node k is nodes[k], rows must still be sorted.
		{[]int{5, 2, 3, 1}, [][]int32{{1}, {0, 2, 3}, {1}, {1}}},
		{[]int{4, 0}, [][]int32{{}, {}}},
	}
	for _, test := range tests {
		sub, err := Subgraph(g, test.nodes)
		if err != nil {
			t.Fatal(err)
		}
		checkGraph(t, sub)
		if got := neighborLists(sub); !slices.EqualFunc(got, test.want, slices.Equal) {
			t.Errorf("Subgraph(%v) = %v, want %v", test.nodes, got, test.want)
		}
	}
}

// TestComponentsMatchGonum checks Components and LargestConnectedComponent
// against gonum's topo package on a random graph near the percolation
// threshold, which has one large component and many small ones.
func TestComponentsMatchGonum(t *testing.T) {
	const n, m = 3000, 1700
	g := randomGraph(t, n, m, 1)
	want := gonumComponents(g)
	if len(want) < 10 {
		t.Fatalf("only %d components; the test graph is too well connected", len(want))
	}
	if got := componentLists(g); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("components differ from gonum's: %d vs %d", len(got), len(want))
	}

	largest := slices.MaxFunc(want, func(a, b []int) int { return cmp.Compare(len(a), len(b)) })
	sub, nodes := LargestConnectedComponent(g)
	if !slices.Equal(nodes, largest) {
		t.Fatalf("LCC has %d nodes, gonum's largest component %d", len(nodes), len(largest))
	}
	if cc := topo.ConnectedComponents(sub); len(cc) != 1 {
		t.Errorf("LCC subgraph has %d components", len(cc))
	}

	// The same induced subgraph built by gonum and converted back.
	ref := simple.NewUndirectedGraph()
	for _, u := range nodes {
		ref.AddNode(simple.Node(u))
	}
	for _, u := range nodes {
		for _, v := range g.Neighbors(u) {
			if int(v) > u {
				ref.SetEdge(simple.Edge{F: simple.Node(u), T: simple.Node(v)})
			}
		}
	}
	refg, ids := FromGonum(ref)
	if !slices.EqualFunc(ids, nodes, func(a int64, b int) bool { return a == int64(b) }) {
		t.Fatal("gonum subgraph node IDs differ")
	}
	if !sameGraph(sub, refg) {
		t.Error("LCC subgraph differs from gonum's induced subgraph")
	}
	checkGraph(t, sub)
}
