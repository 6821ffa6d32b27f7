package vision

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

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
)

// ErrNaNLoss is wrapped by the error Train returns when the loss stops being
// a finite number.
var ErrNaNLoss = errors.New("vision: loss is not finite")

// InterruptedError is the error Train returns when its context is done
// (nn.InterruptedError, shared with the graph trainer).
type InterruptedError = nn.InterruptedError

// Config holds the architecture and optimisation settings of one run, with
// the names gnn.Config gives the same things. DefaultConfig gives the NSR
// paper's MNIST protocol.
type Config struct {
	Arch      string // architecture, one of Archs or CNNArchs
	BatchSize int    // training batch size; the last partial batch of an epoch is dropped
	EvalBatch int    // batch size of the evaluation graph; 0 means 1000 (250 for convolutional networks)
	Epochs    int
	ValSize   int // training images held out for validation, at least 1

	Optimizer nn.OptimizerSpec // the optimizer and its learning rate, weight decay and momentum
	LRStep    int              // multiply the learning rate by LRGamma every LRStep epochs; 0: constant
	LRGamma   float64

	Seed uint64 // seeds the split, the initialisation, the shuffling and the augmentation
	// NSR says where Neuron Steadiness Regularization applies. Layer l is
	// the output of the l-th linear layer (after its ReLU for hidden
	// layers), negative from the end (-1 is the logits); for convolutional
	// networks the layers are those of ConvNet.Layers. Its Queue is the
	// memory-queue length. The automatic layer choice (Auto) is for graph
	// models only.
	NSR nsr.Spec

	// Convolutional architectures only.
	Width   int  // channel multiplier (CNNSpec.Width); 0 means 1
	Augment bool // random crops (4-pixel zero padding) and flips of training images
}

// DefaultConfig returns the published MNIST protocol: MLP-4, batch 100,
// plain SGD with learning rate 0.01, 100 epochs, 10,000 training images
// held out for validation; NSR off, and when turned on, on the logits with a
// 5-step queue.
func DefaultConfig() Config {
	return Config{
		Arch: "mlp4", BatchSize: 100, EvalBatch: 1000, Epochs: 100, ValSize: 10000,
		Optimizer: nn.OptimizerSpec{Kind: nn.OptimizerSGD, LR: 0.01}, LRGamma: 0.1,
		NSR: nsr.Spec{Layers: []int{-1}, Queue: nsr.DefaultQueue, MaskZeros: true},
	}
}

// Validate reports the first setting of c that is out of range.
func (c *Config) Validate() error {
	n, err := c.LayerCount()
	if err != nil {
		return err
	}
	_, err = c.resolve(n)
	return err
}

// LayerCount returns the number of layer outputs of c's architecture that
// NSR can regularise, the n that c.NSR is resolved against (for a
// convolutional architecture, counted on 3×32×32 images). It returns an
// error for an unknown architecture.
func (c *Config) LayerCount() (int, error) {
	if isCNN(c.Arch) {
		names, err := CNNLayerNames(CNNSpec{Arch: c.Arch, Width: max(c.Width, 0)})
		if err != nil {
			return 0, err
		}
		return len(names), nil
	}
	hidden, err := HiddenSizes(c.Arch)
	if err != nil {
		return 0, fmt.Errorf("%w (convolutional: %v)", err, CNNArchs())
	}
	return len(hidden) + 1, nil
}

// resolve checks c for an architecture with n layer outputs and returns
// the NSR layers as indices in [0, n), nil without NSR.
func (c *Config) resolve(n int) ([]int, error) {
	cnn := isCNN(c.Arch)
	switch {
	case c.BatchSize < 1:
		return nil, fmt.Errorf("vision: batch size = %d, need at least 1", c.BatchSize)
	case c.EvalBatch < 0:
		return nil, fmt.Errorf("vision: eval batch = %d, need at least 1 (or 0 for the default)", c.EvalBatch)
	case c.Epochs < 1:
		return nil, fmt.Errorf("vision: epochs = %d, need at least 1", c.Epochs)
	case c.ValSize < 1:
		return nil, fmt.Errorf("vision: validation size = %d, need at least 1", c.ValSize)
	case c.LRStep < 0 || (c.LRStep > 0 && !(c.LRGamma > 0)):
		return nil, fmt.Errorf("vision: LR step %d with gamma %v, need step >= 0 and gamma > 0", c.LRStep, c.LRGamma)
	case c.Width < 0 || (!cnn && c.Width > 1):
		return nil, fmt.Errorf("vision: width %d applies to convolutional architectures only, and must be >= 1", c.Width)
	case c.Augment && !cnn:
		return nil, fmt.Errorf("vision: augmentation applies to convolutional architectures only")
	case c.NSR.Auto:
		return nil, fmt.Errorf("vision: the automatic NSR layer choice is for graph models; give the layers of %s", c.Arch)
	}
	if err := c.Optimizer.Validate(); err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	layers, err := c.NSR.Resolve(n)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", c.Arch, err)
	}
	return layers, nil
}

// Epoch is what Train reports after each epoch.
type Epoch struct {
	Epoch   int     // 1-based
	Loss    float64 // mean training cross-entropy over the epoch's steps
	NSRLoss float64 // mean Σ λ_l·P_l over the steps (0 without NSR)
	LR      float64 // learning rate of the epoch
	TrainMs float64 // wall time of the training steps (batch copy, forward, backward, update); no evaluation
	ValAcc  float64
	TestAcc float64
}

// Result is the outcome of one training run.
type Result struct {
	Seed      uint64
	BestEpoch int     // epoch of the best validation accuracy (the latest on ties, as the peer)
	ValAcc    float64 // best validation accuracy
	TestAcc   float64 // test accuracy at BestEpoch
	// Model is the model with the weights of BestEpoch, those whose test
	// accuracy TestAcc is.
	Model         *Model
	EpochMsMedian float64
	NSRLayers     []int // resolved to [0, layers)
	NSRLambdas    []float64
	Epochs        []Epoch
	// Variance is, per layer, the aggregated intra-class variance Σ_n σ_n
	// of the final model's layer output on the training images (zero ReLU
	// responses masked on hidden layers when NSR.MaskZeros is set).
	Variance []float64
}

// Options are the optional parts of a training run.
type Options struct {
	OnEpoch func(Epoch) // called after every epoch, if not nil
	// Model, if not "", is the file TrainWith saves the model of the best
	// validation epoch to at the end (Model.Save).
	Model string
	// Dataset names the data in the model's Info.
	Dataset string
	// Checkpoint, if not "", is the file TrainWith writes checkpoints to:
	// every CheckpointEvery epochs (if > 0), after the last epoch, and,
	// between two steps, when ctx is done.
	Checkpoint      string
	CheckpointEvery int
	// Resume, if not nil, is a checkpoint of this run (same Config, same
	// data) to continue from.
	Resume *Checkpoint
	Meta   map[string]string // stored in the checkpoints as Checkpoint.Meta
}

// Train trains an MLP or a convolutional network on the training images of
// data, holding out cfg.ValSize of them (a seeded random permutation's
// first ValSize, as the peer), and reports the test accuracy at the epoch
// of best validation accuracy, with the model of that epoch. Pixels are
// scaled to [0, 1]; for convolutional networks they are then normalised per
// channel with the training images' mean and standard deviation and, with
// cfg.Augment, training images are randomly cropped (4 pixels of zero
// padding) and flipped. onEpoch, if not nil, is called after
// every epoch. Train stops with an error wrapping ErrNaNLoss at the first
// step whose loss is not finite, and with an *InterruptedError wrapping
// ctx.Err() when ctx is done.
//
// Runs are reproducible: the same data, cfg and Seed give the same numbers
// on a machine, for any GOMAXPROCS.
func Train(ctx context.Context, data *datasets.ImageDataset, cfg Config, onEpoch func(Epoch)) (*Result, error) {
	return TrainWith(ctx, data, cfg, Options{OnEpoch: onEpoch})
}

// TrainWith is Train with options: a file for the model of the best
// validation epoch, checkpoints and resumption. A run resumed from a
// checkpoint ends with the same weights, losses and accuracies, bit for
// bit, as the run that was never interrupted. Resuming from a checkpoint of
// another Config or other data (see DataFingerprint) is an error wrapping
// ErrCheckpoint.
func TrainWith(ctx context.Context, data *datasets.ImageDataset, cfg Config, opts Options) (*Result, error) {
	n, err := cfg.LayerCount()
	if err != nil {
		return nil, err
	}
	layers, err := cfg.resolve(n)
	if err != nil {
		return nil, err
	}
	if err := checkImages("training", &data.Train); err != nil {
		return nil, err
	}
	if err := checkImages("test", &data.Test); err != nil {
		return nil, err
	}
	tr, te := &data.Train, &data.Test
	if te.C != tr.C || te.H != tr.H || te.W != tr.W || te.NumClasses != tr.NumClasses {
		return nil, fmt.Errorf("vision: test images %d×%d×%d with %d classes do not match the training ones (%d×%d×%d, %d classes)",
			te.C, te.H, te.W, te.NumClasses, tr.C, tr.H, tr.W, tr.NumClasses)
	}
	if cfg.ValSize+cfg.BatchSize > tr.N {
		return nil, fmt.Errorf("vision: %d training images cannot give %d for validation and a batch of %d", tr.N, cfg.ValSize, cfg.BatchSize)
	}
	cnn := isCNN(cfg.Arch)
	spec := ModelSpec{Arch: cfg.Arch, Input: [3]int{tr.C, tr.H, tr.W}, Classes: tr.NumClasses}
	if cnn {
		spec.Width = max(cfg.Width, 1)
	}
	var fingerprint [32]byte
	if opts.Resume != nil || opts.Checkpoint != "" {
		fingerprint = DataFingerprint(data)
	}
	if opts.Resume != nil {
		if err := opts.Resume.checkResume(cfg, fingerprint); err != nil {
			return nil, err
		}
	}
	// Separate streams, so that changing one setting (the validation size,
	// say) does not change the other draws.
	val, train := split(tr.N, cfg.ValSize, cfg.Seed)
	model, err := newModel(spec, rand.New(rand.NewPCG(cfg.Seed, 0x5eed0002)))
	if err != nil {
		return nil, err
	}
	model.Info = ModelInfo{Dataset: opts.Dataset, RunInfo: nn.RunInfo{Seed: cfg.Seed}, Config: &cfg}
	if len(tr.Classes) == tr.NumClasses {
		model.Info.ClassNames = slices.Clone(tr.Classes)
	}
	var norm datasets.Normalization
	if cnn {
		norm = datasets.ComputeNormalization(tr)
		model.Info.Normalization = &norm
	}
	ev, err := model.newEvaluator(evalBatchSize(cfg), norm)
	if err != nil {
		return nil, err
	}
	defer ev.close()
	shufflePCG := rand.NewPCG(cfg.Seed, 0x5eed0003)
	loop := &epochLoop{
		cfg: cfg, train: train, shufflePCG: shufflePCG, shuffle: rand.New(shufflePCG), model: model,
		evaluate: func() (float64, float64, error) {
			valAcc, err := ev.accuracy(tr, val)
			if err != nil {
				return 0, 0, err
			}
			testAcc, err := ev.accuracy(te, nil)
			return valAcc, testAcc, err
		},
	}
	res := &Result{Seed: cfg.Seed, ValAcc: -1}
	if cnn {
		err = loop.setupCNN(tr, norm, res)
	} else {
		err = loop.setupMLP(tr, layers, res)
	}
	if loop.vm != nil {
		defer loop.vm.Close()
	}
	if err != nil {
		return nil, err
	}
	if opts.Checkpoint != "" {
		loop.save = func(done, step int, partial Epoch, lr float64) error {
			return WriteCheckpoint(opts.Checkpoint, loop.checkpoint(res, done, step, partial, lr, fingerprint, opts.Meta))
		}
		loop.every, loop.path = opts.CheckpointEvery, opts.Checkpoint
	}
	if ck := opts.Resume; ck != nil {
		if err := loop.restore(ck, res); err != nil {
			return nil, err
		}
	}
	if err := loop.run(ctx, res, opts.OnEpoch); err != nil {
		return nil, err
	}
	if !cnn {
		if res.Variance, err = variances(ev.mlp, ev.vm, tr, train, &ev.scale, cfg.NSR.MaskZeros); err != nil {
			return nil, err
		}
	}
	model.Info.BestEpoch, model.Info.ValAcc, model.Info.TestAcc = res.BestEpoch, res.ValAcc, res.TestAcc
	if res.Model, err = model.withState(loop.best); err != nil {
		return nil, err
	}
	if opts.Model != "" {
		if err := res.Model.Save(opts.Model); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// split returns the validation and training images of a run with the given
// seed: a seeded permutation of the n training images, its first valSize
// held out.
func split(n, valSize int, seed uint64) (val, train []int) {
	perm := rand.New(rand.NewPCG(seed, 0x5eed0001)).Perm(n)
	return perm[:valSize], perm[valSize:]
}

// evalBatchSize returns the evaluation batch size of cfg.
func evalBatchSize(cfg Config) int {
	switch {
	case cfg.EvalBatch > 0:
		return cfg.EvalBatch
	case isCNN(cfg.Arch):
		return 250
	}
	return 1000
}

// setupMLP builds the training graph of the MLP l.model with NSR on the
// resolved layers, its machine and optimizer.
func (l *epochLoop) setupMLP(tr *datasets.Images, layers []int, res *Result) error {
	cfg, w := l.cfg, l.model.mlp
	var spec *nsrSpec
	if cfg.NSR.Enabled() {
		spec = &nsrSpec{layers: layers, lambdas: cfg.NSR.Lambdas, k: cfg.NSR.QueueLen(), maskZeros: cfg.NSR.MaskZeros}
		res.NSRLayers, res.NSRLambdas = layers, slices.Clone(cfg.NSR.Lambdas)
	}
	net, err := build(w, cfg.BatchSize, true, spec)
	if err != nil {
		return err
	}
	// No BindDualValues: Node.Grad then returns the gradient nodes' values
	// themselves, which the ops overwrite every run, instead of a dual value
	// that the machine would add them into (a pass over every parameter).
	l.vm = autograd.NewTapeMachine(net.g)
	if l.opt, err = nn.NewOptimizer(cfg.Optimizer, net.params); err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	scale := pixelScale()
	dim := w.sizes[0]
	xbuf := net.x.Data().([]float32)
	l.loss, l.pens, l.queues = func() float64 { return nn.Scalar(net.ce) }, net.nsr, net.queues
	l.fill = func(batch []int) error {
		for r, i := range batch {
			fillRow(xbuf[r*dim:(r+1)*dim], tr.Image(i), &scale)
			net.labels[r] = int(tr.Labels[i])
		}
		return net.setBatch()
	}
	return nil
}

// epochLoop is the training loop the MLP and CNN trainers share: the
// learning-rate steps, one shuffle of the training images an epoch, a step
// for each full batch, and the validation and test accuracy after each
// epoch.
type epochLoop struct {
	cfg        Config
	train      []int // training image indices
	shufflePCG *rand.PCG
	shuffle    *rand.Rand
	epochRNG   []byte    // shufflePCG at the start of the current epoch
	augPCG     *rand.PCG // convolutional networks: the augmentation's source
	model      *Model
	best       []modelfile.Tensor // the model's state at the best epoch so far
	vm         G.VM
	opt        nn.Optimizer
	loss       func() float64 // the cross-entropy of the last step
	pens       []G.Value      // the NSR terms of the last step
	queues     []*nsr.Queue   // the NSR memory queues
	// fill sets the network's inputs to the images batch, in order.
	fill func(batch []int) error
	// evaluate returns the validation and test accuracy.
	evaluate func() (val, test float64, err error)
	// save, if not nil, writes a checkpoint after done epochs and step
	// steps of the next, partial, at learning rate lr, to path; every
	// epochs too, if > 0.
	save  func(done, step int, partial Epoch, lr float64) error
	every int
	path  string
	// resume is where the run resumes: the first epoch, its steps done
	// and its partial sums, and the learning rate.
	resume *Checkpoint
}

// run trains for cfg.Epochs epochs (from where l.resume stopped),
// reporting each through res.endEpoch, and sets res.EpochMsMedian. When
// ctx is done it stops between two steps, writing a checkpoint if l.save
// is set, and returns an *InterruptedError.
func (l *epochLoop) run(ctx context.Context, res *Result, onEpoch func(Epoch)) error {
	cfg := l.cfg
	steps := len(l.train) / cfg.BatchSize
	times := make([]float64, 0, cfg.Epochs)
	for _, e := range res.Epochs {
		times = append(times, e.TrainMs)
	}
	batch := make([]int, cfg.BatchSize)
	lr, first, firstStep := cfg.Optimizer.LR, 1, 0
	if ck := l.resume; ck != nil {
		lr, first, firstStep = ck.state.lr, ck.EpochsDone+1, ck.Step
	}
	for epoch := first; epoch <= cfg.Epochs; epoch++ {
		s0, e := 0, Epoch{}
		if epoch == first && firstStep > 0 {
			s0, e = firstStep, l.resume.Partial
		} else {
			if err := l.interrupted(ctx, epoch-1, 0, e, lr); err != nil {
				return err
			}
			if cfg.LRStep > 0 && epoch > 1 && (epoch-1)%cfg.LRStep == 0 {
				lr *= cfg.LRGamma
				l.opt.SetLR(lr)
			}
			e = Epoch{Epoch: epoch, LR: lr}
			var err error
			if l.epochRNG, err = l.shufflePCG.MarshalBinary(); err != nil {
				return fmt.Errorf("vision: %w", err)
			}
		}
		start, before := time.Now(), e.TrainMs
		order := l.shuffle.Perm(len(l.train))
		for s := s0; s < steps; s++ {
			if s > 0 {
				e.TrainMs = before + float64(time.Since(start).Microseconds())/1000
				if err := l.interrupted(ctx, epoch-1, s, e, lr); err != nil {
					return err
				}
			}
			for r, o := range order[s*cfg.BatchSize : (s+1)*cfg.BatchSize] {
				batch[r] = l.train[o]
			}
			if err := l.fill(batch); err != nil {
				return err
			}
			ce, pen, err := trainStep(l.vm, l.opt, l.loss, l.pens, cfg.Seed, epoch, s+1)
			if err != nil {
				return err
			}
			e.Loss += ce
			e.NSRLoss += pen
		}
		e.TrainMs = before + float64(time.Since(start).Microseconds())/1000
		e.Loss /= float64(steps)
		e.NSRLoss /= float64(steps)
		times = append(times, e.TrainMs)
		var err error
		if e.ValAcc, e.TestAcc, err = l.evaluate(); err != nil {
			return err
		}
		res.endEpoch(e, onEpoch)
		if res.BestEpoch == epoch {
			l.best = l.model.state()
		}
		if l.save != nil && (epoch == cfg.Epochs || (l.every > 0 && epoch%l.every == 0)) {
			if err := l.save(epoch, 0, Epoch{}, lr); err != nil {
				return err
			}
		}
	}
	res.EpochMsMedian = stats.Median(times)
	return nil
}

// interrupted returns nil while ctx is not done; then it writes a
// checkpoint (if l.save is set) after done epochs and step steps of the
// next, partial, at learning rate lr, and returns an *InterruptedError.
func (l *epochLoop) interrupted(ctx context.Context, done, step int, partial Epoch, lr float64) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	ie := &InterruptedError{Seed: l.cfg.Seed, Epoch: done, Err: err}
	if l.save != nil {
		if err := l.save(done, step, partial, lr); err != nil {
			return err
		}
		ie.Checkpoint = l.path
	}
	return ie
}

// checkpoint returns the state of the run after done epochs and step
// steps of the next, partial, at learning rate lr.
func (l *epochLoop) checkpoint(res *Result, done, step int, partial Epoch, lr float64, fingerprint [32]byte, meta map[string]string) *Checkpoint {
	c := &Checkpoint{
		Config: l.cfg, Meta: meta, Fingerprint: fingerprint, EpochsDone: done, Step: step, Partial: partial,
		BestEpoch: res.BestEpoch, ValAcc: res.ValAcc, TestAcc: res.TestAcc, Epochs: slices.Clone(res.Epochs),
		state: ckptState{lr: lr, weights: l.model.state(), best: l.best, optimizer: l.opt.State(), shuffleRNG: l.epochRNG},
	}
	if step == 0 {
		// At an epoch boundary the next epoch's shuffle is still to come.
		c.state.shuffleRNG, _ = l.shufflePCG.MarshalBinary()
	}
	if l.augPCG != nil {
		c.state.augmentRNG, _ = l.augPCG.MarshalBinary()
	}
	for _, q := range l.queues {
		c.state.queues = append(c.state.queues, q.State())
	}
	if res.BestEpoch == 0 {
		c.ValAcc = 0
	}
	return c
}

// restore sets the run to the state of ck, a checkpoint of it, and res to
// its results so far.
func (l *epochLoop) restore(ck *Checkpoint, res *Result) error {
	st := &ck.state
	if err := l.model.restore(st.weights); err != nil {
		return fmt.Errorf("%w: weights: %w", ErrCheckpoint, err)
	}
	if st.best != nil {
		if _, err := l.model.withState(st.best); err != nil {
			return fmt.Errorf("%w: best weights: %w", ErrCheckpoint, err)
		}
	}
	if err := l.opt.SetState(st.optimizer); err != nil {
		return fmt.Errorf("%w: optimizer: %w", ErrCheckpoint, err)
	}
	l.opt.SetLR(st.lr)
	if len(st.queues) != len(l.queues) {
		return fmt.Errorf("%w: %d NSR queues for a run with %d", ErrCheckpoint, len(st.queues), len(l.queues))
	}
	for i, q := range l.queues {
		if err := q.SetState(st.queues[i]); err != nil {
			return fmt.Errorf("%w: NSR queue %d: %w", ErrCheckpoint, i, err)
		}
	}
	if err := l.shufflePCG.UnmarshalBinary(st.shuffleRNG); err != nil {
		return fmt.Errorf("%w: shuffling state: %w", ErrCheckpoint, err)
	}
	if l.augPCG != nil {
		if err := l.augPCG.UnmarshalBinary(st.augmentRNG); err != nil {
			return fmt.Errorf("%w: augmentation state: %w", ErrCheckpoint, err)
		}
	}
	steps := len(l.train) / l.cfg.BatchSize
	if ck.Step >= steps || ck.EpochsDone > l.cfg.Epochs || (ck.Step > 0 && ck.EpochsDone == l.cfg.Epochs) {
		return fmt.Errorf("%w: %d steps into epoch %d of a run of %d epochs of %d steps", ErrCheckpoint, ck.Step, ck.EpochsDone+1, l.cfg.Epochs, steps)
	}
	l.best, l.resume = st.best, ck
	res.BestEpoch, res.ValAcc, res.TestAcc, res.Epochs = ck.BestEpoch, ck.ValAcc, ck.TestAcc, slices.Clone(ck.Epochs)
	if ck.BestEpoch == 0 {
		res.ValAcc = -1
	}
	return nil
}

// trainStep runs one forward and backward pass on vm, checks that the loss
// is finite and updates the parameters with opt. It returns the
// cross-entropy (read by ce after the run) and the NSR penalty Σ λ·P.
func trainStep(vm G.VM, opt nn.Optimizer, ce func() float64, pens []G.Value, seed uint64, epoch, step int) (float64, float64, error) {
	if err := vm.RunAll(); err != nil {
		return 0, 0, fmt.Errorf("vision: epoch %d step %d: %w", epoch, step, err)
	}
	loss := ce()
	var pen float64
	for _, v := range pens {
		pen += nn.Scalar(v)
	}
	vm.Reset()
	if t := loss + pen; math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, 0, fmt.Errorf("%w: loss = %v (NSR %v) at epoch %d step %d (seed %d); try a smaller learning rate or lambda",
			ErrNaNLoss, loss, pen, epoch, step, seed)
	}
	if err := opt.Step(); err != nil {
		return 0, 0, fmt.Errorf("vision: epoch %d step %d: %w", epoch, step, err)
	}
	return loss, pen, nil
}

// endEpoch records e, whose accuracies are set, in res (the best
// validation accuracy so far, the latest on ties) and reports it.
func (res *Result) endEpoch(e Epoch, onEpoch func(Epoch)) {
	if e.ValAcc >= res.ValAcc {
		res.ValAcc, res.TestAcc, res.BestEpoch = e.ValAcc, e.TestAcc, e.Epoch
	}
	res.Epochs = append(res.Epochs, e)
	if onEpoch != nil {
		onEpoch(e)
	}
}

func checkImages(what string, im *datasets.Images) error {
	if im.N < 1 || im.C < 1 || im.H < 1 || im.W < 1 || len(im.Pixels) != im.N*im.C*im.H*im.W || len(im.Labels) != im.N {
		return fmt.Errorf("vision: %s images: %d×%d×%d×%d with %d pixels and %d labels", what, im.N, im.C, im.H, im.W, len(im.Pixels), len(im.Labels))
	}
	if im.NumClasses < 2 {
		return fmt.Errorf("vision: %s images: %d classes, need at least 2", what, im.NumClasses)
	}
	for i, y := range im.Labels {
		if int(y) >= im.NumClasses {
			return fmt.Errorf("vision: %s image %d has label %d, outside [0, %d)", what, i, y, im.NumClasses)
		}
	}
	return nil
}

// pixelScale maps a byte to [0, 1], as the peer's x / 255 in float32.
func pixelScale() [256]float32 {
	var s [256]float32
	for i := range s {
		s[i] = float32(i) / 255
	}
	return s
}

func fillRow(dst []float32, px []uint8, scale *[256]float32) {
	px = px[:len(dst)]
	for j, p := range px {
		dst[j] = scale[p]
	}
}

// forEachBatch runs the evaluation network on the images idx of im (all,
// in order, if idx is nil) in batches, calling fn with each batch's first
// position and size. A last partial batch is padded with zero rows, whose
// outputs fn ignores.
func forEachBatch(ev *network, evm G.VM, im *datasets.Images, idx []int, scale *[256]float32, fn func(pos, n int) error) error {
	n := im.N
	if idx != nil {
		n = len(idx)
	}
	x := ev.x.Data().([]float32)
	b, dim := ev.x.Shape()[0], ev.x.Shape()[1]
	for pos := 0; pos < n; pos += b {
		m := min(b, n-pos)
		for r := 0; r < m; r++ {
			i := pos + r
			if idx != nil {
				i = idx[i]
			}
			fillRow(x[r*dim:(r+1)*dim], im.Image(i), scale)
		}
		clear(x[m*dim:])
		if err := evm.RunAll(); err != nil {
			return fmt.Errorf("vision: evaluation: %w", err)
		}
		err := fn(pos, m)
		evm.Reset()
		if err != nil {
			return err
		}
	}
	return nil
}

// accuracy is the fraction of the images whose largest logit (the first on
// ties, as torch's argmax) is their label.
func accuracy(ev *network, evm G.VM, im *datasets.Images, idx []int, scale *[256]float32) (float64, error) {
	correct, total := 0, 0
	err := forEachBatch(ev, evm, im, idx, scale, func(pos, n int) error {
		logits := ev.values[len(ev.values)-1].Data().([]float32)
		c := im.NumClasses
		for r := 0; r < n; r++ {
			i := pos + r
			if idx != nil {
				i = idx[i]
			}
			if argmax(logits[r*c:(r+1)*c]) == int(im.Labels[i]) {
				correct++
			}
			total++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return float64(correct) / float64(total), nil
}

func argmax(row []float32) int {
	best := 0
	for c, v := range row {
		if v > row[best] {
			best = c
		}
	}
	return best
}

// variances returns the aggregated intra-class variance of every layer's
// output over the images idx, accumulated batch by batch (class sums and
// squares in float64, so the layer outputs are never held in full).
func variances(ev *network, evm G.VM, im *datasets.Images, idx []int, scale *[256]float32, mask bool) ([]float64, error) {
	layers := len(ev.outputs)
	c := im.NumClasses
	type acc struct{ sum, sq, cnt []float64 }
	accs := make([]acc, layers)
	for l, o := range ev.outputs {
		d := o.Shape()[1]
		accs[l] = acc{make([]float64, c*d), make([]float64, c*d), make([]float64, c*d)}
	}
	err := forEachBatch(ev, evm, im, idx, scale, func(pos, n int) error {
		for l, v := range ev.values {
			h := v.Data().([]float32)
			d := len(h) / ev.x.Shape()[0]
			m := mask && l+1 < layers
			a := accs[l]
			for r := 0; r < n; r++ {
				y := int(im.Labels[idx[pos+r]])
				for j, x := range h[r*d : (r+1)*d] {
					if m && math.Abs(float64(x)) <= nsr.ZeroThreshold {
						continue
					}
					a.sum[y*d+j] += float64(x)
					a.sq[y*d+j] += float64(x) * float64(x)
					a.cnt[y*d+j]++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, layers)
	for l, a := range accs {
		d := len(a.sum) / c
		// σ_n = Σ over classes of Σ (h − μ_c)² / Σ counts, per neuron n.
		for j := 0; j < d; j++ {
			var dev, cnt float64
			for y := 0; y < c; y++ {
				k := y*d + j
				if a.cnt[k] > 0 {
					dev += a.sq[k] - a.sum[k]*a.sum[k]/a.cnt[k]
					cnt += a.cnt[k]
				}
			}
			if cnt > 0 {
				out[l] += max(dev, 0) / cnt
			}
		}
	}
	return out, nil
}
