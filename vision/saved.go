package vision

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrModel is wrapped by every error that reports a model file that
// cannot be used, or images it cannot be used on.
var ErrModel = errors.New("vision: bad model")

// modelKind is the kind of the model files this package writes.
const modelKind = "vision"

// Limits of a ModelSpec that LoadModel accepts; real models are far
// below them.
const (
	maxClasses    = 1 << 16
	maxImageSide  = 1024
	maxChannels   = 64
	maxImageSize  = 1 << 22 // channels × height × width
	maxModelWidth = 16
)

// ModelSpec is the architecture of an image model: what it takes to build
// its graph again.
type ModelSpec struct {
	Arch    string `json:"arch"`            // one of Archs or CNNArchs
	Width   int    `json:"width,omitempty"` // convolutional: channel multiplier (0 means 1)
	Input   [3]int `json:"input"`           // channels, height and width of an image
	Classes int    `json:"classes"`
}

// Validate reports the first setting of s that is out of range, or an
// error for images too small for a convolutional architecture.
func (s ModelSpec) Validate() error {
	_, err := s.tensorShapes()
	return err
}

// dim returns the pixel count of one image.
func (s ModelSpec) dim() int { return s.Input[0] * s.Input[1] * s.Input[2] }

// cnnSpec returns s as a CNNSpec.
func (s ModelSpec) cnnSpec() CNNSpec {
	return CNNSpec{Arch: s.Arch, Width: s.Width, Classes: s.Classes, Input: s.Input}
}

// mlpSizes returns the layer widths of an MLP spec: input, hidden...,
// classes.
func (s ModelSpec) mlpSizes() []int {
	hidden, _ := HiddenSizes(s.Arch)
	return append(append([]int{s.dim()}, hidden...), s.Classes)
}

// tensorShapes checks s and returns the names and shapes of its model's
// tensors, in the order of the model's state, without allocating them.
func (s ModelSpec) tensorShapes() ([]modelfile.Tensor, error) {
	cnn := isCNN(s.Arch)
	switch {
	case !cnn && !slices.Contains(Archs(), s.Arch):
		return nil, fmt.Errorf("vision: unknown architecture %q (known: %v and %v)", s.Arch, Archs(), CNNArchs())
	case s.Classes < 2 || s.Classes > maxClasses:
		return nil, fmt.Errorf("vision: %d classes, need 2 to %d", s.Classes, maxClasses)
	case s.Input[0] < 1 || s.Input[0] > maxChannels || s.Input[1] < 1 || s.Input[1] > maxImageSide ||
		s.Input[2] < 1 || s.Input[2] > maxImageSide || s.dim() > maxImageSize:
		return nil, fmt.Errorf("vision: input size %d×%d×%d out of range (channels 1 to %d, sides 1 to %d)",
			s.Input[0], s.Input[1], s.Input[2], maxChannels, maxImageSide)
	case s.Width < 0 || s.Width > maxModelWidth || (!cnn && s.Width > 1):
		return nil, fmt.Errorf("vision: width %d for %s (convolutional architectures: 1 to %d)", s.Width, s.Arch, maxModelWidth)
	}
	var out []modelfile.Tensor
	if !cnn {
		sizes := s.mlpSizes()
		for l := 0; l+1 < len(sizes); l++ {
			out = append(out, modelfile.Tensor{Name: fmt.Sprintf("W%d", l), Shape: []int{sizes[l], sizes[l+1]}},
				modelfile.Tensor{Name: fmt.Sprintf("b%d", l), Shape: []int{1, sizes[l+1]}})
		}
		return out, nil
	}
	c, arch, err := s.cnnSpec().resolve()
	if err != nil {
		return nil, err
	}
	b, err := declare(c, arch)
	if err != nil {
		return nil, err
	}
	for _, p := range b.specs {
		out = append(out, modelfile.Tensor{Name: p.name, Shape: slices.Clone([]int(p.shape))})
	}
	for i, r := range b.running {
		out = append(out, modelfile.Tensor{Name: runningName(i), Shape: slices.Clone([]int(r.Shape()))})
	}
	return out, nil
}

// runningName is the name of the i-th running statistic of a CNN: the
// mean and variance of each batch-norm layer in turn.
func runningName(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("bn%d.running_mean", i/2+1)
	}
	return fmt.Sprintf("bn%d.running_var", i/2+1)
}

// ModelInfo is what a trained image model knows of the data and run it
// came from: the pixel preprocessing, the classes, and what evaluation
// needs to reproduce the run's accuracies (the seed, whose validation
// split Evaluate takes, and the training configuration).
type ModelInfo struct {
	Dataset string `json:"dataset,omitempty"`
	// Normalization is the per-channel mean and standard deviation that
	// convolutional networks subtract from and divide pixels in [0, 1] by
	// (the training images'); nil for MLPs, whose inputs are the pixels in
	// [0, 1].
	Normalization *datasets.Normalization `json:"normalization,omitempty"`
	ClassNames    []string                `json:"class_names,omitempty"`
	nn.RunInfo                            // the seed and the best epoch, whose weights the model holds
	Config        *Config                 `json:"config,omitempty"` // the training configuration
}

// modelHeader is the JSON header of a vision model file.
type modelHeader = modelfile.Header[ModelSpec, ModelInfo]

// Model is an image classifier, an MLP or a convolutional network, with
// its weights: what Train returns (the best validation epoch's) and
// LoadModel reads.
type Model struct {
	Spec ModelSpec
	Info ModelInfo
	mlp  *weights    // MLPs
	cnn  *CNNWeights // convolutional networks
}

// newModel returns a model of s with weights drawn from rng, as training
// draws them. s must be valid.
func newModel(s ModelSpec, rng *rand.Rand) (*Model, error) {
	m := &Model{Spec: s}
	if !isCNN(s.Arch) {
		m.mlp = newWeights(rng, s.mlpSizes(), tensor.Float32)
		return m, nil
	}
	var err error
	m.cnn, err = NewCNNWeights(rng, s.cnnSpec(), tensor.Float32)
	return m, err
}

// tensors returns the model's state tensors, shared: parameters, then for
// convolutional networks the batch-norm running statistics.
func (m *Model) tensors() []*tensor.Dense {
	if m.mlp != nil {
		return m.mlp.tensors
	}
	return append(slices.Clone(m.cnn.Params), m.cnn.Running...)
}

// state returns a copy of the model's state, named as in model files.
func (m *Model) state() []modelfile.Tensor {
	ts := m.tensors()
	out := make([]modelfile.Tensor, len(ts))
	for i, t := range ts {
		out[i] = modelfile.Tensor{Name: m.tensorName(i), Shape: slices.Clone([]int(t.Shape())), Data: slices.Clone(t.Data().([]float32))}
	}
	return out
}

// tensorName returns the name of the i-th state tensor.
func (m *Model) tensorName(i int) string {
	switch {
	case m.mlp != nil && i%2 == 0:
		return fmt.Sprintf("W%d", i/2)
	case m.mlp != nil:
		return fmt.Sprintf("b%d", i/2)
	case i < len(m.cnn.Names):
		return m.cnn.Names[i]
	}
	return runningName(i - len(m.cnn.Names))
}

// restore copies ts, a state of a model of the same spec, into m's
// tensors; names and shapes must match in order.
func (m *Model) restore(ts []modelfile.Tensor) error {
	dst := m.tensors()
	if len(ts) != len(dst) {
		return fmt.Errorf("vision: %d tensors for a %s model of %d", len(ts), m.Spec.Arch, len(dst))
	}
	for i, t := range ts {
		d := dst[i]
		if name := m.tensorName(i); t.Name != name || !slices.Equal(t.Shape, []int(d.Shape())) || len(t.Data) != d.Shape().TotalSize() {
			return fmt.Errorf("vision: tensor %d is %s %v, want %s %v", i, t.Name, t.Shape, name, d.Shape())
		}
	}
	for i, t := range ts {
		copy(dst[i].Data().([]float32), t.Data)
	}
	return nil
}

// withState returns a model of m's spec and info holding a copy of state.
func (m *Model) withState(state []modelfile.Tensor) (*Model, error) {
	c, err := newModel(m.Spec, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	c.Info = m.Info
	return c, c.restore(state)
}

// Save writes m with its Info to path atomically, in the format of
// docs/model-format.md.
func (m *Model) Save(path string) error {
	return modelfile.Save(path, modelKind, modelHeader{Spec: m.Spec, Info: m.Info}, m.state())
}

// LoadModel reads a model saved by Save (or written by training with a
// model path). Errors name the file and wrap ErrModel or
// modelfile.ErrFormat.
func LoadModel(path string) (*Model, error) {
	return modelfile.Load(path, modelKind, buildModel)
}

// buildModel builds the model of a file's header and tensors.
func buildModel(h modelHeader, tensors []modelfile.Tensor) (*Model, error) {
	// The tensors are checked against the spec before the model is built,
	// so that a lying spec cannot make it allocate what the file does not
	// hold.
	want, err := h.Spec.tensorShapes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if len(tensors) != len(want) {
		return nil, fmt.Errorf("%w: %s needs %d tensors, the file holds %d", ErrModel, h.Spec.Arch, len(want), len(tensors))
	}
	for i, t := range tensors {
		if t.Name != want[i].Name || !slices.Equal(t.Shape, want[i].Shape) {
			return nil, fmt.Errorf("%w: tensor %d is %s %v, %s on %v images needs %s %v",
				ErrModel, i, t.Name, t.Shape, h.Spec.Arch, h.Spec.Input, want[i].Name, want[i].Shape)
		}
		for _, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: tensor %s holds a non-finite value", ErrModel, t.Name)
			}
		}
	}
	if err := h.Info.check(h.Spec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	// The initial draws are replaced by the file's weights.
	m, err := newModel(h.Spec, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if err := m.restore(tensors); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	m.Info = h.Info
	return m, nil
}

// check reports info that does not fit a model of s.
func (info *ModelInfo) check(s ModelSpec) error {
	if n := info.Normalization; n != nil {
		if len(n.Mean) != s.Input[0] || len(n.Std) != s.Input[0] {
			return fmt.Errorf("normalization of %d means and %d deviations for %d channels", len(n.Mean), len(n.Std), s.Input[0])
		}
		for c := range n.Mean {
			if m, d := float64(n.Mean[c]), float64(n.Std[c]); math.IsNaN(m) || math.IsInf(m, 0) || !(d > 0) || math.IsInf(d, 0) {
				return fmt.Errorf("normalization of channel %d: mean %v, deviation %v", c, m, d)
			}
		}
	} else if isCNN(s.Arch) {
		return fmt.Errorf("a %s model without its normalization", s.Arch)
	}
	if info.ClassNames != nil && len(info.ClassNames) != s.Classes {
		return fmt.Errorf("%d class names for %d classes", len(info.ClassNames), s.Classes)
	}
	if c := info.Config; c != nil {
		if c.Arch != s.Arch || c.ValSize < 1 || c.EvalBatch < 0 || c.EvalBatch > maxImageSize {
			return fmt.Errorf("training configuration of %s with validation size %d, evaluation batch %d", c.Arch, c.ValSize, c.EvalBatch)
		}
	}
	return nil
}

// Accuracy holds a model's accuracy on the training images (those not
// held out), the validation images and the test images.
type Accuracy struct {
	Train, Val, Test float64
}

// evaluator runs a model's evaluation graph on batches of images.
type evaluator struct {
	m     *Model
	vm    G.VM
	mlp   *network
	cnn   *ConvNet
	aug   *datasets.Augmenter // convolutional networks: the normalisation
	scale [256]float32        // MLPs: pixels to [0, 1]
}

// newEvaluator builds the evaluation graph of m on batches of the given
// size, with the pixel normalisation norm for a convolutional network. Call
// close when done.
func (m *Model) newEvaluator(batch int, norm datasets.Normalization) (*evaluator, error) {
	e := &evaluator{m: m}
	var err error
	if m.mlp != nil {
		if e.mlp, err = build(m.mlp, batch, false, nil); err != nil {
			return nil, err
		}
		e.scale = pixelScale()
		e.vm = autograd.NewTapeMachine(e.mlp.g)
		return e, nil
	}
	if e.cnn, err = BuildCNN(m.cnn, batch, false); err != nil {
		return nil, err
	}
	// Without augmentation nothing is drawn from the generator.
	e.aug = datasets.NewAugmenter(rand.New(rand.NewPCG(0, 0)), datasets.AugmentOptions{Norm: norm})
	e.vm = autograd.NewTapeMachine(e.cnn.Graph)
	return e, nil
}

func (e *evaluator) close() { e.vm.Close() }

// accuracy is the fraction of the images idx of im (all if nil) that the
// model classifies correctly.
func (e *evaluator) accuracy(im *datasets.Images, idx []int) (float64, error) {
	if e.mlp != nil {
		return accuracy(e.mlp, e.vm, im, idx, &e.scale)
	}
	return cnnAccuracy(e.cnn, e.vm, e.aug, im, idx)
}

// checkImages reports images of another shape or class count than m's,
// naming what differs.
func (m *Model) checkImages(what string, im *datasets.Images) error {
	if err := checkImages(what, im); err != nil {
		return err
	}
	if in := [3]int{im.C, im.H, im.W}; in != m.Spec.Input || im.NumClasses != m.Spec.Classes {
		return fmt.Errorf("%w: %s images are %d×%d×%d in %d classes, the model takes %d×%d×%d in %d classes",
			ErrModel, what, im.C, im.H, im.W, im.NumClasses, m.Spec.Input[0], m.Spec.Input[1], m.Spec.Input[2], m.Spec.Classes)
	}
	return nil
}

// Evaluate returns the accuracy of m on data, without augmentation, on the
// validation split of m.Info.Seed and Config.ValSize: for a model saved by
// training on data, exactly the accuracies training reported at the best
// epoch. It needs m.Info.Config, which training records; images of another
// shape or class count are an error wrapping ErrModel.
func (m *Model) Evaluate(data *datasets.ImageDataset) (Accuracy, error) {
	cfg := m.Info.Config
	if cfg == nil {
		return Accuracy{}, fmt.Errorf("%w: the model does not record its training configuration, whose validation split Evaluate needs", ErrModel)
	}
	tr, te := &data.Train, &data.Test
	if err := m.checkImages("training", tr); err != nil {
		return Accuracy{}, err
	}
	if err := m.checkImages("test", te); err != nil {
		return Accuracy{}, err
	}
	if cfg.ValSize >= tr.N {
		return Accuracy{}, fmt.Errorf("%w: %d training images, the model held out %d for validation", ErrModel, tr.N, cfg.ValSize)
	}
	val, train := split(tr.N, cfg.ValSize, m.Info.Seed)
	var norm datasets.Normalization
	if m.Info.Normalization != nil {
		norm = *m.Info.Normalization
	}
	e, err := m.newEvaluator(evalBatchSize(*cfg), norm)
	if err != nil {
		return Accuracy{}, err
	}
	defer e.close()
	var acc Accuracy
	for _, s := range []struct {
		dst *float64
		im  *datasets.Images
		idx []int
	}{{&acc.Train, tr, train}, {&acc.Val, tr, val}, {&acc.Test, te, nil}} {
		if *s.dst, err = e.accuracy(s.im, s.idx); err != nil {
			return Accuracy{}, err
		}
	}
	return acc, nil
}
