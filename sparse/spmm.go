package sparse

import (
	"runtime"
	"sort"

	"github.com/gnsr/gnsr/internal/parallel"
)

// minParallelWork is the number of multiply-adds (nnz·k) below which a
// product runs on the calling goroutine: handing a range to a polling
// worker costs under a microsecond, a few thousand multiply-adds' time.
const minParallelWork = 1 << 11

// MulDense32 sets dst = m·b, where b is an m.Cols×k row-major matrix and dst
// an m.Rows×k row-major matrix. Work is split over row blocks run by up to
// GOMAXPROCS goroutines; every output row is computed by one goroutine with
// a fixed summation order, so the result is bit-identical for any number of
// threads. On amd64 with AVX2 and FMA, strips of 8 to 64 columns use an
// assembly kernel with fused multiply-adds, so float32 results may differ in
// the last bits from other machines. It panics if k < 0,
// len(b) != m.Cols·k or len(dst) != m.Rows·k. m must be valid (see
// Validate); dst must not overlap b.
func (m *CSR) MulDense32(dst, b []float32, k int) { spmm(m, dst, b, k, false) }

// MulDense64 is MulDense32 for float64 dense operands. The float32 values
// of m convert exactly to float64, and products are accumulated in float64.
// It panics under the same conditions as MulDense32.
func (m *CSR) MulDense64(dst, b []float64, k int) { spmm(m, dst, b, k, false) }

// operand is the sparse left operand of a product: the entries of row i are
// positions [lo[i], hi[i]) of indices and data. For a CSR matrix lo and hi
// are its row pointers; after dropout (see Matrix) rows keep only their
// first entries, the ones not dropped.
type operand struct {
	rows, cols int
	lo, hi     []int
	indices    []int32
	data       []float32
	// indptr are the row pointers of the full pattern, which split rows
	// among goroutines so that the split does not depend on dropout.
	indptr []int
	// active, if not nil, are the only rows that may have entries
	// (increasing), which products then visit alone (Matrix.RestrictRows);
	// activeNNZ counts their entries in indptr's pattern.
	active    []int32
	activeNNZ int
}

// csrOperand returns m as an operand.
func csrOperand(m *CSR) operand {
	return operand{rows: m.Rows, cols: m.Cols, lo: m.Indptr[:m.Rows], hi: m.Indptr[1:], indices: m.Indices, data: m.Data, indptr: m.Indptr}
}

// spmm computes dst = m·b, or dst += m·b if acc is set.
func spmm[T float32 | float64](m *CSR, dst, b []T, k int, acc bool) {
	spmmOperand(csrOperand(m), dst, b, k, acc)
}

// spmmOperand computes dst = a·b, or dst += a·b if acc is set.
func spmmOperand[T float32 | float64](a operand, dst, b []T, k int, acc bool) {
	if k < 0 || len(b) != a.cols*k || len(dst) != a.rows*k {
		panic("sparse: MulDense: dimension mismatch")
	}
	if len(a.data) == 0 {
		// Also covers Cols = 0, where b is empty and the kernels would
		// slice past its end.
		if !acc {
			clear(dst)
		}
		return
	}
	work := a.indptr[a.rows] * k
	if a.active != nil {
		if !acc {
			parallel.ClearOutside(dst, k, a.active)
		}
		parallel.Runs(a.active, activeGrain(a, k), func(r0, r1 int) { spmmRows(a, dst, b, k, r0, r1, acc) })
		return
	}
	workers := min(runtime.GOMAXPROCS(0), a.rows, work/minParallelWork)
	if workers <= 1 {
		spmmRows(a, dst, b, k, 0, a.rows, acc)
		return
	}
	parallel.Blocks(rowBlocks(a.indptr, parallel.Pieces(workers)), func(r0, r1 int) { spmmRows(a, dst, b, k, r0, r1, acc) })
}

// activeGrain returns the least number of a's active rows a goroutine
// should take in a product k wide, from the mean length of those rows in
// the whole pattern.
func activeGrain(a operand, k int) int {
	return max(1, minParallelWork*len(a.active)/max(1, a.activeNNZ*k))
}

// rowBlocks splits the rows into n contiguous blocks of about equal cost,
// counting one unit per stored entry and one per row (the row's output has
// to be written even when it is empty). It returns n+1 boundaries.
func rowBlocks(indptr []int, n int) []int {
	rows := len(indptr) - 1
	total := indptr[rows] + rows
	bounds := make([]int, n+1)
	bounds[n] = rows
	for w := 1; w < n; w++ {
		target := total * w / n
		bounds[w] = sort.Search(rows, func(i int) bool { return indptr[i]+i >= target })
	}
	return bounds
}

// spmmRows computes rows [r0, r1) of dst = m·b (or dst += m·b): the
// assembly kernel does what it can of float32 products, the portable one
// the rest.
//
// The portable kernel processes output columns in strips of 4 and then 1–3
// whose sums stay in registers over the whole row: fewer loads and stores
// than an axpy into dst per entry. Within every output element the
// summation order is the CSR order of the row, whatever the thread count.
func spmmRows[T float32 | float64](a operand, dst, b []T, k, r0, r1 int, acc bool) {
	j0 := 0
	if d, ok := any(dst).([]float32); ok && r0 < r1 {
		j0 = stripsSIMD(a.lo[r0:r1], a.hi[r0:r1], a, d, any(b).([]float32), k, r0, acc)
	}
	spmmRowsGo(a, dst, b, k, r0, r1, j0, acc)
}

// spmmRowsGo is the portable kernel: it computes columns [j0, k) of rows
// [r0, r1) of dst = m·b (or dst += m·b).
func spmmRowsGo[T float32 | float64](a operand, dst, b []T, k, r0, r1, j0 int, acc bool) {
	if j0 >= k {
		return
	}
	for i := 0; i < r1-r0; i++ {
		lo, hi := a.lo[r0+i], a.hi[r0+i]
		idx := a.indices[lo:hi]
		val := a.data[lo:hi]
		out := dst[(r0+i)*k : (r0+i)*k+k]
		j := j0
		for ; j+4 <= k; j += 4 {
			s := dot4(idx, val, b[j:], k)
			o := (*[4]T)(out[j : j+4])
			if acc {
				for q := range o {
					o[q] += s[q]
				}
			} else {
				*o = s
			}
		}
		switch k - j {
		case 3:
			s := dot3(idx, val, b[j:], k)
			o := (*[3]T)(out[j : j+3])
			if acc {
				for q := range o {
					o[q] += s[q]
				}
			} else {
				*o = s
			}
			continue
		case 2:
			s := dot2(idx, val, b[j:], k)
			o := (*[2]T)(out[j : j+2])
			if acc {
				for q := range o {
					o[q] += s[q]
				}
			} else {
				*o = s
			}
			continue
		}
		for ; j < k; j++ {
			s := dot1(idx, val, b[j:], k)
			if acc {
				out[j] += s
			} else {
				out[j] = s
			}
		}
	}
}

// dot4 returns Σ_p val[p]·b[idx[p]·k : idx[p]·k+4]. The strip kernels are
// small functions so that the register allocator keeps every sum in a
// register: with 8 sums the compiler hoists all loads and products first
// and spills, and inlined into spmmRows they spilled too.
//
//go:noinline
func dot4[T float32 | float64](idx []int32, val []float32, b []T, k int) [4]T {
	var s0, s1, s2, s3 T
	val = val[:len(idx)]
	for p, c := range idx {
		v := T(val[p])
		x := (*[4]T)(b[int(c)*k:])
		s0 += v * x[0]
		s1 += v * x[1]
		s2 += v * x[2]
		s3 += v * x[3]
	}
	return [4]T{s0, s1, s2, s3}
}

// dot3 is dot4 for a strip of 3 columns.
//
//go:noinline
func dot3[T float32 | float64](idx []int32, val []float32, b []T, k int) [3]T {
	var s0, s1, s2 T
	val = val[:len(idx)]
	for p, c := range idx {
		v := T(val[p])
		x := (*[3]T)(b[int(c)*k:])
		s0 += v * x[0]
		s1 += v * x[1]
		s2 += v * x[2]
	}
	return [3]T{s0, s1, s2}
}

// dot2 is dot4 for a strip of 2 columns.
//
//go:noinline
func dot2[T float32 | float64](idx []int32, val []float32, b []T, k int) [2]T {
	var s0, s1 T
	val = val[:len(idx)]
	for p, c := range idx {
		v := T(val[p])
		x := (*[2]T)(b[int(c)*k:])
		s0 += v * x[0]
		s1 += v * x[1]
	}
	return [2]T{s0, s1}
}

// dot1 is dot4 for a single column.
func dot1[T float32 | float64](idx []int32, val []float32, b []T, k int) T {
	var s T
	val = val[:len(idx)]
	for p, c := range idx {
		s += T(val[p]) * b[int(c)*k]
	}
	return s
}
