package sparse

import (
	"runtime"
	"sort"

	"github.com/gnsr/gnsr/internal/parallel"
)

// Cache blocking of float32 products with many entries a row.
//
// A product m·b reads, for every entry of m, a row of b. When b is larger
// than the L1 cache (Amazon Computers: 767×64 float32s, 196 KB), those reads
// come from L2 or further and the kernel runs at a quarter of its speed
// with b in L1. Splitting the columns of m into blocks whose rows of b fit
// in L1, and summing one block at a time into the output, keeps the reads in
// L1 at the cost of loading and storing each output row once a block. That
// pays only when a row has many entries in each block, which is the case of
// feature matrices and their transposes, not of sparse adjacency matrices.

const (
	// blockBytes is how much of b one block of columns may span: most of a
	// 32 KiB L1 data cache, leaving room for the streamed entries.
	blockBytes = 24 << 10
	// minBlockEntries is the mean number of entries a row must have in
	// each block for blocking to pay for the extra output traffic.
	minBlockEntries = 8
	// blockChunkBytes bounds the output rows that a block pass walks over
	// before the next block, so that they stay in L2 between blocks.
	blockChunkBytes = 64 << 10
)

// colBlocks splits the entries of every row of an operand with sorted
// columns into blocks of width consecutive columns.
type colBlocks struct {
	width int
	// starts[q][i] is the position of the first entry of row i in column
	// block q or later; starts[0] is lo and starts[nb] is hi, so that
	// block q of row i is [starts[q][i], starts[q+1][i]).
	starts [][]int
}

// blockWidth returns the number of columns a block should have for a float32
// product of a rows×cols operand with nnz entries by k columns, or 0 if the
// product should not be blocked: when there is no assembly kernel for all k
// columns, when b fits the cache anyway, or when rows have too few entries a
// block.
func blockWidth(rows, cols, nnz, k int) int {
	if k == 0 || simdWidth(k) != k || rows == 0 {
		return 0
	}
	width := max(8, blockBytes/(4*k)&^7)
	nb := (cols + width - 1) / width
	if nb < 2 || nnz < minBlockEntries*nb*rows {
		return 0
	}
	return width
}

// newColBlocks returns the column blocks of width of a, whose rows must have
// sorted columns. Each boundary is a binary search in its row.
func newColBlocks(a operand, width int) *colBlocks {
	nb := (a.cols + width - 1) / width
	cb := &colBlocks{width: width, starts: make([][]int, nb+1)}
	cb.starts[0], cb.starts[nb] = a.lo, a.hi
	for q := 1; q < nb; q++ {
		cb.starts[q] = make([]int, a.rows)
	}
	parallel.For(a.rows, 1024, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			lo, hi := a.lo[i], a.hi[i]
			for q := 1; q < nb; q++ {
				c := int32(q * width)
				lo += sort.Search(hi-lo, func(p int) bool { return a.indices[lo+p] >= c })
				cb.starts[q][i] = lo
			}
		}
	})
	return cb
}

// sortedRows reports whether the columns of every row of m are increasing,
// which column blocks need.
func sortedRows(m *CSR) bool {
	for i := 0; i < m.Rows; i++ {
		for p := m.Indptr[i] + 1; p < m.Indptr[i+1]; p++ {
			if m.Indices[p] <= m.Indices[p-1] {
				return false
			}
		}
	}
	return true
}

// spmmBlocked computes dst = a·b (or dst += a·b with acc) block of columns
// by block of columns, over row blocks run by up to GOMAXPROCS goroutines.
// Every element is the sum, in block order, of its per-block sums: an order
// fixed by the shapes, so the result does not depend on the thread count.
// All k columns must be within simdWidth(k).
func spmmBlocked(a operand, cb *colBlocks, dst, b []float32, k int, acc bool) {
	if len(b) != a.cols*k || len(dst) != a.rows*k {
		panic("sparse: MulDense: dimension mismatch")
	}
	if len(a.data) == 0 {
		if !acc {
			clear(dst)
		}
		return
	}
	if a.active != nil {
		if !acc {
			parallel.ClearOutside(dst, k, a.active)
		}
		parallel.Runs(a.active, activeGrain(a, k), func(r0, r1 int) {
			for q := 0; q+1 < len(cb.starts); q++ {
				stripsSIMD(cb.starts[q][r0:r1], cb.starts[q+1][r0:r1], a, dst, b, k, r0, acc || q > 0)
			}
		})
		return
	}
	workers := min(runtime.GOMAXPROCS(0), a.rows, a.indptr[a.rows]*k/minParallelWork)
	chunk := max(1, blockChunkBytes/(4*k))
	run := func(r0, r1 int) {
		for c0 := r0; c0 < r1; c0 += chunk {
			c1 := min(c0+chunk, r1)
			for q := 0; q+1 < len(cb.starts); q++ {
				stripsSIMD(cb.starts[q][c0:c1], cb.starts[q+1][c0:c1], a, dst, b, k, c0, acc || q > 0)
			}
		}
	}
	if workers <= 1 {
		run(0, a.rows)
		return
	}
	parallel.Blocks(rowBlocks(a.indptr, parallel.Pieces(workers)), run)
}
