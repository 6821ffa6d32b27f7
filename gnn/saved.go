package gnn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"math/rand/v2"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparse"
)

// ErrModel is wrapped by every error that reports a model file that
// cannot be used, or data it cannot be used on.
var ErrModel = errors.New("gnn: bad model")

// modelKind is the kind of the model files this package writes.
const modelKind = "gnn"

// ModelInfo is what a trained model knows of the data and run it came
// from: what prediction needs (the feature preprocessing, the classes) and
// what evaluation needs to reproduce the run's test accuracy (the dataset,
// the seed, whose split Evaluate takes).
type ModelInfo struct {
	Dataset          string   `json:"dataset,omitempty"`
	FeatureTransform string   `json:"feature_transform,omitempty"` // applied to raw features (FeatureTransforms)
	ClassNames       []string `json:"class_names,omitempty"`
	nn.RunInfo                // the seed and the best epoch, whose weights the model holds
	Config           *Config  `json:"config,omitempty"` // the training configuration
}

// modelHeader is the JSON header of a GNN model file.
type modelHeader = modelfile.Header[Spec, ModelInfo]

// FeatureTransforms lists the feature prepressings a model may record:
// "" (features as stored) and "l1-rows" (each row divided by its sum of
// absolute values, rows of zeros left alone).
func FeatureTransforms() []string { return []string{"", "l1-rows"} }

// applyTransform returns x preprocessed by the named transform.
func applyTransform(name string, x *sparse.CSR) (*sparse.CSR, error) {
	t, err := transformOf(name)
	if err != nil {
		return nil, err
	}
	return t.CSR(x), nil
}

// transformOf returns the protocol's transform that saved models record as
// name (transformName's inverse).
func transformOf(name string) (datasets.FeatureTransform, error) {
	for _, t := range []datasets.FeatureTransform{datasets.RawFeatures, datasets.L1RowNormalized} {
		if n, err := transformName(t); err == nil && n == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown feature transform %q (known: %q)", ErrModel, name, FeatureTransforms())
}

// DataFor prepares ds for m as FromDataset does, except that the features
// are preprocessed as m's training features were (m.Info.FeatureTransform),
// whatever ds's own protocol says: a model trained on Cora (L1-normalised
// rows) predicts on a user's graph (raw features) and the other way round.
func (m *Model) DataFor(ds *datasets.NodeDataset) (*Data, error) {
	t, err := transformOf(m.Info.FeatureTransform)
	if err != nil {
		return nil, err
	}
	prepared := *ds
	prepared.Protocol.Features = t
	return FromDataset(&prepared)
}

// Save writes m with its Info to path atomically, in the format of
// docs/model-format.md.
func (m *Model) Save(path string) error {
	var ts []modelfile.Tensor
	for _, t := range m.State() {
		ts = append(ts, modelfile.Tensor{Name: t.Name, Shape: slices.Clone([]int(t.Value.Shape())), Data: slices.Clone(t.Value.Data().([]float32))})
	}
	return modelfile.Save(path, modelKind, modelHeader{Spec: m.Spec, Info: m.Info}, ts)
}

// LoadModel reads a model saved by Save (or written by training with a
// model path). The architecture must be a registered one; errors name the
// file and wrap ErrModel or modelfile.ErrFormat.
func LoadModel(path string) (*Model, error) {
	return modelfile.Load(path, modelKind, buildModel)
}

// buildModel builds the model of a file's header and tensors.
func buildModel(h modelHeader, tensors []modelfile.Tensor) (*Model, error) {
	if err := h.Spec.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if !slices.Contains(FeatureTransforms(), h.Info.FeatureTransform) {
		return nil, fmt.Errorf("%w: unknown feature transform %q", ErrModel, h.Info.FeatureTransform)
	}
	// The tensors are checked against the spec before the model is built,
	// so that a lying spec cannot make NewModel allocate what the file
	// does not hold.
	var values int
	for _, t := range tensors {
		values += len(t.Data)
	}
	if need := h.Spec.paramCount(); need < 0 || need > values {
		return nil, fmt.Errorf("%w: the spec needs %d weights, the file holds %d", ErrModel, need, values)
	}
	// The initial draws are replaced by the file's weights.
	m, err := NewModel(h.Spec, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	ts := make([]Tensor, len(tensors))
	for i, t := range tensors {
		ts[i] = Tensor(t)
	}
	if err := m.restore(ts); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	for _, t := range ts {
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: tensor %s holds a non-finite value", ErrModel, t.Name)
			}
		}
	}
	m.Info = h.Info
	return m, nil
}

// paramCount returns a lower bound on the number of values the model of s
// holds (its weight matrices), or -1 if that does not fit an int32:
// computed from the widths alone, before anything is built.
func (s Spec) paramCount() int {
	in, total := float64(s.In), 0.0
	for l := range s.Layers() {
		out, heads, concat := float64(s.Out), float64(max(s.OutHeads, 1)), false
		if l < len(s.Hidden) {
			out, heads, concat = float64(s.Hidden[l]), float64(max(s.Heads, 1)), true
		}
		total += in * out * heads
		if in = out; concat {
			in = out * heads
		}
	}
	if total > math.MaxInt32 {
		return -1
	}
	return int(total)
}

// Prediction is the output of a model on some nodes of a graph.
type Prediction struct {
	Nodes   []int     // the nodes, in the order asked for
	Classes int       // number of classes
	Logits  []float32 // len(Nodes)×Classes, row-major
	Probs   []float32 // the softmax of each row of Logits
	// Embeddings holds the last hidden layer's output of each node,
	// len(Nodes)×EmbeddingWidth; nil for a one-layer model.
	Embeddings     []float32
	EmbeddingWidth int
}

// Class returns the predicted class of the i-th node: the largest logit
// (the first on ties).
func (p *Prediction) Class(i int) int {
	row := p.Logits[i*p.Classes : (i+1)*p.Classes]
	best := 0
	for c, v := range row {
		if v > row[best] {
			best = c
		}
	}
	return best
}

// Predict runs the model on graph g with the raw features x (one row per
// node, before preprocessing: the model applies the transform it was
// trained with), full batch without dropout, and returns its outputs for
// nodes (nil: every node, in order). The graph need not be the one the
// model was trained on: any graph whose features have the model's width
// will do, and no labels are needed. It returns an error wrapping ErrModel
// if the widths or the node counts disagree or a node is out of range.
func (m *Model) Predict(g *graph.Graph, x *sparse.CSR, nodes []int) (*Prediction, error) {
	if x.Rows != g.NumNodes() {
		return nil, fmt.Errorf("%w: %d feature rows for a graph of %d nodes", ErrModel, x.Rows, g.NumNodes())
	}
	xt, err := applyTransform(m.Info.FeatureTransform, x)
	if err != nil {
		return nil, err
	}
	return m.predict(g, xt, nodes)
}

// PredictData is Predict on d, whose features are preprocessed already
// (FromDataset): they must have been preprocessed as the model's were.
func (m *Model) PredictData(d *Data, nodes []int) (*Prediction, error) {
	if d.FeatureTransform != m.Info.FeatureTransform {
		return nil, fmt.Errorf("%w: the data's features were preprocessed with %q, the model's with %q", ErrModel, d.FeatureTransform, m.Info.FeatureTransform)
	}
	return m.predict(d.Graph, d.Features, nodes)
}

// predict is Predict on preprocessed features.
func (m *Model) predict(g *graph.Graph, x *sparse.CSR, nodes []int) (*Prediction, error) {
	if x.Cols != m.Spec.In {
		return nil, fmt.Errorf("%w: the graph has %d features a node, the model was trained on %d", ErrModel, x.Cols, m.Spec.In)
	}
	n := g.NumNodes()
	if nodes == nil {
		nodes = make([]int, n)
		for i := range nodes {
			nodes[i] = i
		}
	}
	for _, v := range nodes {
		if v < 0 || v >= n {
			return nil, fmt.Errorf("%w: node %d outside [0, %d)", ErrModel, v, n)
		}
	}
	var only []int
	if len(nodes) < n {
		only = nodes
	}
	outs, err := m.evaluate(g, x, only)
	if err != nil {
		return nil, err
	}
	c := m.Spec.Out
	p := &Prediction{Nodes: slices.Clone(nodes), Classes: c,
		Logits: make([]float32, len(nodes)*c), Probs: make([]float32, len(nodes)*c)}
	logits := outs[len(outs)-1]
	for r, v := range nodes {
		row := logits[v*c : (v+1)*c]
		copy(p.Logits[r*c:], row)
		softmax(p.Probs[r*c:(r+1)*c], row)
	}
	if len(outs) > 1 {
		h := outs[len(outs)-2]
		w := len(h) / n
		p.EmbeddingWidth, p.Embeddings = w, make([]float32, len(nodes)*w)
		for r, v := range nodes {
			copy(p.Embeddings[r*w:], h[v*w:(v+1)*w])
		}
	}
	return p, nil
}

// softmax sets dst to the softmax of row, computed in float64.
func softmax(dst, row []float32) {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - mx)
	}
	for i, v := range row {
		dst[i] = float32(math.Exp(float64(v)-mx) / sum)
	}
}

// evaluate runs the evaluation network of m on g with the preprocessed
// features x and returns each layer's output. With nodes not nil, only the
// rows that the logits of nodes depend on are computed, where m's layers
// are local and without batch norm (see receptiveFields) and those rows
// are at most half the graph, the others being zero: for a few nodes of a
// big graph. Otherwise, where m's layers are local, layer by layer in row
// blocks (evaluateRows), the same numbers with a block's buffers instead
// of the whole graph's.
func (m *Model) evaluate(g *graph.Graph, x *sparse.CSR, nodes []int) ([][]float32, error) {
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("%w: features: %w", ErrModel, err)
	}
	xm, blocks := sparse.NewMatrix(x), sameBlocks(FullBlock(g), len(m.Layers))
	if nodes != nil && m.local && !m.Spec.BatchNorm {
		// A field of more than half the graph is computed in row blocks
		// instead: nearly the same work, and a block's buffers rather than
		// the whole graph's.
		if fields := receptiveFields(g, nodes, len(m.Layers)); fields != nil && 2*len(fields[len(fields)-1]) <= g.NumNodes() {
			xm.RestrictRows(fields[len(fields)-1], nil)
			return m.evaluateNetwork(xm, restrictedBlocks(blocks[0], fields))
		}
	}
	if m.local {
		return m.evaluateRows(g, blocks[0], xm, evalBlockRows)
	}
	return m.evaluateNetwork(xm, blocks)
}

// evaluateNetwork runs the evaluation network of m on the features xm over
// blocks and returns each layer's output.
func (m *Model) evaluateNetwork(xm *sparse.Matrix, blocks []*Block) ([][]float32, error) {
	net, err := buildNetwork(m, sparseInput(xm), blocks, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := net.plan(new(autograd.Pool)); err != nil {
		return nil, err
	}
	vm := autograd.NewTapeMachine(net.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("gnn: evaluation: %w", err)
	}
	outs := make([][]float32, len(net.outputs))
	for i := range outs {
		outs[i] = net.output(i)
	}
	return outs, nil
}

// Evaluate returns the accuracy of m on d, full batch without dropout, on
// the split of m.Info.Seed (d.Resplit's, where d has one): for a model
// saved by training on d, exactly the accuracies training reported at the
// best epoch. d's features are preprocessed already (FromDataset).
func (m *Model) Evaluate(d *Data) (Accuracy, error) {
	d, err := d.ForSeed(m.Info.Seed)
	if err != nil {
		return Accuracy{}, err
	}
	if d.NumClasses != m.Spec.Out {
		return Accuracy{}, fmt.Errorf("%w: the data has %d classes, the model %d", ErrModel, d.NumClasses, m.Spec.Out)
	}
	if d.Features.Cols != m.Spec.In {
		return Accuracy{}, fmt.Errorf("%w: the graph has %d features a node, the model was trained on %d", ErrModel, d.Features.Cols, m.Spec.In)
	}
	outs, err := m.evaluate(d.Graph, d.Features, nil)
	if err != nil {
		return Accuracy{}, err
	}
	logits := outs[len(outs)-1]
	return Accuracy{
		Train: accuracy(logits, d.NumClasses, d.Labels, d.Train),
		Val:   accuracy(logits, d.NumClasses, d.Labels, d.Val),
		Test:  accuracy(logits, d.NumClasses, d.Labels, d.Test),
	}, nil
}
