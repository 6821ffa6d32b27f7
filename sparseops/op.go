package sparseops

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/sparse"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrShape is wrapped by errors that report operands of mismatched shape,
// length or type.
var ErrShape = errors.New("sparseops: shape mismatch")

// Mul returns the node c·h, where h is a Float32 or Float64 matrix node
// with c.CSR().Cols rows. The sparse operand is part of the operation,
// not an input node, so gradients flow to h only: through symbolic
// differentiation (gorgonia.Grad and a TapeMachine) as well as through
// gorgonia's LispMachine. It serves both Â·H (Â a normalised adjacency) and
// X·W (X a sparse feature matrix). The op keeps its output buffer between
// runs, so a graph using it must not be run by two machines at once.
//
// It returns an error wrapping ErrShape if h is not such a matrix.
func Mul(c *sparse.Matrix, h *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkMulOperands("Mul", c, h); err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(&mulOp{c: c}, h)
	if err != nil {
		return nil, fmt.Errorf("sparseops: Mul: %w", err)
	}
	return n, nil
}

// MulAdd returns the node c·h + z, for h as in Mul and z a node of the
// product's shape and dtype. It is gorgonia.Add(z, Mul(c, h)) in one pass
// and bit for bit: each element is z plus the sum of its products, which
// the product's kernels add last. GraphSAGE uses it for
// H·W_root + Â·(H·W_neigh). The gradient of z is the incoming gradient
// itself, that of h is cᵀ times it.
//
// It returns an error wrapping ErrShape if the shapes or dtypes do not fit.
func MulAdd(c *sparse.Matrix, h, z *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkMulOperands("MulAdd", c, h); err != nil {
		return nil, err
	}
	if z == nil || !z.IsMatrix() || z.Dtype() != h.Dtype() || z.Shape()[0] != c.CSR().Rows || z.Shape()[1] != h.Shape()[1] {
		return nil, fmt.Errorf("%w: MulAdd: addend %v does not fit a %d×%d product of %v", ErrShape, z, c.CSR().Rows, h.Shape()[1], h.Dtype())
	}
	n, err := gorgonia.ApplyOp(&mulOp{c: c, add: true}, h, z)
	if err != nil {
		return nil, fmt.Errorf("sparseops: MulAdd: %w", err)
	}
	return n, nil
}

// checkMulOperands checks that h can multiply c from the right.
func checkMulOperands(name string, c *sparse.Matrix, h *gorgonia.Node) error {
	if c == nil || h == nil {
		return fmt.Errorf("sparseops: %s: nil operand", name)
	}
	if !h.IsMatrix() {
		return fmt.Errorf("%w: %s needs a matrix node, got shape %v", ErrShape, name, h.Shape())
	}
	if dt := h.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("%w: %s needs a Float32 or Float64 node, got %v", ErrShape, name, dt)
	}
	if r := h.Shape()[0]; r != c.CSR().Cols {
		return fmt.Errorf("%w: %s of a %d×%d sparse matrix with a node of %d rows", ErrShape, name, c.CSR().Rows, c.CSR().Cols, r)
	}
	return nil
}

// mulOp is the gorgonia operation h ↦ A·h, or h ↦ Aᵀ·h if trans is set,
// with A = c.a; with add, (h, z) ↦ A·h + z. The products are each other's
// gradient. Each op writes into its own buffer (see internal/autograd): a
// product is 3.5 MB on Amazon Computers, and allocating (and zeroing) a
// fresh one per run showed in profiles.
type mulOp struct {
	c     *sparse.Matrix
	trans bool
	add   bool
	out   *tensor.Dense
}

var (
	_ gorgonia.SDOp = (*mulOp)(nil)
	_ gorgonia.ADOp = (*mulOp)(nil)
)

// dims returns the shape of the op's sparse operand, A or Aᵀ, without
// making the transpose.
func (op *mulOp) dims() (rows, cols int) { return op.c.Dims(op.trans) }

func (op *mulOp) Arity() int {
	if op.add {
		return 2
	}
	return 1
}

func (op *mulOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	if op.add {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}

func (op *mulOp) InferShape(ds ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(ds) != op.Arity() {
		return nil, fmt.Errorf("%w: %v takes %d inputs, got %d", ErrShape, op, op.Arity(), len(ds))
	}
	s, ok := ds[0].(tensor.Shape)
	if !ok || s.Dims() != 2 {
		return nil, fmt.Errorf("%w: %v needs a matrix, got %v", ErrShape, op, ds[0])
	}
	rows, cols := op.dims()
	if s[0] != cols {
		return nil, fmt.Errorf("%w: %v applied to %d rows", ErrShape, op, s[0])
	}
	return tensor.Shape{rows, s[1]}, nil
}

// dense returns v as a dense row-major tensor, materialising views
// (transposes and slices) first.
func dense(op *mulOp, v gorgonia.Value) (tensor.Tensor, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("%w: %v needs a tensor, got %T", ErrShape, op, v)
	}
	if v, ok := t.(tensor.View); ok && v.IsMaterializable() {
		t = v.Materialize()
	}
	return t, nil
}

// inputs checks the input values and returns them as dense row-major
// tensors: h, and z (nil without add).
func (op *mulOp) inputs(vals []gorgonia.Value) (h, z tensor.Tensor, err error) {
	if len(vals) != op.Arity() {
		return nil, nil, fmt.Errorf("%w: %v takes %d inputs, got %d", ErrShape, op, op.Arity(), len(vals))
	}
	if h, err = dense(op, vals[0]); err != nil {
		return nil, nil, err
	}
	s := h.Shape()
	rows, cols := op.dims()
	if s.Dims() != 2 || s[0] != cols {
		return nil, nil, fmt.Errorf("%w: %v applied to shape %v", ErrShape, op, s)
	}
	if !op.add {
		return h, nil, nil
	}
	if z, err = dense(op, vals[1]); err != nil {
		return nil, nil, err
	}
	if zs := z.Shape(); zs.Dims() != 2 || zs[0] != rows || zs[1] != s[1] || z.Dtype() != h.Dtype() {
		return nil, nil, fmt.Errorf("%w: %v adds %v%v to a product with %v%v", ErrShape, op, z.Dtype(), zs, h.Dtype(), s)
	}
	return h, z, nil
}

// Do returns the product (plus z), in the op's buffer.
func (op *mulOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	h, z, err := op.inputs(vals)
	if err != nil {
		return nil, err
	}
	rows, _ := op.dims()
	k := h.Shape()[1]
	switch h.Dtype() {
	case tensor.Float32:
		return productInto(op, h.Dtype(), rows, k, floats[float32](h), z), nil
	case tensor.Float64:
		return productInto(op, h.Dtype(), rows, k, floats[float64](h), z), nil
	}
	return nil, fmt.Errorf("%w: %v does not support %v", ErrShape, op, h.Dtype())
}

// productInto computes op's product of x (k columns) into op's buffer,
// adding z if it is not nil, and returns the buffer.
func productInto[T float32 | float64](op *mulOp, dt tensor.Dtype, rows, k int, x []T, z tensor.Tensor) tensor.Tensor {
	out := autograd.Reuse(&op.out, dt, rows, k)
	dst := autograd.Floats[T](out)
	if z != nil {
		copy(dst, floats[T](z))
	}
	sparse.MulInto(op.c, op.trans, dst, x, k, z != nil)
	return out
}

// floats returns t's data, as autograd.Floats does for a *tensor.Dense.
func floats[T float32 | float64](t tensor.Tensor) []T {
	if d, ok := t.(*tensor.Dense); ok {
		return autograd.Floats[T](d)
	}
	return t.Data().([]T)
}

func (op *mulOp) ReturnsPtr() bool     { return false }
func (op *mulOp) CallsExtern() bool    { return false }
func (op *mulOp) OverwritesInput() int { return -1 }

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *mulOp) OutputBuffer() **tensor.Dense { return &op.out }

// InPlaceInput returns 1 (the addend z, which the product copies into its
// output before adding to it) with add, else -1 (see autograd.InPlace).
func (op *mulOp) InPlaceInput() int {
	if op.add {
		return 1
	}
	return -1
}

// WriteHash hashes the identity of the Constant and the direction: gorgonia
// merges nodes with equal op hash and inputs, and two products of different
// sparse matrices with the same node must stay distinct.
func (op *mulOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }

func (op *mulOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *mulOp) String() string {
	rows, cols := op.dims()
	t := ""
	if op.trans {
		t = "ᵀ"
	}
	add := ""
	if op.add {
		add = "Add"
	}
	return fmt.Sprintf("SpMul%s%s(%p, %d×%d)", t, add, op.c, rows, cols)
}

func (op *mulOp) DiffWRT(inputs int) []bool {
	if op.add {
		return []bool{true, true}
	}
	return []bool{true}
}

// SymDiff returns the gradient of h, Aᵀ·grad (or A·grad for the transposed
// operation), and with add that of z, grad itself.
func (op *mulOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("%w: %v takes %d inputs, got %d", ErrShape, op, op.Arity(), len(inputs))
	}
	g, err := gorgonia.ApplyOp(&mulOp{c: op.c, trans: !op.trans}, grad)
	if err != nil {
		return nil, fmt.Errorf("sparseops: %v: gradient: %w", op, err)
	}
	if op.add {
		return gorgonia.Nodes{g, grad}, nil
	}
	return gorgonia.Nodes{g}, nil
}

// DoDiff adds Aᵀ·∂output to the derivative held in h's dual value, and with
// add ∂output to z's, as the LispMachine expects of every ADOp.
func (op *mulOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != op.Arity() {
		return fmt.Errorf("%w: %v takes %d inputs, got %d", ErrShape, op, op.Arity(), len(inputs))
	}
	if op.add {
		if err := addGradient(op, inputs[1], output); err != nil {
			return err
		}
	}
	dOut, err := output.Grad()
	if err != nil {
		return fmt.Errorf("sparseops: %v: output gradient: %w", op, err)
	}
	dIn, err := inputs[0].Grad()
	if err != nil {
		return fmt.Errorf("sparseops: %v: input gradient: %w", op, err)
	}
	g, ok1 := dOut.(tensor.Tensor)
	d, ok2 := dIn.(*tensor.Dense)
	if !ok1 || !ok2 || d.IsView() {
		return fmt.Errorf("%w: %v: gradients %T and %T are not dense tensors", ErrShape, op, dOut, dIn)
	}
	if v, ok := g.(tensor.View); ok && v.IsMaterializable() {
		g = v.Materialize()
	}
	atRows, atCols := op.c.Dims(!op.trans)
	gs, ds := g.Shape(), d.Shape()
	if gs.Dims() != 2 || ds.Dims() != 2 || gs[0] != atCols || ds[0] != atRows || gs[1] != ds[1] {
		return fmt.Errorf("%w: %v: gradient shapes %v and %v", ErrShape, op, gs, ds)
	}
	switch x := g.Data().(type) {
	case []float32:
		if y, ok := d.Data().([]float32); ok {
			sparse.MulInto(op.c, !op.trans, y, x, gs[1], true)
			return nil
		}
	case []float64:
		if y, ok := d.Data().([]float64); ok {
			sparse.MulInto(op.c, !op.trans, y, x, gs[1], true)
			return nil
		}
	}
	return fmt.Errorf("%w: %v: gradients of types %v and %v", ErrShape, op, g.Dtype(), d.Dtype())
}

// addGradient adds output's gradient into z's, which must have its shape.
func addGradient(op *mulOp, z, output *gorgonia.Node) error {
	dOut, err := output.Grad()
	if err != nil {
		return fmt.Errorf("sparseops: %v: output gradient: %w", op, err)
	}
	dz, err := z.Grad()
	if err != nil {
		return fmt.Errorf("sparseops: %v: addend gradient: %w", op, err)
	}
	g, ok1 := dOut.(tensor.Tensor)
	d, ok2 := dz.(*tensor.Dense)
	if !ok1 || !ok2 || d.IsView() || !g.Shape().Eq(d.Shape()) {
		return fmt.Errorf("%w: %v: addend gradient %T does not fit %T", ErrShape, op, dz, dOut)
	}
	if v, ok := g.(tensor.View); ok && v.IsMaterializable() {
		g = v.Materialize()
	}
	switch x := g.Data().(type) {
	case []float32:
		if y, ok := d.Data().([]float32); ok {
			for i, v := range x {
				y[i] += v
			}
			return nil
		}
	case []float64:
		if y, ok := d.Data().([]float64); ok {
			for i, v := range x {
				y[i] += v
			}
			return nil
		}
	}
	return fmt.Errorf("%w: %v: addend gradients of types %v and %v", ErrShape, op, g.Dtype(), d.Dtype())
}
