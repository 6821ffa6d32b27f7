package graph

import (
	"errors"
	"slices"
	"strings"
	"testing"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/iterator"
	"gonum.org/v1/gonum/graph/simple"

	"github.com/gnsr/gnsr/sparse"
)

var graphTests = []struct {
	name  string
	n     int
	edges [][2]int
	want  [][]int32 // neighbour lists
}{
	{
		name: "empty",
		n:    0,
		want: [][]int32{},
	},
	{
		name:  "path",
		n:     4,
		edges: [][2]int{{0, 1}, {2, 1}, {2, 3}},
		want:  [][]int32{{1}, {0, 2}, {1, 3}, {2}},
	},
	{
		name:  "star",
		n:     5,
		edges: [][2]int{{3, 0}, {0, 1}, {4, 0}, {0, 2}},
		want:  [][]int32{{1, 2, 3, 4}, {0}, {0}, {0}, {0}},
	},
	{
		name:  "triangle with duplicates and self-loops",
		n:     3,
		edges: [][2]int{{0, 1}, {1, 0}, {2, 2}, {1, 2}, {2, 0}, {0, 1}, {0, 0}},
		want:  [][]int32{{1, 2}, {0, 2}, {0, 1}},
	},
	{
		name:  "isolated nodes",
		n:     5,
		edges: [][2]int{{3, 1}},
		want:  [][]int32{{}, {3}, {}, {1}, {}},
	},
	{
		name:  "two components",
		n:     7,
		edges: [][2]int{{0, 1}, {1, 2}, {3, 4}, {4, 5}, {5, 3}, {6, 4}},
		want:  [][]int32{{1}, {0, 2}, {1}, {4, 5}, {3, 5, 6}, {3, 4}, {4}},
	},
}

func TestFromEdges(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			g, err := FromEdges(test.n, test.edges)
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, g)
			if g.NumNodes() != test.n {
				t.Errorf("NumNodes = %d, want %d", g.NumNodes(), test.n)
			}
			wantEdges := 0
			for i, nbrs := range test.want {
				wantEdges += len(nbrs)
				if got := g.Neighbors(i); !slices.Equal(got, nbrs) {
					t.Errorf("Neighbors(%d) = %v, want %v", i, got, nbrs)
				}
				if got := g.Degree(i); got != len(nbrs) {
					t.Errorf("Degree(%d) = %d, want %d", i, got, len(nbrs))
				}
			}
			if got := g.NumEdges(); got != wantEdges/2 {
				t.Errorf("NumEdges = %d, want %d", got, wantEdges/2)
			}
		})
	}
}

func TestFromDirectedCSR(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			want, err := FromEdges(test.n, test.edges)
			if err != nil {
				t.Fatal(err)
			}
			// Symmetric adjacency round trip.
			got, err := FromDirectedCSR(Adjacency(want))
			if err != nil {
				t.Fatal(err)
			}
			if !sameGraph(got, want) {
				t.Errorf("from symmetric adjacency: got %v, want %v", neighborLists(got), neighborLists(want))
			}
			// The raw directed edge list, self-loops and duplicates included.
			var r, c []int
			var v []float32
			for _, e := range test.edges {
				r, c, v = append(r, e[0]), append(c, e[1]), append(v, 1)
			}
			a, err := sparse.FromCOO(test.n, test.n, r, c, v)
			if err != nil {
				t.Fatal(err)
			}
			got, err = FromDirectedCSR(a)
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, got)
			if !sameGraph(got, want) {
				t.Errorf("from directed edges: got %v, want %v", neighborLists(got), neighborLists(want))
			}
		})
	}
}

func TestFromDirectedCSRValues(t *testing.T) {
	// Row 0 is unsorted with a duplicate at column 3 that sums to zero;
	// row 1 stores an explicit zero at column 2 and a diagonal entry;
	// row 2 holds only a one-way edge to 0 with a non-unit weight.
	a := &sparse.CSR{
		Rows:    4,
		Cols:    4,
		Indptr:  []int{0, 4, 7, 8, 8},
		Indices: []int32{3, 1, 3, 2, 2, 1, 3, 0},
		Data:    []float32{1, 2, -1, 0, 0, 5, -3, 0.5},
	}
	g, err := FromDirectedCSR(a)
	if err != nil {
		t.Fatal(err)
	}
	checkGraph(t, g)
	want := [][]int32{{1, 2}, {0, 3}, {0}, {1}}
	if got := neighborLists(g); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got %v, want %v", got, want)
	}
	if a.Indices[0] != 3 || a.Data[2] != -1 {
		t.Error("FromDirectedCSR modified its argument")
	}
}

func TestFromGonum(t *testing.T) {
	// Sparse, unordered IDs.
	src := simple.NewUndirectedGraph()
	ids := []int64{40, 7, 13, 100, 2}
	for _, id := range ids {
		src.AddNode(simple.Node(id))
	}
	for _, e := range [][2]int64{{40, 7}, {7, 13}, {13, 40}, {100, 2}} {
		src.SetEdge(src.NewEdge(simple.Node(e[0]), simple.Node(e[1])))
	}
	g, gotIDs := FromGonum(src)
	checkGraph(t, g)
	wantIDs := []int64{2, 7, 13, 40, 100}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Fatalf("ids = %v, want %v", gotIDs, wantIDs)
	}
	want := [][]int32{{4}, {2, 3}, {1, 3}, {1, 2}, {0}}
	if got := neighborLists(g); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got %v, want %v", got, want)
	}

	t.Run("self-loop", func(t *testing.T) {
		g, _ := FromGonum(withSelfLoops{mustGraph(t, 3, [][2]int{{0, 1}})})
		checkGraph(t, g)
		if g.NumEdges() != 1 {
			t.Errorf("NumEdges = %d, want 1", g.NumEdges())
		}
	})

	t.Run("round trip", func(t *testing.T) {
		want := randomGraph(t, 200, 500, 3)
		got, ids := FromGonum(want)
		for k, id := range ids {
			if id != int64(k) {
				t.Fatalf("ids[%d] = %d", k, id)
			}
		}
		if !sameGraph(got, want) {
			t.Error("FromGonum(g) differs from g")
		}
	})
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		build   func() error
		want    error
		message string
	}{
		{"negative n", func() error { _, err := FromEdges(-1, nil); return err }, ErrNodeCount, "-1"},
		{"negative endpoint", func() error {
			_, err := FromEdges(3, [][2]int{{0, 1}, {1, 2}, {-1, 2}})
			return err
		}, ErrNodeRange, "edge 2 (-1, 2)"},
		{"endpoint equal to n", func() error {
			_, err := FromEdges(3, [][2]int{{0, 3}})
			return err
		}, ErrNodeRange, "edge 0 (0, 3)"},
		{"edge into empty graph", func() error {
			_, err := FromEdges(0, [][2]int{{0, 0}})
			return err
		}, ErrNodeRange, "edge 0"},
		{"non-square CSR", func() error {
			_, err := FromDirectedCSR(&sparse.CSR{Rows: 2, Cols: 3, Indptr: []int{0, 0, 0}})
			return err
		}, ErrNotSquare, "2×3"},
		{"malformed CSR", func() error {
			_, err := FromDirectedCSR(&sparse.CSR{Rows: 2, Cols: 2, Indptr: []int{0, 1, 1}, Indices: []int32{5}, Data: []float32{1}})
			return err
		}, sparse.ErrInvalid, "column index 5"},
		{"subgraph node out of range", func() error {
			_, err := Subgraph(mustGraph(t, 3, nil), []int{0, 3})
			return err
		}, ErrNodeRange, "nodes[1] = 3"},
		{"subgraph duplicate node", func() error {
			_, err := Subgraph(mustGraph(t, 3, nil), []int{2, 0, 2})
			return err
		}, ErrDuplicateNode, "nodes[2] = 2"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := test.build()
			if !errors.Is(err, test.want) {
				t.Fatalf("error %v, want one wrapping %v", err, test.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "graph: ") || !strings.Contains(msg, test.message) {
				t.Errorf("message %q lacks the prefix %q or %q", msg, "graph: ", test.message)
			}
		})
	}
}

func mustGraph(tb testing.TB, n int, edges [][2]int) *Graph {
	tb.Helper()
	g, err := FromEdges(n, edges)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestAccessorPanics(t *testing.T) {
	g := mustGraph(t, 2, [][2]int{{0, 1}})
	for _, i := range []int{-1, 2} {
		for name, f := range map[string]func(int){
			"Degree":    func(i int) { g.Degree(i) },
			"Neighbors": func(i int) { g.Neighbors(i) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(%d) did not panic", name, i)
					}
				}()
				f(i)
			}()
		}
	}
}

func TestNeighborsIsClipped(t *testing.T) {
	g := mustGraph(t, 3, [][2]int{{0, 1}, {1, 2}})
	nbrs := g.Neighbors(0)
	_ = append(nbrs, 7)
	if got := g.Neighbors(1); !slices.Equal(got, []int32{0, 2}) {
		t.Errorf("appending to Neighbors(0) changed Neighbors(1) to %v", got)
	}
}

func TestZeroGraph(t *testing.T) {
	var g Graph
	if g.NumNodes() != 0 || g.NumEdges() != 0 || g.Nodes().Len() != 0 || g.Node(0) != nil {
		t.Error("zero Graph is not empty")
	}
	checkCSR(t, Adjacency(&g), 0)
	checkCSR(t, NormalizeSymmetric(&g), 0)
	checkCSR(t, NormalizeMean(&g), 0)
}

func TestGonumInterface(t *testing.T) {
	g := mustGraph(t, 5, [][2]int{{0, 1}, {0, 2}, {0, 3}, {3, 1}})
	var u gonum.Undirected = g

	for _, id := range []int64{-1, 5} {
		if u.Node(id) != nil {
			t.Errorf("Node(%d) = %v, want nil", id, u.Node(id))
		}
		if u.From(id).Len() != 0 {
			t.Errorf("From(%d) is not empty", id)
		}
	}
	if n := u.Node(3); n == nil || n.ID() != 3 {
		t.Errorf("Node(3) = %v", n)
	}

	var ids []int64
	for nodes := u.Nodes(); nodes.Next(); {
		ids = append(ids, nodes.Node().ID())
	}
	if !slices.Equal(ids, []int64{0, 1, 2, 3, 4}) {
		t.Errorf("Nodes = %v", ids)
	}

	from := u.From(0)
	if from.Len() != 3 {
		t.Errorf("From(0).Len() = %d, want 3", from.Len())
	}
	from.Next()
	if got := from.Node().ID(); got != 1 || from.Len() != 2 {
		t.Errorf("after one Next: node %d, Len %d", got, from.Len())
	}
	if got := gonum.NodesOf(from); len(got) != 2 || got[0].ID() != 2 || got[1].ID() != 3 {
		t.Errorf("rest of From(0) = %v", got)
	}
	if from.Len() != 0 || from.Next() || from.Node() != nil {
		t.Error("exhausted iterator is not empty")
	}
	from.Reset()
	if got := gonum.NodesOf(from); len(got) != 3 {
		t.Errorf("after Reset, From(0) = %v", got)
	}
	if u.From(4).Len() != 0 {
		t.Error("From of an isolated node is not empty")
	}

	for _, test := range []struct {
		x, y int64
		want bool
	}{
		{0, 1, true}, {1, 0, true}, {1, 3, true}, {0, 3, true},
		{1, 2, false}, {0, 0, false}, {0, 4, false}, {0, 5, false}, {-1, 0, false},
	} {
		if got := u.HasEdgeBetween(test.x, test.y); got != test.want {
			t.Errorf("HasEdgeBetween(%d, %d) = %t", test.x, test.y, got)
		}
		e := u.EdgeBetween(test.x, test.y)
		if (e != nil) != test.want {
			t.Errorf("EdgeBetween(%d, %d) = %v", test.x, test.y, e)
			continue
		}
		if e != nil && (e.From().ID() != test.x || e.To().ID() != test.y) {
			t.Errorf("EdgeBetween(%d, %d) = %d→%d", test.x, test.y, e.From().ID(), e.To().ID())
		}
		if (u.Edge(test.x, test.y) != nil) != test.want {
			t.Errorf("Edge(%d, %d) = %v", test.x, test.y, u.Edge(test.x, test.y))
		}
	}
}

// withSelfLoops is a gonum graph whose From lists every node as its own
// neighbour, which gonum's simple graphs cannot express.
type withSelfLoops struct{ *Graph }

func (g withSelfLoops) From(id int64) gonum.Nodes {
	nodes := append(gonum.NodesOf(g.Graph.From(id)), simple.Node(id))
	return iterator.NewOrderedNodes(nodes)
}

func TestFromPairs(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			want := mustGraph(t, test.n, test.edges)
			src, dst := make([]int32, len(test.edges)), make([]int32, len(test.edges))
			for k, e := range test.edges {
				src[k], dst[k] = int32(e[0]), int32(e[1])
			}
			g, err := FromPairs(test.n, src, dst)
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, g)
			if g.NumNodes() != want.NumNodes() || !slices.Equal(g.indptr, want.indptr) || !slices.Equal(g.indices, want.indices) {
				t.Errorf("FromPairs gives %v %v, FromEdges %v %v", g.indptr, g.indices, want.indptr, want.indices)
			}
			if got, w := g.Bytes(), int64(8*len(g.indptr)+4*len(g.indices)); got != w {
				t.Errorf("Bytes = %d, want %d", got, w)
			}
		})
	}
	if _, err := FromPairs(3, []int32{0, 2}, []int32{1, 3}); !errors.Is(err, ErrNodeRange) || !strings.Contains(err.Error(), "pair 1 (2, 3)") {
		t.Errorf("out of range: %v", err)
	}
	if _, err := FromPairs(3, []int32{-1}, []int32{1}); !errors.Is(err, ErrNodeRange) {
		t.Errorf("negative: %v", err)
	}
	if _, err := FromPairs(-1, nil, nil); !errors.Is(err, ErrNodeCount) {
		t.Errorf("negative n: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for src and dst of different lengths")
		}
	}()
	FromPairs(3, []int32{0}, nil)
}
