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
	// Name, FeatureTransform (what was applied to the stored features, one
	// of FeatureTransforms) and ClassNames describe the data for saved
	// models; all may be empty.
	Name             string
	FeatureTransform string
	ClassNames       []string
}

// ForSeed returns d with the split of seed (Resplit's, where d has one),
// validated.
func (d *Data) ForSeed(seed uint64) (*Data, error) {
	if d.Resplit != nil {
		split, err := d.Resplit(seed)
		if err != nil {
			return nil, fmt.Errorf("gnn: split for seed %d: %w", seed, err)
		}
		resplit := *d
		resplit.Train, resplit.Val, resplit.Test, resplit.Resplit = split.Train, split.Val, split.Test, nil
		d = &resplit
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
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

// ProtocolOf returns the training settings of a dataset's protocol (its
// registry entry's, datasets.Lookup, or a loaded dataset's) as ConfigFor
// takes them: the protocol's settings for every architecture, and its
// per-architecture overrides (the literature's GAT on PubMed, say). A
// protocol without settings gives none.
func ProtocolOf(p datasets.Protocol) Protocol {
	var out Protocol
	if h := p.Hyper; h.Layers > 0 {
		out.Defaults = Defaults{Layers: h.Layers, Hidden: h.Hidden, Heads: h.Heads, OutHeads: h.OutputHeads, Epochs: h.Epochs,
			Dropout: ptr(h.Dropout), LR: ptr(h.LR), WeightDecay: ptr(h.WeightDecay)}
	}
	for arch, o := range p.Overrides {
		if out.ByArch == nil {
			out.ByArch = map[string]Defaults{}
		}
		out.ByArch[arch] = Defaults{Layers: o.Layers, Hidden: o.Hidden, Heads: o.Heads, OutHeads: o.OutputHeads, Epochs: o.Epochs,
			Dropout: o.Dropout, LR: o.LR, WeightDecay: o.WeightDecay}
	}
	return out
}

// ProtocolFor returns the training settings of the protocol of the
// registry's dataset name (ProtocolOf its entry's); a name the registry does
// not know has none.
func ProtocolFor(name string) Protocol {
	e, err := datasets.Lookup(name)
	if err != nil {
		return Protocol{}
	}
	return ProtocolOf(e.Protocol)
}

// transformName returns the name saved models record (FeatureTransforms)
// for a protocol's feature transform.
func transformName(t datasets.FeatureTransform) (string, error) {
	switch t {
	case datasets.RawFeatures:
		return "", nil
	case datasets.L1RowNormalized:
		return "l1-rows", nil
	}
	return "", fmt.Errorf("%w: feature transform %v has no name in saved models", ErrData, t)
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
	transform, err := transformName(ds.Protocol.Features)
	if err != nil {
		return nil, err
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
		Name: ds.Name, FeatureTransform: transform, ClassNames: ds.ClassNames,
	}
	if policy := ds.Protocol.Split; policy.PerSeed() {
		// Only what a split needs: the closure must not keep the features.
		splits := &datasets.NodeDataset{Name: ds.Name, Labels: ds.Labels, NumClasses: ds.NumClasses, Split: ds.Split, Splits: ds.Splits}
		d.Resplit = func(seed uint64) (datasets.Split, error) { return policy.ForSeed(splits, seed) }
	}
	return d, nil
}
