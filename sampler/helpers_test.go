package sampler

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/graph"
)

func newRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randomEdges returns m distinct undirected edges without self-loops on n
// nodes, drawn from a PCG generator with the given seed.
func randomEdges(n, m int, seed uint64) [][2]int {
	rng := newRNG(seed)
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
		edges = append(edges, key)
	}
	return edges
}

func mustGraph(tb testing.TB, n int, edges [][2]int) *graph.Graph {
	tb.Helper()
	g, err := graph.FromEdges(n, edges)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func pathGraph(tb testing.TB, n int) *graph.Graph {
	var e [][2]int
	for i := 0; i+1 < n; i++ {
		e = append(e, [2]int{i, i + 1})
	}
	return mustGraph(tb, n, e)
}

// starGraph has centre 0 and leaves 1..leaves.
func starGraph(tb testing.TB, leaves int) *graph.Graph {
	var e [][2]int
	for i := 1; i <= leaves; i++ {
		e = append(e, [2]int{0, i})
	}
	return mustGraph(tb, leaves+1, e)
}

func completeGraph(tb testing.TB, n int) *graph.Graph {
	var e [][2]int
	for i := range n {
		for j := i + 1; j < n; j++ {
			e = append(e, [2]int{i, j})
		}
	}
	return mustGraph(tb, n, e)
}

// checkBatch checks every structural invariant of a batch sampled from g
// with the given fanouts for seeds.
func checkBatch(t *testing.T, g *graph.Graph, fanouts, seeds []int, b *Batch) {
	t.Helper()
	L := len(fanouts)
	if len(b.Blocks) != L {
		t.Fatalf("%d blocks, want %d", len(b.Blocks), L)
	}
	if !slices.Equal(b.Seeds, seeds) {
		t.Errorf("Seeds = %v, want %v", b.Seeds, seeds)
	}
	if !slices.Equal(b.Blocks[L-1].Dst, seeds) {
		t.Errorf("last block Dst = %v, want seeds %v", b.Blocks[L-1].Dst, seeds)
	}
	if !slices.Equal(b.InputNodes, b.Blocks[0].Src) {
		t.Errorf("InputNodes = %v, want Blocks[0].Src = %v", b.InputNodes, b.Blocks[0].Src)
	}
	seen := make(map[int]bool)
	for _, v := range b.InputNodes {
		if seen[v] {
			t.Errorf("node %d appears twice in InputNodes %v", v, b.InputNodes)
		}
		seen[v] = true
	}
	for k, blk := range b.Blocks {
		f := fanouts[L-1-k]
		if k > 0 && !slices.Equal(blk.Src, b.Blocks[k-1].Dst) {
			t.Errorf("block %d: Src %v != Blocks[%d].Dst %v", k, blk.Src, k-1, b.Blocks[k-1].Dst)
		}
		if len(blk.Dst) > len(blk.Src) || !slices.Equal(blk.Src[:len(blk.Dst)], blk.Dst) {
			t.Errorf("block %d: Dst %v is not a prefix of Src %v", k, blk.Dst, blk.Src)
		}
		if !slices.Equal(blk.Src, b.InputNodes[:len(blk.Src)]) {
			t.Errorf("block %d: Src %v is not a prefix of InputNodes", k, blk.Src)
		}
		a := blk.Adj
		if err := a.Validate(); err != nil {
			t.Fatalf("block %d: %v", k, err)
		}
		if a.Rows != len(blk.Dst) || a.Cols != len(blk.Src) {
			t.Fatalf("block %d: Adj is %d×%d, want %d×%d", k, a.Rows, a.Cols, len(blk.Dst), len(blk.Src))
		}
		used := make([]bool, len(blk.Src))
		for i, v := range blk.Dst {
			cols := a.Indices[a.Indptr[i]:a.Indptr[i+1]]
			vals := a.Data[a.Indptr[i]:a.Indptr[i+1]]
			deg := g.Degree(v)
			want := deg
			if f >= 0 {
				want = min(deg, f)
			}
			if len(cols) != want {
				t.Errorf("block %d row %d (node %d, degree %d, fanout %d): %d neighbours, want %d", k, i, v, deg, f, len(cols), want)
			}
			var sum float64
			for p, c := range cols {
				if p > 0 && c <= cols[p-1] {
					t.Errorf("block %d row %d: columns %v not strictly increasing (duplicate or unsorted)", k, i, cols)
				}
				u := blk.Src[c]
				used[c] = true
				if !g.HasEdgeBetween(int64(v), int64(u)) {
					t.Errorf("block %d row %d: sampled edge %d-%d is not in the graph", k, i, v, u)
				}
				if wantW := float32(1 / float64(len(cols))); vals[p] != wantW {
					t.Errorf("block %d row %d: value %v, want %v", k, i, vals[p], wantW)
				}
				sum += float64(vals[p])
			}
			if len(cols) > 0 && math.Abs(sum-1) > 1e-5 {
				t.Errorf("block %d row %d: values sum to %v, want 1", k, i, sum)
			}
		}
		// Every source node beyond the destinations was reached by an edge.
		for c := len(blk.Dst); c < len(blk.Src); c++ {
			if !used[c] {
				t.Errorf("block %d: source %d (node %d) is not a sampled neighbour", k, c, blk.Src[c])
			}
		}
	}
}
