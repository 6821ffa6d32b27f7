package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/vision"
)

// MLPDataset is the dataset of the MLP table, and MLPLayer the layer NSR
// regularises there: the logits, as in the published runs.
const (
	MLPDataset = "mnist"
	MLPLayer   = -1
)

// PublishedMLP is one column of the NSR paper's MNIST table: test error in
// %, mean ± std, under the published protocol (../shared/docs/nsr.md).
type PublishedMLP struct {
	Model               string
	Hidden              []int
	Vanilla, VanillaStd float64
	NSR, NSRStd         float64
	Lambda              float64 // the published λ, on the logits
	Epochs              int     // of the published protocol
}

// PublishedMLPs returns the published MNIST table in the paper's order
// (mlp3, mlp4, mlp6, mlp8, mlp10), as a fresh slice on every call.
func PublishedMLPs() []PublishedMLP {
	p := func(model string, hidden []int, van, vanStd, nsr, nsrStd, lambda float64) PublishedMLP {
		return PublishedMLP{Model: model, Hidden: hidden, Vanilla: van, VanillaStd: vanStd, NSR: nsr, NSRStd: nsrStd, Lambda: lambda, Epochs: 100}
	}
	return []PublishedMLP{
		p("mlp3", []int{100}, 3.09, 0.10, 2.80, 0.08, 0.02475),
		p("mlp4", []int{256, 100}, 2.29, 0.07, 1.64, 0.04, 7.4865),
		p("mlp6", []int{256, 128, 64, 32}, 2.44, 0.09, 1.76, 0.06, 0.0538),
		p("mlp8", []int{256, 128, 64, 32, 32, 16}, 2.87, 0.09, 1.98, 0.09, 0.2542),
		p("mlp10", []int{256, 128, 64, 64, 32, 32, 16, 16}, 3.06, 0.06, 1.72, 0.14, 0.4158),
	}
}

// Published returns the published numbers of model.
func Published(model string) (PublishedMLP, bool) {
	for _, p := range PublishedMLPs() {
		if p.Model == model {
			return p, true
		}
	}
	return PublishedMLP{}, false
}

// MLPModels returns the models of the published table, in its order.
func MLPModels() []string {
	var m []string
	for _, p := range PublishedMLPs() {
		m = append(m, p.Model)
	}
	return m
}

// MLPCells returns the two cells of model at epochs: vanilla, and NSR with
// the published λ on the logits. It panics if model is not in the
// published table (MLPPlan.Validate checks the models first).
func MLPCells(model string, epochs int) (vanilla, nsr Cell) {
	p, ok := Published(model)
	if !ok {
		panic(fmt.Sprintf("bench: no published λ for model %q", model))
	}
	return Cell{Model: model, Dataset: MLPDataset, Variant: Vanilla, Epochs: epochs},
		Cell{Model: model, Dataset: MLPDataset, Variant: NSR, Layer: MLPLayer, Lambda: p.Lambda, Epochs: epochs}
}

// MLPPlan is the MLP table: each model on MNIST, vanilla and NSR with the
// published λ on the logits, on seeds 0..Seeds-1, for Epochs epochs unless
// ModelEpochs names the model (so that one bench runs MLP-4 under the
// published 100 epochs and the others shorter).
type MLPPlan struct {
	Models      []string
	Seeds       int
	Epochs      int
	ModelEpochs map[string]int
}

// Validate reports the first setting of p that cannot be run.
func (p MLPPlan) Validate() error {
	switch {
	case len(p.Models) == 0:
		return errors.New("bench: the plan needs at least one model")
	case p.Seeds < 1:
		return fmt.Errorf("bench: seeds = %d, need at least 1", p.Seeds)
	case p.Epochs < 1:
		return fmt.Errorf("bench: epochs = %d, need at least 1", p.Epochs)
	}
	for i, m := range p.Models {
		if _, ok := Published(m); !ok {
			return fmt.Errorf("bench: unknown MLP %q (known: %v)", m, MLPModels())
		}
		if slices.Contains(p.Models[:i], m) {
			return fmt.Errorf("bench: model %s listed twice", m)
		}
	}
	for m, e := range p.ModelEpochs {
		// A name outside the models is a typo that would otherwise leave
		// the model at the default epochs without a word.
		if !slices.Contains(p.Models, m) {
			return fmt.Errorf("bench: epochs given for %q, which is not among the models %v", m, p.Models)
		}
		if e < 1 {
			return fmt.Errorf("bench: %s: epochs = %d, need at least 1", m, e)
		}
	}
	return nil
}

// EpochsOf returns the epochs of model under p.
func (p MLPPlan) EpochsOf(model string) int {
	if e, ok := p.ModelEpochs[model]; ok {
		return e
	}
	return p.Epochs
}

func (p MLPPlan) record() Plan {
	epochs := map[string]int{}
	for _, m := range p.Models {
		epochs[m] = p.EpochsOf(m)
	}
	return Plan{Models: p.Models, Datasets: []string{MLPDataset}, Seeds: p.Seeds, Layer: MLPLayer, Epochs: epochs}
}

// Todo lists the runs of p that recs do not hold yet, in the order RunMLP
// runs them. p must be valid.
func (p MLPPlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	for _, m := range p.Models {
		van, nsr := MLPCells(m, p.EpochsOf(m))
		for _, c := range []Cell{van, nsr} {
			for s := 0; s < p.Seeds; s++ {
				if !have[gnsrKey(TableMLP, c, uint64(s))] {
					jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: uint64(s)})
				}
			}
		}
	}
	return jobs
}

// Slot is a Planner's: every run is its own slot, in PhaseTune (nothing
// waits for a choice of λ).
func (p MLPPlan) Slot(j Job) (Job, Phase) { return j, PhaseTune }

// RunMLP runs the runs of p that s does not hold yet, appending each record
// to s as it finishes: per model, vanilla on every seed, then NSR. It
// stops at the first error of run or of the store, and when ctx is done;
// what was recorded stays, and a later call carries on from there. With
// opt.Shard it runs the shard's runs only.
func RunMLP(ctx context.Context, s *Store, p MLPPlan, run Runner, opt Options) error {
	if err := p.Validate(); err != nil {
		return err
	}
	d := newDriver(s, TableMLP, p.record(), p, run, opt)
	for _, m := range p.Models {
		van, nsr := MLPCells(m, p.EpochsOf(m))
		for _, c := range []Cell{van, nsr} {
			if err := d.seeds(ctx, c, p.Seeds); err != nil {
				return err
			}
		}
	}
	return nil
}

// MLP trains gnsr's MLPs on MNIST for the bench, under the published
// protocol (vision.DefaultConfig) with the cell's epochs. It keeps MNIST
// once loaded, so create one per bench. It is not safe for concurrent use.
type MLP struct {
	root string
	data *datasets.ImageDataset
}

// NewMLP returns an MLP runner reading MNIST from root.
func NewMLP(root string) *MLP { return &MLP{root: root} }

// Load reads MNIST ahead of the runs, so that a missing file is reported
// before the bench starts.
func (m *MLP) Load() error {
	if m.data != nil {
		return nil
	}
	d, err := datasets.LoadMNIST(m.root)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	m.data = d
	return nil
}

// Config returns the protocol's configuration of c with seed.
func (m *MLP) Config(c Cell, seed uint64) vision.Config {
	cfg := vision.DefaultConfig()
	cfg.Arch, cfg.Seed = c.Model, seed
	if c.Epochs > 0 {
		cfg.Epochs = c.Epochs
	}
	cfg.NSR.Layers, cfg.NSR.Lambdas = nil, nil
	if c.Variant == NSR {
		cfg.NSR.Layers, cfg.NSR.Lambdas = []int{c.Layer}, []float64{c.Lambda}
	}
	return cfg
}

// Run is a Runner: it trains c with seed. A loss that stops being finite
// is a result (λ too large), recorded with Error set.
func (m *MLP) Run(ctx context.Context, c Cell, seed uint64) (Record, error) {
	if c.Dataset != MLPDataset {
		return Record{}, fmt.Errorf("bench: the MLP runner trains on %s, not %s", MLPDataset, c.Dataset)
	}
	if err := m.Load(); err != nil {
		return Record{}, err
	}
	cfg := m.Config(c, seed)
	r := Record{Epochs: cfg.Epochs, Batch: cfg.BatchSize, LR: cfg.Optimizer.LR, WeightDecay: cfg.Optimizer.WeightDecay}
	start := time.Now()
	res, err := vision.Train(ctx, m.data, cfg, nil)
	r.WallS = time.Since(start).Seconds()
	switch {
	case errors.Is(err, vision.ErrNaNLoss):
		r.Error = err.Error()
		return r, nil
	case err != nil:
		return Record{}, fmt.Errorf("bench: %w", err)
	}
	r.ValAcc, r.TestAcc, r.BestEpoch, r.EpochMs = res.ValAcc, res.TestAcc, res.BestEpoch, res.EpochMsMedian
	return r, nil
}
