package gnn

import (
	"fmt"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
)

// network is one gorgonia graph of a model: a training one, with dropout,
// the loss and the NSR terms, or a forward-only evaluation one. The model
// is built twice on the same parameter tensors, so evaluation never pays
// for backpropagation and both always see the same weights.
type network struct {
	g       *G.ExprGraph
	ctx     *Context
	params  []*G.Node // the model's parameters, in Model.params order
	outputs []*G.Node // each layer's output (after the activation for hidden layers); the last is the logits
	ce      G.Value   // cross-entropy after the last run (training network)
	nsr     []G.Value // each NSR term λ_l·P_l after the last run (training network)
	cost    *G.Node   // cross-entropy plus the NSR terms (training network)
}

// lossSpec says what a training network minimises.
type lossSpec struct {
	rows   []int // rows of the logits in the loss; nil: all
	labels []int // their labels
	// nsrLayers are the regularised layers, each with its λ and an
	// estimator of its class means.
	nsrLayers  []int
	nsrLambdas []float64
	estimator  func(layer int, hidden bool) (nsr.Estimator, error)
}

// buildNetwork builds m on the layer-0 input x over blocks into a new
// graph: a training graph (dropout on, the loss of loss, batch norm on
// batch statistics, updating the running ones when *update is true or
// update is nil) or, with loss nil, an evaluation graph.
func buildNetwork(m *Model, x Features, blocks []*Block, loss *lossSpec, update *bool) (*network, error) {
	g := G.NewGraph()
	ctx := newContext(g, loss != nil)
	net := &network{g: g, ctx: ctx}
	names := m.Params()
	for i, p := range m.params() {
		net.params = append(net.params, ctx.node(p, names[i].Name))
	}
	outs, err := m.forward(ctx, x, blocks, update)
	if err != nil {
		return nil, err
	}
	net.outputs = outs
	if loss == nil {
		return net, nil
	}
	logits := outs[len(outs)-1]
	ce, err := nn.SoftmaxCrossEntropy(logits, loss.rows, loss.labels)
	if err != nil {
		return nil, fmt.Errorf("gnn: loss: %w", err)
	}
	G.Read(ce, &net.ce)
	net.cost = ce
	net.nsr = make([]G.Value, len(loss.nsrLayers))
	for i, l := range loss.nsrLayers {
		est, err := loss.estimator(l, l+1 < len(outs))
		if err != nil {
			return nil, fmt.Errorf("gnn: NSR on layer %d: %w", l, err)
		}
		term, err := nsr.Term(outs[l], est, loss.nsrLambdas[i])
		if err != nil {
			return nil, fmt.Errorf("gnn: NSR on layer %d: %w", l, err)
		}
		G.Read(term, &net.nsr[i])
		if net.cost, err = G.Add(net.cost, term); err != nil {
			return nil, fmt.Errorf("gnn: NSR on layer %d: %w", l, err)
		}
	}
	return net, nil
}

// plan shares the buffers of net's ops with pool (autograd.Plan): call it
// once the graph is complete, gradients included. An evaluation network
// keeps its layers' outputs after a run, for output.
func (net *network) plan(pool *autograd.Pool) error {
	var keep []*G.Node
	if net.cost == nil {
		keep = net.outputs
	}
	if err := autograd.Plan(net.g, pool, keep...); err != nil {
		return fmt.Errorf("gnn: %w", err)
	}
	return nil
}

// output returns the value of layer l's output after the last run of an
// evaluation network: the op's buffer, valid until a network that shares
// its pool runs.
func (net *network) output(l int) []float32 {
	return net.outputs[l].Value().Data().([]float32)
}

// sameBlocks returns n references to b: the blocks of a model of n layers
// on a whole graph.
func sameBlocks(b *Block, n int) []*Block {
	out := make([]*Block, n)
	for i := range out {
		out[i] = b
	}
	return out
}
