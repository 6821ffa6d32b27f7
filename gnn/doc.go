// Package gnn holds gnsr's graph neural networks for node classification,
// their full-batch and neighbour-sampled trainer, and prediction with saved
// models.
//
// A model is built twice on gorgonia from the same parameter tensors: once as
// a training graph (dropout on, loss and gradients) and once as a forward-only
// evaluation graph, so evaluation never pays for backpropagation and the two
// always see the same weights. Sparse products go through sparseops, whose
// operations hold the adjacency and feature matrices as constants: gradients
// flow only to the dense operands.
//
// Full-batch training computes each layer only on the rows its loss can
// reach (the receptive field); evaluation of the built-in layers after
// sampled training, and prediction, run layer by layer in row blocks. Both
// give the whole graph's numbers bit for bit.
package gnn
