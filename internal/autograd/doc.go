// Package autograd is gnsr's layer over gorgonia's autograd: the framework
// its own operations are written in, and the helpers they share. Keeping
// every op behind this layer is what would let gorgonia (v0.9.18, no
// release since 2023) be replaced.
//
// A Fn computes a tensor of a shape fixed when the graph is built into a
// buffer it keeps between runs (Reuse): a TapeMachine clears its registers
// on Reset, so an op that allocated its output in Do would allocate, and
// the runtime zero, a new tensor every run. A gorgonia.Read copies out of
// the buffer, so values read after a run stay valid, but a graph built on
// such ops must not be run by two machines at once.
//
// A Layer is a Fn with a gradient plan: a list of Fn steps over its
// inputs, its output and the incoming gradient, which SymDiff turns into
// nodes (TapeMachine) and DoDiff evaluates directly, adding the results
// into the inputs' gradients (LispMachine), so that both machines compute
// the same numbers with the same code.
//
// A Machine is the tape machine gnsr runs its graphs on: gorgonia's, with
// a RunAll that executes the program on the calling goroutine instead of
// handing it to another thread and back.
package autograd
