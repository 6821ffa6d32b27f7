package gnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sparse"
	"github.com/gnsr/gnsr/sparseops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Models lists the architectures Train accepts in Config.Model: "gcn", the
// graph convolution of Kipf & Welling, Â·H·W + b with Â = D^-1/2 (A+I) D^-1/2;
// and "sage", GraphSAGE with the mean aggregator (Hamilton et al.),
// H·W_root + mean_{j∈N(i)} h_j·W_neigh + b.
var Models = []string{"gcn", "sage"}

// weights are the parameter tensors of a model, shared by its training and
// evaluation graphs so that the optimizer's in-place updates reach both.
type weights struct {
	names   []string
	tensors []*tensor.Dense
}

func (w *weights) add(name string, rows, cols int, init []float32) {
	w.names = append(w.names, name)
	w.tensors = append(w.tensors, tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(init)))
}

// newWeights draws the weights of a model with the given layer sizes: for
// GCN Glorot-uniform matrices (as Kipf & Welling), for GraphSAGE U(±1/√in)
// with biases alike (torch.nn.Linear's default, as the reference run); GCN
// biases start at zero. Each layer
// has W (the GCN weight, or GraphSAGE's root weight), for "sage" also Wn
// (the neighbour weight), then b if bias is set.
func newWeights(rng *rand.Rand, model string, sizes []int, bias bool) *weights {
	w := &weights{}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		if model == "sage" {
			// torch.nn.Linear's default, U(±1/√in), as the reference
			// GraphSAGE: Glorot's larger weights, on the raw bag-of-words
			// of the Amazon graphs, blow the first steps up and leave most
			// ReLUs dead (Photo: 71 % instead of 90 %).
			w.add(fmt.Sprintf("W%d", l), in, out, uniform(rng, in*out, 1/math.Sqrt(float64(in))))
			w.add(fmt.Sprintf("Wn%d", l), in, out, uniform(rng, in*out, 1/math.Sqrt(float64(in))))
		} else {
			w.add(fmt.Sprintf("W%d", l), in, out, nn.GlorotUniform(rng, in, out))
		}
		if bias {
			b := make([]float32, out)
			if model == "sage" {
				b = uniform(rng, out, 1/math.Sqrt(float64(in))) // torch.nn.Linear's bias
			}
			w.add(fmt.Sprintf("b%d", l), 1, out, b)
		}
	}
	return w
}

// uniform returns n draws from U(-bound, bound).
func uniform(rng *rand.Rand, n int, bound float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return out
}

// perLayer returns how many parameter tensors each layer of model has.
func perLayer(model string, bias bool) int {
	n := 1
	if model == "sage" {
		n++
	}
	if bias {
		n++
	}
	return n
}

// adjacency returns the propagation matrix of model on g: the GCN
// normalisation, or the row mean over neighbours for GraphSAGE.
func adjacency(model string, g *graph.Graph) *sparse.CSR {
	if model == "sage" {
		return graph.NormalizeMean(g)
	}
	return graph.NormalizeSymmetric(g)
}

// network is one gorgonia graph of a model: the training one, with dropout,
// the loss and the NSR terms, or the forward-only evaluation one.
type network struct {
	g        *G.ExprGraph
	params   []*G.Node
	outputs  []*G.Node // each layer's output (after ReLU for hidden layers); the last is the logits
	values   []G.Value // what outputs held after the last run, read through G.Read
	ce       G.Value   // cross-entropy after the last run (training network)
	nsr      []G.Value // each NSR term λ_l·P_l after the last run (training network)
	cost     *G.Node   // cross-entropy plus the NSR terms (training network)
	dropouts []*nn.DropoutMask
}

// lossSpec says what the training network minimises.
type lossSpec struct {
	rows, labels []int // training nodes and their labels
	classes      int
	nsrLayers    []int // layer indices in [0, layers), each with its λ
	nsrLambdas   []float64
	maskZeros    bool
}

// build builds the network of model: for each layer, Â·(H W) + b (GCN) or
// H W + Â·(H Wn) + b (GraphSAGE, Â the neighbour mean), with ReLU between
// layers. The first layer multiplies the sparse features x (whose values the
// trainer replaces with a dropped-out copy each step) directly, so no dense
// copy of the features is ever made. With loss nil the network is the
// evaluation one: no dropout, no loss.
func build(model string, w *weights, x, adj *sparse.Matrix, nodes int, dropout float64, bias bool, loss *lossSpec) (*network, error) {
	g := G.NewGraph()
	net := &network{g: g}
	for i, t := range w.tensors {
		s := t.Shape()
		// The weights' dtype: float32 in training, float64 in gradient checks.
		net.params = append(net.params, G.NewMatrix(g, t.Dtype(), G.WithShape(s[0], s[1]), G.WithName(w.names[i]), G.WithValue(t)))
	}
	per := perLayer(model, bias)
	layers := len(net.params) / per
	var h *G.Node
	for l := 0; l < layers; l++ {
		p := net.params[l*per : (l+1)*per]
		in := h
		if l > 0 && loss != nil && dropout > 0 {
			// Input dropout lives in x's values (sparse dropout), set per step.
			mask := nn.NewDropoutMask(dropout, nodes, h.Shape()[1])
			net.dropouts = append(net.dropouts, mask)
			var err error
			if in, err = nn.Dropout(h, mask); err != nil {
				return nil, err
			}
		}
		times := func(w *G.Node) (*G.Node, error) {
			if l == 0 {
				return sparseops.Mul(x, w)
			}
			return nn.MatMul(in, w)
		}
		z, err := times(p[0])
		if err != nil {
			return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
		}
		switch model {
		case "sage":
			var zn *G.Node
			if zn, err = times(p[1]); err == nil {
				z, err = sparseops.MulAdd(adj, zn, z)
			}
		default:
			z, err = sparseops.Mul(adj, z)
		}
		if err != nil {
			return nil, fmt.Errorf("gnn: layer %d aggregation: %w", l, err)
		}
		if z, err = biasAndActivation(z, p, per, bias, l+1 < layers); err != nil {
			return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
		}
		net.outputs = append(net.outputs, z)
		h = z
	}
	net.values = make([]G.Value, len(net.outputs))
	for i, o := range net.outputs {
		G.Read(o, &net.values[i])
	}
	if loss == nil {
		return net, nil
	}
	ce, err := nn.SoftmaxCrossEntropy(h, loss.rows, loss.labels)
	if err != nil {
		return nil, fmt.Errorf("gnn: loss: %w", err)
	}
	G.Read(ce, &net.ce)
	net.cost = ce
	net.nsr = make([]G.Value, len(loss.nsrLayers))
	for i, l := range loss.nsrLayers {
		est := &nsr.FullBatch{
			Rows: loss.rows, Labels: loss.labels, NumClasses: loss.classes,
			// Zero masking is for ReLU outputs; the logits have none.
			MaskZeros: loss.maskZeros && l+1 < layers,
		}
		term, err := nsr.Term(net.outputs[l], est, loss.nsrLambdas[i])
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

// biasAndActivation adds the layer's bias (the last of its parameters p,
// if bias is set) to z and, for a hidden layer, applies ReLU, as one fused
// op.
func biasAndActivation(z *G.Node, p []*G.Node, per int, bias, hidden bool) (*G.Node, error) {
	var b *G.Node
	if bias {
		b = p[per-1]
	}
	if hidden {
		return nn.BiasReLU(z, b)
	}
	if b == nil {
		return z, nil
	}
	return nn.AddBias(z, b)
}
