package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gnsr/gnsr/gnn"
)

// GNSR trains gnsr's graph networks for the bench under each dataset's
// evaluation protocol, from its registry entry: gnn.ConfigFor the cell's
// architecture under gnn.ProtocolFor the dataset, and the protocol's split
// for each seed (the public split on Planetoid, a datasets.RandomSplit per
// seed on Amazon, the file's split seed mod 20 on WikiCS). It keeps every
// dataset it loads, so create one per bench. The zero GNSR reads from the
// working directory with the protocol's epochs. It is not safe for
// concurrent use.
type GNSR struct {
	root   string
	epochs int
	data   map[string]*gnn.Data
}

// NewGNSR returns a GNSR reading datasets from root. epochs > 0 replaces
// the protocol's 200 epochs (for quick checks; records say how many ran).
func NewGNSR(root string, epochs int) *GNSR {
	return &GNSR{root: root, epochs: epochs, data: map[string]*gnn.Data{}}
}

// Load reads a dataset ahead of the runs, so that a missing file is
// reported before the bench starts rather than hours into it.
func (g *GNSR) Load(dataset string) error {
	_, err := g.load(dataset)
	return err
}

func (g *GNSR) load(dataset string) (*gnn.Data, error) {
	if d, ok := g.data[dataset]; ok {
		return d, nil
	}
	if g.data == nil {
		g.data = map[string]*gnn.Data{}
	}
	d, err := gnn.Load(g.root, dataset)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	g.data[dataset] = d
	return d, nil
}

// split returns the data of dataset with the split of seed.
func (g *GNSR) split(dataset string, seed uint64) (*gnn.Data, error) {
	d, err := g.load(dataset)
	if err != nil {
		return nil, err
	}
	if d.Resplit == nil {
		return d, nil
	}
	// The protocol draws a split per seed; a shallow copy shares the graph
	// and features, which training only reads.
	s, err := d.Resplit(seed)
	if err != nil {
		return nil, fmt.Errorf("bench: %s split of seed %d: %w", dataset, seed, err)
	}
	c := *d
	c.Train, c.Val, c.Test = s.Train, s.Val, s.Test
	return &c, nil
}

// Config returns the protocol's configuration of c with seed, for the
// cell's epochs, depth, sampling and NSR arm where it sets them.
func (g *GNSR) Config(c Cell, seed uint64) gnn.Config {
	cfg, err := gnn.ConfigFor(c.Model, gnn.ProtocolFor(c.Dataset))
	if err != nil {
		// Plans are validated against the registry before they run.
		panic(err)
	}
	cfg.Seed = seed
	switch {
	case c.Epochs > 0:
		cfg.Epochs = c.Epochs
	case g.epochs > 0:
		cfg.Epochs = g.epochs
	}
	if c.Depth > 0 {
		cfg.Layers = c.Depth
	}
	if c.Sampled {
		cfg.BatchSize, cfg.Fanouts = SampledBatch, SampledFanouts(cfg.Layers)
	}
	if c.Variant == NSR {
		cfg.NSR.Lambdas, cfg.NSR.Layers = []float64{c.Lambda}, []int{c.Layer}
		if c.Arm == ArmAuto {
			cfg.NSR.Auto, cfg.NSR.Layers, cfg.NSR.Warmup = true, nil, NSRGNNWarmup
		}
	}
	return cfg
}

// Run is a Runner: it trains c with seed. A loss that stops being finite
// is a result (λ too large), recorded with Error set.
func (g *GNSR) Run(ctx context.Context, c Cell, seed uint64) (Record, error) {
	d, err := g.split(c.Dataset, seed)
	if err != nil {
		return Record{}, err
	}
	return TrainGNN(ctx, d, g.Config(c, seed), nil)
}

// TrainGNN trains cfg on d (gnn.Train, onEpoch called after every epoch
// if not nil) and returns the run's record: its measurements and the
// settings the tables print. A loss that stops being finite is a result
// (λ too large), recorded with Error set.
func TrainGNN(ctx context.Context, d *gnn.Data, cfg gnn.Config, onEpoch func(gnn.Epoch)) (Record, error) {
	r := Record{Hidden: cfg.Hidden, Epochs: cfg.Epochs, Batch: cfg.BatchSize, LR: cfg.LR, WeightDecay: cfg.WeightDecay, Dropout: cfg.Dropout}
	start := time.Now()
	res, err := gnn.Train(ctx, d, cfg, onEpoch)
	r.WallS = time.Since(start).Seconds()
	switch {
	case errors.Is(err, gnn.ErrNaNLoss):
		r.Error = err.Error()
		return r, nil
	case err != nil:
		return Record{}, fmt.Errorf("bench: %w", err)
	}
	r.ValAcc, r.TestAcc, r.BestEpoch, r.EpochMs = res.ValAcc, res.TestAcc, res.BestEpoch, res.EpochMsMedian
	if cfg.NSR.Auto {
		r.NSRLayers, r.NSRChoice = res.NSRLayers, res.NSRChoice
	}
	return r, nil
}
