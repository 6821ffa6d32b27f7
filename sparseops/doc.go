// Package sparseops provides gnsr's float32 CSR sparse matrix, its
// deterministic parallel kernels, and gorgonia operations that multiply a
// constant sparse matrix with a differentiable dense node.
//
// The sparse operand of every operation is a constant of the step: gradients
// flow only to the dense operand, so no gradient is ever built for an
// adjacency or feature matrix.
package sparseops
