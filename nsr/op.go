package nsr

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Penalty returns a scalar node holding the NSR penalty P_l of the layer
// output h (an N×d matrix of Float32 or Float64; rows are samples or nodes,
// columns are neurons): the mean over the selected rows' elements of
// (h[i,n] − μ_{y_i}[n])², each sample against the mean of its own class, with
// the class means, rows and labels of est. The node is differentiable with
// respect to h for both gorgonia.Grad with a TapeMachine (symbolic) and a
// LispMachine (automatic); its backward pass writes only the selected rows.
//
// Two Penalty nodes are merged by the graph only if they have the same input
// and the same estimator. A *Queue may serve one node only.
func Penalty(h *G.Node, est Estimator) (*G.Node, error) {
	if h == nil || est == nil {
		return nil, fmt.Errorf("nsr: Penalty needs a layer node and an estimator")
	}
	dt := h.Dtype()
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return nil, fmt.Errorf("nsr: Penalty of a %v layer, need float32 or float64", dt)
	}
	s := h.Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("nsr: Penalty of a layer of shape %v, need a matrix (samples × neurons)", s)
	}
	if err := est.check(s[0], s[1]); err != nil {
		return nil, err
	}
	op := &penaltyOp{est: est, dt: dt, training: true}
	if err := est.attach(op); err != nil {
		return nil, err
	}
	p, err := G.ApplyOp(op, h)
	if err != nil {
		return nil, fmt.Errorf("nsr: %w", err)
	}
	return p, nil
}

// Term returns λ·P, the term that NSR adds to the loss for the layer output
// h: Penalty(h, est) times a constant. λ = 0 still builds (and runs) the
// penalty; leave the term out to skip it.
func Term(h *G.Node, est Estimator, lambda float64) (*G.Node, error) {
	p, err := Penalty(h, est)
	if err != nil {
		return nil, err
	}
	var lam *G.Node
	if p.Dtype() == tensor.Float32 {
		lam = G.NewConstant(float32(lambda))
	} else {
		lam = G.NewConstant(lambda)
	}
	t, err := G.Mul(lam, p)
	if err != nil {
		return nil, fmt.Errorf("nsr: scaling the penalty: %w", err)
	}
	return t, nil
}

// penaltyOp is the forward op h ↦ P. Its identity is that of its estimator:
// the hash includes the estimator's address, so that the graph does not merge
// penalties of the same layer with different labels or rows.
type penaltyOp struct {
	est      Estimator
	dt       tensor.Dtype
	training bool // false in machines made with gorgonia.EvalMode()
}

var (
	_ G.SDOp            = (*penaltyOp)(nil)
	_ G.ADOp            = (*penaltyOp)(nil)
	_ G.TrainModeOp     = (*penaltyOp)(nil)
	_ G.Op              = (*penaltyGradOp)(nil)
	_ G.UsePreallocDoer = (*penaltyGradOp)(nil)
)

func (op *penaltyOp) Arity() int { return 1 }

func (op *penaltyOp) Type() hm.Type {
	return hm.NewFnType(G.TensorType{Dims: 2, Of: op.dt}, op.dt)
}

func (op *penaltyOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *penaltyOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nsr: penalty takes 1 input, got %d", len(inputs))
	}
	h, err := layerOf(inputs[0])
	if err != nil {
		return nil, err
	}
	p, err := op.est.forward(h, op.training)
	if err != nil {
		return nil, err
	}
	if op.dt == tensor.Float32 {
		return G.NewF32(float32(p)), nil
	}
	return G.NewF64(p), nil
}

func (op *penaltyOp) ReturnsPtr() bool     { return false }
func (op *penaltyOp) CallsExtern() bool    { return false }
func (op *penaltyOp) OverwritesInput() int { return -1 }

func (op *penaltyOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "nsr.Penalty{%p}", op.est) }

func (op *penaltyOp) Hashcode() uint32 { return autograd.Hash(op) }

func (op *penaltyOp) String() string { return fmt.Sprintf("NSR{%v}", op.est) }

// SetTraining is called by gorgonia when a machine is made: false under
// gorgonia.EvalMode(), where a Queue must not push.
func (op *penaltyOp) SetTraining(training bool) error { op.training = training; return nil }

func (op *penaltyOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff returns dP/dh·grad. The penalty node itself is an input of the
// gradient op although its value is not read: that orders the gradient after
// the forward pass (where a Queue pushes and caches the means), which the
// upstream gradient alone would not, since d(λP)/dP = λ does not depend on P.
func (op *penaltyOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nsr: penalty takes 1 input, got %d", len(inputs))
	}
	dh, err := G.ApplyOp(&penaltyGradOp{fwd: op}, inputs[0], output, grad)
	if err != nil {
		return nil, fmt.Errorf("nsr: gradient of the penalty: %w", err)
	}
	return G.Nodes{dh}, nil
}

// DoDiff adds dP/dh·(upstream gradient) to h's gradient in place, for the
// LispMachine. Node.Grad exposes the derivative held in the node's dual
// value; it is the same tensor that the machine reads back, so accumulating
// into it is the exported equivalent of what gorgonia's own ops do.
func (op *penaltyOp) DoDiff(_ G.ExecutionContext, inputs G.Nodes, output *G.Node) error {
	if len(inputs) != 1 {
		return fmt.Errorf("nsr: penalty takes 1 input, got %d", len(inputs))
	}
	g, err := output.Grad()
	if err != nil {
		return fmt.Errorf("nsr: upstream gradient of the penalty: %w", err)
	}
	scale, err := autograd.ScalarOf(g)
	if err != nil {
		return err
	}
	dv, err := inputs[0].Grad()
	if err != nil {
		return fmt.Errorf("nsr: gradient of the layer: %w", err)
	}
	dst, ok := dv.(tensor.Tensor)
	if !ok {
		return fmt.Errorf("nsr: gradient of the layer is a %T, not a tensor", dv)
	}
	h, err := layerOf(inputs[0].Value())
	if err != nil {
		return err
	}
	return op.est.backward(h, dst, scale)
}

// penaltyGradOp is (h, P, g) ↦ g·dP/dh: zero except on the selected rows.
// It keeps its output buffer between runs: the TapeMachine drops its
// registers at Reset, and a fresh N×d tensor every step (1.3 MB on PubMed)
// costs more in allocation and GC than the penalty itself.
type penaltyGradOp struct {
	fwd *penaltyOp
	buf *tensor.Dense
}

func (op *penaltyGradOp) Arity() int { return 3 }

func (op *penaltyGradOp) Type() hm.Type {
	m := G.TensorType{Dims: 2, Of: op.fwd.dt}
	return hm.NewFnType(m, op.fwd.dt, op.fwd.dt, m)
}

func (op *penaltyGradOp) InferShape(inputs ...G.DimSizer) (tensor.Shape, error) {
	if len(inputs) < 1 {
		return nil, fmt.Errorf("nsr: penalty gradient needs the layer's shape")
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nsr: penalty gradient: layer shape is a %T", inputs[0])
	}
	return s.Clone(), nil
}

func (op *penaltyGradOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("nsr: penalty gradient takes 3 inputs, got %d", len(inputs))
	}
	t, ok := inputs[0].(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("nsr: penalty gradient: layer is a %T, not a tensor", inputs[0])
	}
	if b := op.buf; b != nil && b.Shape().Eq(t.Shape()) {
		autograd.Zero(b)
		return op.fill(b, inputs)
	}
	op.buf = tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(op.fwd.dt))
	return op.fill(op.buf, inputs)
}

// UsePreallocDo reuses the machine's buffer when it fits (the TapeMachine
// reuses registers between steps), else allocates like Do.
func (op *penaltyGradOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("nsr: penalty gradient takes 3 inputs, got %d", len(inputs))
	}
	dst, ok := prealloc.(*tensor.Dense)
	t, ok2 := inputs[0].(tensor.Tensor)
	if !ok || !ok2 || dst.Dtype() != op.fwd.dt || !dst.Shape().Eq(t.Shape()) || dst.IsView() {
		return op.Do(inputs...)
	}
	autograd.Zero(dst)
	return op.fill(dst, inputs)
}

func (op *penaltyGradOp) fill(dst *tensor.Dense, inputs []G.Value) (G.Value, error) {
	scale, err := autograd.ScalarOf(inputs[2])
	if err != nil {
		return nil, err
	}
	h, err := layerOf(inputs[0])
	if err != nil {
		return nil, err
	}
	if err := op.fwd.est.backward(h, dst, scale); err != nil {
		return nil, err
	}
	return dst, nil
}

func (op *penaltyGradOp) ReturnsPtr() bool     { return false }
func (op *penaltyGradOp) CallsExtern() bool    { return false }
func (op *penaltyGradOp) OverwritesInput() int { return -1 }

func (op *penaltyGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "nsr.PenaltyGrad{%p}", op.fwd.est) }

func (op *penaltyGradOp) Hashcode() uint32 { return autograd.Hash(op) }

func (op *penaltyGradOp) String() string { return fmt.Sprintf("NSRGrad{%v}", op.fwd.est) }

// layerOf views a machine value as an n×d layer without copying.
func layerOf(v G.Value) (layer, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("nsr: layer value is a %T, not a tensor", v)
	}
	s := t.Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("nsr: layer value of shape %v, need a matrix", s)
	}
	if d, ok := t.(*tensor.Dense); ok && d.IsMaterializable() {
		t = d.Materialize() // a strided view; copy once so rows are contiguous
	}
	switch x := t.Data().(type) {
	case []float64:
		return dense[float64]{h: x, n: s[0], d: s[1]}, nil
	case []float32:
		return dense[float32]{h: x, n: s[0], d: s[1]}, nil
	}
	return nil, fmt.Errorf("nsr: layer of %v, need float32 or float64", t.Dtype())
}
