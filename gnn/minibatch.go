package gnn

import (
	"fmt"
	"time"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sampler"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
)

// miniBatch is the state of neighbour-sampled training: the sampler, one
// NSR memory queue per regularised layer, and the optimizer, which
// outlives the per-batch graphs.
type miniBatch struct {
	sampler *sampler.Sampler
	queues  map[int]*nsr.Queue
	opt     nn.Optimizer
	// rows holds the last batch's features, and x and xDst its matrices,
	// whose arrays the next batch of the epoch reuses rather than
	// allocating (and the runtime clearing) tens of megabytes a batch on
	// big graphs.
	rows    *sparse.CSR
	x, xDst *sparse.Matrix
}

// batchLoss returns the loss of one sampled batch: cross-entropy over the
// seeds, the last block's destinations, and NSR through the memory queues,
// with the seeds as the rows of every layer.
func (r *run) batchLoss(labels []int) *lossSpec {
	seedRows := make([]int, len(labels))
	for i := range seedRows {
		seedRows[i] = i
	}
	return &lossSpec{
		labels: labels, nsrLayers: r.nsrLayers, nsrLambdas: r.nsrLambdas,
		estimator: func(l int, hidden bool) (nsr.Estimator, error) {
			q := r.mb.queues[l]
			if q == nil {
				q = nsr.NewQueue(r.cfg.NSR.QueueLen(), r.d.NumClasses, r.cfg.NSR.MaskZeros && hidden)
				r.mb.queues[l] = q
			}
			q.Release()
			if err := q.SetBatch(seedRows, labels); err != nil {
				return nil, err
			}
			return q, nil
		},
	}
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
		x := r.xTrain.SelectRows(r.mb.rows, b.InputNodes)
		xs := x.CSR()
		nd := len(b.Blocks[0].Dst)
		end := xs.Indptr[nd]
		xDst := sparse.NewMatrix(&sparse.CSR{Rows: nd, Cols: xs.Cols,
			Indptr: xs.Indptr[:nd+1], Indices: xs.Indices[:end], Data: xs.Data[:end]})
		x.ReuseDropout(r.mb.x)
		xDst.ReuseDropout(r.mb.xDst)
		r.mb.rows, r.mb.x, r.mb.xDst = xs, x, xDst
		if r.cfg.Dropout > 0 {
			seed := r.rng.Uint64()
			x.Dropout(r.cfg.Dropout, seed)
			xDst.Dropout(r.cfg.Dropout, seed)
		}
		blocks := make([]*Block, len(b.Blocks))
		for l := range b.Blocks {
			blocks[l] = SampledBlock(&b.Blocks[l])
		}
		net, err := buildNetwork(r.model, Features{Src: Input{Sparse: x}, Dst: Input{Sparse: xDst}}, blocks, r.batchLoss(labels), nil)
		if err != nil {
			return Epoch{}, err
		}
		for _, m := range net.ctx.masks {
			m.Resample(r.pcg)
		}
		if _, err := G.Grad(net.cost, net.params...); err != nil {
			return Epoch{}, fmt.Errorf("gnn: building gradients: %w", err)
		}
		if err := net.plan(r.pool); err != nil {
			return Epoch{}, err
		}
		if r.mb.opt == nil {
			if r.mb.opt, err = nn.NewOptimizer(r.cfg.optimizer(), net.params); err != nil {
				return Epoch{}, fmt.Errorf("gnn: %w", err)
			}
		} else if err := r.mb.opt.Rebind(net.params); err != nil {
			return Epoch{}, err
		}
		vm := autograd.NewTapeMachine(net.g, G.BindDualValues(net.params...))
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
	// The epoch's evaluation, on the whole graph, is the run's peak: the
	// batch buffers are not kept beside it.
	r.mb.rows, r.mb.x, r.mb.xDst = nil, nil, nil
	e.Loss /= float64(seen)
	e.NSRLoss /= float64(seen)
	e.TrainMs = float64(time.Since(start).Microseconds()) / 1000
	return e, nil
}
