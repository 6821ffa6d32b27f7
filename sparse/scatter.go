package sparse

import (
	"runtime"
	"sync"
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
// a.rows×k. cb must be column blocks of a, or nil for a single-threaded
// plain Go loop (any k, float32 or float64).
func scatterProduct[T float32 | float64](a operand, cb *colBlocks, dst, g []T, k int, acc bool) {
	if len(g) != a.rows*k || len(dst) != a.cols*k {
		panic("sparse: MulDense: dimension mismatch")
	}
	if !acc {
		clear(dst)
	}
	d32, ok := any(dst).([]float32)
	if cb == nil || !ok || simdWidth(k) != k {
		scatterGo(a, dst, g, k)
		return
	}
	g32 := any(g).([]float32)
	nb := len(cb.starts) - 1
	workers := min(runtime.GOMAXPROCS(0), nb, a.indptr[a.rows]*k/minParallelWork)
	chunk := max(1, blockChunkBytes/(4*k))
	run := func(q0, q1 int) {
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
	bounds := blockGroups(cb, workers)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { run(bounds[w], bounds[w+1]) })
	}
	run(bounds[0], bounds[1])
	wg.Wait()
}

// blockGroups splits the column blocks of cb into n contiguous groups with
// about equal numbers of entries, and returns the n+1 boundaries.
func blockGroups(cb *colBlocks, n int) []int {
	nb := len(cb.starts) - 1
	cum := make([]int, nb+1)
	for q := 0; q < nb; q++ {
		s, e := cb.starts[q], cb.starts[q+1]
		c := 0
		for i := range s {
			c += e[i] - s[i]
		}
		cum[q+1] = cum[q] + c + 1 // +1: an empty block still costs a pass
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

// scatterGo adds aᵀ·g to dst in plain Go, row of g by row.
func scatterGo[T float32 | float64](a operand, dst, g []T, k int) {
	for i := 0; i < a.rows; i++ {
		gi := g[i*k : i*k+k]
		for p := a.lo[i]; p < a.hi[i]; p++ {
			v := T(a.data[p])
			out := dst[int(a.indices[p])*k : int(a.indices[p])*k+k]
			for j, x := range gi {
				out[j] += v * x
			}
		}
	}
}
