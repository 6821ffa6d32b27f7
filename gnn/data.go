package gnn

import (
	"errors"
	"fmt"
	"slices"
	"strings"

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

// planetoid names the datasets whose features the protocol L1-normalises,
// trains with 16 hidden units and splits publicly.
var planetoid = []string{"cora", "citeseer", "pubmed"}

// ProtocolHidden returns the evaluation protocol's hidden width for a
// dataset: 16 for the Planetoid datasets (Kipf & Welling), 64 for the others
// (gnn-benchmark; with 16, GCN underfits Amazon Photo).
func ProtocolHidden(name string) int {
	if slices.Contains(planetoid, name) {
		return 16
	}
	return 64
}

// ProtocolFor returns the training protocol of a dataset: its hidden width
// (ProtocolHidden) and, on PubMed, the GAT paper's setup for GAT (8 output
// heads, learning rate 0.01, weight decay 0.001).
func ProtocolFor(name string) Protocol {
	p := Protocol{Defaults: Defaults{Hidden: ProtocolHidden(name)}}
	if name == "pubmed" {
		p.ByArch = map[string]Defaults{"gat": {OutHeads: 8, LR: ptr(0.01), WeightDecay: ptr(0.001)}}
	}
	return p
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

// FromDataset prepares a dataset under the evaluation protocol: the graph
// symmetrised without self-loops; the Planetoid features L1
// row-normalised, the others as stored; the Amazon datasets, which have no
// official split, split anew for every seed (Resplit) as gnn-benchmark does.
func FromDataset(ds *datasets.NodeDataset) (*Data, error) {
	g, err := graph.FromEdges(len(ds.Labels), ds.Edges)
	if err != nil {
		return nil, fmt.Errorf("gnn: %s: %w", ds.Name, err)
	}
	transform := ""
	if slices.Contains(planetoid, ds.Name) {
		transform = "l1-rows"
	}
	x, err := applyTransform(transform, ds.Features)
	if err != nil {
		return nil, err
	}
	d := &Data{
		Features: x, Graph: g, Labels: ds.Labels, NumClasses: ds.NumClasses,
		Train: ds.Split.Train, Val: ds.Split.Val, Test: ds.Split.Test,
		Name: ds.Name, FeatureTransform: transform, ClassNames: ds.ClassNames,
	}
	if strings.HasPrefix(ds.Name, "amazon-") {
		labels, classes := ds.Labels, ds.NumClasses
		d.Resplit = func(seed uint64) (datasets.Split, error) {
			return datasets.RandomSplit(labels, classes, datasets.BenchmarkTrainPerClass, datasets.BenchmarkValPerClass, seed)
		}
	}
	return d, nil
}
