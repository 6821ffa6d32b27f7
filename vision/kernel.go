package vision

import mm "github.com/gnsr/gnsr/internal/matmul"

// The package's dense products: float32 on internal/matmul's kernel (imported as mm: the package has a matmul and a dense),
// float64 on its plain Go loop.

// gemm computes c (n×m) = a (n×k) · b (k×m), or adds it to c with acc.
func gemm(c, a, b []float32, n, k, m int, acc bool) { mm.Gemm(c, a, b, n, k, m, acc) }

// gemmTA is gemm with a stored transposed (k×n).
func gemmTA(c, a, b []float32, n, k, m int, acc bool) { mm.GemmTA(c, a, b, n, k, m, acc) }

// gemmScalar computes c[i, j] for i in [i0, i1), j in [j0, j1) in plain Go.
func gemmScalar[T float32 | float64](c, a, b []T, i0, i1, j0, j1, k, m int, acc bool) {
	mm.Scalar(c, a, b, i0, i1, j0, j1, k, m, acc)
}

// transpose writes the transpose of the r×c matrix src into dst.
func transpose[T float32 | float64](dst, src []T, r, c int) { mm.Transpose(dst, src, r, c) }
