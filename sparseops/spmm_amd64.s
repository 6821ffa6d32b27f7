//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func stripRows16(indptr *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
//
// Y0:Y1 sum the even entries of a row and Y2:Y3 the odd ones, so that two
// FMA dependency chains run at once; they are added once per row.
TEXT ·stripRows16(SB), NOSPLIT, $0-57
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ data+16(FP), DI
	MOVQ b+24(FP), DX
	MOVQ dst+32(FP), R9
	MOVQ rows+40(FP), CX
	MOVQ k+48(FP), R10
	SHLQ $2, R10 // row stride of b and dst in bytes
	MOVBQZX acc+56(FP), R11
	TESTQ CX, CX
	JEQ done16

row16:
	MOVQ 0(R8), AX // p = lo
	MOVQ 8(R8), BX // hi
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JGE single16

pair16:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	VBROADCASTSS (DI)(AX*4), Y4
	VFMADD231PS (DX)(R13*1), Y4, Y0
	VFMADD231PS 32(DX)(R13*1), Y4, Y1
	MOVLQSX 4(SI)(AX*4), R14
	IMULQ R10, R14
	VBROADCASTSS 4(DI)(AX*4), Y5
	VFMADD231PS (DX)(R14*1), Y5, Y2
	VFMADD231PS 32(DX)(R14*1), Y5, Y3
	ADDQ $2, AX
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JLT pair16

single16:
	CMPQ AX, BX
	JGE reduce16
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	VBROADCASTSS (DI)(AX*4), Y4
	VFMADD231PS (DX)(R13*1), Y4, Y0
	VFMADD231PS 32(DX)(R13*1), Y4, Y1

reduce16:
	VADDPS Y2, Y0, Y0
	VADDPS Y3, Y1, Y1
	TESTQ R11, R11
	JEQ store16
	VADDPS (R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1

store16:
	VMOVUPS Y0, (R9)
	VMOVUPS Y1, 32(R9)
	ADDQ $8, R8
	ADDQ R10, R9
	DECQ CX
	JNE row16

done16:
	VZEROUPPER
	RET

// func stripRows8(indptr *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
TEXT ·stripRows8(SB), NOSPLIT, $0-57
	MOVQ indptr+0(FP), R8
	MOVQ indices+8(FP), SI
	MOVQ data+16(FP), DI
	MOVQ b+24(FP), DX
	MOVQ dst+32(FP), R9
	MOVQ rows+40(FP), CX
	MOVQ k+48(FP), R10
	SHLQ $2, R10
	MOVBQZX acc+56(FP), R11
	TESTQ CX, CX
	JEQ done8

row8:
	MOVQ 0(R8), AX
	MOVQ 8(R8), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JGE single8

pair8:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	VBROADCASTSS (DI)(AX*4), Y4
	VFMADD231PS (DX)(R13*1), Y4, Y0
	MOVLQSX 4(SI)(AX*4), R14
	IMULQ R10, R14
	VBROADCASTSS 4(DI)(AX*4), Y5
	VFMADD231PS (DX)(R14*1), Y5, Y2
	ADDQ $2, AX
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JLT pair8

single8:
	CMPQ AX, BX
	JGE reduce8
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	VBROADCASTSS (DI)(AX*4), Y4
	VFMADD231PS (DX)(R13*1), Y4, Y0

reduce8:
	VADDPS Y2, Y0, Y0
	TESTQ R11, R11
	JEQ store8
	VADDPS (R9), Y0, Y0

store8:
	VMOVUPS Y0, (R9)
	ADDQ $8, R8
	ADDQ R10, R9
	DECQ CX
	JNE row8

done8:
	VZEROUPPER
	RET
