package gnn

import (
	"fmt"
	"slices"
	"time"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sampler"
	"github.com/gnsr/gnsr/sparse"
	"github.com/gnsr/gnsr/sparseops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// miniBatch is the state of neighbour-sampled training: the sampler, one
// NSR memory queue per regularised layer, and the optimizer, which outlives
// the per-batch graphs.
type miniBatch struct {
	sampler *sampler.Sampler
	queues  map[int]*nsr.Queue
	opt     *nn.Adam
}

// buildBatch builds the GraphSAGE network of one sampled batch: layer l maps
// the nodes of Blocks[l].Src to those of Blocks[l].Dst with
// H_dst W + Â_l·(H_src Wn) + b, Â_l the block's sampled neighbour mean; H_dst
// is the first rows of H_src, as the sampler puts destination nodes first.
// The loss is over the seeds, the last block's destinations; NSR uses the
// memory queues, with the seeds as the rows of every layer.
func (r *run) buildBatch(b *sampler.Batch, x, xDst *sparse.Matrix, labels []int) (*network, error) {
	g := G.NewGraph()
	net := &network{g: g}
	for i, t := range r.w.tensors {
		s := t.Shape()
		net.params = append(net.params, G.NewMatrix(g, tensor.Float32, G.WithShape(s[0], s[1]), G.WithName(r.w.names[i]), G.WithValue(t)))
	}
	bias := !r.cfg.NoBias
	per := perLayer(r.cfg.Model, bias)
	var h *G.Node
	for l, blk := range b.Blocks {
		p := net.params[l*per : (l+1)*per]
		nd, ns := len(blk.Dst), len(blk.Src)
		var root, neigh *G.Node
		var err error
		if l == 0 {
			if root, err = sparseops.Mul(xDst, p[0]); err == nil {
				neigh, err = sparseops.Mul(x, p[1])
			}
		} else {
			in := h
			if r.cfg.Dropout > 0 {
				mask := nn.NewDropoutMask(r.cfg.Dropout, ns, h.Shape()[1])
				mask.Resample(r.rng)
				if in, err = nn.Dropout(h, mask); err != nil {
					return nil, err
				}
			}
			var dst *G.Node
			if dst, err = G.Slice(in, G.S(0, nd)); err == nil {
				if root, err = nn.MatMul(dst, p[0]); err == nil {
					neigh, err = nn.MatMul(in, p[1])
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("gnn: batch layer %d: %w", l, err)
		}
		z, err := sparseops.MulAdd(sparse.NewMatrix(blk.Adj), neigh, root)
		if err == nil {
			z, err = biasAndActivation(z, p, per, bias, l+1 < len(b.Blocks))
		}
		if err != nil {
			return nil, fmt.Errorf("gnn: batch layer %d: %w", l, err)
		}
		net.outputs = append(net.outputs, z)
		h = z
	}
	ce, err := nn.SoftmaxCrossEntropy(h, nil, labels)
	if err != nil {
		return nil, fmt.Errorf("gnn: batch loss: %w", err)
	}
	G.Read(ce, &net.ce)
	net.cost = ce
	seedRows := make([]int, len(labels))
	for i := range seedRows {
		seedRows[i] = i
	}
	net.nsr = make([]G.Value, len(r.nsrLayers))
	for i, l := range r.nsrLayers {
		q := r.mb.queues[l]
		if q == nil {
			q = nsr.NewQueue(r.cfg.NSR.Queue, r.d.NumClasses, r.cfg.NSR.MaskZeros && l+1 < len(b.Blocks))
			r.mb.queues[l] = q
		}
		q.Release()
		if err := q.SetBatch(seedRows, labels); err != nil {
			return nil, err
		}
		term, err := nsr.Term(net.outputs[l], q, r.nsrLambdas[i])
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

// miniBatchStep runs one epoch of neighbour-sampled training: the training
// nodes shuffled into batches, each sampled, built and stepped. The epoch
// time covers sampling too.
func (r *run) miniBatchStep(epoch int) (Epoch, error) {
	start := time.Now()
	e := Epoch{Epoch: epoch}
	batches := sampler.Batches(r.d.Train, r.cfg.BatchSize, r.rng)
	var seen int
	for _, seeds := range batches {
		b, err := r.mb.sampler.Sample(seeds, r.rng)
		if err != nil {
			return Epoch{}, fmt.Errorf("gnn: epoch %d: %w", epoch, err)
		}
		labels := make([]int, len(seeds))
		for i, v := range seeds {
			labels[i] = r.d.Labels[v]
		}
		// The destination rows are a prefix of the input rows, so the same
		// dropout seed drops the same entries in both.
		xs := r.d.Features.SelectRows(b.InputNodes)
		x := sparse.NewMatrix(xs)
		nd := len(b.Blocks[0].Dst)
		end := xs.Indptr[nd]
		xDst := sparse.NewMatrix(&sparse.CSR{Rows: nd, Cols: xs.Cols,
			Indptr: xs.Indptr[:nd+1], Indices: xs.Indices[:end], Data: xs.Data[:end]})
		if r.cfg.Dropout > 0 {
			seed := r.rng.Uint64()
			x.Dropout(r.cfg.Dropout, seed)
			xDst.Dropout(r.cfg.Dropout, seed)
		}
		net, err := r.buildBatch(b, x, xDst, labels)
		if err != nil {
			return Epoch{}, err
		}
		if _, err := G.Grad(net.cost, net.params...); err != nil {
			return Epoch{}, fmt.Errorf("gnn: building gradients: %w", err)
		}
		if r.mb.opt == nil {
			r.mb.opt = nn.NewAdam(net.params, r.cfg.LR, r.cfg.WeightDecay)
		} else if err := r.mb.opt.Rebind(net.params); err != nil {
			return Epoch{}, err
		}
		vm := G.NewTapeMachine(net.g, G.BindDualValues(net.params...))
		err = vm.RunAll()
		vm.Close()
		if err != nil {
			return Epoch{}, fmt.Errorf("gnn: epoch %d: forward/backward: %w", epoch, err)
		}
		// Weight the batch means by batch size, so that the epoch's loss is
		// the mean over training nodes as in full-batch training.
		w := float64(len(seeds))
		e.Loss += w * nn.Scalar(net.ce)
		for _, v := range net.nsr {
			e.NSRLoss += w * nn.Scalar(v)
		}
		seen += len(seeds)
		if err := r.checkFinite(epoch, e.Loss, e.NSRLoss); err != nil {
			return Epoch{}, err
		}
		if err := r.mb.opt.Step(); err != nil {
			return Epoch{}, fmt.Errorf("gnn: epoch %d: %w", epoch, err)
		}
	}
	e.Loss /= float64(seen)
	e.NSRLoss /= float64(seen)
	e.TrainMs = float64(time.Since(start).Microseconds()) / 1000
	return e, nil
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
	case c.Model != "sage":
		return fmt.Errorf("gnn: neighbour-sampled mini-batches need model sage, not %q", c.Model)
	case len(c.Fanouts) != c.Layers:
		return fmt.Errorf("gnn: %d fanouts for %d layers (give one per layer)", len(c.Fanouts), c.Layers)
	case c.NSR.Enabled() && c.NSR.Queue < 1:
		return fmt.Errorf("gnn: NSR queue length = %d, need at least 1 for mini-batches", c.NSR.Queue)
	case slices.ContainsFunc(c.Fanouts, func(f int) bool { return f == 0 || f < -1 }):
		return fmt.Errorf("gnn: fanouts %v: each must be positive, or -1 for all neighbours", c.Fanouts)
	}
	return nil
}
