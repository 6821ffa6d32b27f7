//go:build openblas && cgo

package matmul

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// vision_sgemm computes c (n×m) = a·b + beta·c, row-major and contiguous,
// with a stored n×k, or k×n when ta is set.
static void vision_sgemm(int ta, int n, int k, int m, const float *a, const float *b, float beta, float *c) {
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, CblasNoTrans,
		n, m, k, 1.0f, a, ta ? n : k, b, m, beta, c, m);
}
*/
import "C"

import "math"

// Gemm computes c (n×m) = a (n×k) · b (k×m), or adds the product to c when
// acc is set; all row-major and contiguous. GemmTA does the same with a
// stored transposed (k×n), for weight gradients xᵀ·g without a transpose.
// This build (tag openblas) calls OpenBLAS's cblas_sgemm, with beta = 1
// for acc; the results are deterministic for a fixed OpenBLAS thread
// count, and may differ in the last bits from the pure-Go build's gemmCore.
//
// Gemm and GemmTA panic if a slice is shorter than its matrix or a
// dimension is negative.
func Gemm(c, a, b []float32, n, k, m int, acc bool) { sgemm(c, a, b, n, k, m, acc, false) }

func GemmTA(c, a, b []float32, n, k, m int, acc bool) { sgemm(c, a, b, n, k, m, acc, true) }

// GemmWith is Gemm and GemmTAWith GemmTA: this build needs no scratch
// memory, and ignores s.
func GemmWith(s *Scratch, c, a, b []float32, n, k, m int, acc bool) { Gemm(c, a, b, n, k, m, acc) }

func GemmTAWith(s *Scratch, c, a, b []float32, n, k, m int, acc bool) { GemmTA(c, a, b, n, k, m, acc) }

func sgemm(c, a, b []float32, n, k, m int, acc, transA bool) {
	// The C side reads and writes exactly the elements this checks.
	if trivialProduct(c, a, b, n, k, m, acc) {
		return
	}
	if max(n, k, m) > math.MaxInt32 {
		gemmCore(c, a, b, n, k, m, acc, transA) // beyond OpenBLAS's 32-bit sizes
		return
	}
	var ta C.int
	if transA {
		ta = 1
	}
	var beta C.float
	if acc {
		beta = 1
	}
	C.vision_sgemm(ta, C.int(n), C.int(k), C.int(m), (*C.float)(&a[0]), (*C.float)(&b[0]), beta, (*C.float)(&c[0]))
}

// HasPacked reports false: OpenBLAS takes b row-major.
func HasPacked() bool { return false }

// GemmPacked panics: HasPacked is false in this build.
func GemmPacked(c, a, b []float32, n, k, m int, acc bool) {
	panic("matmul: GemmPacked in the openblas build")
}

// GemmTAPacked panics: HasPacked is false in this build.
func GemmTAPacked(c, a, b []float32, n, k, m int, acc bool) {
	panic("matmul: GemmTAPacked in the openblas build")
}
