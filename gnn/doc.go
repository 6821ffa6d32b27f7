// Package gnn holds gnsr's graph neural networks for node classification and
// their full-batch trainer.
//
// A model is built twice on gorgonia from the same parameter tensors: once as
// a training graph (dropout on, loss and gradients) and once as a forward-only
// evaluation graph, so evaluation never pays for backpropagation and the two
// always see the same weights. Sparse products go through sparseops, whose
// operations hold the adjacency and feature matrices as constants: gradients
// flow only to the dense operands.
package gnn
