// Package nn provides the building blocks shared by gnsr's GNN and vision
// training on top of gorgonia: a softmax cross-entropy loss over a subset of
// rows, dropout with a trainer-owned mask, the Adam and SGD optimizers with
// PyTorch semantics, and seeded initialisers.
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
