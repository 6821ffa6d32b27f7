// Package sparseops provides the gorgonia operations of gnsr's sparse
// matrices (package sparse): products of a sparse matrix with a
// differentiable dense node.
//
// The sparse operand of Mul and MulAdd is a constant of the step: gradients
// flow only to the dense operand, so no gradient is ever built for an
// adjacency or feature matrix.
package sparseops
