package graph

import (
	"math"
	"math/big"
	"testing"

	"github.com/gnsr/gnsr/sparse"
)

func TestAdjacency(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			g := mustGraph(t, test.n, test.edges)
			a := Adjacency(g)
			checkCSR(t, a, test.n)
			vals, present := dense(a)
			for i := range test.n {
				if present[i][i] {
					t.Errorf("diagonal entry at %d", i)
				}
				for j := range test.n {
					want := float32(0)
					if g.HasEdgeBetween(int64(i), int64(j)) {
						want = 1
					}
					if vals[i][j] != want || vals[i][j] != vals[j][i] {
						t.Errorf("A[%d,%d] = %v, A[%d,%d] = %v, want %v", i, j, vals[i][j], j, i, vals[j][i], want)
					}
				}
			}
			if a.NNZ() > 0 {
				a.Indices[0] = -1 // must not alias g
				checkGraph(t, g)
			}
		})
	}
}

func TestAddSelfLoops(t *testing.T) {
	// Row 0: diagonal already stored; row 1: unsorted with a duplicate;
	// row 2: empty.
	a := &sparse.CSR{
		Rows:    3,
		Cols:    3,
		Indptr:  []int{0, 2, 5, 5},
		Indices: []int32{0, 2, 2, 0, 2},
		Data:    []float32{2, 4, 1, 3, 0.5},
	}
	got := AddSelfLoops(a)
	checkCSR(t, got, 3)
	want := [][]float32{{3, 0, 4}, {3, 1, 1.5}, {0, 0, 1}}
	vals, _ := dense(got)
	for i := range want {
		for j := range want[i] {
			if vals[i][j] != want[i][j] {
				t.Errorf("(A+I)[%d,%d] = %v, want %v", i, j, vals[i][j], want[i][j])
			}
		}
	}
	if a.Data[0] != 2 || a.Indices[2] != 2 {
		t.Error("AddSelfLoops modified its argument")
	}

	for name, bad := range map[string]*sparse.CSR{
		"non-square": {Rows: 2, Cols: 3, Indptr: []int{0, 0, 0}},
		"malformed":  {Rows: 2, Cols: 2, Indptr: []int{0, 0}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddSelfLoops of a %s matrix did not panic", name)
				}
			}()
			AddSelfLoops(bad)
		}()
	}
}

// TestNormalizeSymmetricHand checks hand-computed values: for the path
// 0-1-2, deg+1 is (2, 3, 2).
func TestNormalizeSymmetricHand(t *testing.T) {
	g := mustGraph(t, 3, [][2]int{{0, 1}, {1, 2}})
	s6 := float32(1 / math.Sqrt(6))
	want := [][]float32{
		{0.5, s6, 0},
		{s6, float32(1.0 / 3), s6},
		{0, s6, 0.5},
	}
	vals, _ := dense(NormalizeSymmetric(g))
	for i := range want {
		for j := range want[i] {
			if vals[i][j] != want[i][j] {
				t.Errorf("S[%d,%d] = %v, want %v", i, j, vals[i][j], want[i][j])
			}
		}
	}
}

func TestNormalizeSymmetric(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			g := mustGraph(t, test.n, test.edges)
			checkNormalizeSymmetric(t, g)
		})
	}
	t.Run("random", func(t *testing.T) {
		checkNormalizeSymmetric(t, randomGraph(t, 500, 3000, 2))
	})
}

// checkNormalizeSymmetric compares NormalizeSymmetric(g) with a float64
// dense reference 1/sqrt((deg(i)+1)(deg(j)+1)) on the pattern of A+I and
// checks exact symmetry.
func checkNormalizeSymmetric(t *testing.T, g *Graph) {
	t.Helper()
	n := g.NumNodes()
	s := NormalizeSymmetric(g)
	checkCSR(t, s, n)
	if s.NNZ() != 2*g.NumEdges()+n {
		t.Errorf("NNZ = %d, want 2·edges + nodes = %d", s.NNZ(), 2*g.NumEdges()+n)
	}
	vals, present := dense(s)
	for i := range n {
		for j := range n {
			if want := i == j || g.HasEdgeBetween(int64(i), int64(j)); present[i][j] != want {
				t.Fatalf("entry (%d,%d) stored = %t, want %t", i, j, present[i][j], want)
			}
			if !present[i][j] {
				continue
			}
			want := float32(1 / math.Sqrt(float64((g.Degree(i)+1)*(g.Degree(j)+1))))
			if vals[i][j] != want {
				t.Errorf("S[%d,%d] = %v, want %v", i, j, vals[i][j], want)
			}
			if math.Float32bits(vals[i][j]) != math.Float32bits(vals[j][i]) {
				t.Errorf("S[%d,%d] = %v but S[%d,%d] = %v", i, j, vals[i][j], j, i, vals[j][i])
			}
		}
	}
}

func TestNormalizeMean(t *testing.T) {
	for _, test := range graphTests {
		t.Run(test.name, func(t *testing.T) {
			g := mustGraph(t, test.n, test.edges)
			m := NormalizeMean(g)
			checkCSR(t, m, test.n)
			vals, present := dense(m)
			for i := range test.n {
				deg := g.Degree(i)
				if got := m.Indptr[i+1] - m.Indptr[i]; got != deg {
					t.Errorf("row %d has %d entries, want %d", i, got, deg)
				}
				var sum float64
				for j := range test.n {
					if present[i][j] != g.HasEdgeBetween(int64(i), int64(j)) {
						t.Errorf("entry (%d,%d) stored = %t", i, j, present[i][j])
					}
					if present[i][j] {
						if want := float32(1 / float64(deg)); vals[i][j] != want {
							t.Errorf("M[%d,%d] = %v, want %v", i, j, vals[i][j], want)
						}
						sum += float64(vals[i][j])
					}
				}
				if deg > 0 && math.Abs(sum-1) > 1e-6 {
					t.Errorf("row %d sums to %v", i, sum)
				}
			}
		})
	}
	// Star with 4 leaves: the centre averages 4 neighbours, leaves copy it.
	vals, _ := dense(NormalizeMean(mustGraph(t, 5, [][2]int{{0, 1}, {0, 2}, {0, 3}, {0, 4}})))
	if vals[0][3] != 0.25 || vals[3][0] != 1 {
		t.Errorf("star: M[0,3] = %v, M[3,0] = %v, want 0.25, 1", vals[0][3], vals[3][0])
	}
}

// TestInvSqrt checks that invSqrt is x^-1/2 correctly rounded, using a
// 200-bit reference whose second rounding cannot matter at these sizes.
func TestInvSqrt(t *testing.T) {
	fixed := 0
	for x := 1; x <= 20000; x++ {
		ref := new(big.Float).SetPrec(200).SetInt64(int64(x))
		ref.Sqrt(ref)
		ref.Quo(new(big.Float).SetPrec(200).SetInt64(1), ref)
		want, _ := ref.Float64()
		got := invSqrt(x)
		if got != want {
			t.Fatalf("invSqrt(%d) = %v, want %v", x, got, want)
		}
		if naive := 1 / math.Sqrt(float64(x)); naive != got {
			fixed++
			if math.Abs(naive-got) > math.Nextafter(got, 2)-got {
				t.Fatalf("invSqrt(%d) = %v is more than one ulp from %v", x, got, naive)
			}
		}
	}
	t.Logf("1/math.Sqrt(x) was one ulp off for %d of 20000 values", fixed)
}

// TestNormalizeMeanShared checks that the shared matrix equals
// NormalizeMean's and uses the graph's own column indices.
func TestNormalizeMeanShared(t *testing.T) {
	for _, test := range graphTests {
		g := mustGraph(t, test.n, test.edges)
		m, s := NormalizeMean(g), NormalizeMeanShared(g)
		checkCSR(t, s, test.n)
		if !m.Equal(s) {
			t.Errorf("%s: NormalizeMeanShared differs from NormalizeMean", test.name)
		}
		if len(g.indices) > 0 && &s.Indices[0] != &g.indices[0] {
			t.Errorf("%s: NormalizeMeanShared copied the indices", test.name)
		}
	}
}
