//go:build amd64 && !purego

package sparse

import "unsafe"

// scatterRows64 adds, for rows i in [0, rows) and entries p in
// [lo[i], hi[i]), data[p]·gr[i·k : i·k+64] to dst[indices[p]·k : indices[p]·k+64].
//
//go:noescape
func scatterRows64(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)

// scatterRows32 is scatterRows64 for a strip of 32 columns.
//
//go:noescape
func scatterRows32(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)

// scatterRows16 is scatterRows64 for a strip of 16 columns.
//
//go:noescape
func scatterRows16(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)

// scatterRows8 is scatterRows64 for a strip of 8 columns.
//
//go:noescape
func scatterRows8(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)

// scatterStrips adds to dst (a.cols×k) the products aᵀ·g restricted to rows
// r0+i of a and g, for i < len(lo), and to the entries [lo[i], hi[i]) of
// a, in strips of 64, 32, 16 and 8 columns. k must be a multiple of 8 (see
// simdWidth).
func scatterStrips(lo, hi []int, a operand, dst, g []float32, k, r0 int) {
	rows := len(lo)
	if rows == 0 || len(a.data) == 0 {
		return
	}
	_ = hi[rows-1]
	l, h := &lo[0], &hi[0]
	indices := unsafe.SliceData(a.indices)
	data := unsafe.SliceData(a.data)
	in := g[r0*k : (r0+rows)*k]
	j := 0
	for ; j+64 <= k; j += 64 {
		scatterRows64(l, h, indices, data, &in[j], &dst[j], rows, k)
	}
	if j+32 <= k {
		scatterRows32(l, h, indices, data, &in[j], &dst[j], rows, k)
		j += 32
	}
	for ; j+16 <= k; j += 16 {
		scatterRows16(l, h, indices, data, &in[j], &dst[j], rows, k)
	}
	if j+8 <= k {
		scatterRows8(l, h, indices, data, &in[j], &dst[j], rows, k)
	}
}

//go:noescape
func scatterRowMulAdd(idx *int32, data *float32, n int, gr *float32, dst *float32, k int)

// scatterRowSIMD adds data[p]·g to row idx[p] of dst (k wide) for every p,
// as scatterGo's loop does and with its bits, in AVX2, and reports whether
// it did: not for k short of a multiple of 8 or without AVX2.
func scatterRowSIMD(idx []int32, data []float32, g, dst []float32, k int) bool {
	if !useSIMD || k == 0 || k%8 != 0 {
		return false
	}
	if len(idx) > 0 {
		_ = data[len(idx)-1]
		_ = g[k-1]
		scatterRowMulAdd(&idx[0], &data[0], len(idx), &g[0], unsafe.SliceData(dst), k)
	}
	return true
}
