//go:build amd64 && !purego

#include "textflag.h"

// The EdgeMul strips: for rows i in [0, rows), the sums over the row's
// entries k of vals[e(k)·heads + head(b)]·x[indices[k], b-th block of 8],
// with e(k) = perm[k] (or k where perm is nil), each added in CSR order by
// one VMULPS and one VADDPS, as the portable kernel's y += a·x, so the
// results are the same bits. A weight that is zero (either sign) adds +0
// (the product is masked away), which changes no sum that starts at +0,
// and keeps a NaN or Inf of x out, as the portable kernel's skip does.

// func edgeMulStrip64(indptr *int, indices *int32, perm *int32, vals *float32, wstride int, headOff *int, x *float32, xstride int, out *float32, ostride int, rows int)
//
// A strip of 8 blocks (64 columns), summed in Y0–Y7. headOff holds the
// byte offset of each block's weight within an edge's heads; wstride,
// xstride and ostride are byte strides of an edge's weights, x's rows and
// out's rows.
TEXT ·edgeMulStrip64(SB), NOSPLIT, $0-88
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ perm+16(FP), R12
	MOVQ vals+24(FP), DI
	MOVQ wstride+32(FP), R11
	MOVQ headOff+40(FP), R14
	MOVQ x+48(FP), DX
	MOVQ xstride+56(FP), R10
	MOVQ out+64(FP), R9
	VXORPS Y15, Y15, Y15
	CMPQ rows+80(FP), $0
	JEQ done64

row64:
	MOVQ 0(R8), AX // k
	MOVQ 8(R8), BX // the row's end
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ AX, BX
	JGE store64

edge64:
	MOVLQSX (SI)(AX*4), R15
	IMULQ R10, R15
	ADDQ DX, R15 // x's block row
	MOVQ AX, R13
	TESTQ R12, R12
	JEQ direct64
	MOVLQSX (R12)(AX*4), R13

direct64:
	IMULQ R11, R13
	ADDQ DI, R13 // the edge's weights
	MOVQ 0(R14), CX
	VBROADCASTSS (R13)(CX*1), Y8
	VCMPPS $4, Y15, Y8, Y9
	VMULPS 0(R15), Y8, Y8
	VANDPS Y9, Y8, Y8
	VADDPS Y8, Y0, Y0
	MOVQ 8(R14), CX
	VBROADCASTSS (R13)(CX*1), Y10
	VCMPPS $4, Y15, Y10, Y11
	VMULPS 32(R15), Y10, Y10
	VANDPS Y11, Y10, Y10
	VADDPS Y10, Y1, Y1
	MOVQ 16(R14), CX
	VBROADCASTSS (R13)(CX*1), Y8
	VCMPPS $4, Y15, Y8, Y9
	VMULPS 64(R15), Y8, Y8
	VANDPS Y9, Y8, Y8
	VADDPS Y8, Y2, Y2
	MOVQ 24(R14), CX
	VBROADCASTSS (R13)(CX*1), Y10
	VCMPPS $4, Y15, Y10, Y11
	VMULPS 96(R15), Y10, Y10
	VANDPS Y11, Y10, Y10
	VADDPS Y10, Y3, Y3
	MOVQ 32(R14), CX
	VBROADCASTSS (R13)(CX*1), Y8
	VCMPPS $4, Y15, Y8, Y9
	VMULPS 128(R15), Y8, Y8
	VANDPS Y9, Y8, Y8
	VADDPS Y8, Y4, Y4
	MOVQ 40(R14), CX
	VBROADCASTSS (R13)(CX*1), Y10
	VCMPPS $4, Y15, Y10, Y11
	VMULPS 160(R15), Y10, Y10
	VANDPS Y11, Y10, Y10
	VADDPS Y10, Y5, Y5
	MOVQ 48(R14), CX
	VBROADCASTSS (R13)(CX*1), Y8
	VCMPPS $4, Y15, Y8, Y9
	VMULPS 192(R15), Y8, Y8
	VANDPS Y9, Y8, Y8
	VADDPS Y8, Y6, Y6
	MOVQ 56(R14), CX
	VBROADCASTSS (R13)(CX*1), Y10
	VCMPPS $4, Y15, Y10, Y11
	VMULPS 224(R15), Y10, Y10
	VANDPS Y11, Y10, Y10
	VADDPS Y10, Y7, Y7
	INCQ AX
	CMPQ AX, BX
	JLT edge64

store64:
	VMOVUPS Y0, 0(R9)
	VMOVUPS Y1, 32(R9)
	VMOVUPS Y2, 64(R9)
	VMOVUPS Y3, 96(R9)
	VMOVUPS Y4, 128(R9)
	VMOVUPS Y5, 160(R9)
	VMOVUPS Y6, 192(R9)
	VMOVUPS Y7, 224(R9)
	ADDQ ostride+72(FP), R9
	ADDQ $8, R8
	DECQ rows+80(FP)
	JNE row64

done64:
	VZEROUPPER
	RET

// func edgeMulBlock(indptr *int, indices *int32, perm *int32, vals *float32, wstride int, consts *int32, x *float32, xstride int, out *float32, ostride int, rows int)
//
// One block of up to 8 columns whose weights are at most 8 consecutive
// heads: vals points at the first of them in edge 0's weights. consts
// holds three vectors of 8 int32: the lanes of those heads (a load mask),
// each column's head among them (VPERMPS indices), and the block's lanes
// (the mask of x's loads and out's stores).
TEXT ·edgeMulBlock(SB), NOSPLIT, $0-88
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ perm+16(FP), R12
	MOVQ vals+24(FP), DI
	MOVQ wstride+32(FP), R11
	MOVQ consts+40(FP), R14
	MOVQ x+48(FP), DX
	MOVQ xstride+56(FP), R10
	MOVQ out+64(FP), R9
	MOVQ ostride+72(FP), CX
	VMOVDQU 0(R14), Y12 // heads' lanes
	VMOVDQU 32(R14), Y13 // column → head
	VMOVDQU 64(R14), Y14 // the block's lanes
	VXORPS Y15, Y15, Y15
	CMPQ rows+80(FP), $0
	JEQ doneBlock

rowBlock:
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	VXORPS Y0, Y0, Y0
	CMPQ AX, BX
	JGE storeBlock

edgeBlock:
	MOVLQSX (SI)(AX*4), R15
	IMULQ R10, R15
	MOVQ AX, R13
	TESTQ R12, R12
	JEQ directBlock
	MOVLQSX (R12)(AX*4), R13

directBlock:
	IMULQ R11, R13
	VMASKMOVPS (DI)(R13*1), Y12, Y8
	VPERMPS Y8, Y13, Y8
	VCMPPS $4, Y15, Y8, Y9
	VMASKMOVPS (DX)(R15*1), Y14, Y10
	VMULPS Y10, Y8, Y8
	VANDPS Y9, Y8, Y8
	VADDPS Y8, Y0, Y0
	INCQ AX
	CMPQ AX, BX
	JLT edgeBlock

storeBlock:
	VMASKMOVPS Y0, Y14, 0(R9)
	ADDQ CX, R9
	ADDQ $8, R8
	DECQ rows+80(FP)
	JNE rowBlock

doneBlock:
	VZEROUPPER
	RET

// Exp32's constants (package fastmath), each a vector of 8 float32, 32
// bytes apart.
DATA expc<>+0(SB)/8, $0x3fb8aa3b3fb8aa3b // log2(e)
DATA expc<>+8(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expc<>+16(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expc<>+24(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA expc<>+32(SB)/8, $0x3f0000003f000000 // 0.5
DATA expc<>+40(SB)/8, $0x3f0000003f000000
DATA expc<>+48(SB)/8, $0x3f0000003f000000
DATA expc<>+56(SB)/8, $0x3f0000003f000000
DATA expc<>+64(SB)/8, $0x3f3180003f318000 // ln 2, high part
DATA expc<>+72(SB)/8, $0x3f3180003f318000
DATA expc<>+80(SB)/8, $0x3f3180003f318000
DATA expc<>+88(SB)/8, $0x3f3180003f318000
DATA expc<>+96(SB)/8, $0xb95e8083b95e8083 // ln 2, low part
DATA expc<>+104(SB)/8, $0xb95e8083b95e8083
DATA expc<>+112(SB)/8, $0xb95e8083b95e8083
DATA expc<>+120(SB)/8, $0xb95e8083b95e8083
DATA expc<>+128(SB)/8, $0x3950696739506967 // polynomial, degree 6 first
DATA expc<>+136(SB)/8, $0x3950696739506967
DATA expc<>+144(SB)/8, $0x3950696739506967
DATA expc<>+152(SB)/8, $0x3950696739506967
DATA expc<>+160(SB)/8, $0x3ab743ce3ab743ce
DATA expc<>+168(SB)/8, $0x3ab743ce3ab743ce
DATA expc<>+176(SB)/8, $0x3ab743ce3ab743ce
DATA expc<>+184(SB)/8, $0x3ab743ce3ab743ce
DATA expc<>+192(SB)/8, $0x3c0889083c088908
DATA expc<>+200(SB)/8, $0x3c0889083c088908
DATA expc<>+208(SB)/8, $0x3c0889083c088908
DATA expc<>+216(SB)/8, $0x3c0889083c088908
DATA expc<>+224(SB)/8, $0x3d2aa9c13d2aa9c1
DATA expc<>+232(SB)/8, $0x3d2aa9c13d2aa9c1
DATA expc<>+240(SB)/8, $0x3d2aa9c13d2aa9c1
DATA expc<>+248(SB)/8, $0x3d2aa9c13d2aa9c1
DATA expc<>+256(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA expc<>+264(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA expc<>+272(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA expc<>+280(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA expc<>+288(SB)/8, $0x3f0000003f000000
DATA expc<>+296(SB)/8, $0x3f0000003f000000
DATA expc<>+304(SB)/8, $0x3f0000003f000000
DATA expc<>+312(SB)/8, $0x3f0000003f000000
DATA expc<>+320(SB)/8, $0x3f8000003f800000 // 1
DATA expc<>+328(SB)/8, $0x3f8000003f800000
DATA expc<>+336(SB)/8, $0x3f8000003f800000
DATA expc<>+344(SB)/8, $0x3f8000003f800000
DATA expc<>+352(SB)/8, $0xc2aeac4fc2aeac4f // below this, 0
DATA expc<>+360(SB)/8, $0xc2aeac4fc2aeac4f
DATA expc<>+368(SB)/8, $0xc2aeac4fc2aeac4f
DATA expc<>+376(SB)/8, $0xc2aeac4fc2aeac4f
DATA expc<>+384(SB)/8, $0x0000007f0000007f // exponent bias (int32)
DATA expc<>+392(SB)/8, $0x0000007f0000007f
DATA expc<>+400(SB)/8, $0x0000007f0000007f
DATA expc<>+408(SB)/8, $0x0000007f0000007f
DATA expc<>+416(SB)/8, $0x7fffffff7fffffff // |x| mask
DATA expc<>+424(SB)/8, $0x7fffffff7fffffff
DATA expc<>+432(SB)/8, $0x7fffffff7fffffff
DATA expc<>+440(SB)/8, $0x7fffffff7fffffff
DATA expc<>+448(SB)/8, $0x7f8000007f800000 // +Inf
DATA expc<>+456(SB)/8, $0x7f8000007f800000
DATA expc<>+464(SB)/8, $0x7f8000007f800000
DATA expc<>+472(SB)/8, $0x7f8000007f800000
GLOBL expc<>(SB), RODATA|NOPTR, $480

// func edgeSoftmax8(indptr *int, e *float32, out *float32, rows int) int
//
// EdgeSoftmax of 8 heads (one vector an edge) for rows [0, rows) whose
// values are finite, as the portable kernel computes it: the maximum in
// float32, Exp32 of the differences with the same float32 operations in
// the same order (no fused multiply-adds), their sums in float64, and each
// exponential divided by its sum in float64 and rounded to float32. It
// returns how many rows it did: fewer than rows if a row has a NaN or an
// infinity, which it leaves to the portable kernel.
TEXT ·edgeSoftmax8(SB), NOSPLIT, $0-40
	MOVQ indptr+0(FP), R8
	MOVQ e+8(FP), DI
	MOVQ out+16(FP), R9
	MOVQ rows+24(FP), CX
	XORQ DX, DX
	VMOVUPS expc<>+448(SB), Y14 // +Inf
	VMOVUPS expc<>+416(SB), Y15 // |x| mask

rowSm:
	CMPQ DX, CX
	JGE doneSm
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	CMPQ AX, BX
	JGE nextSm
	SHLQ $5, AX
	SHLQ $5, BX
	// The maximum, and whether every value is finite.
	VMOVUPS (DI)(AX*1), Y0
	VPCMPEQD Y1, Y1, Y1
	MOVQ AX, R10

maxSm:
	VMOVUPS (DI)(R10*1), Y4
	VMAXPS Y4, Y0, Y0
	VANDPS Y15, Y4, Y5
	VCMPPS $1, Y14, Y5, Y5 // |x| < Inf: false for Inf and NaN
	VANDPS Y5, Y1, Y1
	ADDQ $32, R10
	CMPQ R10, BX
	JLT maxSm
	VMOVMSKPS Y1, R11
	CMPQ R11, $0xff
	JNE doneSm

	// exp(x − max) into out, summed in float64 in Y2 (heads 0–3) and Y3.
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ AX, R10

expSm:
	VMOVUPS (DI)(R10*1), Y4
	VSUBPS Y0, Y4, Y4 // x
	VMOVAPS Y4, Y8
	VMULPS expc<>+0(SB), Y4, Y5
	VADDPS expc<>+32(SB), Y5, Y5
	VROUNDPS $1, Y5, Y5 // z = floor(x·log2(e) + 0.5)
	VMULPS expc<>+64(SB), Y5, Y6
	VSUBPS Y6, Y4, Y4
	VMULPS expc<>+96(SB), Y5, Y6
	VSUBPS Y6, Y4, Y4
	VMULPS expc<>+128(SB), Y4, Y6
	VADDPS expc<>+160(SB), Y6, Y6
	VMULPS Y4, Y6, Y6
	VADDPS expc<>+192(SB), Y6, Y6
	VMULPS Y4, Y6, Y6
	VADDPS expc<>+224(SB), Y6, Y6
	VMULPS Y4, Y6, Y6
	VADDPS expc<>+256(SB), Y6, Y6
	VMULPS Y4, Y6, Y6
	VADDPS expc<>+288(SB), Y6, Y6
	VMULPS Y4, Y6, Y6
	VMULPS Y4, Y6, Y6
	VADDPS Y4, Y6, Y6
	VADDPS expc<>+320(SB), Y6, Y6 // p
	VCVTTPS2DQ Y5, Y7
	VPADDD expc<>+384(SB), Y7, Y7
	VPSLLD $23, Y7, Y7 // 2^z
	VMULPS Y7, Y6, Y6
	VCMPPS $1, expc<>+352(SB), Y8, Y9 // x below the range: 0
	VANDNPS Y6, Y9, Y6
	VMOVUPS Y6, (R9)(R10*1)
	VCVTPS2PD X6, Y7
	VEXTRACTF128 $1, Y6, X6
	VCVTPS2PD X6, Y6
	VADDPD Y7, Y2, Y2
	VADDPD Y6, Y3, Y3
	ADDQ $32, R10
	CMPQ R10, BX
	JLT expSm

	// Each exponential divided by its head's sum.
	MOVQ AX, R10

divSm:
	VCVTPS2PD (R9)(R10*1), Y4
	VCVTPS2PD 16(R9)(R10*1), Y5
	VDIVPD Y2, Y4, Y4
	VDIVPD Y3, Y5, Y5
	VCVTPD2PSY Y4, X4
	VCVTPD2PSY Y5, X5
	VINSERTF128 $1, X5, Y4, Y4
	VMOVUPS Y4, (R9)(R10*1)
	ADDQ $32, R10
	CMPQ R10, BX
	JLT divSm

nextSm:
	ADDQ $8, R8
	INCQ DX
	JMP rowSm

doneSm:
	MOVQ DX, ret+32(FP)
	VZEROUPPER
	RET

// func edgeAdd8(indptr *int, indices *int32, u, v, out *float32, rows int)
//
// EdgeAdd of 8 heads for rows [0, rows) from the one indptr points at (u
// at that row): one VADDPS an edge.
TEXT ·edgeAdd8(SB), NOSPLIT, $0-48
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ u+16(FP), R10
	MOVQ v+24(FP), DX
	MOVQ out+32(FP), R9
	MOVQ rows+40(FP), CX
	TESTQ CX, CX
	JEQ doneAdd

rowAdd:
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	VMOVUPS (R10), Y0
	CMPQ AX, BX
	JGE nextAdd

edgeAdd:
	MOVLQSX (SI)(AX*4), R11
	SHLQ $5, R11
	VADDPS (DX)(R11*1), Y0, Y1
	MOVQ AX, R12
	SHLQ $5, R12
	VMOVUPS Y1, (R9)(R12*1)
	INCQ AX
	CMPQ AX, BX
	JLT edgeAdd

nextAdd:
	ADDQ $32, R10
	ADDQ $8, R8
	DECQ CX
	JNE rowAdd

doneAdd:
	VZEROUPPER
	RET

// func edgeRowSums8(indptr *int, perm *int32, vals, out *float32, rows int)
//
// EdgeRowSums of 8 heads for rows [0, rows) from the one indptr points at
// (out at that row): the row's edges added in order to zeros, one VADDPS
// an edge, as the portable kernel's o[h] += v.
TEXT ·edgeRowSums8(SB), NOSPLIT, $0-40
	MOVQ indptr+0(FP), R8
	MOVQ perm+8(FP), R12
	MOVQ vals+16(FP), DI
	MOVQ out+24(FP), R9
	MOVQ rows+32(FP), CX
	TESTQ CX, CX
	JEQ doneSum

rowSum:
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	VXORPS Y0, Y0, Y0
	CMPQ AX, BX
	JGE storeSum

edgeSum:
	MOVQ AX, R13
	TESTQ R12, R12
	JEQ directSum
	MOVLQSX (R12)(AX*4), R13

directSum:
	SHLQ $5, R13
	VADDPS (DI)(R13*1), Y0, Y0
	INCQ AX
	CMPQ AX, BX
	JLT edgeSum

storeSum:
	VMOVUPS Y0, (R9)
	ADDQ $32, R9
	ADDQ $8, R8
	DECQ CX
	JNE rowSum

doneSum:
	VZEROUPPER
	RET

// func edgeDot8x8(indptr *int, indices *int32, u, v, out *float32, rows int)
//
// EdgeDot of 8 heads of 8 for rows [0, rows) from the one indptr points at
// (u at that row): the 8×8 products of an edge, row h being head h, are
// transposed so that column f holds the heads' f-th products, and the
// columns are added to 0 in order f = 0 … 7: each head's sum in the
// portable kernel's order.
TEXT ·edgeDot8x8(SB), NOSPLIT, $0-48
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ u+16(FP), R10
	MOVQ v+24(FP), DX
	MOVQ out+32(FP), R9
	MOVQ rows+40(FP), CX
	TESTQ CX, CX
	JEQ doneDot

rowDot:
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	CMPQ AX, BX
	JGE nextDot

edgeDot:
	MOVLQSX (SI)(AX*4), R15
	SHLQ $8, R15
	ADDQ DX, R15 // v's row: 64 floats
	VMOVUPS 0(R10), Y0
	VMULPS 0(R15), Y0, Y0
	VMOVUPS 32(R10), Y1
	VMULPS 32(R15), Y1, Y1
	VMOVUPS 64(R10), Y2
	VMULPS 64(R15), Y2, Y2
	VMOVUPS 96(R10), Y3
	VMULPS 96(R15), Y3, Y3
	VMOVUPS 128(R10), Y4
	VMULPS 128(R15), Y4, Y4
	VMOVUPS 160(R10), Y5
	VMULPS 160(R15), Y5, Y5
	VMOVUPS 192(R10), Y6
	VMULPS 192(R15), Y6, Y6
	VMOVUPS 224(R10), Y7
	VMULPS 224(R15), Y7, Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8 // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12 // column 4
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VXORPS Y0, Y0, Y0
	VADDPS Y8, Y0, Y0
	VADDPS Y9, Y0, Y0
	VADDPS Y10, Y0, Y0
	VADDPS Y11, Y0, Y0
	VADDPS Y12, Y0, Y0
	VADDPS Y13, Y0, Y0
	VADDPS Y14, Y0, Y0
	VADDPS Y15, Y0, Y0
	MOVQ AX, R12
	SHLQ $5, R12
	VMOVUPS Y0, (R9)(R12*1)
	INCQ AX
	CMPQ AX, BX
	JLT edgeDot

nextDot:
	ADDQ $256, R10
	ADDQ $8, R8
	DECQ CX
	JNE rowDot

doneDot:
	VZEROUPPER
	RET
