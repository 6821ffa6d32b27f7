package gnn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/stats"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sampler"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
)

// ErrNaNLoss is wrapped by the error Train returns when the loss stops being
// a finite number.
var ErrNaNLoss = errors.New("gnn: loss is not finite")

// Epoch is what Train reports after each epoch.
type Epoch struct {
	Epoch   int     // 1-based
	Loss    float64 // training cross-entropy of the step
	NSRLoss float64 // Σ λ_l·P_l of the step (0 without NSR)
	TrainMs float64 // wall time of the step: forward, loss, backward, update
	ValAcc  float64
	TestAcc float64
	// Variance is, per layer, the aggregated intra-class variance Σ_n σ_n of
	// the layer's output on the training nodes after the step (no dropout,
	// zero ReLU responses masked as for NSR).
	Variance []float64
}

// Result is the outcome of one training run.
type Result struct {
	Seed          uint64
	BestEpoch     int     // epoch of the best validation accuracy (the latest on ties)
	ValAcc        float64 // best validation accuracy
	TestAcc       float64 // test accuracy at BestEpoch
	EpochMsMedian float64 // median of the epochs' TrainMs
	NSRLayers     []int   // the regularised layers (resolved, or the auto choice)
	NSRLambdas    []float64
	NSRChoice     string // why the auto layer was chosen
	Epochs        []Epoch
	// Outputs holds each layer's output (nodes × width, row-major) of the
	// final model, without dropout; the last is the logits.
	Outputs [][]float32
	// Model is the model with the weights of BestEpoch, those whose test
	// accuracy TestAcc is; nil if no epoch ran.
	Model *Model
}

// run is the state of one training run.
type run struct {
	d           *Data
	cfg         Config
	pcg         *rand.PCG // rng's source, kept for checkpoints
	rng         *rand.Rand
	model       *Model
	block       *Block         // the whole graph
	xTrain      *sparse.Matrix // the features, with the step's input dropout
	trainLabels []int
	tr          *network
	vm          *autograd.Machine
	opt         nn.Optimizer
	best        []NamedTensor // the model's state at the best epoch so far
	mb          *miniBatch    // nil in full-batch training
	local       bool          // the layers are local (Arch.Local): training may compute the loss's receptive field only
	// fields[h] are the nodes within h hops of the training nodes, for h
	// up to the number of layers, once known (restrictToField); nil when
	// training computes every row.
	fields     [][]int32
	pool       *autograd.Pool // the buffers that the run's networks share
	nsrLayers  []int          // the regularised layers, once known
	nsrLambdas []float64
}

// Options are the optional parts of a training run.
type Options struct {
	OnEpoch func(Epoch) // called after every epoch, if not nil
	// Checkpoint, if not "", is the file TrainWith writes checkpoints to:
	// every CheckpointEvery epochs (if > 0), after the last epoch, and when
	// ctx is done.
	Checkpoint      string
	CheckpointEvery int
	// Resume, if not nil, is a checkpoint of this run (same Config, same
	// data) to continue from.
	Resume *Checkpoint
	Meta   map[string]string // stored in the checkpoints as Checkpoint.Meta
	// Model, if not "", is the file TrainWith saves the model of the best
	// validation epoch to at the end (Model.Save).
	Model string
	// Layer, if not nil, makes the model's layers in place of the
	// registered architecture's: for layers of your own. Config.Arch then
	// only names the architecture.
	Layer func(LayerConfig, *rand.Rand) (Layer, error)
	// wholeGraph makes full-batch training compute every row, as it does
	// for layers not known to be local: the reference of
	// TestFieldRestrictionExact.
	wholeGraph bool
}

// InterruptedError is the error TrainWith returns when its context is
// done (nn.InterruptedError, shared with the image trainer).
type InterruptedError = nn.InterruptedError

// Train trains a model on d with cfg and returns the test accuracy at the
// epoch of best validation accuracy. onEpoch, if not nil, is called after
// every epoch. Train stops with an error wrapping ErrNaNLoss at the first
// epoch whose loss is not finite, and with an *InterruptedError wrapping
// ctx.Err() when ctx is done.
func Train(ctx context.Context, d *Data, cfg Config, onEpoch func(Epoch)) (*Result, error) {
	return TrainWith(ctx, d, cfg, Options{OnEpoch: onEpoch})
}

// TrainWith is Train with checkpoints and resumption. A run resumed from a
// checkpoint ends with the same weights, losses and accuracies, bit for bit,
// as the run that was never interrupted. Resuming from a checkpoint of
// another Config, other data (see DataFingerprint) or another architecture,
// or from one that is not Resumable, is an error wrapping ErrCheckpoint.
func TrainWith(ctx context.Context, d *Data, cfg Config, opts Options) (*Result, error) {
	arch := Arch{Name: cfg.Arch, New: opts.Layer}
	if opts.Layer == nil {
		var err error
		if arch, err = LookupArch(cfg.Arch); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(arch); err != nil {
		return nil, err
	}
	d, err := d.ForSeed(cfg.Seed)
	if err != nil {
		return nil, err
	}
	var fingerprint [32]byte
	ck := opts.Resume
	if ck != nil || opts.Checkpoint != "" {
		fingerprint = DataFingerprint(d)
	}
	if ck != nil {
		if err := ck.Resumable(); err != nil {
			return nil, err
		}
		if diff := configDiff(ck.Config, cfg); diff != "" {
			return nil, fmt.Errorf("%w: made with another configuration: %s", ErrCheckpoint, diff)
		}
		if ck.Fingerprint != fingerprint {
			return nil, fmt.Errorf("%w: made with other data (fingerprint %x, the data's is %x)", ErrCheckpoint, ck.Fingerprint[:8], fingerprint[:8])
		}
	}
	layers, _ := cfg.NSR.Resolve(cfg.Layers)
	r, err := newRun(d, cfg, arch)
	if err != nil {
		return nil, err
	}
	r.local = r.local && !opts.wholeGraph
	eval, err := r.evaluator()
	if err != nil {
		return nil, err
	}
	defer eval.close()

	res := &Result{Seed: cfg.Seed, ValAcc: -1}
	auto := cfg.NSR.Enabled() && cfg.NSR.Auto
	warmup := cfg.NSR.WarmupEpochs()
	var lambdas []float64
	if !auto {
		lambdas = cfg.NSR.Lambdas
	}
	if cfg.BatchSize > 0 {
		smp, err := sampler.New(d.Graph, cfg.Fanouts)
		if err != nil {
			return nil, fmt.Errorf("gnn: %w", err)
		}
		r.mb = &miniBatch{sampler: smp, queues: make(map[int]*nsr.Queue)}
	}
	first := 1
	if ck != nil {
		// The auto choice, if made, is part of the state: the network is
		// compiled with it before the optimizer state goes in.
		layers, lambdas = ck.NSRLayers, ck.NSRLambdas
		res.NSRChoice = ck.NSRChoice
		res.BestEpoch, res.ValAcc, res.TestAcc = ck.BestEpoch, ck.ValAcc, ck.TestAcc
		res.Epochs = slices.Clone(ck.Epochs)
		if ck.EpochsDone == 0 {
			res.ValAcc = -1
		}
		first = ck.EpochsDone + 1
		if err := r.model.restore(ck.Weights); err != nil {
			return nil, err
		}
		if ck.Best != nil {
			r.best = tensorsOf(ck.Best)
		}
		if err := r.pcg.UnmarshalBinary(ck.RNG); err != nil {
			return nil, fmt.Errorf("%w: random state: %w", ErrCheckpoint, err)
		}
	}
	if err := r.setNSR(layers, lambdas); err != nil {
		return nil, err
	}
	defer func() {
		if r.vm != nil {
			r.vm.Close()
		}
	}()
	if ck != nil {
		if err := r.restoreOptimizer(ck.Optimizer); err != nil {
			return nil, err
		}
	}
	res.NSRLayers, res.NSRLambdas = layers, lambdas
	times := make([]float64, 0, cfg.Epochs)
	for _, e := range res.Epochs {
		times = append(times, e.TrainMs)
	}
	save := func(done int) error {
		if opts.Checkpoint == "" {
			return nil
		}
		return WriteCheckpoint(opts.Checkpoint, r.checkpoint(res, done, fingerprint, opts.Meta))
	}
	for epoch := first; epoch <= cfg.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			ie := &InterruptedError{Seed: cfg.Seed, Epoch: epoch - 1, Err: err}
			if opts.Checkpoint != "" {
				if err := save(epoch - 1); err != nil {
					return nil, err
				}
				ie.Checkpoint, ie.Resumable = opts.Checkpoint, r.resumable()
			}
			return nil, ie
		}
		e, err := r.step(epoch)
		if err != nil {
			return nil, err
		}
		times = append(times, e.TrainMs)

		outs, err := eval.run()
		if err != nil {
			return nil, fmt.Errorf("gnn: epoch %d: evaluation: %w", epoch, err)
		}
		nout := len(outs)
		logits := outs[nout-1]
		e.ValAcc = accuracy(logits, d.NumClasses, d.Labels, d.Val)
		e.TestAcc = accuracy(logits, d.NumClasses, d.Labels, d.Test)
		for l, h := range outs {
			mask := cfg.NSR.MaskZeros && l+1 < nout
			e.Variance = append(e.Variance, nsr.Aggregate(nsr.IntraClassVariance(h, len(h)/d.Graph.NumNodes(), d.Train, r.trainLabels, d.NumClasses, mask)))
		}
		if e.ValAcc >= res.ValAcc {
			res.ValAcc, res.TestAcc, res.BestEpoch = e.ValAcc, e.TestAcc, epoch
			r.best = snapshot(r.model.State(), r.best)
		}
		res.Epochs = append(res.Epochs, e)
		if opts.OnEpoch != nil {
			opts.OnEpoch(e)
		}
		if auto && epoch == warmup {
			// The paper's criterion: regularise the layer whose neurons vary
			// most within classes, measured after a short warm-up.
			l, why := nsr.ChooseLayer(e.Variance)
			res.NSRLayers, res.NSRLambdas, res.NSRChoice = []int{l}, cfg.NSR.Lambdas, why
			if err := r.setNSR(res.NSRLayers, res.NSRLambdas); err != nil {
				return nil, err
			}
		}
		// After the auto choice, so that a resumed run compiles with it.
		if epoch == cfg.Epochs || (opts.CheckpointEvery > 0 && epoch%opts.CheckpointEvery == 0) {
			if err := save(epoch); err != nil {
				return nil, err
			}
		}
	}
	outs, err := eval.run()
	if err != nil {
		return nil, fmt.Errorf("gnn: final evaluation: %w", err)
	}
	for _, h := range outs {
		res.Outputs = append(res.Outputs, slices.Clone(h))
	}
	res.EpochMsMedian = stats.Median(times)
	if r.best != nil {
		if res.Model, err = r.model.withState(r.best); err != nil {
			return nil, err
		}
		res.Model.Info = ModelInfo{Dataset: d.Name, FeatureTransform: d.FeatureTransform, ClassNames: d.ClassNames,
			RunInfo: nn.RunInfo{Seed: cfg.Seed, BestEpoch: res.BestEpoch, ValAcc: res.ValAcc, TestAcc: res.TestAcc}, Config: &cfg}
		if opts.Model != "" {
			if err := res.Model.Save(opts.Model); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// newRun draws the initial weights of a run of arch's layers and prepares
// its constant inputs. It consumes the rng as a fresh run does, also when
// the weights are then replaced by a checkpoint's.
func newRun(d *Data, cfg Config, arch Arch) (*run, error) {
	pcg := rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)
	r := &run{d: d, cfg: cfg, pcg: pcg, rng: rand.New(pcg), pool: new(autograd.Pool), local: arch.Local}
	var err error
	if r.model, err = NewModelWith(cfg.Spec(d.Features.Cols, d.NumClasses), arch.New, r.rng); err != nil {
		return nil, err
	}
	r.model.local = arch.Local
	r.block = FullBlock(d.Graph)
	r.xTrain = sparse.NewMatrix(d.Features)
	r.trainLabels = make([]int, len(d.Train))
	for i, v := range d.Train {
		r.trainLabels[i] = d.Labels[v]
	}
	return r, nil
}

// sparseInput returns the Features of a model's first layer on a whole graph
// whose input is the sparse matrix x.
func sparseInput(x *sparse.Matrix) Features {
	in := Input{Sparse: x}
	return Features{Src: in, Dst: in}
}

// setNSR sets the regularised layers and their λ. A full-batch run
// (re)builds its training network here; a mini-batch run builds one per
// batch anyway.
func (r *run) setNSR(layers []int, lambdas []float64) error {
	r.nsrLayers, r.nsrLambdas = layers, lambdas
	if r.mb != nil {
		return nil
	}
	return r.compile()
}

// compile builds the full-batch training network with NSR on r.nsrLayers
// and its machine and optimizer. On a rebuild (the auto layer choice) the
// optimizer's state carries over, so the run continues as one
// optimisation.
func (r *run) compile() error {
	r.restrictToField()
	tr, err := buildNetwork(r.model, sparseInput(r.xTrain), r.trainBlocks(), &lossSpec{
		rows: r.d.Train, labels: r.trainLabels, nsrLayers: r.nsrLayers, nsrLambdas: r.nsrLambdas,
		estimator: func(_ int, hidden bool) (nsr.Estimator, error) {
			return &nsr.FullBatch{
				Rows: r.d.Train, Labels: r.trainLabels, NumClasses: r.d.NumClasses,
				// Zero masking is for ReLU outputs; the logits have none.
				MaskZeros: r.cfg.NSR.MaskZeros && hidden,
			}, nil
		},
	}, nil)
	if err != nil {
		return err
	}
	if _, err := G.Grad(tr.cost, tr.params...); err != nil {
		return fmt.Errorf("gnn: building gradients: %w", err)
	}
	if err := tr.plan(r.pool); err != nil {
		return err
	}
	opt, err := nn.NewOptimizer(r.cfg.optimizer(), tr.params)
	if err != nil {
		return fmt.Errorf("gnn: %w", err)
	}
	if r.opt != nil {
		if err := opt.SetState(r.opt.State()); err != nil {
			return fmt.Errorf("gnn: carrying the optimizer over: %w", err)
		}
		r.vm.Close()
	}
	r.tr, r.opt = tr, opt
	r.vm = autograd.NewTapeMachine(tr.g, G.BindDualValues(tr.params...))
	return nil
}

// restrictToField restricts full-batch training to the receptive field of
// the loss (receptiveFields of the training nodes), once: the layers
// compute their outputs at the nodes the loss can see only, the input
// dropout and products of the first layer skip the other rows of the
// features. PubMed's 60 training nodes need 14 % of its features' rows
// and 1.8 % of the hidden layer's. The other rows reach neither the
// cross-entropy nor the NSR terms, whose rows are the training nodes;
// every row that does is computed as on the whole graph, and the gradient
// of the others is zero, so the weights, losses and accuracies are bit for
// bit the same (TestFieldRestrictionExact). It applies to local layers
// (Arch.Local) without batch norm, whose statistics mix all rows, when the
// field is short of the whole graph.
func (r *run) restrictToField() {
	if r.fields != nil || !r.local || r.cfg.BatchNorm || r.mb != nil {
		return
	}
	r.fields = receptiveFields(r.d.Graph, r.d.Train, len(r.model.Layers))
	if r.fields != nil {
		r.xTrain.RestrictRows(r.fields[len(r.fields)-1], nil)
	}
}

// trainBlocks returns the blocks of the training network: the whole
// graph's, restricted to the loss's receptive field if restrictToField
// found one.
func (r *run) trainBlocks() []*Block {
	if r.fields == nil {
		return sameBlocks(r.block, len(r.model.Layers))
	}
	return restrictedBlocks(r.block, r.fields)
}

// step runs one training step: dropout draws, forward, loss, backward and
// the optimizer's update.
func (r *run) step(epoch int) (Epoch, error) {
	if r.mb != nil {
		return r.miniBatchStep(epoch)
	}
	start := time.Now()
	if r.cfg.Dropout > 0 {
		r.xTrain.Dropout(r.cfg.Dropout, r.rng.Uint64())
		for _, m := range r.tr.ctx.masks {
			m.Resample(r.pcg)
		}
	}
	if err := r.vm.RunAll(); err != nil {
		return Epoch{}, fmt.Errorf("gnn: epoch %d: forward/backward: %w", epoch, err)
	}
	e := Epoch{Epoch: epoch, Loss: nn.Scalar(r.tr.ce)}
	for _, v := range r.tr.nsr {
		e.NSRLoss += nn.Scalar(v)
	}
	r.vm.Reset()
	if err := r.checkFinite(epoch, e.Loss, e.NSRLoss); err != nil {
		return Epoch{}, err
	}
	if err := r.opt.Step(); err != nil {
		return Epoch{}, fmt.Errorf("gnn: epoch %d: %w", epoch, err)
	}
	e.TrainMs = float64(time.Since(start).Microseconds()) / 1000
	return e, nil
}

// checkFinite returns an error wrapping ErrNaNLoss if the loss of the
// epoch is not finite.
func (r *run) checkFinite(epoch int, loss, nsrLoss float64) error {
	if total := loss + nsrLoss; math.IsNaN(total) || math.IsInf(total, 0) {
		return fmt.Errorf("%w: loss = %v (NSR %v) at epoch %d (seed %d); try a smaller learning rate or lambda",
			ErrNaNLoss, loss, nsrLoss, epoch, r.cfg.Seed)
	}
	return nil
}

// accuracy is the fraction of nodes whose largest logit is their label.
func accuracy(logits []float32, classes int, labels, nodes []int) float64 {
	correct := 0
	for _, i := range nodes {
		row := logits[i*classes : (i+1)*classes]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		if best == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(nodes))
}
