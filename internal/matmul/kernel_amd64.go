//go:build !purego && !(openblas && cgo)

package matmul

import "golang.org/x/sys/cpu"

// hasFMA reports whether gemm4x16 may run: it needs AVX2 and FMA3.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports whether gemm6x32 may run: AVX-512F, with the OS saving
// its registers (which cpu checks).
var hasAVX512 = hasFMA && cpu.X86.HasAVX512F

//go:noescape
func gemm4x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool)

//go:noescape
func gemm6x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool)

//go:noescape
func gemm6x32(k int, a *float32, rs, ps int, b0, b1 *float32, ldb int, c *float32, ldc int, acc bool)
