//go:build amd64 && !purego

package sparse

import "unsafe"

// useSIMD reports whether the CPU and OS support AVX2 and FMA, so that the
// float32 kernels in spmm_amd64.s can run. It is set once at start-up.
var useSIMD = detectAVX2FMA()

func detectAVX2FMA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave = 1 << 12, 1 << 27
	if ecx1&fma == 0 || ecx1&osxsave == 0 {
		return false
	}
	// The OS must save the XMM and YMM registers on context switches.
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func xgetbv() (eax, edx uint32)

// stripRows16 sets (or, with acc, adds to) dst[i·k : i·k+16] the sum over
// the entries p in [lo[i], hi[i]) of data[p]·b[indices[p]·k : indices[p]·k+16],
// for rows i in [0, rows). With lo = indptr and hi = indptr[1:] that is a
// strip of rows of the product; other bounds select a block of columns.
//
//go:noescape
func stripRows16(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// stripRows64 is stripRows16 for a strip of 64 columns, with one FMA chain
// per column (eight independent ones already hide the FMA latency).
//
//go:noescape
func stripRows64(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// stripRows32 is stripRows16 for a strip of 32 columns.
//
//go:noescape
func stripRows32(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// stripRows8 is stripRows16 for a strip of 8 columns.
//
//go:noescape
func stripRows8(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// simdWidth returns how many leading columns of a k-column product the
// assembly kernels compute: a multiple of 8, 0 without AVX2 and FMA.
func simdWidth(k int) int {
	if !useSIMD {
		return 0
	}
	return k &^ 7
}

// stripsSIMD computes the leading simdWidth(k) columns of rows r0+i of
// dst = a·b (or dst += a·b), for i < len(lo), summing only the entries in
// [lo[i], hi[i]) of a, in strips of 64, 32, 16 and 8 columns. Each row's entries
// are summed with fused multiply-adds: in CSR order for 64-wide strips,
// else in two interleaved chains (even and odd entries) added at the end.
// Either is a different rounding from the portable kernel, but one that
// depends only on k and the row, never on the thread count.
func stripsSIMD(lo, hi []int, a operand, dst, b []float32, k, r0 int, acc bool) int {
	rows := len(lo)
	if simdWidth(k) == 0 || rows == 0 || len(a.data) == 0 {
		return 0
	}
	_ = hi[rows-1]
	l, h := &lo[0], &hi[0]
	indices := unsafe.SliceData(a.indices)
	data := unsafe.SliceData(a.data)
	out := dst[r0*k : (r0+rows)*k]
	j := 0
	// Wide strips first: each strip is one pass over the rows' entries.
	for ; j+64 <= k; j += 64 {
		stripRows64(l, h, indices, data, &b[j], &out[j], rows, k, acc)
	}
	if j+32 <= k {
		stripRows32(l, h, indices, data, &b[j], &out[j], rows, k, acc)
		j += 32
	}
	for ; j+16 <= k; j += 16 {
		stripRows16(l, h, indices, data, &b[j], &out[j], rows, k, acc)
	}
	if j+8 <= k {
		stripRows8(l, h, indices, data, &b[j], &out[j], rows, k, acc)
		j += 8
	}
	return j
}
