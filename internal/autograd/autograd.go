package autograd

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fn computes out = fn(inputs) for inputs and output of fixed shapes and
// one float dtype, into a buffer it keeps between runs.
type Fn struct {
	name  string
	dt    tensor.Dtype
	in    []tensor.Shape
	shape tensor.Shape
	fn    func(out *tensor.Dense, in []*tensor.Dense) error
	out   *tensor.Dense
}

// NewFn returns the op named name (with its package, e.g. "nn.Conv2D")
// that computes fn into an output of the given shape from inputs of the
// shapes in. fn must write every element of out, whose contents are those
// of the last run.
func NewFn(name string, dt tensor.Dtype, shape tensor.Shape, fn func(out *tensor.Dense, in []*tensor.Dense) error, in ...tensor.Shape) *Fn {
	return &Fn{name: name, dt: dt, in: in, shape: shape, fn: fn}
}

// Arity returns the number of inputs.
func (op *Fn) Arity() int { return len(op.in) }

// Type returns the op's function type.
func (op *Fn) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.in)+1)
	for _, s := range op.in {
		ts = append(ts, G.TensorType{Dims: s.Dims(), Of: op.dt})
	}
	ts = append(ts, G.TensorType{Dims: op.shape.Dims(), Of: op.dt})
	return hm.NewFnType(ts...)
}

// InferShape returns the output shape fixed at construction.
func (op *Fn) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

// ReturnsPtr reports false: the output is the op's own buffer.
func (op *Fn) ReturnsPtr() bool { return false }

// CallsExtern reports false.
func (op *Fn) CallsExtern() bool { return false }

// OverwritesInput reports -1: no input is overwritten.
func (op *Fn) OverwritesInput() int { return -1 }

// WriteHash writes the op's identity, unique per op value, so that
// gorgonia never merges two ops of one graph.
func (op *Fn) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }

// Hashcode returns the hash of WriteHash.
func (op *Fn) Hashcode() uint32 { return Hash(op) }

func (op *Fn) String() string { return fmt.Sprintf("%s{%p}", op.name, op) }

// Name returns the op's name.
func (op *Fn) Name() string { return op.name }

// OutputBuffer returns the op's output buffer (see Buffered).
func (op *Fn) OutputBuffer() **tensor.Dense { return &op.out }

// InputShapes returns the shapes of the op's inputs.
func (op *Fn) InputShapes() []tensor.Shape {
	out := make([]tensor.Shape, len(op.in))
	for i, s := range op.in {
		out[i] = s.Clone()
	}
	return out
}

// Do checks the inputs' shapes and dtype and runs fn into the op's buffer.
func (op *Fn) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != len(op.in) {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op.name, len(vals), len(op.in))
	}
	in := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, err := DenseDims(v, op.in[i].Dims())
		if err != nil {
			return nil, fmt.Errorf("%s input %d: %w", op.name, i, err)
		}
		if !d.Shape().Eq(op.in[i]) || d.Dtype() != op.dt {
			return nil, fmt.Errorf("%s input %d is %v%v, want %v%v", op.name, i, d.Dtype(), d.Shape(), op.dt, op.in[i])
		}
		in[i] = d
	}
	out := Reuse(&op.out, op.dt, op.shape...)
	if err := op.fn(out, in); err != nil {
		return nil, fmt.Errorf("%s: %w", op.name, err)
	}
	return out, nil
}

// GradStep is one step of a gradient plan: Op applied to the values at
// Args in the list [inputs..., output, incoming gradient, earlier steps...].
type GradStep struct {
	Op   G.Op
	Args []int
}

// Layer is a differentiable Fn. Its plan returns fresh gradient steps
// (with their own buffers) and, for each input, the index of its gradient
// in the list of GradStep, or -1 for none.
type Layer struct {
	*Fn
	plan func() ([]GradStep, []int)

	adSteps []GradStep // DoDiff's own steps, made on first use
	adGrads []int
}

// LayerSpec describes a Layer: a Fn's name, dtype, input shapes, output
// shape and function, and the gradient plan.
type LayerSpec struct {
	Name  string
	Dtype tensor.Dtype
	In    []tensor.Shape
	Shape tensor.Shape
	Fn    func(out *tensor.Dense, in []*tensor.Dense) error
	Plan  func() ([]GradStep, []int)
}

// NewLayer returns the differentiable op s describes. It panics if s has
// no Fn or no Plan.
func NewLayer(s LayerSpec) *Layer {
	if s.Fn == nil || s.Plan == nil {
		panic("autograd: NewLayer of " + s.Name + " without a function or a gradient plan")
	}
	return &Layer{Fn: NewFn(s.Name, s.Dtype, s.Shape, s.Fn, s.In...), plan: s.Plan}
}

// DiffWRT reports which of the n inputs have a gradient.
func (op *Layer) DiffWRT(n int) []bool {
	_, grads := op.plan()
	out := make([]bool, n)
	for i := range out {
		out[i] = i < len(grads) && grads[i] >= 0
	}
	return out
}

// SymDiff returns the gradient nodes of the inputs (nil for none), built
// from a fresh plan.
func (op *Layer) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	steps, grads := op.plan()
	nodes := append(append(G.Nodes{}, in...), out, grad)
	for _, s := range steps {
		args := make(G.Nodes, len(s.Args))
		for i, a := range s.Args {
			args[i] = nodes[a]
		}
		n, err := G.ApplyOp(s.Op, args...)
		if err != nil {
			return nil, fmt.Errorf("%s gradient: %w", op.name, err)
		}
		nodes = append(nodes, n)
	}
	res := make(G.Nodes, len(in))
	for i, g := range grads {
		if g >= 0 {
			res[i] = nodes[g]
		}
	}
	return res, nil
}

// DoDiff computes the gradient plan on values and adds each input's
// gradient into the derivative of its dual value.
func (op *Layer) DoDiff(_ G.ExecutionContext, in G.Nodes, out *G.Node) error {
	if op.adSteps == nil {
		op.adSteps, op.adGrads = op.plan()
	}
	g, err := out.Grad()
	if err != nil {
		return fmt.Errorf("%s: output gradient: %w", op.name, err)
	}
	vals := make([]G.Value, 0, len(in)+2+len(op.adSteps))
	for _, n := range in {
		vals = append(vals, n.Value())
	}
	vals = append(vals, out.Value(), g)
	for _, s := range op.adSteps {
		args := make([]G.Value, len(s.Args))
		for i, a := range s.Args {
			args[i] = vals[a]
		}
		v, err := s.Op.Do(args...)
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	for i, gi := range op.adGrads {
		if gi < 0 {
			continue
		}
		if err := AddGrad(in[i], vals[gi]); err != nil {
			return fmt.Errorf("%s: %w", op.name, err)
		}
	}
	return nil
}

// Apply adds op on the inputs to their graph, naming name (with its
// package) in the error; op checks their shapes and dtype again in Do.
func Apply(op G.Op, name string, in ...*G.Node) (*G.Node, error) {
	out, err := G.ApplyOp(op, in...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// CheckInputs reports whether the nodes are of the float dtype dt with
// the given numbers of dimensions, naming name in the error.
func CheckInputs(name string, dt tensor.Dtype, nodes []*G.Node, dims ...int) error {
	for i, n := range nodes {
		if n.Dtype() != dt {
			return fmt.Errorf("%s: input %d has dtype %v, want %v", name, i, n.Dtype(), dt)
		}
		if n.Shape().Dims() != dims[i] {
			return fmt.Errorf("%s: input %d has shape %v, want %d dimensions", name, i, n.Shape(), dims[i])
		}
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("%s: dtype %v, want float32 or float64", name, dt)
	}
	return nil
}

// Dense returns v as a contiguous float32 or float64 *tensor.Dense. Views
// are materialized, since Data of a view is its whole backing array.
func Dense(v G.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("want *tensor.Dense, got %T", v)
	}
	if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("unsupported dtype %v", dt)
	}
	if d.RequiresIterator() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("cannot materialize a view of shape %v", d.Shape())
		}
		d = m
	}
	return d, nil
}

// DenseDims is Dense for a value that must have dims dimensions.
func DenseDims(v G.Value, dims int) (*tensor.Dense, error) {
	d, err := Dense(v)
	if err != nil {
		return nil, err
	}
	if d.Dims() != dims {
		return nil, fmt.Errorf("value of shape %v, want %d dimensions", d.Shape(), dims)
	}
	return d, nil
}

// GradOf returns the gradient of n that a LispMachine accumulates into
// during DoDiff. Node.Grad returns the dual value's derivative itself, not
// a copy, which is what lets DoDiff work from outside package gorgonia.
func GradOf(n *G.Node) (*tensor.Dense, error) {
	g, err := n.Grad()
	if err != nil {
		return nil, fmt.Errorf("gradient of %v: %w", n, err)
	}
	d, ok := g.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("gradient of %v is %T, want *tensor.Dense", n, g)
	}
	if d.RequiresIterator() {
		return nil, fmt.Errorf("gradient of %v is a view", n)
	}
	return d, nil
}

// AddGrad adds v, of the size and dtype of n's value, into the derivative
// of n's dual value.
func AddGrad(n *G.Node, v G.Value) error {
	d, err := GradOf(n)
	if err != nil {
		return err
	}
	s, err := Dense(v)
	if err != nil {
		return err
	}
	if s.Shape().TotalSize() != d.Shape().TotalSize() || s.Dtype() != d.Dtype() {
		return fmt.Errorf("gradient %v%v does not fit %v%v", s.Dtype(), s.Shape(), d.Dtype(), d.Shape())
	}
	switch dd := d.Data().(type) {
	case []float32:
		AddTo(dd, s.Data().([]float32))
	case []float64:
		AddTo(dd, s.Data().([]float64))
	}
	return nil
}

// AddTo adds src[i] to dst[i] for every i of dst. It panics if src is
// shorter than dst.
func AddTo[T float32 | float64](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// Hash returns the FNV-1a hash of what op's WriteHash writes.
func Hash(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// Reuse returns *p if it is a tensor of dtype dt and the given shape, else
// a new one, which it stores in *p. Its contents are whatever the last run
// left: callers overwrite every element.
func Reuse(p **tensor.Dense, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if *p == nil || !(*p).Shape().Eq(tensor.Shape(shape)) || (*p).Dtype() != dt {
		*p = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return *p
}

// Floats returns d's elements as a []T: what d.Data().([]T) returns,
// without its reflection and two allocations, which the ops of a small
// graph's step would otherwise pay dozens of times. It panics if d is a
// scalar or its dtype is not T's.
func Floats[T float32 | float64](d *tensor.Dense) []T {
	var zero T
	want := tensor.Float64
	if unsafe.Sizeof(zero) == 4 {
		want = tensor.Float32
	}
	if d.Dtype() != want || d.IsScalar() {
		panic(fmt.Sprintf("autograd: Floats: %v tensor of shape %v, want %v", d.Dtype(), d.Shape(), want))
	}
	if want == tensor.Float32 {
		s := d.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
	}
	s := d.Float64s()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// Zero zeroes d on up to GOMAXPROCS goroutines when it is a float tensor
// that is not a view (which d.Zero zeroes, as other tensors): the gradient buffers of ops whose
// output is the size of the graph are zeroed every step, and a serial
// pass over them would be serial time between parallel sections.
func Zero(d *tensor.Dense) {
	switch {
	case d.IsScalar() || d.RequiresIterator():
		d.Zero()
	case d.Dtype() == tensor.Float32:
		zeroFloats(d.Float32s())
	case d.Dtype() == tensor.Float64:
		zeroFloats(d.Float64s())
	default:
		d.Zero()
	}
}

// zeroFloats zeroes s in ranges of at least 8,192 elements.
func zeroFloats[T float32 | float64](s []T) {
	parallel.For(len(s), 1<<13, func(lo, hi int) { clear(s[lo:hi]) })
}

// Reusable returns prealloc as a tensor that can receive an output of the
// given shape and dtype, and reports whether it can: it must not alias any
// of the inputs.
func Reusable(prealloc G.Value, shape tensor.Shape, dt tensor.Dtype, inputs ...*tensor.Dense) (*tensor.Dense, bool) {
	p, ok := prealloc.(*tensor.Dense)
	if !ok || p.Dtype() != dt || !p.Shape().Eq(shape) || p.RequiresIterator() {
		return nil, false
	}
	for _, in := range inputs {
		if in.Uintptr() == p.Uintptr() {
			return nil, false
		}
	}
	return p, true
}

// ScalarOf returns the value of a scalar gorgonia value: *F32, *F64 or a
// one-element tensor (gorgonia passes gradients of scalars as either).
func ScalarOf(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F64:
		return float64(*s), nil
	case *G.F32:
		return float64(*s), nil
	case tensor.Tensor:
		if s.Shape().TotalSize() != 1 {
			return 0, fmt.Errorf("want a scalar, got shape %v", s.Shape())
		}
		switch x := s.Data().(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case []float64:
			return x[0], nil
		case []float32:
			return float64(x[0]), nil
		}
	}
	return 0, fmt.Errorf("want a float scalar, got %T", v)
}

// Scalar is ScalarOf that returns NaN if v is nil or not a float scalar:
// for reading a loss after a run, where NaN then stops training as any
// non-finite loss does.
func Scalar(v G.Value) float64 {
	if v == nil {
		return math.NaN()
	}
	x, err := ScalarOf(v)
	if err != nil {
		return math.NaN()
	}
	return x
}
