package gnn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrSpec is wrapped by every error that reports an invalid model
// specification.
var ErrSpec = errors.New("gnn: invalid model specification")

// activation is what a model puts after a hidden layer.
type activation string

// The activations of Spec.Activation.
const (
	actNone activation = ""
	actReLU activation = "relu"
	actELU  activation = "elu"
)

// Activations lists the names Spec.Activation accepts.
func Activations() []string { return []string{string(actReLU), string(actELU)} }

// apply returns z + b (b may be nil) followed by the activation, the bias
// and a ReLU fused into one op. With rows not nil, the bias and ReLU are
// computed in those rows only (nn.AddBiasRows), the others being zero.
func (a activation) apply(z, b *G.Node, rows []int32) (*G.Node, error) {
	switch {
	case a == actReLU && rows == nil:
		return nn.BiasReLU(z, b)
	case a == actReLU:
		return nn.AddBiasRows(z, b, true, rows)
	case b == nil:
	case rows != nil:
		var err error
		if z, err = nn.AddBiasRows(z, b, false, rows); err != nil {
			return nil, err
		}
	default:
		var err error
		if z, err = nn.AddBias(z, b); err != nil {
			return nil, err
		}
	}
	if a == actELU {
		return nn.ELU(z)
	}
	return z, nil
}

// Spec is the architecture of a model: everything needed to build it again,
// as saved models store it.
type Spec struct {
	Arch       string  `json:"arch"`                 // a name of Archs
	In         int     `json:"in"`                   // input features
	Hidden     []int   `json:"hidden"`               // width of each hidden layer (per head for attention): layers − 1 entries
	Out        int     `json:"out"`                  // classes
	Heads      int     `json:"heads,omitempty"`      // attention heads of the hidden layers, concatenated
	OutHeads   int     `json:"out_heads,omitempty"`  // attention heads of the output layer, averaged
	Activation string  `json:"activation"`           // after each hidden layer: one of Activations
	Dropout    float64 `json:"dropout"`              // on every layer's input (and attention coefficients) in training
	Residual   bool    `json:"residual,omitempty"`   // add each hidden layer's input to its output where the widths agree
	BatchNorm  bool    `json:"batch_norm,omitempty"` // batch norm before each hidden layer's activation
	NoBias     bool    `json:"no_bias,omitempty"`
}

// Layers returns the number of graph convolutions of s.
func (s Spec) Layers() int { return len(s.Hidden) + 1 }

// Validate reports the first setting of s that is out of range, wrapping
// ErrSpec.
func (s Spec) Validate() error {
	arch, err := LookupArch(s.Arch)
	if err != nil {
		return err
	}
	switch {
	case s.In < 1:
		return fmt.Errorf("%w: %d input features, need at least 1", ErrSpec, s.In)
	case s.Out < 1:
		return fmt.Errorf("%w: %d outputs, need at least 1", ErrSpec, s.Out)
	case slices.ContainsFunc(s.Hidden, func(h int) bool { return h < 1 }):
		return fmt.Errorf("%w: hidden widths %v, each must be at least 1", ErrSpec, s.Hidden)
	case !slices.Contains(Activations(), s.Activation):
		return fmt.Errorf("%w: activation %q, want one of %v", ErrSpec, s.Activation, Activations())
	case !(s.Dropout >= 0 && s.Dropout < 1):
		return fmt.Errorf("%w: dropout = %v, need 0 <= dropout < 1", ErrSpec, s.Dropout)
	case arch.Attention && (s.Heads < 1 || s.OutHeads < 1):
		return fmt.Errorf("%w: %s needs at least 1 attention head, got %d hidden and %d output heads", ErrSpec, s.Arch, s.Heads, s.OutHeads)
	case !arch.Attention && (s.Heads > 1 || s.OutHeads > 1):
		return fmt.Errorf("%w: %s has no attention heads (heads %d, output heads %d)", ErrSpec, s.Arch, s.Heads, s.OutHeads)
	}
	const maxWidth = 1 << 20
	for _, w := range append([]int{s.In, s.Out, s.heads() * s.widest()}, s.Hidden...) {
		if w > maxWidth {
			return fmt.Errorf("%w: a layer %d wide exceeds the limit of %d", ErrSpec, w, maxWidth)
		}
	}
	return nil
}

func (s Spec) heads() int { return max(s.Heads, s.OutHeads, 1) }

func (s Spec) widest() int {
	w := s.Out
	for _, h := range s.Hidden {
		w = max(w, h)
	}
	return w
}

// LayerConfig is what an architecture's constructor gets for one layer.
type LayerConfig struct {
	Index   int     // 0-based position in the model
	In      int     // input width
	Out     int     // output units (per head for attention)
	Heads   int     // attention heads; 1 without attention
	Concat  bool    // concatenate the heads (hidden layers) instead of averaging them
	Bias    bool    // the layer has a bias
	Dropout float64 // dropout on attention coefficients in training
}

// Arch is an entry of the architecture registry: a name, its layer
// constructor, and the settings its reference setup fixes.
type Arch struct {
	Name string
	// Doc is one line on what the architecture computes.
	Doc string
	// New returns a layer, drawing its initial weights from rng.
	New func(c LayerConfig, rng *rand.Rand) (Layer, error)
	// Attention says the layers have heads (Spec.Heads, Spec.OutHeads).
	Attention bool
	// MeanAggregation says the layers average neighbours with D^-1·A
	// beside a root weight: two weight matrices a layer, and a propagation
	// matrix that is not symmetric, so that its backward pass takes its
	// transpose (EstimateMemory counts both).
	MeanAggregation bool
	// Local says a layer's output at a node depends on the inputs of the
	// node and its neighbours only (in the block's adjacency), and that its
	// backward pass keeps rows of zero gradient zero: full-batch training
	// then computes each layer on the loss's receptive field alone (see
	// run.restrictToField), with the same results.
	Local bool
	// Defaults are the reference setup's settings (Config.ApplyDefaults).
	Defaults Defaults
}

// archs is the registry of architectures, the one place that tests an
// architecture's name. Nothing modifies it.
var archs = []Arch{
	{Name: "gcn", Doc: "graph convolution (Kipf & Welling): Â·H·W + b, Â = D^-1/2 (A+I) D^-1/2", New: newGCNConv, Local: true},
	{Name: "sage", Doc: "GraphSAGE with the mean aggregator (Hamilton et al.): H·W_root + mean_{j∈N(i)} h_j·W_neigh + b", New: newSAGEConv,
		MeanAggregation: true, Local: true},
	{Name: "gat", Doc: "graph attention (Veličković et al.): heads of softmax-weighted neighbour sums, LeakyReLU 0.2 scores", New: newGATConv,
		Attention: true, Local: true, Defaults: gatDefaults()},
}

// Archs returns the names of the registered architectures, in a fixed
// order.
func Archs() []string {
	names := make([]string, len(archs))
	for i, a := range archs {
		names[i] = a.Name
	}
	return names
}

// LookupArch returns the registry entry of name, or an error wrapping
// ErrSpec that lists the known ones.
func LookupArch(name string) (Arch, error) {
	for _, a := range archs {
		if a.Name == name {
			return a, nil
		}
	}
	return Arch{}, fmt.Errorf("%w: unknown architecture %q (known: %v)", ErrSpec, name, Archs())
}

// Model is a stack of graph convolutions built from a Spec: between
// layers, optional batch norm, the activation, optional residual
// connections, and dropout on each layer's input in training.
type Model struct {
	Spec   Spec
	Layers []Layer
	// Info describes the data and run a trained model comes from; zero for
	// a new model.
	Info ModelInfo
	// norms holds the batch norm of each hidden layer (nil without).
	norms []*batchNorm
	// newLayer is the layer constructor the model was built with, and
	// local says its layers are the registry's and local (Arch.Local).
	newLayer func(LayerConfig, *rand.Rand) (Layer, error)
	local    bool
}

// NewModel builds the model of spec with the registered architecture's
// layers, drawing initial weights from rng layer by layer.
func NewModel(spec Spec, rng *rand.Rand) (*Model, error) {
	arch, err := LookupArch(spec.Arch)
	if err != nil {
		return nil, err
	}
	m, err := NewModelWith(spec, arch.New, rng)
	if err != nil {
		return nil, err
	}
	m.local = arch.Local
	return m, nil
}

// NewModelWith builds the model of spec with the layers newLayer makes:
// for architectures outside the registry (spec.Arch is then only a name
// and is not checked against it). The widths of layer l+1's input is layer
// l's Width.
func NewModelWith(spec Spec, newLayer func(LayerConfig, *rand.Rand) (Layer, error), rng *rand.Rand) (*Model, error) {
	if _, err := LookupArch(spec.Arch); err == nil {
		if err := spec.Validate(); err != nil {
			return nil, err
		}
	}
	m := &Model{Spec: spec, newLayer: newLayer}
	in := spec.In
	for l := 0; l < spec.Layers(); l++ {
		c := LayerConfig{Index: l, In: in, Heads: max(spec.Heads, 1), Concat: true, Bias: !spec.NoBias, Dropout: spec.Dropout}
		last := l == len(spec.Hidden)
		if last {
			c.Out, c.Heads, c.Concat = spec.Out, max(spec.OutHeads, 1), false
		} else {
			c.Out = spec.Hidden[l]
		}
		layer, err := newLayer(c, rng)
		if err != nil {
			return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
		}
		m.Layers = append(m.Layers, layer)
		if spec.BatchNorm && !last {
			m.norms = append(m.norms, newBatchNorm(layer.Width()))
		} else if !last {
			m.norms = append(m.norms, nil)
		}
		in = layer.Width()
	}
	if w := m.Layers[len(m.Layers)-1].Width(); w != spec.Out {
		return nil, fmt.Errorf("%w: the last layer is %d wide for %d outputs", ErrSpec, w, spec.Out)
	}
	return m, nil
}

// NamedTensor is a tensor of a model with its qualified name, as saved.
type NamedTensor struct {
	Name  string
	Value *tensor.Dense
}

// Params returns the model's trainable parameters with qualified names
// ("layer0.weight", "norm0.gamma"), in a fixed order.
func (m *Model) Params() []NamedTensor {
	var out []NamedTensor
	for l, layer := range m.Layers {
		for _, p := range layer.Params() {
			out = append(out, NamedTensor{fmt.Sprintf("layer%d.%s", l, p.Name), p.Value})
		}
	}
	for l, bn := range m.norms {
		if bn != nil {
			out = append(out, NamedTensor{fmt.Sprintf("norm%d.gamma", l), bn.gamma.Value}, NamedTensor{fmt.Sprintf("norm%d.beta", l), bn.beta.Value})
		}
	}
	return out
}

// State returns the model's parameters followed by its other state (batch
// norm running statistics): everything a saved model holds.
func (m *Model) State() []NamedTensor {
	out := m.Params()
	for l, bn := range m.norms {
		if bn != nil {
			out = append(out, NamedTensor{fmt.Sprintf("norm%d.running_mean", l), bn.run.Mean}, NamedTensor{fmt.Sprintf("norm%d.running_var", l), bn.run.Variance})
		}
	}
	return out
}

// params returns the parameter objects in the order of Params.
func (m *Model) params() []*Param {
	var out []*Param
	for _, layer := range m.Layers {
		out = append(out, layer.Params()...)
	}
	for _, bn := range m.norms {
		if bn != nil {
			out = append(out, bn.gamma, bn.beta)
		}
	}
	return out
}

// forward builds the model into ctx's graph on x (the first layer's input)
// over blocks (one per layer, input-most first) and returns each layer's
// output: after the activation (and residual) for hidden layers, the
// logits last. update says whether batch norm updates its running
// statistics in this graph.
func (m *Model) forward(ctx *Context, x Features, blocks []*Block, update *bool) ([]*G.Node, error) {
	if len(blocks) != len(m.Layers) {
		return nil, fmt.Errorf("gnn: %d blocks for %d layers", len(blocks), len(m.Layers))
	}
	var outs []*G.Node
	var h *G.Node
	for l := range m.Layers {
		blk := blocks[l]
		in := x
		if l > 0 {
			// Input dropout of the first layer lives in x's values (sparse
			// dropout of the features), set by the trainer every step.
			hd, err := ctx.dropout(h, m.Spec.Dropout, blk.src)
			if err != nil {
				return nil, err
			}
			if in, err = denseFeatures(hd, blk); err != nil {
				return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
			}
		}
		z, err := m.layer(ctx, l, in, blk, h, update)
		if err != nil {
			return nil, err
		}
		outs = append(outs, z)
		h = z
	}
	return outs, nil
}

// denseFeatures returns the features of blk's sources and destinations
// from h, a node of its sources' rows: the destinations are its first
// rows.
func denseFeatures(h *G.Node, blk *Block) (Features, error) {
	src := Input{Dense: h}
	in := Features{Src: src, Dst: src}
	if blk.NumDst < blk.NumSrc {
		dst, err := G.Slice(h, blk.dstRows())
		if err != nil {
			return Features{}, err
		}
		in.Dst = Input{Dense: dst}
	}
	return in, nil
}

// layer builds layer l on its input in over blk and returns its output:
// after the activation, batch norm and residual for a hidden layer (h,
// the previous layer's output over blk's sources, is the residual's
// input), the logits for the last.
func (m *Model) layer(ctx *Context, l int, in Features, blk *Block, h *G.Node, update *bool) (*G.Node, error) {
	layer := m.Layers[l]
	act := activation(m.Spec.Activation)
	last := l+1 == len(m.Layers)
	var norm *batchNorm
	if !last {
		norm = m.norms[l]
	}
	ctx.output, ctx.rows, ctx.called = act, blk.dst, false
	if last || norm != nil {
		ctx.output = actNone
	}
	z, err := layer.Forward(ctx, in, blk)
	if err != nil {
		return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
	}
	if !ctx.called {
		return nil, fmt.Errorf("gnn: layer %d (%T): Forward did not end with Context.Output", l, layer)
	}
	if s := z.Shape(); len(s) != 2 || s[0] != blk.NumDst || s[1] != layer.Width() {
		return nil, fmt.Errorf("gnn: layer %d (%T): output of shape %v, want %d×%d", l, layer, s, blk.NumDst, layer.Width())
	}
	if norm != nil {
		if z, err = norm.apply(ctx, z, act, update); err != nil {
			return nil, fmt.Errorf("gnn: layer %d batch norm: %w", l, err)
		}
	}
	if m.Spec.Residual && l > 0 && !last && h.Shape()[1] == z.Shape()[1] {
		prev := h
		if blk.NumDst < blk.NumSrc {
			if prev, err = G.Slice(h, blk.dstRows()); err != nil {
				return nil, fmt.Errorf("gnn: layer %d residual: %w", l, err)
			}
		}
		if z, err = nn.Residual(z, prev, false); err != nil {
			return nil, fmt.Errorf("gnn: layer %d residual: %w", l, err)
		}
	}
	return z, nil
}
