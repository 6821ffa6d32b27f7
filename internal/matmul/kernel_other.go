//go:build !amd64 || purego || (openblas && cgo)

package matmul

// hasFMA is false where the AVX2 kernel is not built: off amd64, with the
// purego tag, and in the openblas build, whose gemm runs on OpenBLAS (the go
// command allows no Go assembly in a package that uses cgo).
const hasFMA = false

// hasAVX512 is false where there is no assembly kernel.
const hasAVX512 = false

// gemm4x16 panics: gemmCore never calls it without hasFMA.
func gemm4x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool) {
	panic("matmul: gemm4x16 without AVX2")
}

// gemm6x16 panics: gemmCore never calls it without hasFMA.
func gemm6x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool) {
	panic("matmul: gemm6x16 without AVX2")
}

// gemm6x32 panics: gemmCore never calls it without hasAVX512.
func gemm6x32(k int, a *float32, rs, ps int, b0, b1 *float32, ldb int, c *float32, ldc int, acc bool) {
	panic("matmul: gemm6x32 without AVX-512")
}
