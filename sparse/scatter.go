package sparse

import (
	"runtime"

	"github.com/gnsr/gnsr/internal/parallel"
)

// Transposed products by scattering.
//
// The weight gradient Xᵀ·G of a dropped-out feature matrix X is computed from
// X's kept entries directly, row of G by row, each entry adding its value
// times the row into a row of the result: so Dropout filters X only, not
// also its transpose, which halves its memory traffic. The rows of the
// result are split by column blocks of X, whose rows of the result fit in
// L1; one goroutine owns each block and adds in increasing row order, so
// every element's sum has an order fixed by the shapes, whatever the thread
// count.

// scatterProduct sets dst (a.cols×k) = aᵀ·g, or adds it with acc, for g of
// a.rows×k. cb must be column blocks of a, or nil for the plain Go loop
// (any k, float32 or float64), split over ranges of a's columns where its
// rows are sorted (each entry's column found by binary search).
func scatterProduct[T float32 | float64](a operand, cb *colBlocks, dst, g []T, k int, acc, sorted bool) {
	if len(g) != a.rows*k || len(dst) != a.cols*k {
		panic("sparse: MulDense: dimension mismatch")
	}
	if !acc {
		clear(dst)
	}
	d32, ok := any(dst).([]float32)
	if cb == nil || !ok || simdWidth(k) != k {
		pieces := columnRanges(a, k, runtime.GOMAXPROCS(0))
		if !sorted || pieces <= 1 {
			scatterGo(a, dst, g, k, 0, a.cols)
			return
		}
		bounds := make([]int, pieces+1)
		for w := range bounds {
			bounds[w] = a.cols * w / pieces
		}
		parallel.Blocks(bounds, func(c0, c1 int) { scatterGo(a, dst, g, k, c0, c1) })
		return
	}
	g32 := any(g).([]float32)
	nb := len(cb.starts) - 1
	workers := min(runtime.GOMAXPROCS(0), nb, a.indptr[a.rows]*k/minParallelWork)
	chunk := max(1, blockChunkBytes/(4*k))
	run := func(q0, q1 int) {
		if a.active != nil {
			// The active rows in increasing order, on this goroutine
			// (a grain of all of them): each element's sum keeps its order.
			parallel.Runs(a.active, len(a.active), func(r0, r1 int) {
				for q := q0; q < q1; q++ {
					scatterStrips(cb.starts[q][r0:r1], cb.starts[q+1][r0:r1], a, d32, g32, k, r0)
				}
			})
			return
		}
		for c0 := 0; c0 < a.rows; c0 += chunk {
			c1 := min(c0+chunk, a.rows)
			for q := q0; q < q1; q++ {
				scatterStrips(cb.starts[q][c0:c1], cb.starts[q+1][c0:c1], a, d32, g32, k, c0)
			}
		}
	}
	if workers <= 1 {
		run(0, nb)
		return
	}
	parallel.Blocks(blockGroups(cb, a.active, parallel.Pieces(workers)), run)
}

// blockGroups splits the column blocks of cb into n contiguous groups with
// about equal numbers of entries in the rows active (all rows if nil), and
// returns the n+1 boundaries.
func blockGroups(cb *colBlocks, active []int32, n int) []int {
	nb := len(cb.starts) - 1
	cum := make([]int, nb+1)
	parallel.For(nb, max(1, minParallelWork/max(1, len(cb.starts[0]))), func(q0, q1 int) {
		for q := q0; q < q1; q++ {
			s, e := cb.starts[q], cb.starts[q+1]
			c := 0
			if active != nil {
				for _, i := range active {
					c += e[i] - s[i]
				}
			} else {
				for i := range s {
					c += e[i] - s[i]
				}
			}
			cum[q+1] = c + 1 // +1: an empty block still costs a pass
		}
	})
	for q := range nb {
		cum[q+1] += cum[q]
	}
	bounds := make([]int, n+1)
	bounds[n] = nb
	for w := 1; w < n; w++ {
		target := cum[nb] * w / n
		q := bounds[w-1]
		for q < nb && cum[q] < target {
			q++
		}
		bounds[w] = q
	}
	return bounds
}

// scatterGo adds the rows [c0, c1) of aᵀ·g to dst in plain Go, row of g
// by row, so that each element's sum is in row order whatever the column
// range. For a range short of all columns, a's rows must be sorted. Each
// product is rounded before its sum (no fused multiply-add), which the
// AVX2 loop of float32 rows keeps (scatterRowSIMD), so the bits do not
// depend on it.
func scatterGo[T float32 | float64](a operand, dst, g []T, k, c0, c1 int) {
	if a.active != nil {
		// The other rows are empty.
		parallel.Runs(a.active, len(a.active), func(r0, r1 int) { scatterGoRows(a, dst, g, k, c0, c1, r0, r1) })
		return
	}
	scatterGoRows(a, dst, g, k, c0, c1, 0, a.rows)
}

// scatterGoRows adds the products of rows [r0, r1) of a to the columns
// [c0, c1) of dst, as scatterGo.
func scatterGoRows[T float32 | float64](a operand, dst, g []T, k, c0, c1, r0, r1 int) {
	all := c0 == 0 && c1 == a.cols
	d32, simd := any(dst).([]float32)
	g32, _ := any(g).([]float32)
	for i := r0; i < r1; i++ {
		gi := g[i*k : i*k+k]
		p, hi := a.lo[i], a.hi[i]
		if !all {
			p += firstAtLeast(a.indices[p:hi], int32(c0))
			hi = p + firstAtLeast(a.indices[p:hi], int32(c1))
		}
		if simd && scatterRowSIMD(a.indices[p:hi], a.data[p:hi], g32[i*k:i*k+k], d32, k) {
			continue
		}
		for ; p < hi; p++ {
			c := int(a.indices[p])
			v := T(a.data[p])
			out := dst[c*k : c*k+k]
			for j, x := range gi {
				out[j] += v * x
			}
		}
	}
}

// columnRanges returns into how many ranges of columns scatterProduct's
// plain loop splits a's product with k columns on up to procs goroutines;
// 1 is serial.
func columnRanges(a operand, k, procs int) int {
	rows, nnz := a.rows, a.indptr[a.rows]
	if a.active != nil {
		rows, nnz = len(a.active), a.activeNNZ
	}
	workers := min(procs, a.cols, nnz*k/minParallelWork)
	if workers <= 1 {
		return 1
	}
	// Every range walks all the rows to find its part of each (two binary
	// searches), which costs about rowWalk multiply-adds a row: more ranges
	// than the products outweigh would make the step slower, not faster.
	return max(1, min(parallel.Pieces(workers), a.cols, nnz*k/(rowWalk*max(rows, 1))))
}

// rowWalk is about what finding a range of columns in a row costs
// (scatterGoRows' two searches), in multiply-adds.
const rowWalk = 256

// firstAtLeast returns the position of the first element of row
// (increasing) that is at least c, or len(row): sort.Search without the
// closure call per probe.
func firstAtLeast(row []int32, c int32) int {
	lo, hi := 0, len(row)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if row[m] < c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
