package gnn

import (
	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// batchNorm is the batch norm between two layers of a model: γ and β over
// the hidden width, and running statistics for evaluation.
type batchNorm struct {
	gamma, beta *Param
	run         nn.BNRunning
}

func newBatchNorm(width int) *batchNorm {
	ones := make([]float32, width)
	for i := range ones {
		ones[i] = 1
	}
	vec := func(name string, v []float32) *Param {
		return &Param{Name: name, Value: tensor.New(tensor.WithShape(width), tensor.WithBacking(v))}
	}
	running := make([]float32, width)
	copy(running, ones)
	return &batchNorm{
		gamma: vec("gamma", ones), beta: vec("beta", make([]float32, width)),
		run: nn.BNRunning{
			Mean:     tensor.New(tensor.WithShape(width), tensor.WithBacking(make([]float32, width))),
			Variance: tensor.New(tensor.WithShape(width), tensor.WithBacking(running)),
		},
	}
}

// apply returns the activation of the batch norm of z: batch statistics in
// a training graph (updating the running ones when *update is true, or
// update is nil), the running statistics otherwise.
func (bn *batchNorm) apply(ctx *Context, z *G.Node, act activation, update *bool) (*G.Node, error) {
	run := bn.run
	run.Update = update
	if bn.run.Mean.Dtype() != z.Dtype() {
		// A model converted to float64 (gradient checks) gets statistics
		// of its dtype.
		run.Mean = tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(bn.run.Mean.Shape()...))
		run.Variance = tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(bn.run.Mean.Shape()...))
	}
	out, err := nn.BatchNorm(z, ctx.Node(bn.gamma), ctx.Node(bn.beta), &run, ctx.Training(), act == actReLU)
	if err != nil || act == actReLU {
		return out, err
	}
	return act.apply(out, nil, nil)
}
