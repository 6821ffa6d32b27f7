// Package matmul multiplies dense row-major float32 matrices for the
// models of gnsr: Gemm and GemmTA on an AVX2/FMA kernel of 4×16 blocks (plain
// Go elsewhere), or on OpenBLAS in a build with -tags openblas and cgo, and
// Scalar, the plain Go loop for float64 and gradient checks.
//
// Which code computes an element, and the order of its sum, depend only on
// the shapes, never on the number of goroutines, so results are identical
// for any GOMAXPROCS (for OpenBLAS: for a fixed number of its threads).
package matmul
