// Package nn provides the building blocks shared by gnsr's GNN and vision
// training on top of gorgonia: dense products (MatMul, Linear), bias and
// activation ops, a softmax cross-entropy loss over a subset of rows,
// dropout with a trainer-owned mask, the Adam and SGD optimizers with
// PyTorch semantics, seeded initialisers, and the convolutional layers on
// NCHW tensors (Conv2D, MaxPool, BatchNorm fused with its ReLU,
// GlobalAvgPool, Residual, Flatten).
//
// The ops are autograd.Layers or hand-written gorgonia ops (package
// internal/autograd). Convolution runs by im2col and the matrix kernel of
// internal/matmul, several images per product when images are small;
// batch norm uses torch's ε, momentum and variances; testdata/golden_cnn.py
// checks these ops against torch. Their work is split over the images or
// channels of a batch with every sum in a fixed order, so results are the
// same for any GOMAXPROCS.
//
// Every differentiable op works in float32 and float64 (so gradients can be
// checked by finite differences in float64) and supports both of gorgonia's
// differentiation modes: symbolic (gorgonia.Grad followed by a TapeMachine)
// and automatic (a LispMachine, through DoDiff).
//
// Randomness always comes from a *rand.Rand (math/rand/v2) that the caller
// seeds per run; the package has no global mutable state.
//
// # Gradients and optimizers
//
// Adam.Step and SGD.Step read each parameter's gradient with Node.Grad and
// zero it after the update, because both the LispMachine and a TapeMachine
// built with gorgonia.BindDualValues accumulate into the gradient across runs.
//
// # Evaluation
//
// To evaluate without building gradients, build a second graph whose
// parameter nodes are created with gorgonia.WithValue on the very tensors
// of the training graph's parameters (see NewParam's init argument): the
// optimizers update those tensors in place, so the evaluation graph always
// sees the current weights at no copying cost. Leave dropout out of the
// evaluation graph, or call DropoutMask.SetTraining(false).
package nn
