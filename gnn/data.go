package gnn

import (
	"errors"
	"fmt"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// ErrData is wrapped by every error that reports inconsistent training data.
var ErrData = errors.New("gnn: invalid data")

// Data is a node-classification problem: a graph, a sparse feature matrix
// with one row per node, labels and the train/validation/test split.
type Data struct {
	Features   *sparse.CSR // nodes × features
	Graph      *graph.Graph
	Labels     []int // one per node; -1 for nodes without a label
	NumClasses int
	Train      []int
	Val        []int
	Test       []int
	// Resplit, if not nil, gives the split for a seed: Train uses it in
	// place of Train, Val and Test, for datasets without an official split.
	Resplit func(seed uint64) (datasets.Split, error)
	// NodeIDs, if not nil, holds the identifiers the files give the nodes
	// of a user's graph (node i is NodeIDs[i]), for reporting predictions.
	NodeIDs []int64
}

// Validate reports whether d is consistent: features and labels cover every
// node, labels lie in [0, NumClasses) and every split node has a label.
func (d *Data) Validate() error {
	if d.Features == nil || d.Graph == nil {
		return fmt.Errorf("%w: features and graph are required", ErrData)
	}
	n := d.Graph.NumNodes()
	if d.Features.Rows != n {
		return fmt.Errorf("%w: %d feature rows for %d nodes", ErrData, d.Features.Rows, n)
	}
	if len(d.Labels) != n {
		return fmt.Errorf("%w: %d labels for %d nodes", ErrData, len(d.Labels), n)
	}
	if d.NumClasses < 2 {
		return fmt.Errorf("%w: %d classes, need at least 2", ErrData, d.NumClasses)
	}
	for i, y := range d.Labels {
		if y < -1 || y >= d.NumClasses {
			return fmt.Errorf("%w: label %d of node %d is outside [0, %d)", ErrData, y, i, d.NumClasses)
		}
	}
	for _, s := range []struct {
		name  string
		nodes []int
	}{{"train", d.Train}, {"validation", d.Val}, {"test", d.Test}} {
		if len(s.nodes) == 0 {
			return fmt.Errorf("%w: the %s split is empty", ErrData, s.name)
		}
		for _, i := range s.nodes {
			if i < 0 || i >= n {
				return fmt.Errorf("%w: %s node %d is outside [0, %d)", ErrData, s.name, i, n)
			}
			if d.Labels[i] < 0 {
				return fmt.Errorf("%w: %s node %d has no label", ErrData, s.name, i)
			}
		}
	}
	return nil
}

// ProtocolConfig returns DefaultConfig with the settings the evaluation
// protocol p fixes for model: layers, hidden width, dropout, learning rate,
// weight decay and epochs (the protocol's per-architecture overrides
// applied). The protocol comes from the dataset's registry entry
// (datasets.Lookup) or from a loaded dataset (NodeDataset.Protocol).
func ProtocolConfig(p datasets.Protocol, model string) Config {
	c := DefaultConfig()
	h := p.For(model)
	c.Model = model
	if h.Layers > 0 {
		c.Layers = h.Layers
	}
	if h.Hidden > 0 {
		c.Hidden = h.Hidden
	}
	if h.Epochs > 0 {
		c.Epochs = h.Epochs
	}
	c.Dropout, c.LR, c.WeightDecay = h.Dropout, h.LR, h.WeightDecay
	return c
}

// Load reads the dataset name from the data root and prepares it under the
// evaluation protocol with FromDataset.
func Load(root, name string) (*Data, error) {
	ds, err := datasets.Load(root, name)
	if err != nil {
		return nil, err
	}
	return FromDataset(ds)
}

// FromDataset prepares a dataset under its evaluation protocol
// (ds.Protocol): the graph as loaded (symmetric, without self-loops), the
// features transformed as the protocol says (L1 row-normalised for
// Planetoid, as stored for the others), and, where the protocol draws a
// split per seed (Amazon's per-class split, WikiCS's file splits), Resplit
// giving it; Train, Val and Test hold the dataset's split.
func FromDataset(ds *datasets.NodeDataset) (*Data, error) {
	if ds.Graph == nil {
		return nil, fmt.Errorf("%w: %s has no graph", ErrData, ds.Name)
	}
	var x *sparse.CSR
	switch {
	case ds.Features != nil:
		x = ds.Protocol.Features.CSR(ds.Features)
	case ds.Dense != nil:
		// TEMPORARY: dense features (OGB's) go through CSR until the layer
		// API takes dense input; remove this conversion then. It costs
		// twice the memory of the dense matrix.
		x = ds.Protocol.Features.Dense(ds.Dense).CSR()
	default:
		return nil, fmt.Errorf("%w: %s has no features", ErrData, ds.Name)
	}
	d := &Data{
		Features: x, Graph: ds.Graph, Labels: ds.Labels, NumClasses: ds.NumClasses,
		Train: ds.Split.Train, Val: ds.Split.Val, Test: ds.Split.Test, NodeIDs: ds.NodeIDs,
	}
	if policy := ds.Protocol.Split; policy.PerSeed() {
		// Only what a split needs: the closure must not keep the features.
		splits := &datasets.NodeDataset{Name: ds.Name, Labels: ds.Labels, NumClasses: ds.NumClasses, Split: ds.Split, Splits: ds.Splits}
		d.Resplit = func(seed uint64) (datasets.Split, error) { return policy.ForSeed(splits, seed) }
	}
	return d, nil
}
