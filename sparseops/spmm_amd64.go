//go:build amd64 && !purego

package sparseops

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
// the entries p of row i of data[p]·b[indices[p]·k : indices[p]·k+16], for
// rows i in [0, rows), where indptr points at the first row's offset.
//
//go:noescape
func stripRows16(indptr *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// stripRows8 is stripRows16 for a strip of 8 columns.
//
//go:noescape
func stripRows8(indptr *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)

// spmmRowsSIMD computes the leading columns of rows [r0, r1) of dst = m·b
// (or dst += m·b) in strips of 16 and 8 with AVX2, and returns how many
// columns it did. Each row's entries are summed with fused multiply-adds in
// two interleaved chains (even and odd entries) that are added at the end:
// a different rounding from the portable kernel, but one that depends only
// on the row, never on the thread count.
func spmmRowsSIMD(m *CSR, dst, b []float32, k, r0, r1 int, acc bool) int {
	if !useSIMD || k < 8 || len(m.Data) == 0 || r0 >= r1 {
		return 0
	}
	indptr := &m.Indptr[r0]
	indices := unsafe.SliceData(m.Indices)
	data := unsafe.SliceData(m.Data)
	j := 0
	for ; j+16 <= k; j += 16 {
		stripRows16(indptr, indices, data, &b[j], &dst[r0*k+j], r1-r0, k, acc)
	}
	if j+8 <= k {
		stripRows8(indptr, indices, data, &b[j], &dst[r0*k+j], r1-r0, k, acc)
		j += 8
	}
	return j
}
