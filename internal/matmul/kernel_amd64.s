//go:build !purego && !(openblas && cgo)

#include "textflag.h"

// func gemm4x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool)
//
// C[0:4, 0:16] = (acc ? C : 0) + Σ_p A[r, p]·B[p, 0:16], where A[r, p] is at
// a[r*rs + p*ps] (rs = lda, ps = 1 for A; rs = 1, ps = lda for a transposed
// A), and B and C have row strides ldb and ldc; all in elements. Each output element is summed in p order with FMA into its
// own accumulator, then (with acc) added to C.
TEXT ·gemm4x16(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ rs+16(FP), R12
	SHLQ $2, R12
	LEAQ (R8)(R12*1), R9
	LEAQ (R9)(R12*1), R10
	LEAQ (R10)(R12*1), R11
	MOVQ ps+24(FP), DX
	SHLQ $2, DX
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R13
	SHLQ $2, R13
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	SHLQ $2, R14
	MOVBQZX acc+64(FP), AX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JE    reduce

loop:
	VMOVUPS      (BX), Y8
	VMOVUPS      32(BX), Y9
	VBROADCASTSS (R8), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R9), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R10), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R11), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         DX, R8
	ADDQ         DX, R9
	ADDQ         DX, R10
	ADDQ         DX, R11
	ADDQ         R13, BX
	DECQ         CX
	JNE          loop

reduce:
	TESTQ AX, AX
	JE    store
	MOVQ  DI, SI
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ   R14, SI
	VADDPS (SI), Y2, Y2
	VADDPS 32(SI), Y3, Y3
	ADDQ   R14, SI
	VADDPS (SI), Y4, Y4
	VADDPS 32(SI), Y5, Y5
	ADDQ   R14, SI
	VADDPS (SI), Y6, Y6
	VADDPS 32(SI), Y7, Y7

store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VZEROUPPER
	RET

// func gemm6x16(k int, a *float32, rs, ps int, b *float32, ldb int, c *float32, ldc int, acc bool)
//
// gemm4x16 for 6 rows: twelve accumulators (Y0–Y11) instead of eight keep
// more FMAs in flight and load each B row for 12 FMAs instead of 8. Each
// output element is the same FMA chain in p order as in gemm4x16, then (with
// acc) added to C, so the two kernels give the same bits for a row.
TEXT ·gemm6x16(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ rs+16(FP), R12
	SHLQ $2, R12
	LEAQ (R8)(R12*2), R9
	ADDQ R12, R9 // row 3
	MOVQ ps+24(FP), DX
	SHLQ $2, DX
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R13
	SHLQ $2, R13
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R14
	SHLQ $2, R14
	MOVBQZX acc+64(FP), AX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JE    reduce6

loop6:
	VMOVUPS      (BX), Y12
	VMOVUPS      32(BX), Y13
	VBROADCASTSS (R8), Y14
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VBROADCASTSS (R8)(R12*1), Y15
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS (R8)(R12*2), Y14
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VBROADCASTSS (R9), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS (R9)(R12*1), Y14
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VBROADCASTSS (R9)(R12*2), Y15
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	ADDQ         DX, R8
	ADDQ         DX, R9
	ADDQ         R13, BX
	DECQ         CX
	JNE          loop6

reduce6:
	TESTQ AX, AX
	JE    store6
	MOVQ  DI, SI
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ   R14, SI
	VADDPS (SI), Y2, Y2
	VADDPS 32(SI), Y3, Y3
	ADDQ   R14, SI
	VADDPS (SI), Y4, Y4
	VADDPS 32(SI), Y5, Y5
	ADDQ   R14, SI
	VADDPS (SI), Y6, Y6
	VADDPS 32(SI), Y7, Y7
	ADDQ   R14, SI
	VADDPS (SI), Y8, Y8
	VADDPS 32(SI), Y9, Y9
	ADDQ   R14, SI
	VADDPS (SI), Y10, Y10
	VADDPS 32(SI), Y11, Y11

store6:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	ADDQ    R14, DI
	VMOVUPS Y10, (DI)
	VMOVUPS Y11, 32(DI)
	VZEROUPPER
	RET

// func gemm6x32(k int, a *float32, rs, ps int, b0, b1 *float32, ldb int, c *float32, ldc int, acc bool)
//
// gemm6x16 on two panels of 16 columns at once (b0 and b1, with the same
// row stride; C's 32 columns contiguous) in AVX-512: twelve 16-wide
// accumulators (Z0–Z11) keep both FMA pipes busy. Each output element is
// the same FMA chain in p order as in gemm4x16 and gemm6x16, then (with
// acc) added to C, so all three give the same bits.
TEXT ·gemm6x32(SB), NOSPLIT, $0-73
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ rs+16(FP), R12
	SHLQ $2, R12
	LEAQ (R8)(R12*2), R9
	ADDQ R12, R9 // row 3
	MOVQ ps+24(FP), DX
	SHLQ $2, DX
	MOVQ b0+32(FP), BX
	MOVQ b1+40(FP), R10
	MOVQ ldb+48(FP), R13
	SHLQ $2, R13
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), R14
	SHLQ $2, R14
	MOVBQZX acc+72(FP), AX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	TESTQ CX, CX
	JE    reduce32

loop32:
	VMOVUPS      (BX), Z12
	VMOVUPS      (R10), Z13
	VBROADCASTSS (R8), Z14
	VFMADD231PS  Z12, Z14, Z0
	VFMADD231PS  Z13, Z14, Z1
	VBROADCASTSS (R8)(R12*1), Z15
	VFMADD231PS  Z12, Z15, Z2
	VFMADD231PS  Z13, Z15, Z3
	VBROADCASTSS (R8)(R12*2), Z14
	VFMADD231PS  Z12, Z14, Z4
	VFMADD231PS  Z13, Z14, Z5
	VBROADCASTSS (R9), Z15
	VFMADD231PS  Z12, Z15, Z6
	VFMADD231PS  Z13, Z15, Z7
	VBROADCASTSS (R9)(R12*1), Z14
	VFMADD231PS  Z12, Z14, Z8
	VFMADD231PS  Z13, Z14, Z9
	VBROADCASTSS (R9)(R12*2), Z15
	VFMADD231PS  Z12, Z15, Z10
	VFMADD231PS  Z13, Z15, Z11
	ADDQ         DX, R8
	ADDQ         DX, R9
	ADDQ         R13, BX
	ADDQ         R13, R10
	DECQ         CX
	JNE          loop32

reduce32:
	TESTQ AX, AX
	JE    store32
	MOVQ  DI, SI
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	ADDQ   R14, SI
	VADDPS (SI), Z2, Z2
	VADDPS 64(SI), Z3, Z3
	ADDQ   R14, SI
	VADDPS (SI), Z4, Z4
	VADDPS 64(SI), Z5, Z5
	ADDQ   R14, SI
	VADDPS (SI), Z6, Z6
	VADDPS 64(SI), Z7, Z7
	ADDQ   R14, SI
	VADDPS (SI), Z8, Z8
	VADDPS 64(SI), Z9, Z9
	ADDQ   R14, SI
	VADDPS (SI), Z10, Z10
	VADDPS 64(SI), Z11, Z11

store32:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    R14, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ    R14, DI
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    R14, DI
	VMOVUPS Z6, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    R14, DI
	VMOVUPS Z8, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ    R14, DI
	VMOVUPS Z10, (DI)
	VMOVUPS Z11, 64(DI)
	VZEROUPPER
	RET
