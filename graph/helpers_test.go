package graph

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/sparse"
)

// randomEdges returns m distinct undirected edges without self-loops on n
// nodes, drawn from a PCG generator with the given seed.
func randomEdges(n, m int, seed uint64) [][2]int {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[[2]int]bool, m)
	edges := make([][2]int, 0, m)
	for len(edges) < m {
		u, v := rng.IntN(n), rng.IntN(n)
		if u == v {
			continue
		}
		key := [2]int{min(u, v), max(u, v)}
		if seen[key] {
			continue
		}
		seen[key] = true
		edges = append(edges, [2]int{u, v})
	}
	return edges
}

// randomGraph returns a graph with n nodes and exactly m edges; see
// randomEdges.
func randomGraph(tb testing.TB, n, m int, seed uint64) *Graph {
	tb.Helper()
	g, err := FromEdges(n, randomEdges(n, m, seed))
	if err != nil {
		tb.Fatal(err)
	}
	if g.NumEdges() != m {
		tb.Fatalf("random graph has %d edges, want %d", g.NumEdges(), m)
	}
	return g
}

// checkGraph checks the structural invariants of g: sorted, repeat-free,
// loop-free neighbour lists that are symmetric, and consistent counts.
func checkGraph(t *testing.T, g *Graph) {
	t.Helper()
	sum := 0
	for i := range g.NumNodes() {
		nbrs := g.Neighbors(i)
		sum += len(nbrs)
		if len(nbrs) != g.Degree(i) {
			t.Errorf("node %d: %d neighbours but degree %d", i, len(nbrs), g.Degree(i))
		}
		if !isStrictlySorted(nbrs) {
			t.Errorf("node %d: neighbours %v not strictly increasing", i, nbrs)
		}
		for _, j := range nbrs {
			if int(j) == i {
				t.Errorf("node %d: self-loop", i)
			}
			if _, ok := slices.BinarySearch(g.Neighbors(int(j)), int32(i)); !ok {
				t.Errorf("edge %d-%d is not symmetric", i, j)
			}
		}
	}
	if sum != 2*g.NumEdges() {
		t.Errorf("degree sum %d, want 2·NumEdges = %d", sum, 2*g.NumEdges())
	}
}

// checkCSR checks that m is a valid n×n matrix with strictly increasing
// columns in each row.
func checkCSR(t *testing.T, m *sparse.CSR, n int) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Rows != n || m.Cols != n {
		t.Fatalf("shape %d×%d, want %d×%d", m.Rows, m.Cols, n, n)
	}
	for i := range m.Rows {
		if row := m.Indices[m.Indptr[i]:m.Indptr[i+1]]; !isStrictlySorted(row) {
			t.Errorf("row %d: columns %v not strictly increasing", i, row)
		}
	}
}

// dense returns m as a dense matrix; present reports the stored positions.
func dense(m *sparse.CSR) (vals [][]float32, present [][]bool) {
	vals = make([][]float32, m.Rows)
	present = make([][]bool, m.Rows)
	for i := range m.Rows {
		vals[i] = make([]float32, m.Cols)
		present[i] = make([]bool, m.Cols)
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			vals[i][m.Indices[p]] += m.Data[p]
			present[i][m.Indices[p]] = true
		}
	}
	return vals, present
}

func neighborLists(g *Graph) [][]int32 {
	lists := make([][]int32, g.NumNodes())
	for i := range lists {
		lists[i] = slices.Clone(g.Neighbors(i))
	}
	return lists
}

func sameGraph(a, b *Graph) bool {
	if a.NumNodes() != b.NumNodes() || a.NumEdges() != b.NumEdges() {
		return false
	}
	for i := range a.NumNodes() {
		if !slices.Equal(a.Neighbors(i), b.Neighbors(i)) {
			return false
		}
	}
	return true
}
