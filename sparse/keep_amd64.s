//go:build amd64 && !purego

#include "textflag.h"

// MUL64 sets Y0 = Y0·b mod 2^64 in each 64-bit lane, for the constant b
// whose low half is in the low halves of blo's lanes and high half in
// those of bhi's (AVX2 has no 64-bit multiply): lo·lo + (hi·lo + lo·hi)<<32.
#define MUL64(blo, bhi) \
	VPMULUDQ blo, Y0, Y1 \
	VPSRLQ   $32, Y0, Y2 \
	VPMULUDQ blo, Y2, Y2 \
	VPMULUDQ bhi, Y0, Y3 \
	VPADDQ   Y3, Y2, Y2  \
	VPSLLQ   $32, Y2, Y2 \
	VPADDQ   Y2, Y1, Y0

// KEEP4 sets the low 4 bits of reg to the keep bits of the Weyl states in
// zreg: lane l's bit is set if the high half of splitMix(state) is below
// the threshold in Y11.
#define KEEP4(zreg, reg) \
	VMOVDQU  zreg, Y0     \
	VPSRLQ   $30, Y0, Y1  \
	VPXOR    Y1, Y0, Y0   \
	MUL64(Y15, Y14)       \
	VPSRLQ   $27, Y0, Y1  \
	VPXOR    Y1, Y0, Y0   \
	MUL64(Y13, Y12)       \
	VPSRLQ   $31, Y0, Y1  \
	VPXOR    Y1, Y0, Y0   \
	VPSRLQ   $32, Y0, Y0  \
	VPCMPGTQ Y0, Y11, Y0  \
	VMOVMSKPD Y0, reg

// func keepGroups8(keptIdx *int32, keptData *float32, idx *int32, data *float32, groups int, z uint64, thresh int64, scale float32, perm *[256][8]int32, uniform bool) int
TEXT ·keepGroups8(SB), NOSPLIT, $0-88
	MOVQ keptIdx+0(FP), DI
	MOVQ keptData+8(FP), SI
	MOVQ idx+16(FP), R8
	MOVQ data+24(FP), R9
	MOVQ groups+32(FP), CX
	MOVQ perm+64(FP), R10
	MOVBQZX uniform+72(FP), BX
	XORQ R11, R11

	// The SplitMix64 multipliers, their high halves beside.
	MOVQ $0xbf58476d1ce4e5b9, AX
	MOVQ AX, X15
	VPBROADCASTQ X15, Y15
	SHRQ $32, AX
	MOVQ AX, X14
	VPBROADCASTQ X14, Y14
	MOVQ $0x94d049bb133111eb, AX
	MOVQ AX, X13
	VPBROADCASTQ X13, Y13
	SHRQ $32, AX
	MOVQ AX, X12
	VPBROADCASTQ X12, Y12
	MOVQ thresh+48(FP), AX
	MOVQ AX, X11
	VPBROADCASTQ X11, Y11
	VBROADCASTSS scale+56(FP), Y7

	// Y10 holds the states of entries 0..3 of a group and Y9 of 4..7;
	// Y8 is eight steps of the Weyl sequence.
	MOVQ z+40(FP), AX
	MOVQ $0x9e3779b97f4a7c15, DX
	MOVQ AX, X0
	ADDQ DX, AX
	VPINSRQ $1, AX, X0, X0
	ADDQ DX, AX
	MOVQ AX, X1
	ADDQ DX, AX
	VPINSRQ $1, AX, X1, X1
	VINSERTI128 $1, X1, Y0, Y10
	SHLQ $2, DX
	MOVQ DX, X8
	VPBROADCASTQ X8, Y8
	VPADDQ Y8, Y10, Y9
	VPADDQ Y8, Y8, Y8

	TESTQ CX, CX
	JZ done

loop:
	KEEP4(Y10, AX)
	KEEP4(Y9, DX)
	SHLQ $4, DX
	ORQ DX, AX
	POPCNTQ AX, DX
	SHLQ $5, AX
	VMOVDQU (R10)(AX*1), Y4
	VMOVDQU (R8), Y5
	VPERMD Y5, Y4, Y5
	VMOVDQU Y5, (DI)(R11*4)
	TESTQ BX, BX
	JNZ next
	VMULPS (R9), Y7, Y6
	VPERMPS Y6, Y4, Y6
	VMOVUPS Y6, (SI)(R11*4)

next:
	ADDQ DX, R11
	ADDQ $32, R8
	ADDQ $32, R9
	VPADDQ Y8, Y10, Y10
	VPADDQ Y8, Y9, Y9
	DECQ CX
	JNZ loop

done:
	VZEROUPPER
	MOVQ R11, ret+80(FP)
	RET
