package nn

import (
	"fmt"
	"hash"

	mm "github.com/gnsr/gnsr/internal/matmul"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The op of this file is a fused dense layer x·W + b (ReLU is nn.BiasReLU), with
// its gradients. It exists because a mini-batch MLP step is dominated by
// its three matrix products per layer: these run on an AVX2/FMA kernel
// (float32) and skip the input gradient of the first layer, which nothing
// reads. Each op keeps its output buffer between runs, so a TapeMachine run
// allocates nothing large; a graph using them must not be run by two
// machines at once. float64 takes a plain Go path, for gradient checks.

// Linear returns x·w + b for x (n×k), w (k×m) and b (1×m), with gradients
// on both gorgonia machines. With noGradX, no gradient is made for x (the
// network input, whose gradient nothing reads).
func Linear(x, w, b *G.Node, noGradX bool) (*G.Node, error) {
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if xs.Dims() != 2 || ws.Dims() != 2 || bs.Dims() != 2 || xs[1] != ws[0] || bs[0] != 1 || bs[1] != ws[1] {
		return nil, fmt.Errorf("nn: Linear: shapes %v, %v, %v do not fit", xs, ws, bs)
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("nn: Linear: dtypes %v, %v, %v differ", x.Dtype(), w.Dtype(), b.Dtype())
	}
	return autograd.Apply(&linearAD{linearOp: &linearOp{noGradX: noGradX, dt: x.Dtype()}}, "nn: Linear", x, w, b)
}

// linearOp is (x, w, b) ↦ x·w + b.
type linearOp struct {
	noGradX bool
	dt      tensor.Dtype
	out     *tensor.Dense
}

func (op *linearOp) Arity() int { return 3 }
func (op *linearOp) Type() hm.Type {
	m := G.TensorType{Dims: 2, Of: op.dt}
	return hm.NewFnType(m, m, m, m)
}
func (op *linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, ok1 := in[0].(tensor.Shape)
	w, ok2 := in[1].(tensor.Shape)
	if !ok1 || !ok2 || len(x) != 2 || len(w) != 2 {
		return nil, fmt.Errorf("nn: linear: bad input shapes %v, %v", in[0], in[1])
	}
	return tensor.Shape{x[0], w[1]}, nil
}
func (op *linearOp) ReturnsPtr() bool      { return false }
func (op *linearOp) CallsExtern() bool     { return false }
func (op *linearOp) OverwritesInput() int  { return -1 }
func (op *linearOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *linearOp) Hashcode() uint32      { return autograd.Hash(op) }
func (op *linearOp) String() string        { return fmt.Sprintf("vision.Linear{%p}", op) }

func (op *linearOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("nn: linear: %d inputs, want 3", len(in))
	}
	x, err := autograd.DenseDims(in[0], 2)
	if err != nil {
		return nil, err
	}
	w, err := autograd.DenseDims(in[1], 2)
	if err != nil {
		return nil, err
	}
	b, err := autograd.DenseDims(in[2], 2)
	if err != nil {
		return nil, err
	}
	n, k, m := x.Shape()[0], x.Shape()[1], w.Shape()[1]
	if w.Shape()[0] != k || b.Shape().TotalSize() != m {
		return nil, fmt.Errorf("nn: linear: shapes %v, %v, %v do not fit", x.Shape(), w.Shape(), b.Shape())
	}
	out := autograd.Reuse(&op.out, op.dt, n, m)
	switch xd := x.Data().(type) {
	case []float32:
		o := out.Data().([]float32)
		broadcastRows(o, b.Data().([]float32), n)
		mm.Gemm(o, xd, w.Data().([]float32), n, k, m, true)
	case []float64:
		o := out.Data().([]float64)
		broadcastRows(o, b.Data().([]float64), n)
		mm.Scalar(o, xd, w.Data().([]float64), 0, n, 0, m, k, m, true)
	default:
		return nil, fmt.Errorf("nn: linear: dtype %v", x.Dtype())
	}
	return out, nil
}

func broadcastRows[T float32 | float64](dst, row []T, n int) {
	for i := 0; i < n; i++ {
		copy(dst[i*len(row):(i+1)*len(row)], row)
	}
}

func (op *linearOp) DiffWRT(int) []bool { return []bool{!op.noGradX, true, true} }

func (op *linearOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	var dx *G.Node
	var err error
	if !op.noGradX {
		if dx, err = G.ApplyOp(&linearGradOp{kind: gradX, dt: op.dt}, grad, in[1]); err != nil {
			return nil, fmt.Errorf("nn: linear gradient: %w", err)
		}
	}
	dw, err := G.ApplyOp(&linearGradOp{kind: gradW, dt: op.dt}, in[0], grad)
	if err != nil {
		return nil, fmt.Errorf("nn: linear gradient: %w", err)
	}
	db, err := G.ApplyOp(&linearGradOp{kind: gradB, dt: op.dt}, grad)
	if err != nil {
		return nil, fmt.Errorf("nn: linear gradient: %w", err)
	}
	return G.Nodes{dx, dw, db}, nil
}

// Gradients computed by linearGradOp.
const (
	gradX = iota // (g, w) ↦ g·wᵀ
	gradW        // (x, g) ↦ xᵀ·g
	gradB        // (g) ↦ column sums of g
)

// linearGradOp computes one gradient of linearOp. The transposes it needs
// go to scratch buffers kept with the op.
type linearGradOp struct {
	kind    int
	dt      tensor.Dtype
	out     *tensor.Dense
	scratch any
}

func (op *linearGradOp) Arity() int {
	if op.kind == gradB {
		return 1
	}
	return 2
}
func (op *linearGradOp) Type() hm.Type {
	m := G.TensorType{Dims: 2, Of: op.dt}
	if op.kind == gradB {
		return hm.NewFnType(m, m)
	}
	return hm.NewFnType(m, m, m)
}
func (op *linearGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	a, ok := in[0].(tensor.Shape)
	if !ok || len(a) != 2 {
		return nil, fmt.Errorf("nn: %v: bad input shape %v", op, in[0])
	}
	switch op.kind {
	case gradB:
		return tensor.Shape{1, a[1]}, nil
	case gradX:
		b, ok := in[1].(tensor.Shape)
		if !ok || len(b) != 2 {
			return nil, fmt.Errorf("nn: %v: bad input shape %v", op, in[1])
		}
		return tensor.Shape{a[0], b[0]}, nil
	}
	b, ok := in[1].(tensor.Shape)
	if !ok || len(b) != 2 {
		return nil, fmt.Errorf("nn: %v: bad input shape %v", op, in[1])
	}
	return tensor.Shape{a[1], b[1]}, nil
}
func (op *linearGradOp) ReturnsPtr() bool      { return false }
func (op *linearGradOp) CallsExtern() bool     { return false }
func (op *linearGradOp) OverwritesInput() int  { return -1 }
func (op *linearGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *linearGradOp) Hashcode() uint32      { return autograd.Hash(op) }
func (op *linearGradOp) String() string {
	return fmt.Sprintf("vision.LinearGrad%d{%p}", op.kind, op)
}

func (op *linearGradOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(in), op.Arity())
	}
	a, err := autograd.DenseDims(in[0], 2)
	if err != nil {
		return nil, err
	}
	var b *tensor.Dense
	if op.kind != gradB {
		if b, err = autograd.DenseDims(in[1], 2); err != nil {
			return nil, err
		}
	}
	switch a.Dtype() {
	case tensor.Float32:
		return linearGrad[float32](op, a, b)
	case tensor.Float64:
		return linearGrad[float64](op, a, b)
	}
	return nil, fmt.Errorf("nn: %v: dtype %v", op, a.Dtype())
}

func linearGrad[T float32 | float64](op *linearGradOp, a, b *tensor.Dense) (G.Value, error) {
	ad := a.Data().([]T)
	r, c := a.Shape()[0], a.Shape()[1]
	if op.kind == gradB {
		out := autograd.Reuse(&op.out, op.dt, 1, c)
		o := out.Data().([]T)
		clear(o)
		for i := 0; i < r; i++ {
			for j, v := range ad[i*c : (i+1)*c] {
				o[j] += v
			}
		}
		return out, nil
	}
	bd := b.Data().([]T)
	br, bc := b.Shape()[0], b.Shape()[1]
	scratch, _ := op.scratch.([]T)
	mul := func(o, x, y []T, n, k, m int) {
		if xs, ok := any(x).([]float32); ok {
			mm.Gemm(any(o).([]float32), xs, any(y).([]float32), n, k, m, false)
			return
		}
		mm.Scalar(o, x, y, 0, n, 0, m, k, m, false)
	}
	switch op.kind {
	case gradX: // g (r×c) · wᵀ, w is br×bc with bc = c
		if bc != c {
			return nil, fmt.Errorf("nn: %v: shapes %v, %v", op, a.Shape(), b.Shape())
		}
		if len(scratch) != br*bc {
			scratch = make([]T, br*bc)
		}
		mm.Transpose(scratch, bd, br, bc) // c×br
		out := autograd.Reuse(&op.out, op.dt, r, br)
		mul(out.Data().([]T), ad, scratch, r, c, br)
		op.scratch = scratch
		return out, nil
	default: // gradW: xᵀ (c×r) · g (r×bc)
		if br != r {
			return nil, fmt.Errorf("nn: %v: shapes %v, %v", op, a.Shape(), b.Shape())
		}
		if xs, ok := any(ad).([]float32); ok {
			out := autograd.Reuse(&op.out, op.dt, c, bc)
			mm.GemmTA(out.Data().([]float32), xs, any(bd).([]float32), c, r, bc, false)
			return out, nil
		}
		if len(scratch) != r*c {
			scratch = make([]T, r*c)
		}
		mm.Transpose(scratch, ad, r, c) // c×r
		out := autograd.Reuse(&op.out, op.dt, c, bc)
		mul(out.Data().([]T), scratch, bd, c, r, bc)
		op.scratch = scratch
		return out, nil
	}
}

// linearAD is linearOp with DoDiff: it computes the gradients with
// linearGradOps of its own and adds them into the inputs' derivatives.
type linearAD struct {
	*linearOp
	ad []*linearGradOp
}

func (op *linearAD) DoDiff(_ G.ExecutionContext, in G.Nodes, out *G.Node) error {
	g, err := out.Grad()
	if err != nil {
		return fmt.Errorf("nn: Linear: output gradient: %w", err)
	}
	if op.ad == nil {
		op.ad = []*linearGradOp{{kind: gradX, dt: op.dt}, {kind: gradW, dt: op.dt}, {kind: gradB, dt: op.dt}}
	}
	args := [][]G.Value{{g, in[1].Value()}, {in[0].Value(), g}, {g}}
	for i, gop := range op.ad {
		if op.noGradX && i == 0 {
			continue
		}
		v, err := gop.Do(args[i]...)
		if err != nil {
			return err
		}
		if err := autograd.AddGrad(in[i], v); err != nil {
			return fmt.Errorf("nn: Linear: %w", err)
		}
	}
	return nil
}
