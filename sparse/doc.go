// Package sparse provides gnsr's float32 CSR sparse matrix and its
// deterministic parallel kernels: products with dense matrices (AVX2
// assembly with a pure-Go fallback, cache-blocked where that pays),
// transposes, row and column reductions, and Matrix, a CSR matrix prepared
// as the left operand of the products of a training step (cached
// transpose, column blocks, counter-based dropout of its entries).
//
// The package does not depend on the autograd: graph construction, dataset
// readers and the sampler use it alone. The gorgonia operations over these
// matrices are in package sparseops.
//
// Every kernel splits its work so that each goroutine writes its own part
// of the output and sums in an order fixed by the shapes, so results are
// the same for any GOMAXPROCS.
package sparse
