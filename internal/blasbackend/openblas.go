//go:build openblas && cgo

package blasbackend

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// Declared again for cblas.h headers that are not OpenBLAS's own.
void openblas_set_num_threads(int num_threads);

// The wrappers take plain ints, so that the Go side does not depend on how
// a cblas.h spells its enum types.
static void gnsr_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
		const float *b, int ldb, float beta, float *c, int ldc) {
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void gnsr_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
		const double *b, int ldb, double beta, double *c, int ldc) {
	cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void gnsr_sgemv(int ta, int m, int n, float alpha, const float *a, int lda,
		const float *x, int incx, float beta, float *y, int incy) {
	cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

static void gnsr_dgemv(int ta, int m, int n, double alpha, const double *a, int lda,
		const double *x, int incx, double beta, double *y, int incy) {
	cblas_dgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}
*/
import "C"

import (
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// Backend names the BLAS backend this binary was built with, as the bench
// records and the JSON summaries report it.
const Backend = "openblas"

// Install sets the number of OpenBLAS threads to GOMAXPROCS and makes
// gorgonia (and gorgonia.org/tensor) use Implementation. It changes
// process-wide state (see the package documentation): call it once, from
// main, before any graph is built or run, and not concurrently with
// gorgonia work. It never panics.
func Install() {
	C.openblas_set_num_threads(C.int(min(runtime.GOMAXPROCS(0), math.MaxInt32)))
	G.Use(Implementation{})
}

// Implementation is gonum's BLAS with the dense products Sgemm, Dgemm,
// Sgemv and Dgemv computed by OpenBLAS. It satisfies gorgonia.BLAS.
//
// A call that gonum would reject is passed to gonum, which panics with its
// usual message, so OpenBLAS only ever sees valid operands. Degenerate
// calls (an empty matrix, k = 0, alpha = 0), negative vector increments
// and dimensions beyond OpenBLAS's 32-bit integers go to gonum too.
type Implementation struct {
	gonum.Implementation
}

var _ G.BLAS = Implementation{}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float32
// matrices, as gonum's Sgemm, whose panics it keeps for invalid arguments.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb, ok := gemmOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if !ok || alpha == 0 {
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.gnsr_sgemm(ta, tb, C.int(m), C.int(n), C.int(k), C.float(alpha), (*C.float)(&a[0]), C.int(lda),
		(*C.float)(&b[0]), C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, as gonum's Dgemm, whose panics it keeps for invalid arguments.
func (impl Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb, ok := gemmOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if !ok || alpha == 0 {
		impl.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.gnsr_dgemm(ta, tb, C.int(m), C.int(n), C.int(k), C.double(alpha), (*C.double)(&a[0]), C.int(lda),
		(*C.double)(&b[0]), C.int(ldb), C.double(beta), (*C.double)(&c[0]), C.int(ldc))
}

// Sgemv computes y = alpha·op(A)·x + beta·y for a row-major float32 matrix,
// as gonum's Sgemv, whose panics it keeps for invalid arguments.
func (impl Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	ta, ok := gemvOK(tA, m, n, len(a), lda, len(x), incX, len(y), incY)
	if !ok || alpha == 0 {
		impl.Implementation.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	C.gnsr_sgemv(ta, C.int(m), C.int(n), C.float(alpha), (*C.float)(&a[0]), C.int(lda),
		(*C.float)(&x[0]), C.int(incX), C.float(beta), (*C.float)(&y[0]), C.int(incY))
}

// Dgemv computes y = alpha·op(A)·x + beta·y for a row-major float64 matrix,
// as gonum's Dgemv, whose panics it keeps for invalid arguments.
func (impl Implementation) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	ta, ok := gemvOK(tA, m, n, len(a), lda, len(x), incX, len(y), incY)
	if !ok || alpha == 0 {
		impl.Implementation.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	C.gnsr_dgemv(ta, C.int(m), C.int(n), C.double(alpha), (*C.double)(&a[0]), C.int(lda),
		(*C.double)(&x[0]), C.int(incX), C.double(beta), (*C.double)(&y[0]), C.int(incY))
}

// transposed reports whether t transposes a real matrix, and whether t is
// a valid blas.Transpose at all.
func transposed(t blas.Transpose) (trans C.int, ok bool) {
	switch t {
	case blas.NoTrans:
		return 0, true
	case blas.Trans, blas.ConjTrans:
		return 1, true
	}
	return 0, false
}

// fits32 reports whether every v is in [1, MaxInt32], OpenBLAS's range.
func fits32(vs ...int) bool {
	for _, v := range vs {
		if v < 1 || v > math.MaxInt32 {
			return false
		}
	}
	return true
}

// gemmOK returns the OpenBLAS transpose flags of a gemm call, and whether
// the call is one for OpenBLAS: valid as gonum checks it, every dimension
// positive and within 32 bits, and every slice long enough, so that the
// C side never reads or writes outside them.
func gemmOK(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) (ta, tb C.int, ok bool) {
	ta, okA := transposed(tA)
	tb, okB := transposed(tB)
	if !okA || !okB || !fits32(m, n, k, lda, ldb, ldc) {
		return 0, 0, false
	}
	ar, ac := m, k // A as stored
	if ta == 1 {
		ar, ac = k, m
	}
	br, bc := k, n // B as stored
	if tb == 1 {
		br, bc = n, k
	}
	// Operands are at most MaxInt32² elements, so nothing below overflows.
	ok = lda >= ac && ldb >= bc && ldc >= n &&
		lenA >= (ar-1)*lda+ac && lenB >= (br-1)*ldb+bc && lenC >= (m-1)*ldc+n
	return ta, tb, ok
}

// gemvOK returns the OpenBLAS transpose flag of a gemv call, and whether
// the call is one for OpenBLAS, as gemmOK; negative increments are left to
// gonum.
func gemvOK(tA blas.Transpose, m, n, lenA, lda, lenX, incX, lenY, incY int) (ta C.int, ok bool) {
	ta, okA := transposed(tA)
	if !okA || !fits32(m, n, lda, incX, incY) {
		return 0, false
	}
	nx, ny := n, m
	if ta == 1 {
		nx, ny = m, n
	}
	ok = lda >= n && lenA >= (m-1)*lda+n && lenX > (nx-1)*incX && lenY > (ny-1)*incY
	return ta, ok
}
