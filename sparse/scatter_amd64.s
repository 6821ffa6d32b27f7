//go:build amd64 && !purego

#include "textflag.h"

// The scatter kernels add, for rows i in [0, rows) and entries p in
// [lo[i], hi[i]), data[p]·g[i·k : i·k+W] to dst[indices[p]·k : indices[p]·k+W]:
// a strip of W columns of the transposed product Aᵀ·G, row of G by row,
// with the row of G held in registers. A row of G whose bits are all zero
// is skipped: it would add only +0s. The loss of a GNN reads a few training
// rows, so many rows of its first layer's gradient are exactly zero.

// func scatterRows64(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)
TEXT ·scatterRows64(SB), NOSPLIT, $0-64
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ gr+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ sdone64

srow64:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	CMPQ AX, BX
	JGE snext64
	VMOVUPS 0(DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7
	VPOR Y1, Y0, Y9
	VPOR Y3, Y2, Y10
	VPOR Y5, Y4, Y11
	VPOR Y7, Y6, Y12
	VPOR Y10, Y9, Y9
	VPOR Y12, Y11, Y11
	VPOR Y11, Y9, Y9
	VPTEST Y9, Y9
	JEQ snext64

sentry64:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ R9, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VMOVUPS 0(R13), Y9
	VFMADD231PS Y0, Y8, Y9
	VMOVUPS Y9, 0(R13)
	VMOVUPS 32(R13), Y10
	VFMADD231PS Y1, Y8, Y10
	VMOVUPS Y10, 32(R13)
	VMOVUPS 64(R13), Y11
	VFMADD231PS Y2, Y8, Y11
	VMOVUPS Y11, 64(R13)
	VMOVUPS 96(R13), Y12
	VFMADD231PS Y3, Y8, Y12
	VMOVUPS Y12, 96(R13)
	VMOVUPS 128(R13), Y13
	VFMADD231PS Y4, Y8, Y13
	VMOVUPS Y13, 128(R13)
	VMOVUPS 160(R13), Y14
	VFMADD231PS Y5, Y8, Y14
	VMOVUPS Y14, 160(R13)
	VMOVUPS 192(R13), Y15
	VFMADD231PS Y6, Y8, Y15
	VMOVUPS Y15, 192(R13)
	VMOVUPS 224(R13), Y9
	VFMADD231PS Y7, Y8, Y9
	VMOVUPS Y9, 224(R13)
	INCQ AX
	CMPQ AX, BX
	JLT sentry64

snext64:
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, DX
	DECQ CX
	JNE srow64

sdone64:
	VZEROUPPER
	RET

// func scatterRows32(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)
TEXT ·scatterRows32(SB), NOSPLIT, $0-64
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ gr+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ sdone32

srow32:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	CMPQ AX, BX
	JGE snext32
	VMOVUPS 0(DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VPOR Y1, Y0, Y9
	VPOR Y3, Y2, Y10
	VPOR Y10, Y9, Y9
	VPTEST Y9, Y9
	JEQ snext32

sentry32:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ R9, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VMOVUPS 0(R13), Y9
	VFMADD231PS Y0, Y8, Y9
	VMOVUPS Y9, 0(R13)
	VMOVUPS 32(R13), Y10
	VFMADD231PS Y1, Y8, Y10
	VMOVUPS Y10, 32(R13)
	VMOVUPS 64(R13), Y11
	VFMADD231PS Y2, Y8, Y11
	VMOVUPS Y11, 64(R13)
	VMOVUPS 96(R13), Y12
	VFMADD231PS Y3, Y8, Y12
	VMOVUPS Y12, 96(R13)
	INCQ AX
	CMPQ AX, BX
	JLT sentry32

snext32:
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, DX
	DECQ CX
	JNE srow32

sdone32:
	VZEROUPPER
	RET

// func scatterRows16(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)
TEXT ·scatterRows16(SB), NOSPLIT, $0-64
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ gr+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ sdone16

srow16:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	CMPQ AX, BX
	JGE snext16
	VMOVUPS 0(DX), Y0
	VMOVUPS 32(DX), Y1
	VPOR Y1, Y0, Y9
	VPTEST Y9, Y9
	JEQ snext16

sentry16:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ R9, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VMOVUPS 0(R13), Y9
	VFMADD231PS Y0, Y8, Y9
	VMOVUPS Y9, 0(R13)
	VMOVUPS 32(R13), Y10
	VFMADD231PS Y1, Y8, Y10
	VMOVUPS Y10, 32(R13)
	INCQ AX
	CMPQ AX, BX
	JLT sentry16

snext16:
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, DX
	DECQ CX
	JNE srow16

sdone16:
	VZEROUPPER
	RET

// func scatterRows8(lo, hi *int, indices *int32, data *float32, gr *float32, dst *float32, rows, k int)
TEXT ·scatterRows8(SB), NOSPLIT, $0-64
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ gr+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ sdone8

srow8:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	CMPQ AX, BX
	JGE snext8
	VMOVUPS 0(DX), Y0
	VPTEST Y0, Y0
	JEQ snext8

sentry8:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ R9, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VMOVUPS 0(R13), Y9
	VFMADD231PS Y0, Y8, Y9
	VMOVUPS Y9, 0(R13)
	INCQ AX
	CMPQ AX, BX
	JLT sentry8

snext8:
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, DX
	DECQ CX
	JNE srow8

sdone8:
	VZEROUPPER
	RET

// func scatterRowMulAdd(idx *int32, data *float32, n int, gr *float32, dst *float32, k int)
//
// For the n entries p: dst[idx[p]·k : idx[p]·k+k] += data[p]·gr[0:k], each
// product rounded before its sum (VMULPS then VADDPS, no FMA): the bits of
// the Go loop out[j] += v * x. k must be a positive multiple of 8.
TEXT ·scatterRowMulAdd(SB), NOSPLIT, $0-48
	MOVQ idx+0(FP), SI
	MOVQ data+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ gr+24(FP), R8
	MOVQ dst+32(FP), DI
	MOVQ k+40(FP), R9
	TESTQ CX, CX
	JE    smadone

smaentry:
	MOVLQSX      (SI), AX
	IMULQ        R9, AX
	LEAQ         (DI)(AX*4), R10
	VBROADCASTSS (DX), Y15
	MOVQ         R8, R11
	MOVQ         R9, BX

smastrip32:
	CMPQ    BX, $32
	JL      smastrip8
	VMULPS  (R11), Y15, Y0
	VMULPS  32(R11), Y15, Y1
	VMULPS  64(R11), Y15, Y2
	VMULPS  96(R11), Y15, Y3
	VADDPS  (R10), Y0, Y0
	VADDPS  32(R10), Y1, Y1
	VADDPS  64(R10), Y2, Y2
	VADDPS  96(R10), Y3, Y3
	VMOVUPS Y0, (R10)
	VMOVUPS Y1, 32(R10)
	VMOVUPS Y2, 64(R10)
	VMOVUPS Y3, 96(R10)
	ADDQ    $128, R11
	ADDQ    $128, R10
	SUBQ    $32, BX
	JMP     smastrip32

smastrip8:
	CMPQ    BX, $8
	JL      smanext
	VMULPS  (R11), Y15, Y0
	VADDPS  (R10), Y0, Y0
	VMOVUPS Y0, (R10)
	ADDQ    $32, R11
	ADDQ    $32, R10
	SUBQ    $8, BX
	JMP     smastrip8

smanext:
	ADDQ $4, SI
	ADDQ $4, DX
	DECQ CX
	JNE  smaentry

smadone:
	VZEROUPPER
	RET
