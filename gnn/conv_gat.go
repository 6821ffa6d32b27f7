package gnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparseops"
	G "gorgonia.org/gorgonia"
)

// GATConv is multi-head graph attention (Veličković et al., ICLR 2018).
// For each head h, with H = X·W split into heads,
//
//	e_ij = LeakyReLU_0.2(a_dst,h · H_i,h + a_src,h · H_j,h)
//	α_ij = softmax over the edges into i (the block's SelfLoops pattern,
//	       so i attends to itself too) of e_ij
//	out_i,h = Σ_j α_ij H_j,h
//
// with dropout on α in training. Hidden layers concatenate the heads,
// output layers average them; then the bias. W, a_src and a_dst are
// Glorot-uniform (torch's xavier_uniform_ on the shapes of PyG's GATConv),
// the bias zero.
type GATConv struct {
	W              *Param // in × heads·out
	AttSrc, AttDst *Param // 1 × heads·out
	B              *Param // 1 × Width(); nil without a bias

	Heads, Out int
	Concat     bool
	Dropout    float64 // on the attention coefficients in training
}

func newGATConv(c LayerConfig, rng *rand.Rand) (Layer, error) {
	if c.Heads < 1 || c.Out < 1 {
		return nil, fmt.Errorf("%w: GAT layer of %d heads of %d units", ErrSpec, c.Heads, c.Out)
	}
	hw := c.Heads * c.Out
	l := &GATConv{Heads: c.Heads, Out: c.Out, Concat: c.Concat, Dropout: c.Dropout}
	l.W = NewParam("weight", c.In, hw, nn.GlorotUniform(rng, c.In, hw))
	// torch's fans of a 1×heads×out tensor: heads·out in, out out.
	bound := math.Sqrt(6 / float64(hw+c.Out))
	l.AttSrc = NewParam("att_src", 1, hw, uniform(rng, hw, bound))
	l.AttDst = NewParam("att_dst", 1, hw, uniform(rng, hw, bound))
	if c.Bias {
		l.B = NewParam("bias", 1, l.Width(), nil)
	}
	return l, nil
}

// Params returns W, a_src, a_dst and, if there is one, the bias.
func (l *GATConv) Params() []*Param { return paramsOf(l.W, l.AttSrc, l.AttDst, l.B) }

// Width returns heads·out for concatenated heads, else out.
func (l *GATConv) Width() int {
	if l.Concat {
		return l.Heads * l.Out
	}
	return l.Out
}

// Forward returns the attention-weighted sums of the block's sources for
// its destinations, plus the bias.
func (l *GATConv) Forward(ctx *Context, x Features, blk *Block) (*G.Node, error) {
	h, err := x.Src.Mul(ctx.Node(l.W))
	if err != nil {
		return nil, err
	}
	hDst := h
	if blk.NumDst < blk.NumSrc {
		if hDst, err = G.Slice(h, blk.dstRows()); err != nil {
			return nil, err
		}
	}
	// Under a restriction, the scores are needed at the sources of the
	// destinations needed and at those destinations; the edge kernels
	// read the other rows' zeros, whose gradients are zero.
	aSrc, err := nn.HeadDotRows(h, ctx.Node(l.AttSrc), l.Heads, blk.src)
	if err != nil {
		return nil, err
	}
	aDst, err := nn.HeadDotRows(hDst, ctx.Node(l.AttDst), l.Heads, ctx.rows)
	if err != nil {
		return nil, err
	}
	pattern := blk.Adjacency(SelfLoops)
	e, err := sparseops.SDDMM(pattern, aDst, aSrc, l.Heads, sparseops.SDDMMAdd)
	if err != nil {
		return nil, err
	}
	if e, err = nn.LeakyReLU(e, 0.2); err != nil {
		return nil, err
	}
	alpha, err := sparseops.EdgeSoftmax(pattern, e)
	if err != nil {
		return nil, err
	}
	if alpha, err = ctx.Dropout(alpha, l.Dropout); err != nil {
		return nil, err
	}
	out, err := sparseops.EdgeMul(pattern, alpha, h)
	if err != nil {
		return nil, err
	}
	if !l.Concat && l.Heads > 1 {
		if out, err = nn.HeadMean(out, l.Heads); err != nil {
			return nil, err
		}
	}
	return ctx.Output(out, l.B)
}

// gatDefaults is the GAT paper's transductive setup: 8 heads of 8 units
// with ELU, one output head, dropout 0.6 on inputs and attention, Adam with
// learning rate 0.005 and weight decay 5e-4.
func gatDefaults() Defaults {
	return Defaults{Hidden: 8, Heads: 8, OutHeads: 1, Activation: string(actELU),
		Dropout: ptr(0.6), LR: ptr(0.005), WeightDecay: ptr(5e-4)}
}
