//go:build !amd64 || purego

package vision

const hasFMA = false

func gemm4x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool) {
	panic("vision: gemm4x16 without AVX2")
}
