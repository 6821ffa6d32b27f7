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

// func stripRows16(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
//
// Y0:Y1 sum the even entries of a row and Y2:Y3 the odd ones, so that two
// FMA dependency chains run at once; they are added once per row.
TEXT ·stripRows16(SB), NOSPLIT, $0-65
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ b+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10 // row stride of b and dst in bytes
	TESTQ CX, CX
	JEQ done16

row16:
	MOVQ 0(R8), AX // p = lo
	MOVQ 0(R11), BX // hi
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
	CMPB acc+64(FP), $0
	JEQ store16
	VADDPS (R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1

store16:
	VMOVUPS Y0, (R9)
	VMOVUPS Y1, 32(R9)
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, R9
	DECQ CX
	JNE row16

done16:
	VZEROUPPER
	RET

// func stripRows8(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
TEXT ·stripRows8(SB), NOSPLIT, $0-65
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ b+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ done8

row8:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
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
	CMPB acc+64(FP), $0
	JEQ store8
	VADDPS (R9), Y0, Y0

store8:
	VMOVUPS Y0, (R9)
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, R9
	DECQ CX
	JNE row8

done8:
	VZEROUPPER
	RET

// func stripRows64(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
//
// Y0–Y7 hold the row's 64 sums. Eight independent FMA chains already cover
// the FMA latency, so entries are summed in one chain each, in CSR order;
// one pass over the row replaces four 16-wide ones, saving three loads of
// every index and value.
TEXT ·stripRows64(SB), NOSPLIT, $0-65
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ b+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ done64

row64:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ AX, BX
	JGE reduce64

entry64:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ DX, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VFMADD231PS 0(R13), Y8, Y0
	VFMADD231PS 32(R13), Y8, Y1
	VFMADD231PS 64(R13), Y8, Y2
	VFMADD231PS 96(R13), Y8, Y3
	VFMADD231PS 128(R13), Y8, Y4
	VFMADD231PS 160(R13), Y8, Y5
	VFMADD231PS 192(R13), Y8, Y6
	VFMADD231PS 224(R13), Y8, Y7
	INCQ AX
	CMPQ AX, BX
	JLT entry64

reduce64:
	CMPB acc+64(FP), $0
	JEQ store64
	VADDPS 0(R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 64(R9), Y2, Y2
	VADDPS 96(R9), Y3, Y3
	VADDPS 128(R9), Y4, Y4
	VADDPS 160(R9), Y5, Y5
	VADDPS 192(R9), Y6, Y6
	VADDPS 224(R9), Y7, Y7

store64:
	VMOVUPS Y0, 0(R9)
	VMOVUPS Y1, 32(R9)
	VMOVUPS Y2, 64(R9)
	VMOVUPS Y3, 96(R9)
	VMOVUPS Y4, 128(R9)
	VMOVUPS Y5, 160(R9)
	VMOVUPS Y6, 192(R9)
	VMOVUPS Y7, 224(R9)
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, R9
	DECQ CX
	JNE row64

done64:
	VZEROUPPER
	RET

// func stripRows32(lo, hi *int, indices *int32, data *float32, b *float32, dst *float32, rows, k int, acc bool)
//
// Y0–Y3 sum the even entries of a row and Y4–Y7 the odd ones (two chains,
// as in stripRows16); they are added once per row.
TEXT ·stripRows32(SB), NOSPLIT, $0-65
	MOVQ lo+0(FP), R8
	MOVQ hi+8(FP), R11
	MOVQ indices+16(FP), SI
	MOVQ data+24(FP), DI
	MOVQ b+32(FP), DX
	MOVQ dst+40(FP), R9
	MOVQ rows+48(FP), CX
	MOVQ k+56(FP), R10
	SHLQ $2, R10
	TESTQ CX, CX
	JEQ done32

row32:
	MOVQ 0(R8), AX
	MOVQ 0(R11), BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JGE single32

pair32:
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ DX, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VFMADD231PS 0(R13), Y8, Y0
	VFMADD231PS 32(R13), Y8, Y1
	VFMADD231PS 64(R13), Y8, Y2
	VFMADD231PS 96(R13), Y8, Y3
	MOVLQSX 4(SI)(AX*4), R14
	IMULQ R10, R14
	ADDQ DX, R14
	VBROADCASTSS 4(DI)(AX*4), Y9
	VFMADD231PS 0(R14), Y9, Y4
	VFMADD231PS 32(R14), Y9, Y5
	VFMADD231PS 64(R14), Y9, Y6
	VFMADD231PS 96(R14), Y9, Y7
	ADDQ $2, AX
	LEAQ 1(AX), R12
	CMPQ R12, BX
	JLT pair32

single32:
	CMPQ AX, BX
	JGE reduce32
	MOVLQSX (SI)(AX*4), R13
	IMULQ R10, R13
	ADDQ DX, R13
	VBROADCASTSS (DI)(AX*4), Y8
	VFMADD231PS 0(R13), Y8, Y0
	VFMADD231PS 32(R13), Y8, Y1
	VFMADD231PS 64(R13), Y8, Y2
	VFMADD231PS 96(R13), Y8, Y3

reduce32:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	CMPB acc+64(FP), $0
	JEQ store32
	VADDPS 0(R9), Y0, Y0
	VADDPS 32(R9), Y1, Y1
	VADDPS 64(R9), Y2, Y2
	VADDPS 96(R9), Y3, Y3

store32:
	VMOVUPS Y0, 0(R9)
	VMOVUPS Y1, 32(R9)
	VMOVUPS Y2, 64(R9)
	VMOVUPS Y3, 96(R9)
	ADDQ $8, R8
	ADDQ $8, R11
	ADDQ R10, R9
	DECQ CX
	JNE row32

done32:
	VZEROUPPER
	RET
