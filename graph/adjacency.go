package graph

import (
	"math"
	"math/big"
	"slices"

	"github.com/gnsr/gnsr/sparse"
)

// Adjacency returns the n×n adjacency matrix of g: a symmetric 0/1 matrix
// with no diagonal and sorted columns. The result does not share storage
// with g.
func Adjacency(g *Graph) *sparse.CSR {
	data := make([]float32, len(g.indices))
	for k := range data {
		data[k] = 1
	}
	return &sparse.CSR{
		Rows:    g.n,
		Cols:    g.n,
		Indptr:  g.csrIndptr(),
		Indices: slices.Clone(g.indices),
		Data:    data,
	}
}

// csrIndptr returns a fresh copy of g's row pointers, which CSR requires
// even when there are no rows.
func (g *Graph) csrIndptr() []int {
	if g.n == 0 {
		return []int{0}
	}
	return slices.Clone(g.indptr)
}

// AddSelfLoops returns A+I for the square matrix a: 1 is added to every
// diagonal entry, stored or not. The result has sorted columns with
// duplicates of a summed, as sparse.FromCOO would; a is not modified.
//
// AddSelfLoops panics if a is not square or is malformed.
func AddSelfLoops(a *sparse.CSR) *sparse.CSR {
	if a.Rows != a.Cols {
		panic("graph: AddSelfLoops of a non-square matrix")
	}
	if err := a.Validate(); err != nil {
		panic("graph: AddSelfLoops: " + err.Error())
	}
	n := a.Rows
	indptr := make([]int, n+1)
	indices := make([]int32, 0, a.NNZ()+n)
	data := make([]float32, 0, a.NNZ()+n)
	var r row
	for i := range n {
		idx, val := r.canonical(a, i)
		p, found := slices.BinarySearch(idx, int32(i))
		indices = append(indices, idx[:p]...)
		data = append(data, val[:p]...)
		if found {
			indices = append(indices, idx[p])
			data = append(data, val[p]+1)
			p++
		} else {
			indices = append(indices, int32(i))
			data = append(data, 1)
		}
		indices = append(indices, idx[p:]...)
		data = append(data, val[p:]...)
		indptr[i+1] = len(indices)
	}
	return &sparse.CSR{Rows: n, Cols: n, Indptr: indptr, Indices: indices, Data: data}
}

// NormalizeSymmetric returns the GCN propagation matrix of Kipf & Welling,
//
//	D^-1/2 (A+I) D^-1/2,
//
// where A is the adjacency matrix of g and D the diagonal degree matrix of
// A+I, so entry (i, j) is 1/sqrt((deg(i)+1)(deg(j)+1)) on the edges and
// diagonal of g. Columns are sorted in each row.
//
// Each entry is d_i·d_j rounded once from float64 to float32, where d_i is
// (deg(i)+1)^-1/2 correctly rounded to float64. This reproduces SciPy's
// sp.diags(d) @ (A+I) @ sp.diags(d) with d = rowsum(A+I)**-0.5 in float64.
func NormalizeSymmetric(g *Graph) *sparse.CSR {
	n := g.n
	d := make([]float64, n)
	var inv invSqrtCache
	for i := range n {
		d[i] = inv.at(g.Degree(i) + 1)
	}
	indptr := make([]int, n+1)
	indices := make([]int32, 0, len(g.indices)+n)
	data := make([]float32, 0, len(g.indices)+n)
	for i := range n {
		nbrs := g.Neighbors(i)
		// nbrs never holds i, so the diagonal goes at its insertion point.
		p, _ := slices.BinarySearch(nbrs, int32(i))
		for _, j := range nbrs[:p] {
			indices = append(indices, j)
			data = append(data, float32(d[i]*d[j]))
		}
		indices = append(indices, int32(i))
		data = append(data, float32(d[i]*d[i]))
		for _, j := range nbrs[p:] {
			indices = append(indices, j)
			data = append(data, float32(d[i]*d[j]))
		}
		indptr[i+1] = len(indices)
	}
	return &sparse.CSR{Rows: n, Cols: n, Indptr: indptr, Indices: indices, Data: data}
}

// NormalizeMean returns D^-1 A, the row-normalised adjacency matrix of g
// used for GraphSAGE mean aggregation: row i holds 1/deg(i), computed in
// float64 and rounded to float32, in the columns of i's neighbours. The rows
// of isolated nodes are empty, so they aggregate to zero. Columns are sorted
// in each row and the matrix is not symmetric in general.
func NormalizeMean(g *Graph) *sparse.CSR {
	m := NormalizeMeanShared(g)
	m.Indptr, m.Indices = g.csrIndptr(), slices.Clone(g.indices)
	return m
}

// NormalizeMeanShared is NormalizeMean with the row pointers and column
// indices of g's own storage rather than copies: a graph's propagation
// matrix for training, at a third of the memory. The caller must not
// modify its Indptr or Indices.
func NormalizeMeanShared(g *Graph) *sparse.CSR {
	data := make([]float32, len(g.indices))
	for i := range g.n {
		if deg := g.Degree(i); deg > 0 {
			w := float32(1 / float64(deg))
			for p := g.indptr[i]; p < g.indptr[i+1]; p++ {
				data[p] = w
			}
		}
	}
	indptr := g.indptr
	if g.n == 0 {
		indptr = []int{0}
	}
	return &sparse.CSR{Rows: g.n, Cols: g.n, Indptr: indptr, Indices: g.indices, Data: data}
}

// invSqrtCache memoises invSqrt by argument: graphs have few distinct
// degrees and invSqrt is too slow to call once per node.
type invSqrtCache struct{ vals []float64 }

func (c *invSqrtCache) at(x int) float64 {
	if x >= len(c.vals) {
		c.vals = append(c.vals, make([]float64, x+1-len(c.vals))...)
	}
	if c.vals[x] == 0 {
		c.vals[x] = invSqrt(x)
	}
	return c.vals[x]
}

// invSqrt returns x^-1/2 correctly rounded to float64 for x ≥ 1.
//
// 1/math.Sqrt(x) rounds twice and can be one ulp off, which would make the
// float64 reference disagree with libm's pow(x, -0.5) (as used by NumPy)
// more often than necessary. Starting from it, invSqrt moves to a neighbour
// while the exact value lies beyond the midpoint between them, deciding
// with exact big.Float arithmetic: t = x^-1/2 < m ⇔ m²·x > 1 for m > 0.
func invSqrt(x int) float64 {
	r := 1 / math.Sqrt(float64(x))
	beyond := func(a, b float64) bool { // does t lie on b's side of (a+b)/2?
		const prec = 256 // exact for a 54-bit midpoint squared times a 64-bit x
		m := new(big.Float).SetPrec(prec).SetFloat64(a)
		m.Add(m, new(big.Float).SetFloat64(b))
		m.Quo(m, big.NewFloat(2))
		m.Mul(m, m)
		m.Mul(m, new(big.Float).SetPrec(prec).SetInt64(int64(x)))
		c := m.Cmp(big.NewFloat(1)) // c > 0 ⇔ t < midpoint
		if b < a {
			return c > 0
		}
		return c < 0
	}
	for {
		if lo := math.Nextafter(r, 0); beyond(r, lo) {
			r = lo
		} else if hi := math.Nextafter(r, 2); beyond(r, hi) {
			r = hi
		} else {
			return r
		}
	}
}
