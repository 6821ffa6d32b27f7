//go:build !openblas || !cgo

package matmul

// Gemm computes c (n×m) = a (n×k) · b (k×m), or adds the product to c when
// acc is set; all row-major and contiguous. GemmTA does the same with a
// stored transposed (k×n), for weight gradients xᵀ·g without a transpose.
// This build computes both with gemmCore (AVX2/FMA, else plain Go); the
// openblas build tag makes them call OpenBLAS (kernel_openblas.go).
//
// Gemm and GemmTA panic if a slice is shorter than its matrix or a
// dimension is negative.
func Gemm(c, a, b []float32, n, k, m int, acc bool) { gemmCore(c, a, b, n, k, m, acc, false) }

func GemmTA(c, a, b []float32, n, k, m int, acc bool) { gemmCore(c, a, b, n, k, m, acc, true) }

// GemmWith is Gemm taking its scratch memory from s, and GemmTAWith
// GemmTA: the same results, without allocating once s has grown.
func GemmWith(s *Scratch, c, a, b []float32, n, k, m int, acc bool) {
	gemmCoreWith(s, c, a, b, n, k, m, acc, false)
}

func GemmTAWith(s *Scratch, c, a, b []float32, n, k, m int, acc bool) {
	gemmCoreWith(s, c, a, b, n, k, m, acc, true)
}

// HasPacked reports whether GemmPacked may be called: in this build, where
// the AVX2 kernels run.
func HasPacked() bool { return hasFMA }

// GemmPacked is Gemm for b stored in panels of 16 columns (PackedIndex),
// which convolutions write directly: the same bits as Gemm, without its
// copy of b's panels. It panics where HasPacked is false or b is shorter
// than PackedLen(k, m).
func GemmPacked(c, a, b []float32, n, k, m int, acc bool) { gemmPacked(c, a, b, n, k, m, acc, false) }

// GemmTAPacked is GemmTA for b in panels of 16 columns, as GemmPacked.
func GemmTAPacked(c, a, b []float32, n, k, m int, acc bool) { gemmPacked(c, a, b, n, k, m, acc, true) }
