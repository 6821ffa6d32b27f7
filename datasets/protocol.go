package datasets

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/sparse"
)

// Protocol is the evaluation protocol of a node-classification dataset, as
// data: the preprocessing of its features, its split policy and the
// training settings the literature fixes for it. Every registry entry of a
// node dataset carries one, as PyG pairs a dataset with its transforms; no
// code outside the registry tests a dataset's name to find them.
type Protocol struct {
	// Features is the transform applied to the features before training.
	Features FeatureTransform
	// Split says which split each seed trains and evaluates on.
	Split SplitPolicy
	// Hyper holds the protocol's training settings for every architecture.
	Hyper Hyper
	// Overrides holds, for an architecture (keyed by its registry name,
	// as gnn.Models lists it), the settings where the literature departs
	// from Hyper on this dataset.
	Overrides map[string]Override
	// Source cites where the values come from.
	Source string
}

// For returns the settings of arch under the protocol: Hyper with arch's
// overrides applied.
func (p Protocol) For(arch string) Hyper {
	h := p.Hyper
	o, ok := p.Overrides[arch]
	if !ok {
		return h
	}
	for _, f := range []struct {
		dst *int
		v   int
	}{{&h.Layers, o.Layers}, {&h.Hidden, o.Hidden}, {&h.Epochs, o.Epochs}, {&h.Heads, o.Heads}, {&h.OutputHeads, o.OutputHeads}} {
		if f.v != 0 {
			*f.dst = f.v
		}
	}
	for _, f := range []struct {
		dst *float64
		v   *float64
	}{{&h.Dropout, o.Dropout}, {&h.LR, o.LR}, {&h.WeightDecay, o.WeightDecay}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return h
}

// Hyper holds the training settings a protocol fixes. Zero Heads and
// OutputHeads leave the attention heads to the architecture's default.
type Hyper struct {
	Layers      int     // graph convolutions
	Hidden      int     // width of each hidden layer (per head for attention models)
	Heads       int     // attention heads of the hidden layers
	OutputHeads int     // attention heads of the output layer (averaged)
	Dropout     float64 // on the input and hidden layers
	LR          float64 // Adam learning rate
	WeightDecay float64 // L2 penalty on every parameter
	Epochs      int     // full-batch training epochs
}

// Override holds an architecture's departures from a protocol's Hyper: zero
// integers and nil floats keep the protocol's value.
type Override struct {
	Layers, Hidden, Epochs, Heads, OutputHeads int
	Dropout, LR, WeightDecay                   *float64
}

// FeatureTransform is the preprocessing a protocol applies to a dataset's
// features before training.
type FeatureTransform int

const (
	// RawFeatures leaves the features as stored.
	RawFeatures FeatureTransform = iota
	// L1RowNormalized divides each row by the sum of its absolute values
	// (rows of zeros stay zero), as Kipf & Welling and PyG's
	// NormalizeFeatures do; sums are taken in float64.
	L1RowNormalized
)

// String names the transform.
func (t FeatureTransform) String() string {
	switch t {
	case RawFeatures:
		return "raw"
	case L1RowNormalized:
		return "L1 row-normalised"
	}
	return fmt.Sprintf("FeatureTransform(%d)", int(t))
}

// CSR returns x transformed: x itself for RawFeatures, a new matrix
// otherwise. It panics for an unknown transform.
func (t FeatureTransform) CSR(x *sparse.CSR) *sparse.CSR {
	switch t {
	case RawFeatures:
		return x
	case L1RowNormalized:
		return x.RowNormalizeL1()
	}
	panic("datasets: unknown FeatureTransform")
}

// Dense returns x transformed: x itself for RawFeatures, a new matrix
// otherwise. It panics for an unknown transform.
func (t FeatureTransform) Dense(x *DenseFeatures) *DenseFeatures {
	switch t {
	case RawFeatures:
		return x
	case L1RowNormalized:
		out := &DenseFeatures{Rows: x.Rows, Cols: x.Cols, Data: make([]float32, len(x.Data))}
		for i := range x.Rows {
			row, dst := x.Row(i), out.Row(i)
			var sum float64
			for _, v := range row {
				sum += math.Abs(float64(v))
			}
			for j, v := range row {
				if sum != 0 {
					v = float32(float64(v) / sum)
				}
				dst[j] = v
			}
		}
		return out
	}
	panic("datasets: unknown FeatureTransform")
}

// SplitKind says where a protocol's split comes from.
type SplitKind int

const (
	// FixedSplit is the split the files give (Planetoid's public split, a
	// user graph's split column), the same for every seed.
	FixedSplit SplitKind = iota
	// OfficialSplit is a benchmark's official split, read from its split
	// files (OGB's split/<name>/), the same for every seed.
	OfficialSplit
	// PerClassSplit draws a split per seed with RandomSplit:
	// TrainPerClass and ValPerClass nodes of each class, the rest test.
	PerClassSplit
	// FileSplits picks one of the Count splits the files hold: split
	// seed mod Count (WikiCS's 20).
	FileSplits
)

// SplitPolicy is a protocol's split.
type SplitPolicy struct {
	Kind                       SplitKind
	TrainPerClass, ValPerClass int    // PerClassSplit
	Count                      int    // FileSplits
	Name                       string // OfficialSplit: the split's folder ("time"); FixedSplit: what the split is
}

// PerSeed reports whether the split changes with the seed.
func (p SplitPolicy) PerSeed() bool { return p.Kind == PerClassSplit || p.Kind == FileSplits }

// ForSeed returns the split of ds that seed trains on under p.
func (p SplitPolicy) ForSeed(ds *NodeDataset, seed uint64) (Split, error) {
	switch p.Kind {
	case PerClassSplit:
		return RandomSplit(ds.Labels, ds.NumClasses, p.TrainPerClass, p.ValPerClass, seed)
	case FileSplits:
		if len(ds.Splits) == 0 {
			return Split{}, fmt.Errorf("datasets: %s holds no splits to choose from", ds.Name)
		}
		return ds.Splits[seed%uint64(len(ds.Splits))], nil
	}
	return ds.Split, nil
}

// String describes the policy in a few words.
func (p SplitPolicy) String() string {
	switch p.Kind {
	case FixedSplit:
		if p.Name != "" {
			return fmt.Sprintf("the %s split, the same for every seed", p.Name)
		}
		return "the split of the files, the same for every seed"
	case OfficialSplit:
		return fmt.Sprintf("the official %q split, the same for every seed", p.Name)
	case PerClassSplit:
		return fmt.Sprintf("a new split per seed, %d nodes a class for training, %d a class for validation, the rest for testing (RandomSplit)", p.TrainPerClass, p.ValPerClass)
	case FileSplits:
		return fmt.Sprintf("split seed mod %d of the file's %d training/validation splits, its test mask for testing", p.Count, p.Count)
	}
	return fmt.Sprintf("SplitKind(%d)", int(p.Kind))
}

func f64(v float64) *float64 { return &v }

// The protocols of the registry's families.
var (
	// planetoidProtocol is Kipf & Welling's (ICLR 2017): public split, L1
	// row-normalised features, 2 layers of 16 hidden units, dropout 0.5,
	// Adam at 0.01 with weight decay 5e-4, 200 epochs.
	planetoidProtocol = Protocol{
		Features: L1RowNormalized,
		Split:    SplitPolicy{Kind: FixedSplit, Name: "public Planetoid (20 nodes a class for training, 500 validation, 1,000 test)"},
		Hyper:    Hyper{Layers: 2, Hidden: 16, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 200},
		Source:   "Kipf & Welling, ICLR 2017",
	}
	// amazonProtocol is gnn-benchmark's (Shchur et al., 2018) with the
	// Planetoid training settings and 64 hidden units: with 16, GCN
	// underfits Amazon Photo (docs/protocol.md of the shared folder).
	amazonProtocol = Protocol{
		Features: RawFeatures,
		Split:    SplitPolicy{Kind: PerClassSplit, TrainPerClass: BenchmarkTrainPerClass, ValPerClass: BenchmarkValPerClass},
		Hyper:    Hyper{Layers: 2, Hidden: 64, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 200},
		Source:   "Shchur et al., Pitfalls of GNN Evaluation, 2018",
	}
	// wikicsProtocol is Amazon's training settings on the file's splits.
	wikicsProtocol = Protocol{
		Features: RawFeatures,
		Split:    SplitPolicy{Kind: FileSplits, Count: WikiCSSplits},
		Hyper:    Hyper{Layers: 2, Hidden: 64, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 200},
		Source:   "Mernyei & Cangea, Wiki-CS, 2020",
	}
)

// UserProtocol returns the protocol of graphs read by LoadDir: the split of
// the files, raw features, and Amazon's training settings.
func UserProtocol() Protocol {
	return Protocol{
		Features: RawFeatures,
		Split:    SplitPolicy{Kind: FixedSplit},
		Hyper:    Hyper{Layers: 2, Hidden: 64, Dropout: 0.5, LR: 0.01, WeightDecay: 5e-4, Epochs: 200},
		Source:   "gnsr's defaults for a user's graph",
	}
}

// ogbProtocol is that of OGB's reference full-batch GCN and GraphSAGE
// (examples/nodeproppred/<name>/gnn.py of github.com/snap-stanford/ogb): the
// official split, raw features, 3 layers of 256 hidden units, dropout 0.5,
// Adam at 0.01 without weight decay, for epochs epochs (500 on arxiv, 300
// on products).
func ogbProtocol(split string, epochs int) Protocol {
	return Protocol{
		Features: RawFeatures,
		Split:    SplitPolicy{Kind: OfficialSplit, Name: split},
		Hyper:    Hyper{Layers: 3, Hidden: 256, Dropout: 0.5, LR: 0.01, WeightDecay: 0, Epochs: epochs},
		Source:   "OGB's reference examples, examples/nodeproppred/*/gnn.py",
	}
}
