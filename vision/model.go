package vision

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// archs holds the hidden layer widths of the MLP-k models of the NSR paper
// (k counts the layers including input and output).
var archs = map[string][]int{
	"mlp3":  {100},
	"mlp4":  {256, 100},
	"mlp6":  {256, 128, 64, 32},
	"mlp8":  {256, 128, 64, 32, 32, 16},
	"mlp10": {256, 128, 64, 64, 32, 32, 16, 16},
}

// Archs returns the names of the architectures Train accepts, sorted.
func Archs() []string {
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// HiddenSizes returns the hidden layer widths of the named architecture:
// mlp3 100; mlp4 256,100; mlp6 256,128,64,32; mlp8 256,128,64,32,32,16;
// mlp10 256,128,64,64,32,32,16,16.
func HiddenSizes(arch string) ([]int, error) {
	h, ok := archs[arch]
	if !ok {
		return nil, fmt.Errorf("vision: unknown architecture %q (known: %v)", arch, Archs())
	}
	return slices.Clone(h), nil
}

// weights are the parameter tensors of an MLP, W0, b0, W1, b1, ..., shared
// by its training and evaluation graphs so that the optimizer's in-place
// updates reach both.
type weights struct {
	sizes   []int // input, hidden..., classes
	tensors []*tensor.Dense
}

// newWeights draws Xavier-normal weights (in×out, used as x·W) and zero
// biases, as the peer's torch.nn.init.xavier_normal_ and zeros_: PyTorch's
// Linear weight is out×in with the same fans, so the distribution is equal.
func newWeights(rng *rand.Rand, sizes []int, dt tensor.Dtype) *weights {
	w := &weights{sizes: slices.Clone(sizes)}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		wt := tensor.New(tensor.Of(dt), tensor.WithShape(in, out))
		if err := nn.FillGlorotNormal(rng, wt); err != nil {
			panic(err) // unreachable: shapes are positive and the dtype a float
		}
		w.tensors = append(w.tensors, wt, tensor.New(tensor.Of(dt), tensor.WithShape(1, out)))
	}
	return w
}

// network is one gorgonia graph of an MLP on a fixed batch size: the
// training one, with the loss and the NSR terms, or the evaluation one.
type network struct {
	g       *G.ExprGraph
	x       *tensor.Dense // the input batch, written in place before each run
	labels  []int         // the batch's classes, read by reference by the loss
	params  []*G.Node
	outputs []*G.Node // each layer's output (after ReLU for hidden layers); the last is the logits
	values  []G.Value // what outputs held after the last run
	ce      G.Value
	nsr     []G.Value // λ_l·P_l after the last run
	queues  []*nsr.Queue
	cost    *G.Node
}

// nsrSpec says which layers the training network regularises.
type nsrSpec struct {
	layers    []int // in [0, layers)
	lambdas   []float64
	k         int
	maskZeros bool
}

// build makes the graph of the MLP with weights w on batches of n rows. With
// loss set it adds the mean cross-entropy on the labels (and the NSR terms
// of spec, which may be nil) and the gradients of the parameters.
func build(w *weights, n int, loss bool, spec *nsrSpec) (*network, error) {
	g := G.NewGraph()
	dt := w.tensors[0].Dtype()
	net := &network{g: g, x: tensor.New(tensor.Of(dt), tensor.WithShape(n, w.sizes[0]))}
	x := G.NewMatrix(g, dt, G.WithShape(n, w.sizes[0]), G.WithName("x"), G.WithValue(net.x))
	for i, t := range w.tensors {
		name := fmt.Sprintf("W%d", i/2)
		if i%2 == 1 {
			name = fmt.Sprintf("b%d", i/2)
		}
		net.params = append(net.params, G.NewMatrix(g, dt, G.WithShape(t.Shape()...), G.WithName(name), G.WithValue(t)))
	}
	layers := len(w.sizes) - 1
	h := x
	for l := 0; l < layers; l++ {
		z, err := nn.Linear(h, net.params[2*l], net.params[2*l+1], l == 0)
		if err != nil {
			return nil, fmt.Errorf("vision: layer %d: %w", l, err)
		}
		if l+1 < layers {
			if z, err = nn.BiasReLU(z, nil); err != nil {
				return nil, fmt.Errorf("vision: layer %d: %w", l, err)
			}
		}
		net.outputs = append(net.outputs, z)
		h = z
	}
	net.values = make([]G.Value, len(net.outputs))
	for i, o := range net.outputs {
		G.Read(o, &net.values[i])
	}
	if !loss {
		return net, nil
	}
	net.labels = make([]int, n)
	ce, err := nn.SoftmaxCrossEntropyLabels(h, net.labels)
	if err != nil {
		return nil, fmt.Errorf("vision: loss: %w", err)
	}
	G.Read(ce, &net.ce)
	net.cost = ce
	if spec != nil {
		net.nsr = make([]G.Value, len(spec.layers))
		for i, l := range spec.layers {
			// Zero masking is for ReLU outputs; the logits have none.
			q := nsr.NewQueue(spec.k, w.sizes[len(w.sizes)-1], spec.maskZeros && l+1 < layers)
			term, err := nsr.Term(net.outputs[l], q, spec.lambdas[i])
			if err != nil {
				return nil, fmt.Errorf("vision: NSR on layer %d: %w", l, err)
			}
			G.Read(term, &net.nsr[i])
			if net.cost, err = G.Add(net.cost, term); err != nil {
				return nil, fmt.Errorf("vision: NSR on layer %d: %w", l, err)
			}
			net.queues = append(net.queues, q)
		}
	}
	if _, err := G.Grad(net.cost, net.params...); err != nil {
		return nil, fmt.Errorf("vision: building gradients: %w", err)
	}
	return net, nil
}

// setBatch hands the batch's labels (already in net.labels) to the queues.
func (net *network) setBatch() error {
	for _, q := range net.queues {
		if err := q.SetBatch(nil, net.labels); err != nil {
			return err
		}
	}
	return nil
}
