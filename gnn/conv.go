package gnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparseops"
	G "gorgonia.org/gorgonia"
)

// GCNConv is the graph convolution of Kipf & Welling: Â·(X·W) + b with Â
// the block's SymmetricNorm adjacency. W is Glorot-uniform and b starts at
// zero, as their reference code.
type GCNConv struct {
	W, B *Param // B is nil without a bias
}

func newGCNConv(c LayerConfig, rng *rand.Rand) (Layer, error) {
	l := &GCNConv{W: NewParam("weight", c.In, c.Out, nn.GlorotUniform(rng, c.In, c.Out))}
	if c.Bias {
		l.B = NewParam("bias", 1, c.Out, nil)
	}
	return l, nil
}

// Params returns W and, if there is one, b.
func (l *GCNConv) Params() []*Param { return paramsOf(l.W, l.B) }

// Width returns the number of output units.
func (l *GCNConv) Width() int { return l.W.Value.Shape()[1] }

// Forward returns Â·(X_src·W) + b for the block's destinations.
func (l *GCNConv) Forward(ctx *Context, x Features, blk *Block) (*G.Node, error) {
	xw, err := x.Src.Mul(ctx.Node(l.W))
	if err != nil {
		return nil, err
	}
	z, err := sparseops.Mul(blk.Adjacency(SymmetricNorm), xw)
	if err != nil {
		return nil, fmt.Errorf("aggregation: %w", err)
	}
	return ctx.Output(z, l.B)
}

// SAGEConv is GraphSAGE with the mean aggregator (Hamilton et al.):
// X_dst·W_root + Â·(X_src·W_neigh) + b, Â the block's MeanNorm adjacency.
// Weights and bias are U(±1/√in), torch.nn.Linear's default, as the
// reference run: Glorot's larger weights, on the raw bag-of-words of the
// Amazon graphs, blow the first steps up and leave most ReLUs dead (Photo:
// 71 % instead of 90 %).
type SAGEConv struct {
	Root, Neigh, B *Param
}

func newSAGEConv(c LayerConfig, rng *rand.Rand) (Layer, error) {
	bound := 1 / math.Sqrt(float64(c.In))
	l := &SAGEConv{
		Root:  NewParam("root", c.In, c.Out, uniform(rng, c.In*c.Out, bound)),
		Neigh: NewParam("neigh", c.In, c.Out, uniform(rng, c.In*c.Out, bound)),
	}
	if c.Bias {
		l.B = NewParam("bias", 1, c.Out, uniform(rng, c.Out, bound))
	}
	return l, nil
}

// Params returns W_root, W_neigh and, if there is one, b.
func (l *SAGEConv) Params() []*Param { return paramsOf(l.Root, l.Neigh, l.B) }

// Width returns the number of output units.
func (l *SAGEConv) Width() int { return l.Root.Value.Shape()[1] }

// Forward returns X_dst·W_root + Â·(X_src·W_neigh) + b, the sum formed by
// one MulAdd.
func (l *SAGEConv) Forward(ctx *Context, x Features, blk *Block) (*G.Node, error) {
	root, err := x.Dst.Mul(ctx.Node(l.Root))
	if err != nil {
		return nil, err
	}
	neigh, err := x.Src.Mul(ctx.Node(l.Neigh))
	if err != nil {
		return nil, err
	}
	z, err := sparseops.MulAdd(blk.Adjacency(MeanNorm), neigh, root)
	if err != nil {
		return nil, fmt.Errorf("aggregation: %w", err)
	}
	return ctx.Output(z, l.B)
}

// paramsOf returns the non-nil parameters among ps.
func paramsOf(ps ...*Param) []*Param {
	out := make([]*Param, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// uniform returns n draws from U(-bound, bound).
func uniform(rng *rand.Rand, n int, bound float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return out
}
