package gnn

import (
	"fmt"
	"slices"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
)

// Config holds the architecture and optimisation settings of one run.
// DefaultConfig gives the protocol's values for the Planetoid datasets;
// ConfigFor those of any architecture under a dataset's protocol.
type Config struct {
	Arch        string // architecture, a name of Archs
	Layers      int    // number of graph convolutions, at least 1
	Hidden      int    // width of every hidden layer (per head for attention)
	HiddenSizes []int  // widths of the hidden layers, Layers−1 of them; overrides Hidden when set
	Heads       int    // attention heads of the hidden layers (attention architectures)
	OutHeads    int    // attention heads of the output layer, averaged (attention architectures)
	Activation  string // after each hidden layer, one of Activations
	Residual    bool   // residual connections between hidden layers of equal width
	BatchNorm   bool   // batch norm before each hidden layer's activation
	NoBias      bool
	Dropout     float64 // drop probability on every layer's input (and attention), in [0, 1)

	Optimizer   string  // one of nn.Optimizers
	LR          float64 // learning rate
	WeightDecay float64 // L2 penalty added to every gradient (torch's weight_decay)
	Momentum    float64 // SGD momentum
	Epochs      int

	Seed uint64 // seeds every random draw of the run
	NSR  nsr.Spec

	// BatchSize > 0 trains on neighbour-sampled mini-batches of that many
	// training nodes, sampling Fanouts[l] neighbours at the l-th hop from
	// the batch (-1: all); evaluation stays full batch.
	BatchSize int
	Fanouts   []int
}

// DefaultConfig returns the evaluation protocol's settings: a 2-layer GCN
// with 16 hidden units and ReLU, dropout 0.5, Adam with learning rate 0.01
// and weight decay 5e-4, 200 epochs; NSR off, and when turned on, on the
// first layer's output with zero ReLU responses masked.
func DefaultConfig() Config {
	return Config{
		Arch: "gcn", Layers: 2, Hidden: 16, Activation: string(actReLU), Dropout: 0.5,
		Optimizer: nn.OptimizerAdam, LR: 0.01, WeightDecay: 5e-4, Epochs: 200,
		NSR: nsr.Spec{Layers: []int{0}, MaskZeros: true, Queue: nsr.DefaultQueue},
	}
}

// Defaults are settings that an architecture's reference setup or a
// dataset's protocol fixes. Zero ints, empty strings and nil pointers are
// unset.
type Defaults struct {
	Layers, Hidden, Heads, OutHeads, Epochs int
	Activation                              string
	Dropout, LR, WeightDecay                *float64
}

// Protocol is a dataset's evaluation protocol as far as training goes: its
// settings, and settings for particular architectures (the literature's
// GAT on PubMed, say) that apply after the architecture's own.
type Protocol struct {
	Defaults
	ByArch map[string]Defaults
}

// Apply sets the fields of c that d sets.
func (d Defaults) Apply(c *Config) {
	for _, f := range []struct {
		dst *int
		v   int
	}{{&c.Layers, d.Layers}, {&c.Hidden, d.Hidden}, {&c.Heads, d.Heads}, {&c.OutHeads, d.OutHeads}, {&c.Epochs, d.Epochs}} {
		if f.v != 0 {
			*f.dst = f.v
		}
	}
	if d.Activation != "" {
		c.Activation = d.Activation
	}
	for _, f := range []struct {
		dst *float64
		v   *float64
	}{{&c.Dropout, d.Dropout}, {&c.LR, d.LR}, {&c.WeightDecay, d.WeightDecay}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
}

// ConfigFor returns the configuration of arch under protocol p:
// DefaultConfig, then p's settings, then the architecture's reference
// setup, then p's settings for arch. Explicit settings (flags) go on top.
func ConfigFor(arch string, p Protocol) (Config, error) {
	a, err := LookupArch(arch)
	if err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	c.Arch = arch
	p.Defaults.Apply(&c)
	a.Defaults.Apply(&c)
	p.ByArch[arch].Apply(&c)
	return c, nil
}

// Validate reports the first setting of c that is out of range, naming it.
// The architecture must be a registered one.
func (c *Config) Validate() error {
	arch, err := LookupArch(c.Arch)
	if err != nil {
		return err
	}
	return c.validate(arch)
}

// validate is Validate for the architecture arch, registered or not.
func (c *Config) validate(arch Arch) error {
	switch {
	case c.Layers < 1:
		return fmt.Errorf("gnn: layers = %d, need at least 1", c.Layers)
	case c.HiddenSizes == nil && c.Hidden < 1 && c.Layers > 1:
		return fmt.Errorf("gnn: hidden = %d, need at least 1", c.Hidden)
	case c.HiddenSizes != nil && len(c.HiddenSizes) != c.Layers-1:
		return fmt.Errorf("gnn: %d hidden widths for %d layers (give layers − 1)", len(c.HiddenSizes), c.Layers)
	case arch.Attention && (c.Heads < 1 || c.OutHeads < 1):
		return fmt.Errorf("gnn: %s needs at least 1 head: heads = %d, output heads = %d", c.Arch, c.Heads, c.OutHeads)
	case !arch.Attention && (c.Heads > 1 || c.OutHeads > 1):
		return fmt.Errorf("gnn: heads apply to attention architectures, not %s", c.Arch)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("gnn: dropout = %v, need 0 <= dropout < 1", c.Dropout)
	case c.Epochs < 1:
		return fmt.Errorf("gnn: epochs = %d, need at least 1", c.Epochs)
	case !slices.Contains(Activations(), c.Activation):
		return fmt.Errorf("gnn: activation %q, want one of %v", c.Activation, Activations())
	}
	if err := c.optimizer().Validate(); err != nil {
		return fmt.Errorf("gnn: %w", err)
	}
	if _, err := c.NSR.Resolve(c.Layers); err != nil {
		return fmt.Errorf("gnn: %w", err)
	}
	return c.validateMiniBatch()
}

// optimizer returns the optimizer settings of c.
func (c *Config) optimizer() nn.OptimizerSpec {
	kind := c.Optimizer
	if kind == "" {
		kind = nn.OptimizerAdam
	}
	return nn.OptimizerSpec{Kind: kind, LR: c.LR, WeightDecay: c.WeightDecay, Momentum: c.Momentum}
}

// hidden returns the hidden widths of c.
func (c *Config) hidden() []int {
	if c.HiddenSizes != nil {
		return slices.Clone(c.HiddenSizes)
	}
	h := make([]int, c.Layers-1)
	for i := range h {
		h[i] = c.Hidden
	}
	return h
}

// Spec returns the model specification of c for in input features and out
// classes.
func (c *Config) Spec(in, out int) Spec {
	s := Spec{
		Arch: c.Arch, In: in, Hidden: c.hidden(), Out: out, Activation: c.Activation,
		Dropout: c.Dropout, Residual: c.Residual, BatchNorm: c.BatchNorm, NoBias: c.NoBias,
	}
	if a, err := LookupArch(c.Arch); err == nil && a.Attention {
		s.Heads, s.OutHeads = c.Heads, c.OutHeads
	}
	return s
}

// validateMiniBatch checks the settings of neighbour-sampled training.
func (c *Config) validateMiniBatch() error {
	if c.BatchSize == 0 {
		if len(c.Fanouts) > 0 {
			return fmt.Errorf("gnn: fanouts %v given without a batch size", c.Fanouts)
		}
		return nil
	}
	switch {
	case c.BatchSize < 0:
		return fmt.Errorf("gnn: batch size = %d, need > 0 (or 0 for full batch)", c.BatchSize)
	case len(c.Fanouts) != c.Layers:
		return fmt.Errorf("gnn: %d fanouts for %d layers (give one per layer)", len(c.Fanouts), c.Layers)
	case c.NSR.Enabled() && c.NSR.QueueLen() < 1:
		return fmt.Errorf("gnn: NSR queue length = %d, need at least 1 for mini-batches", c.NSR.Queue)
	case slices.ContainsFunc(c.Fanouts, func(f int) bool { return f == 0 || f < -1 }):
		return fmt.Errorf("gnn: fanouts %v: each must be positive, or -1 for all neighbours", c.Fanouts)
	}
	return nil
}

// ptr returns a pointer to v, for Defaults.
func ptr(v float64) *float64 { return &v }
