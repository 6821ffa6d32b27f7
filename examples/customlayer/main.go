// Command customlayer trains a graph network whose layer is written here,
// on gnsr's public API alone: GIN (Xu et al., ICLR 2019) with ε = 0 and a
// linear update, h'_i = (h_i + Σ_{j∈N(i)} h_j)·W + b.
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparseops"
	"gorgonia.org/gorgonia"
)

// GINConv sums each node's features with its neighbours' and maps them by W.
type GINConv struct{ W, B *gnn.Param }

// newGIN makes layer c of a model, drawing W from rng.
func newGIN(c gnn.LayerConfig, rng *rand.Rand) (gnn.Layer, error) {
	l := &GINConv{W: gnn.NewParam("weight", c.In, c.Out, nn.GlorotUniform(rng, c.In, c.Out))}
	if c.Bias {
		l.B = gnn.NewParam("bias", 1, c.Out, nil)
	}
	return l, nil
}

func (l *GINConv) Params() []*gnn.Param {
	if l.B == nil {
		return []*gnn.Param{l.W}
	}
	return []*gnn.Param{l.W, l.B}
}

func (l *GINConv) Width() int { return l.W.Value.Shape()[1] }

// Forward maps the block's sources to its destinations: the same code
// serves a whole graph and a sampled mini-batch block.
func (l *GINConv) Forward(ctx *gnn.Context, x gnn.Features, blk *gnn.Block) (*gorgonia.Node, error) {
	self, err := x.Dst.Mul(ctx.Node(l.W)) // h_i·W
	if err != nil {
		return nil, err
	}
	neigh, err := x.Src.Mul(ctx.Node(l.W)) // h_j·W, summed over neighbours below
	if err != nil {
		return nil, err
	}
	z, err := sparseops.MulAdd(blk.Adjacency(gnn.SumNorm), neigh, self)
	if err != nil {
		return nil, err
	}
	return ctx.Output(z, l.B) // + b, then the model's activation
}

func main() {
	root, err := datasets.Root("") // $GNSR_DATA, else the user cache directory
	if err != nil {
		log.Fatal(err)
	}
	data, err := gnn.Load(root, "cora")
	if err != nil {
		log.Fatal(err)
	}
	cfg := gnn.DefaultConfig() // 2 layers, hidden 16, ReLU, dropout 0.5, Adam
	cfg.Arch = "gin"           // only a name: Options.Layer makes the layers
	res, err := gnn.TrainWith(context.Background(), data, cfg, gnn.Options{Layer: newGIN})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GIN on Cora: test accuracy %.3f at epoch %d\n", res.TestAcc, res.BestEpoch)
}
