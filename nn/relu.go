package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minParallelElems is the least number of elements an elementwise pass
// hands to a goroutine: below it, waking one costs more than it saves.
const minParallelElems = 1 << 15

// BiasReLU returns max(z + b, 0), with the 1×m row b added to every row of
// the n×m matrix z; with b nil, max(z, 0). Its gradient passes the incoming
// gradient where the output is positive and zeroes it elsewhere, as torch's
// relu; b's gradient is the column sums of that, summed in row order.
//
// It fuses gorgonia's BroadcastAdd and Rectify, which materialise the
// repeated bias and, on the way back, a 0/1 mask and a product: on a GCN
// hidden layer of Amazon Computers (13,752×64) those passes ran on one core
// and allocated a fresh 3.5 MB tensor each. BiasReLU's passes split rows
// over goroutines and write into buffers the op keeps between runs, so a
// graph using it must not be run by two machines at once.
//
// BiasReLU returns an error if the shapes or dtypes do not fit.
func BiasReLU(z, b *gorgonia.Node) (*gorgonia.Node, error) {
	nodes := []*gorgonia.Node{z}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkMatrices("BiasReLU", nodes...); err != nil {
		return nil, err
	}
	if b != nil && (b.Shape()[0] != 1 || b.Shape()[1] != z.Shape()[1]) {
		return nil, fmt.Errorf("nn: BiasReLU: bias shape %v does not fit %v", b.Shape(), z.Shape())
	}
	out, err := gorgonia.ApplyOp(&biasReLUOp{bias: b != nil}, nodes...)
	if err != nil {
		return nil, fmt.Errorf("nn: BiasReLU: %w", err)
	}
	return out, nil
}

// biasReLUOp is (z[, b]) ↦ max(z + b, 0). Each op owns its output buffer,
// reused by every run of the graph (a gorgonia.Read copies out of it).
type biasReLUOp struct {
	bias bool
	out  *tensor.Dense
}

// reluGradOp is (y, g) ↦ g where y > 0, else 0: the gradient of a ReLU
// computed from its output y.
type reluGradOp struct{ out *tensor.Dense }

var (
	_ gorgonia.SDOp = (*biasReLUOp)(nil)
	_ gorgonia.ADOp = (*biasReLUOp)(nil)
)

func (op *biasReLUOp) Arity() int {
	if op.bias {
		return 2
	}
	return 1
}

func (op *biasReLUOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	if op.bias {
		return hm.NewFnType(m, m, m)
	}
	return hm.NewFnType(m, m)
}

func (op *biasReLUOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	return matrixShape(op, inputs)
}

func (op *biasReLUOp) ReturnsPtr() bool     { return false }
func (op *biasReLUOp) CallsExtern() bool    { return false }
func (op *biasReLUOp) OverwritesInput() int { return -1 }

// WriteHash includes the op's address: two BiasReLUs of the same inputs
// must not be merged, since each owns its buffer.
func (op *biasReLUOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *biasReLUOp) Hashcode() uint32      { return hashOf(op) }
func (op *biasReLUOp) String() string        { return fmt.Sprintf("nn.BiasReLU{%t, %p}", op.bias, op) }

func (op *biasReLUOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	z, err := denseOf(inputs[0])
	if err != nil {
		return nil, err
	}
	rows, cols := z.Shape()[0], z.Shape()[1]
	var b *tensor.Dense
	if op.bias {
		if b, err = denseOf(inputs[1]); err != nil {
			return nil, err
		}
		if b.Dtype() != z.Dtype() || b.Shape().TotalSize() != cols {
			return nil, fmt.Errorf("nn: BiasReLU: bias %v%v does not fit %v%v", b.Dtype(), b.Shape(), z.Dtype(), z.Shape())
		}
	}
	out := ownBuffer(&op.out, z.Dtype(), rows, cols)
	switch d := z.Data().(type) {
	case []float32:
		biasReLU(out.Data().([]float32), d, rowOf[float32](b), rows, cols)
	case []float64:
		biasReLU(out.Data().([]float64), d, rowOf[float64](b), rows, cols)
	}
	return out, nil
}

// rowOf returns b's data, or nil for no bias.
func rowOf[T float32 | float64](b *tensor.Dense) []T {
	if b == nil {
		return nil
	}
	return b.Data().([]T)
}

// biasReLU sets dst = max(z + b, 0) row by row (b nil: no bias).
func biasReLU[T float32 | float64](dst, z, b []T, rows, cols int) {
	parallel.For(rows, minParallelElems/max(cols, 1), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, r := dst[i*cols:(i+1)*cols], z[i*cols:(i+1)*cols]
			if b == nil {
				for j, v := range r {
					o[j] = max(v, 0)
				}
				continue
			}
			for j, v := range b {
				o[j] = max(r[j]+v, 0)
			}
		}
	})
}

func (op *biasReLUOp) DiffWRT(int) []bool {
	if op.bias {
		return []bool{true, true}
	}
	return []bool{true}
}

func (op *biasReLUOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	dz, err := gorgonia.ApplyOp(&reluGradOp{}, output, grad)
	if err != nil {
		return nil, fmt.Errorf("nn: BiasReLU gradient: %w", err)
	}
	if !op.bias {
		return gorgonia.Nodes{dz}, nil
	}
	db, err := gorgonia.ApplyOp(biasOp{colSum: true}, dz)
	if err != nil {
		return nil, fmt.Errorf("nn: BiasReLU bias gradient: %w", err)
	}
	return gorgonia.Nodes{dz, db}, nil
}

// DoDiff adds the gradient where the output is positive into z's gradient
// and its column sums into b's.
func (op *biasReLUOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != op.Arity() {
		return fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	g, err := gradOf(output)
	if err != nil {
		return err
	}
	y, err := denseOf(output.Value())
	if err != nil {
		return err
	}
	dz, err := gradOf(inputs[0])
	if err != nil {
		return err
	}
	if !dz.Shape().Eq(g.Shape()) || !y.Shape().Eq(g.Shape()) || dz.Dtype() != g.Dtype() {
		return fmt.Errorf("nn: BiasReLU: gradient shapes %v, %v do not match %v", g.Shape(), dz.Shape(), y.Shape())
	}
	rows, cols := g.Shape()[0], g.Shape()[1]
	masked := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(rows, cols))
	switch gd := g.Data().(type) {
	case []float32:
		reluGrad(masked.Data().([]float32), y.Data().([]float32), gd)
		addInto(dz.Data().([]float32), masked.Data().([]float32))
	case []float64:
		reluGrad(masked.Data().([]float64), y.Data().([]float64), gd)
		addInto(dz.Data().([]float64), masked.Data().([]float64))
	}
	if !op.bias {
		return nil
	}
	db, err := gradOf(inputs[1])
	if err != nil {
		return err
	}
	if db.Shape().TotalSize() != cols || db.Dtype() != g.Dtype() {
		return fmt.Errorf("nn: BiasReLU: bias gradient shape %v does not fit %v", db.Shape(), g.Shape())
	}
	switch m := masked.Data().(type) {
	case []float32:
		columnSums(db.Data().([]float32), m, rows, cols)
	case []float64:
		columnSums(db.Data().([]float64), m, rows, cols)
	}
	return nil
}

// reluGrad sets dst = g where y > 0, else 0.
func reluGrad[T float32 | float64](dst, y, g []T) {
	parallel.For(len(dst), minParallelElems, func(lo, hi int) {
		for i, v := range y[lo:hi] {
			if v > 0 {
				dst[lo+i] = g[lo+i]
			} else {
				dst[lo+i] = 0
			}
		}
	})
}

func (op *reluGradOp) Arity() int { return 2 }

func (op *reluGradOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(m, m, m)
}

func (op *reluGradOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	return matrixShape(op, inputs)
}

func (op *reluGradOp) ReturnsPtr() bool      { return false }
func (op *reluGradOp) CallsExtern() bool     { return false }
func (op *reluGradOp) OverwritesInput() int  { return -1 }
func (op *reluGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *reluGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *reluGradOp) String() string        { return fmt.Sprintf("nn.ReLUGrad{%p}", op) }

func (op *reluGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 2", op, len(inputs))
	}
	y, err := denseOf(inputs[0])
	if err != nil {
		return nil, err
	}
	g, err := denseOf(inputs[1])
	if err != nil {
		return nil, err
	}
	if !y.Shape().Eq(g.Shape()) || y.Dtype() != g.Dtype() || y.Dims() != 2 {
		return nil, fmt.Errorf("nn: %v: output %v%v and gradient %v%v differ", op, y.Dtype(), y.Shape(), g.Dtype(), g.Shape())
	}
	out := ownBuffer(&op.out, y.Dtype(), y.Shape()[0], y.Shape()[1])
	switch yd := y.Data().(type) {
	case []float32:
		reluGrad(out.Data().([]float32), yd, g.Data().([]float32))
	case []float64:
		reluGrad(out.Data().([]float64), yd, g.Data().([]float64))
	}
	return out, nil
}

// matrixShape returns the shape of the first input, which must be a matrix.
func matrixShape(op fmt.Stringer, inputs []gorgonia.DimSizer) (tensor.Shape, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("nn: %v: no inputs", op)
	}
	s, ok := inputs[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("nn: %v: want a matrix shape, got %v", op, inputs[0])
	}
	return s.Clone(), nil
}

// ownBuffer returns *buf if it is a rows×cols tensor of dt, else a new one
// stored in *buf: an op's output buffer, reused across runs. The contents
// are stale; callers overwrite every element.
func ownBuffer(buf **tensor.Dense, dt tensor.Dtype, rows, cols int) *tensor.Dense {
	if b := *buf; b != nil && b.Dtype() == dt && b.Shape()[0] == rows && b.Shape()[1] == cols {
		return b
	}
	*buf = tensor.New(tensor.Of(dt), tensor.WithShape(rows, cols))
	return *buf
}
