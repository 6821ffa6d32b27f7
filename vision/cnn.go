package vision

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// CNNSpec names a convolutional network: an architecture of CNNArchs, a
// channel multiplier, the number of classes and the image shape.
type CNNSpec struct {
	Arch    string // "cnn", "resnet18" or "vgg19"
	Width   int    // every layer has Width times the architecture's channels; 0 means 1
	Classes int    // 0 means 10
	Input   [3]int // channels, height and width of an image; all zero means 3×32×32
}

// archFunc adds an architecture's layers to b on the input x and returns
// the logits.
type archFunc func(b *cnnBuilder, x *G.Node, width, classes int) *G.Node

var cnnArchs = map[string]archFunc{
	"cnn":      smallCNN,
	"resnet18": resNet18,
	"vgg19":    vgg19,
}

// CNNArchs returns the names of the convolutional architectures, sorted:
//
//   - cnn: a small CIFAR network, three stages of 3×3 convolution (32, 64,
//     128 channels, no bias), batch norm, ReLU and 2×2 max-pooling, then a
//     linear layer on the flattened 128×4×4 features;
//   - resnet18: the CIFAR ResNet-18 of github.com/kuangliu/pytorch-cifar, a
//     3×3 stem of 64 channels, BasicBlocks [2, 2, 2, 2] of 64, 128, 256 and
//     512 channels (1×1 stride-2 convolution and batch norm on shortcuts
//     that change the shape), global average pooling, linear to the classes;
//   - vgg19: the CIFAR VGG-19 of the same repository, 3×3 convolutions with
//     bias, batch norm and ReLU in the configuration [64, 64, M, 128, 128, M,
//     256×4, M, 512×4, M, 512×4, M], then a linear layer on the 512 features.
func CNNArchs() []string {
	names := make([]string, 0, len(cnnArchs))
	for n := range cnnArchs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// resolve fills in s's defaults and checks it.
func (s CNNSpec) resolve() (CNNSpec, archFunc, error) {
	arch, ok := cnnArchs[s.Arch]
	if !ok {
		return s, nil, fmt.Errorf("vision: unknown convolutional architecture %q (known: %v)", s.Arch, CNNArchs())
	}
	if s.Width == 0 {
		s.Width = 1
	}
	if s.Classes == 0 {
		s.Classes = 10
	}
	if s.Input == [3]int{} {
		s.Input = [3]int{3, 32, 32}
	}
	if s.Width < 1 || s.Classes < 2 || s.Input[0] < 1 || s.Input[1] < 1 || s.Input[2] < 1 {
		return s, nil, fmt.Errorf("vision: %s: width %d, %d classes, input %v", s.Arch, s.Width, s.Classes, s.Input)
	}
	return s, arch, nil
}

// CNNParamCount returns the number of learnable parameters of the network
// s: weights and biases, and batch norm's γ and β, but not its running
// statistics. For 10 classes, resnet18 has 11,173,962 and vgg19 20,040,522,
// as torch counts them.
func CNNParamCount(s CNNSpec) (int, error) {
	s, arch, err := s.resolve()
	if err != nil {
		return 0, err
	}
	b, err := declare(s, arch)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, p := range b.specs {
		total += p.shape.TotalSize()
	}
	return total, nil
}

// CNNWeights are the parameters and batch-norm running statistics of a
// convolutional network. Graphs built on them with BuildCNN hold the
// tensors themselves, so an optimizer's in-place updates, and a training
// graph's updates of the running statistics, reach every graph.
type CNNWeights struct {
	Spec CNNSpec // resolved: no zero fields
	// Params are the learnable tensors in the order of ConvNet.Params:
	// convolution filters cout×cin×k×k (torch's layout) and biases (cout),
	// batch norm's γ and β (c), linear weights in×out (used as x·W, the
	// transpose of torch's) and biases 1×out.
	Params []*tensor.Dense
	Names  []string // of Params, e.g. "conv3.w", "bn3.gamma", "fc1.b"
	// Running holds the running mean and running variance (c each) of every
	// batch-norm layer in turn: 2·layers tensors.
	Running []*tensor.Dense
	arch    archFunc
}

// NewCNNWeights returns the weights of the network s in dtype dt (float32,
// or float64 for gradient checks), drawn from rng in parameter order:
// convolution filters Kaiming-normal with fan_out (standard deviation
// sqrt(2/(cout·k·k)), as torchvision's ResNet and VGG), convolution biases
// zero, batch norm γ = 1 and β = 0, linear weights and biases uniform in
// ±1/sqrt(in) (torch's default for nn.Linear). Running means start at 0 and
// running variances at 1. It returns an error for an unknown architecture,
// a bad spec, or images too small for the architecture, and panics if rng
// is nil.
func NewCNNWeights(rng *rand.Rand, s CNNSpec, dt tensor.Dtype) (*CNNWeights, error) {
	s, arch, err := s.resolve()
	if err != nil {
		return nil, err
	}
	return newCNNWeights(rng, s, arch, dt)
}

// newCNNWeights is NewCNNWeights for a resolved spec and its architecture.
func newCNNWeights(rng *rand.Rand, s CNNSpec, arch archFunc, dt tensor.Dtype) (*CNNWeights, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("vision: weights of dtype %v, want float32 or float64", dt)
	}
	b, err := declare(s, arch)
	if err != nil {
		return nil, err
	}
	w := &CNNWeights{Spec: s, arch: arch}
	for _, p := range b.specs {
		t := tensor.New(tensor.Of(dt), tensor.WithShape(p.shape...))
		switch d := t.Data().(type) {
		case []float32:
			initParam(rng, d, p)
		case []float64:
			initParam(rng, d, p)
		}
		w.Params = append(w.Params, t)
		w.Names = append(w.Names, p.name)
	}
	for i, r := range b.running {
		t := tensor.New(tensor.Of(dt), tensor.WithShape(r.Shape()...))
		if i%2 == 1 {
			if err := t.Memset(oneOf(dt)); err != nil {
				return nil, fmt.Errorf("vision: %w", err)
			}
		}
		w.Running = append(w.Running, t)
	}
	return w, nil
}

func oneOf(dt tensor.Dtype) any {
	if dt == tensor.Float32 {
		return float32(1)
	}
	return float64(1)
}

// paramKind says how a parameter is initialised.
type paramKind int

const (
	kindConv   paramKind = iota // Kaiming normal, fan_out = fan
	kindZero                    // zeros
	kindOne                     // ones
	kindLinear                  // uniform in ±1/sqrt(fan), fan = fan_in
)

type paramSpec struct {
	name  string
	shape tensor.Shape
	kind  paramKind
	fan   int
}

func initParam[T float32 | float64](rng *rand.Rand, d []T, p paramSpec) {
	switch p.kind {
	case kindConv:
		sd := math.Sqrt(2 / float64(p.fan))
		for i := range d {
			d[i] = T(sd * rng.NormFloat64())
		}
	case kindOne:
		for i := range d {
			d[i] = 1
		}
	case kindLinear:
		a := 1 / math.Sqrt(float64(p.fan))
		for i := range d {
			d[i] = T(a * (2*rng.Float64() - 1))
		}
	}
}

// declare runs the architecture on a graph of one image without values,
// recording the parameters' shapes and making zero running statistics.
func declare(s CNNSpec, arch archFunc) (*cnnBuilder, error) {
	b := &cnnBuilder{g: G.NewGraph(), dt: tensor.Float64, ws: &nn.Workspace{}}
	b.input = G.NewTensor(b.g, b.dt, 4, G.WithShape(1, s.Input[0], s.Input[1], s.Input[2]), G.WithName("x"))
	arch(b, b.input, s.Width, s.Classes)
	if b.err != nil {
		return nil, fmt.Errorf("vision: %s on %v images: %w", s.Arch, s.Input, b.err)
	}
	return b, nil
}

// ConvNet is one gorgonia graph of a convolutional network on a fixed
// batch size: a training graph (batch statistics in batch norm, the
// cross-entropy loss) or an evaluation graph (running statistics, no loss).
// Each run reads the images in X and, for training, the classes in Labels,
// so that one graph serves every batch.
//
// The ops keep their outputs and scratch memory between runs: a graph must
// not be run by two machines at once.
type ConvNet struct {
	Graph  *G.ExprGraph
	X      *tensor.Dense // batch×C×H×W images, written in place before each run
	Labels []int         // training graphs: the batch's classes, read by reference by the loss; nil otherwise
	Params []*G.Node     // the learnable parameters, on the tensors of CNNWeights.Params

	// Layers are outputs that NSR can regularise, with their names: the
	// stages' or residual blocks' outputs (batch×C×H×W, to be flattened
	// with flatten before nsr.Term), the features before the linear layer
	// (batch×d) and last the logits (batch×classes).
	Layers     []*G.Node
	LayerNames []string

	Logits *G.Node
	Loss   *G.Node // training graphs: the mean cross-entropy on Labels
	Cost   *G.Node // training graphs: Loss plus the terms given to Backward

	logits, loss G.Value // read at every run
	update       bool
	backward     bool
}

// BuildCNN returns the graph of the network with weights w on batches of
// the given size, in training mode (with the loss) or evaluation mode.
// A training graph needs Backward before a TapeMachine can train it; a
// LispMachine differentiates Loss without it. BuildCNN returns an error if
// batch < 1, if w's tensors do not fit its spec, or if training batch norm
// would see a single value per channel.
func BuildCNN(w *CNNWeights, batch int, train bool) (*ConvNet, error) {
	if batch < 1 {
		return nil, fmt.Errorf("vision: batch %d, need at least 1", batch)
	}
	if w == nil || w.arch == nil || len(w.Params) == 0 {
		return nil, fmt.Errorf("vision: BuildCNN needs weights made by NewCNNWeights")
	}
	s := w.Spec
	dt := w.Params[0].Dtype()
	net := &ConvNet{Graph: G.NewGraph(), update: true}
	net.X = tensor.New(tensor.Of(dt), tensor.WithShape(batch, s.Input[0], s.Input[1], s.Input[2]))
	b := &cnnBuilder{g: net.Graph, dt: dt, ws: &nn.Workspace{}, w: w, train: train, update: &net.update}
	b.input = G.NewTensor(b.g, dt, 4, G.WithShape(net.X.Shape()...), G.WithName("x"), G.WithValue(net.X))
	logits := w.arch(b, b.input, s.Width, s.Classes)
	switch {
	case b.err != nil:
		return nil, fmt.Errorf("vision: %s: %w", s.Arch, b.err)
	case len(b.params) != len(w.Params) || 2*b.nbn != len(w.Running):
		return nil, fmt.Errorf("vision: %s: weights hold %d parameters and %d running statistics, the network %d and %d",
			s.Arch, len(w.Params), len(w.Running), len(b.params), 2*b.nbn)
	}
	net.Params, net.Logits = b.params, logits
	net.Layers, net.LayerNames = append(b.layers, logits), append(b.names, "logits")
	G.Read(logits, &net.logits)
	if !train {
		return net, nil
	}
	net.Labels = make([]int, batch)
	ce, err := nn.SoftmaxCrossEntropyLabels(logits, net.Labels)
	if err != nil {
		return nil, fmt.Errorf("vision: loss: %w", err)
	}
	G.Read(ce, &net.loss)
	net.Loss, net.Cost = ce, ce
	return net, nil
}

// Backward sets Cost to Loss plus the given scalar terms (NSR penalties,
// say) and adds the gradients of Cost with respect to Params to the graph,
// for a TapeMachine. It returns an error on an evaluation graph, on a second
// call, or if a term does not fit.
func (net *ConvNet) Backward(terms ...*G.Node) error {
	if net.Loss == nil {
		return fmt.Errorf("vision: Backward on an evaluation graph")
	}
	if net.backward {
		return fmt.Errorf("vision: Backward called twice")
	}
	cost := net.Loss
	for i, t := range terms {
		var err error
		if cost, err = G.Add(cost, t); err != nil {
			return fmt.Errorf("vision: cost term %d: %w", i, err)
		}
	}
	if _, err := G.Grad(cost, net.Params...); err != nil {
		return fmt.Errorf("vision: building gradients: %w", err)
	}
	net.Cost, net.backward = cost, true
	return nil
}

// LossValue returns the mean cross-entropy of the last run of a training
// graph, NaN before the first or on an evaluation graph.
func (net *ConvNet) LossValue() float64 { return nn.Scalar(net.loss) }

// LogitsValue returns the logits of the last run (batch×classes), nil
// before the first. On a TapeMachine it is a copy made during the run, which
// later runs overwrite.
func (net *ConvNet) LogitsValue() G.Value { return net.logits }

// SetUpdateRunning says whether the training forward passes update the
// batch-norm running statistics (on by default): off for a pass that is
// not a training step, such as rerunning a batch or a gradient check.
func (net *ConvNet) SetUpdateRunning(on bool) { net.update = on }

// cnnBuilder adds layers to a graph, taking the parameters from w in turn,
// or, with w nil, recording their specs and making running statistics.
// The first error sticks: later calls return nil, so architectures are
// straight-line code.
type cnnBuilder struct {
	g       *G.ExprGraph
	dt      tensor.Dtype
	ws      *nn.Workspace
	w       *CNNWeights
	train   bool
	update  *bool
	input   *G.Node
	specs   []paramSpec
	running []*tensor.Dense
	params  []*G.Node
	nconv   int
	nbn     int
	nfc     int
	layers  []*G.Node
	names   []string
	err     error
}

func (b *cnnBuilder) fail(err error) *G.Node {
	if b.err == nil {
		b.err = err
	}
	return nil
}

func (b *cnnBuilder) param(name string, kind paramKind, fan int, shape ...int) *G.Node {
	if b.err != nil {
		return nil
	}
	i := len(b.params)
	opts := []G.NodeConsOpt{G.WithShape(shape...), G.WithName(name)}
	if b.w == nil {
		b.specs = append(b.specs, paramSpec{name: name, shape: tensor.Shape(shape).Clone(), kind: kind, fan: fan})
	} else {
		if i >= len(b.w.Params) || !b.w.Params[i].Shape().Eq(tensor.Shape(shape)) || b.w.Params[i].Dtype() != b.dt {
			return b.fail(fmt.Errorf("parameter %d (%s, %v) does not match the weights", i, name, shape))
		}
		opts = append(opts, G.WithValue(b.w.Params[i]))
	}
	n := G.NewTensor(b.g, b.dt, len(shape), opts...)
	b.params = append(b.params, n)
	return n
}

func (b *cnnBuilder) check(n *G.Node, err error) *G.Node {
	if err != nil {
		return b.fail(err)
	}
	return n
}

// conv adds a k×k convolution to cout channels with padding (k−1)/2.
func (b *cnnBuilder) conv(x *G.Node, cout, k, stride int, bias bool) *G.Node {
	if b.err != nil {
		return nil
	}
	b.nconv++
	name := fmt.Sprintf("conv%d", b.nconv)
	w := b.param(name+".w", kindConv, cout*k*k, cout, x.Shape()[1], k, k)
	var bn *G.Node
	if bias {
		bn = b.param(name+".b", kindZero, 0, cout)
	}
	if b.err != nil {
		return nil
	}
	return b.check(nn.Conv2D(b.ws, x, w, bn, stride, (k-1)/2, x == b.input))
}

// bn adds batch norm, followed by a ReLU with relu.
func (b *cnnBuilder) bn(x *G.Node, relu bool) *G.Node {
	if b.err != nil {
		return nil
	}
	c := x.Shape()[1]
	b.nbn++
	name := fmt.Sprintf("bn%d", b.nbn)
	gamma := b.param(name+".gamma", kindOne, 0, c)
	beta := b.param(name+".beta", kindZero, 0, c)
	run := &nn.BNRunning{Update: b.update}
	if b.w == nil {
		run.Mean = tensor.New(tensor.Of(b.dt), tensor.WithShape(c))
		run.Variance = tensor.New(tensor.Of(b.dt), tensor.WithShape(c))
		b.running = append(b.running, run.Mean, run.Variance)
	} else if i := 2 * (b.nbn - 1); i+1 < len(b.w.Running) {
		run.Mean, run.Variance = b.w.Running[i], b.w.Running[i+1]
	}
	if b.err != nil {
		return nil
	}
	return b.check(nn.BatchNorm(x, gamma, beta, run, b.train, relu))
}

func (b *cnnBuilder) pool(x *G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	return b.check(nn.MaxPool(x, 2, 2))
}

func (b *cnnBuilder) add(x, y *G.Node, relu bool) *G.Node {
	if b.err != nil {
		return nil
	}
	return b.check(nn.Residual(x, y, relu))
}

func (b *cnnBuilder) gap(x *G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	return b.check(nn.GlobalAvgPool(x))
}

func (b *cnnBuilder) flat(x *G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	return b.check(nn.Flatten(x))
}

// fc adds a linear layer to out units.
func (b *cnnBuilder) fc(x *G.Node, out int) *G.Node {
	if b.err != nil {
		return nil
	}
	in := x.Shape()[1]
	b.nfc++
	name := fmt.Sprintf("fc%d", b.nfc)
	w := b.param(name+".w", kindLinear, in, in, out)
	bias := b.param(name+".b", kindLinear, in, 1, out)
	if b.err != nil {
		return nil
	}
	return b.check(nn.Linear(x, w, bias, false))
}

// layer records x as an output NSR can use.
func (b *cnnBuilder) layer(name string, x *G.Node) {
	if b.err == nil {
		b.layers, b.names = append(b.layers, x), append(b.names, name)
	}
}

func smallCNN(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	h := x
	for i, c := range []int{32, 64, 128} {
		h = b.pool(b.bn(b.conv(h, c*width, 3, 1, false), true))
		b.layer(fmt.Sprintf("stage%d", i+1), h)
	}
	h = b.flat(h)
	b.layer("features", h)
	return b.fc(h, classes)
}

func vgg19(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	const M = 0 // max-pooling
	cfg := []int{64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M}
	h, stage := x, 0
	for _, v := range cfg {
		if v == M {
			h = b.pool(h)
			stage++
			b.layer(fmt.Sprintf("stage%d", stage), h)
			continue
		}
		h = b.bn(b.conv(h, v*width, 3, 1, true), true)
	}
	h = b.flat(h)
	b.layer("features", h)
	return b.fc(h, classes)
}

func resNet18(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	h := b.bn(b.conv(x, 64*width, 3, 1, false), true)
	b.layer("stem", h)
	for stage, planes := range []int{64, 128, 256, 512} {
		for blk := range 2 {
			stride := 1
			if stage > 0 && blk == 0 {
				stride = 2
			}
			h = basicBlock(b, h, planes*width, stride)
			b.layer(fmt.Sprintf("layer%d.%d", stage+1, blk), h)
		}
	}
	h = b.gap(h)
	b.layer("features", h)
	return b.fc(h, classes)
}

// basicBlock is ResNet's relu(bn(conv(relu(bn(conv(x))))) + shortcut(x)),
// the shortcut a 1×1 convolution and batch norm when the shape changes.
func basicBlock(b *cnnBuilder, x *G.Node, planes, stride int) *G.Node {
	if b.err != nil {
		return nil
	}
	out := b.bn(b.conv(x, planes, 3, stride, false), true)
	out = b.bn(b.conv(out, planes, 3, 1, false), false)
	short := x
	if stride != 1 || x.Shape()[1] != planes {
		short = b.bn(b.conv(x, planes, 1, stride, false), false)
	}
	return b.add(out, short, true)
}
