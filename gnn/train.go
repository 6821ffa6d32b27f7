package gnn

import (
	"context"
	"errors"
	"fmt"
	"github.com/gnsr/gnsr/internal/stats"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sampler"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
)

// ErrNaNLoss is wrapped by the error Train returns when the loss stops being
// a finite number.
var ErrNaNLoss = errors.New("gnn: loss is not finite")

// Config holds the architecture and optimisation settings of one run.
// DefaultConfig gives the protocol's values for the Planetoid datasets.
type Config struct {
	Model       string  // architecture, one of Models
	Layers      int     // number of graph convolutions, at least 1
	Hidden      int     // width of every hidden layer
	Dropout     float64 // drop probability on the input and hidden layers, in [0, 1)
	LR          float64 // Adam learning rate
	WeightDecay float64 // L2 penalty added to every gradient (torch's Adam weight_decay)
	Epochs      int
	NoBias      bool
	Seed        uint64 // seeds every random draw of the run
	NSR         NSRConfig
	// BatchSize > 0 trains on neighbour-sampled mini-batches of that many
	// training nodes (GraphSAGE only), sampling Fanouts[l] neighbours at the
	// l-th hop from the batch (-1: all); evaluation stays full batch.
	BatchSize int
	Fanouts   []int
}

// NSRConfig says where Neuron Steadiness Regularization applies. Layer l is
// the output of the l-th graph convolution (after its ReLU for hidden
// layers); negative indices count from the end, so -1 is the logits. NSR is
// off when Lambdas is empty or all zero.
type NSRConfig struct {
	Lambdas   []float64 // one λ per entry of Layers, or one for the auto layer
	Layers    []int     // regularised layers; ignored when Auto is set
	Auto      bool      // pick the layer with the largest aggregated intra-class variance after Warmup epochs
	Warmup    int       // vanilla epochs before the auto choice; 0 means 1
	MaskZeros bool      // leave zero ReLU responses out of the class means and the penalty
	Queue     int       // memory-queue length K for mini-batches
}

// Enabled reports whether c adds any NSR term.
func (c NSRConfig) Enabled() bool { return nsr.Active(c.Lambdas) }

// DefaultConfig returns the evaluation protocol's settings: a 2-layer GCN
// with 16 hidden units, dropout 0.5, Adam with learning rate 0.01 and weight
// decay 5e-4, 200 epochs; NSR off, and when turned on, on the first layer's
// output with zero ReLU responses masked.
func DefaultConfig() Config {
	return Config{
		Model: "gcn", Layers: 2, Hidden: 16, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 200,
		NSR: NSRConfig{Layers: []int{0}, MaskZeros: true, Queue: 5},
	}
}

// Validate reports the first setting of c that is out of range, naming it.
func (c *Config) Validate() error {
	switch {
	case !slices.Contains(Models, c.Model):
		return fmt.Errorf("gnn: unknown model %q (known: %v)", c.Model, Models)
	case c.Layers < 1:
		return fmt.Errorf("gnn: layers = %d, need at least 1", c.Layers)
	case c.Hidden < 1:
		return fmt.Errorf("gnn: hidden = %d, need at least 1", c.Hidden)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("gnn: dropout = %v, need 0 <= dropout < 1", c.Dropout)
	case !(c.LR > 0):
		return fmt.Errorf("gnn: learning rate = %v, need > 0", c.LR)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("gnn: weight decay = %v, need >= 0", c.WeightDecay)
	case c.Epochs < 1:
		return fmt.Errorf("gnn: epochs = %d, need at least 1", c.Epochs)
	}
	if _, err := c.nsrLayers(); err != nil {
		return err
	}
	return c.validateMiniBatch()
}

// nsrLayers resolves the NSR layer indices to [0, Layers), checking them and
// the λ values. With Auto it returns nil: the layer is chosen in training.
func (c *Config) nsrLayers() ([]int, error) {
	n := c.NSR
	for _, l := range n.Lambdas {
		if !(l >= 0) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("gnn: NSR lambda = %v, need a finite value >= 0", l)
		}
	}
	if !n.Enabled() {
		return nil, nil
	}
	if n.Auto {
		if len(n.Lambdas) != 1 {
			return nil, fmt.Errorf("gnn: NSR auto layer takes one lambda, got %d", len(n.Lambdas))
		}
		return nil, nil
	}
	if len(n.Lambdas) != len(n.Layers) {
		return nil, fmt.Errorf("gnn: %d NSR lambdas for %d NSR layers", len(n.Lambdas), len(n.Layers))
	}
	out := make([]int, len(n.Layers))
	for i, l := range n.Layers {
		if l < -c.Layers || l >= c.Layers {
			return nil, fmt.Errorf("gnn: NSR layer %d out of range for %d layers (use 0..%d or -%d..-1)", l, c.Layers, c.Layers-1, c.Layers)
		}
		if l < 0 {
			l += c.Layers
		}
		if slices.Contains(out[:i], l) {
			return nil, fmt.Errorf("gnn: NSR layer %d listed twice", l)
		}
		out[i] = l
	}
	return out, nil
}

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
}

// run is the state of one training run.
type run struct {
	d           *Data
	cfg         Config
	pcg         *rand.PCG // rng's source, kept for checkpoints
	rng         *rand.Rand
	w           *weights
	xTrain      *sparse.Matrix
	adj         *sparse.Matrix
	trainLabels []int
	tr          *network
	vm          G.VM
	opt         *nn.Adam
	mb          *miniBatch // nil in full-batch training
	nsrLayers   []int      // the regularised layers, once known
	nsrLambdas  []float64
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
}

// InterruptedError is the error TrainWith returns when its context is done:
// the run stopped between epochs after Epoch epochs. It wraps the
// context's error.
type InterruptedError struct {
	Seed       uint64
	Epoch      int    // epochs done
	Checkpoint string // the checkpoint written at the stop, "" if none
	Resumable  error  // nil if the checkpoint can be resumed, else why not
	Err        error  // ctx.Err()
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("gnn: interrupted after epoch %d of seed %d: %v", e.Epoch, e.Seed, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

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
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Resplit != nil {
		split, err := d.Resplit(cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("gnn: split for seed %d: %w", cfg.Seed, err)
		}
		resplit := *d
		resplit.Train, resplit.Val, resplit.Test, resplit.Resplit = split.Train, split.Val, split.Test, nil
		d = &resplit
	}
	if err := d.Validate(); err != nil {
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
	layers, _ := cfg.nsrLayers()
	r := newRun(d, cfg)
	ev, err := build(cfg.Model, r.w, sparse.NewMatrix(d.Features), r.adj, d.Graph.NumNodes(), 0, !cfg.NoBias, nil)
	if err != nil {
		return nil, err
	}
	evalVM := G.NewTapeMachine(ev.g)
	defer evalVM.Close()

	res := &Result{Seed: cfg.Seed, ValAcc: -1}
	auto := cfg.NSR.Enabled() && cfg.NSR.Auto
	warmup := max(cfg.NSR.Warmup, 1)
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
		if err := r.w.restore(ck.Weights); err != nil {
			return nil, err
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
		if err := r.restoreOptimizer(ck.Adam); err != nil {
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

		if err := evalVM.RunAll(); err != nil {
			return nil, fmt.Errorf("gnn: epoch %d: evaluation: %w", epoch, err)
		}
		logits := ev.values[len(ev.values)-1].Data().([]float32)
		e.ValAcc = accuracy(logits, d.NumClasses, d.Labels, d.Val)
		e.TestAcc = accuracy(logits, d.NumClasses, d.Labels, d.Test)
		for l, v := range ev.values {
			h := v.Data().([]float32)
			mask := cfg.NSR.MaskZeros && l+1 < len(ev.values)
			e.Variance = append(e.Variance, nsr.Aggregate(nsr.IntraClassVariance(h, len(h)/d.Graph.NumNodes(), d.Train, r.trainLabels, d.NumClasses, mask)))
		}
		evalVM.Reset()
		if e.ValAcc >= res.ValAcc {
			res.ValAcc, res.TestAcc, res.BestEpoch = e.ValAcc, e.TestAcc, epoch
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
	if err := evalVM.RunAll(); err != nil {
		return nil, fmt.Errorf("gnn: final evaluation: %w", err)
	}
	for _, v := range ev.values {
		res.Outputs = append(res.Outputs, slices.Clone(v.Data().([]float32)))
	}
	res.EpochMsMedian = stats.Median(times)
	return res, nil
}

// newRun draws the initial weights of a run and prepares its constant
// inputs. It consumes the rng as a fresh run does, also when the weights
// are then replaced by a checkpoint's.
func newRun(d *Data, cfg Config) *run {
	pcg := rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)
	r := &run{d: d, cfg: cfg, pcg: pcg, rng: rand.New(pcg)}
	sizes := []int{d.Features.Cols}
	for l := 1; l < cfg.Layers; l++ {
		sizes = append(sizes, cfg.Hidden)
	}
	sizes = append(sizes, d.NumClasses)
	r.w = newWeights(r.rng, cfg.Model, sizes, !cfg.NoBias)
	r.adj = sparse.NewMatrix(adjacency(cfg.Model, d.Graph))
	r.xTrain = sparse.NewMatrix(d.Features)
	r.trainLabels = make([]int, len(d.Train))
	for i, v := range d.Train {
		r.trainLabels[i] = d.Labels[v]
	}
	return r
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
// Adam state carries over, so the run continues as one optimisation.
func (r *run) compile() error {
	tr, err := build(r.cfg.Model, r.w, r.xTrain, r.adj, r.d.Graph.NumNodes(), r.cfg.Dropout, !r.cfg.NoBias, &lossSpec{
		rows: r.d.Train, labels: r.trainLabels, classes: r.d.NumClasses,
		nsrLayers: r.nsrLayers, nsrLambdas: r.nsrLambdas, maskZeros: r.cfg.NSR.MaskZeros,
	})
	if err != nil {
		return err
	}
	if _, err := G.Grad(tr.cost, tr.params...); err != nil {
		return fmt.Errorf("gnn: building gradients: %w", err)
	}
	opt := nn.NewAdam(tr.params, r.cfg.LR, r.cfg.WeightDecay)
	if r.opt != nil {
		if err := opt.SetState(r.opt.State()); err != nil {
			return fmt.Errorf("gnn: carrying the optimizer over: %w", err)
		}
		r.vm.Close()
	}
	r.tr, r.opt = tr, opt
	r.vm = G.NewTapeMachine(tr.g, G.BindDualValues(tr.params...))
	return nil
}

// step runs one training step: dropout draws, forward, loss, backward and
// the Adam update.
func (r *run) step(epoch int) (Epoch, error) {
	if r.mb != nil {
		return r.miniBatchStep(epoch)
	}
	start := time.Now()
	if r.cfg.Dropout > 0 {
		r.xTrain.Dropout(r.cfg.Dropout, r.rng.Uint64())
		for _, m := range r.tr.dropouts {
			m.Resample(r.rng)
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
