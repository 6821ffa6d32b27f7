package gnn

import (
	"fmt"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Layer-wise inference in row blocks, as PyG's BasicGNN.inference: layer
// after layer, each over all nodes, a block of destination rows at a time
// with all their in-edges. Each layer's output is held for all nodes, as
// evaluation returns them, and so are the products of a layer's source
// features by its weights (X·W of GCN and GAT, X·W_neigh of SAGE): the
// first block computes them over all nodes, the others reuse them. The
// rest of a layer (aggregation, destination terms, bias, activation, batch
// norm) is computed for a block's rows only, which bounds what the
// whole-graph evaluation holds several nodes×width buffers of.
//
// The numbers are the whole-graph evaluation's, bit for bit: a block's
// propagation matrices are rows of the whole graph's, whose products sum
// every row as there (sparse.Matrix.RowRange); the source products are
// the whole graph's; and the dense destination products compute rows in
// groups of four, the last n mod 4 rows apart, so blocks start at
// multiples of four and the last rows of the last block are the whole
// graph's last rows.

// productMemo holds the products of a layer's source features by its
// weights, keyed by the weights' tensor: made in the graph of a layer's
// first row block, read as constants in the others'.
type productMemo struct {
	values  map[*tensor.Dense]*tensor.Dense
	pending map[*tensor.Dense]*G.Node // made in the graph being built
}

// newProductMemo returns an empty memo.
func newProductMemo() *productMemo {
	return &productMemo{values: map[*tensor.Dense]*tensor.Dense{}, pending: map[*tensor.Dense]*G.Node{}}
}

// mul returns the node x·w: the product kept from an earlier graph, or a
// new one, to be kept (commit).
func (p *productMemo) mul(x Input, w *G.Node) (*G.Node, error) {
	key, ok := w.Value().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("gnn: weight %s has no dense value", w.Name())
	}
	if v := p.values[key]; v != nil {
		return G.NewMatrix(w.Graph(), G.Float32, G.WithShape(v.Shape()...), G.WithName("memo-"+w.Name()), G.WithValue(v)), nil
	}
	x.memo = nil
	xw, err := x.Mul(w)
	if err != nil {
		return nil, err
	}
	p.pending[key] = xw
	return xw, nil
}

// keep returns the nodes made in the graph being built.
func (p *productMemo) keep() []*G.Node {
	out := make([]*G.Node, 0, len(p.pending))
	for _, n := range p.pending {
		out = append(out, n)
	}
	return out
}

// commit keeps the values of the products made by the graph just run.
func (p *productMemo) commit() error {
	for key, n := range p.pending {
		v, ok := n.Value().(*tensor.Dense)
		if !ok {
			return fmt.Errorf("gnn: product %s has no dense value", n.Name())
		}
		p.values[key] = v
		delete(p.pending, key)
	}
	return nil
}

// evaluateRows is evaluate on g's block full and the preprocessed
// features xm (dropout ignored), in row blocks of about rows destinations
// (rows ≥ 1, rounded up to a multiple of four); see Layer-wise inference
// above.
func (m *Model) evaluateRows(g *graph.Graph, full *Block, xm *sparse.Matrix, rows int) ([][]float32, error) {
	n := g.NumNodes()
	rows = (max(rows, 1) + 3) &^ 3
	outs := make([][]float32, len(m.Layers))
	// The blocks after a layer's first share their buffers; the first
	// block's are its own, because the products it makes are kept.
	shared := new(autograd.Pool)
	for l, layer := range m.Layers {
		w := layer.Width()
		out := make([]float32, n*w)
		memo := newProductMemo()
		for r0 := 0; r0 < n; r0 += rows {
			r1 := min(n, r0+rows)
			blk := full.rowRange(r0, r1)
			ctx := newContext(G.NewGraph(), false)
			var in Features
			var h *G.Node
			if l == 0 {
				in = Features{Src: Input{Sparse: xm, memo: memo}, Dst: Input{Sparse: xm.RowRange(r0, r1)}}
			} else {
				prev := outs[l-1]
				wp := len(prev) / n
				h = G.NewMatrix(ctx.g, G.Float32, G.WithShape(n, wp), G.WithName(fmt.Sprintf("h%d", l-1)),
					G.WithValue(tensor.New(tensor.WithShape(n, wp), tensor.WithBacking(prev))))
				var err error
				if in, err = denseFeatures(h, blk); err != nil {
					return nil, fmt.Errorf("gnn: layer %d: %w", l, err)
				}
				in.Src.memo = memo
			}
			z, err := m.layer(ctx, l, in, blk, h, nil)
			if err != nil {
				return nil, err
			}
			pool, keep := shared, memo.keep()
			if len(keep) > 0 {
				pool = new(autograd.Pool)
			}
			if err := autograd.Plan(ctx.g, pool, append(keep, z)...); err != nil {
				return nil, fmt.Errorf("gnn: %w", err)
			}
			vm := autograd.NewTapeMachine(ctx.g)
			err = vm.RunAll()
			if err == nil {
				copy(out[r0*w:r1*w], z.Value().Data().([]float32))
				err = memo.commit()
			}
			vm.Close()
			if err != nil {
				return nil, fmt.Errorf("gnn: evaluation of layer %d, rows [%d, %d): %w", l, r0, r1, err)
			}
		}
		outs[l] = out
	}
	return outs, nil
}

// evalBlockRows is the number of destinations a row block of layer-wise
// inference has: 4 MB a buffer of 64 float32 units.
const evalBlockRows = 1 << 14

// evaluator is a run's evaluation after each epoch: a whole-graph network
// built once, which shares the training network's buffers, or for
// sampled training, which has no whole-graph buffers to share, layer-wise
// inference in row blocks. run returns each layer's output for all nodes,
// valid until the next training step.
type evaluator struct {
	run   func() ([][]float32, error)
	close func()
}

// evaluator returns r's evaluator.
func (r *run) evaluator() (*evaluator, error) {
	if r.cfg.BatchSize > 0 && r.model.local {
		x := r.xTrain.View()
		return &evaluator{
			run:   func() ([][]float32, error) { return r.model.evaluateRows(r.d.Graph, r.block, x, evalBlockRows) },
			close: func() {},
		}, nil
	}
	ev, err := buildNetwork(r.model, sparseInput(r.xTrain.View()), sameBlocks(r.block, r.cfg.Layers), nil, nil)
	if err != nil {
		return nil, err
	}
	if err := ev.plan(r.pool); err != nil {
		return nil, err
	}
	vm := autograd.NewTapeMachine(ev.g)
	ran := false
	return &evaluator{
		run: func() ([][]float32, error) {
			if ran {
				vm.Reset()
			}
			ran = true
			if err := vm.RunAll(); err != nil {
				return nil, err
			}
			outs := make([][]float32, len(ev.outputs))
			for l := range outs {
				outs[l] = ev.output(l)
			}
			return outs, nil
		},
		close: func() { vm.Close() },
	}, nil
}
