package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minParallelElems is the least number of elements an elementwise pass
// hands to a goroutine: below it, handing them over costs more than it
// saves.
const minParallelElems = 1 << 11

// AddBias returns z + b with the 1×m row b added to every row of the n×m
// matrix z.
//
// It replaces gorgonia.BroadcastAdd, which materialises the n×m repeated
// bias and reduces it again on the way back; AddBias's gradient for b is the
// column sums of the incoming gradient, summed in row order.
//
// AddBias returns an error if the shapes or dtypes do not fit.
func AddBias(z, b *gorgonia.Node) (*gorgonia.Node, error) {
	if b == nil {
		return nil, fmt.Errorf("nn: AddBias: nil bias")
	}
	return applyBias("AddBias", z, b, false)
}

// BiasReLU returns max(z + b, 0), AddBias followed by a ReLU; with b nil,
// max(z, 0). The ReLU's gradient passes the incoming gradient where the
// output is positive and zeroes it elsewhere, as torch's relu; b's gradient
// is the column sums of that.
//
// It replaces gorgonia's Rectify after AddBias, which on the way back
// builds a 0/1 mask and multiplies by it: on a GCN hidden layer of Amazon
// Computers (13,752×64) those passes ran on one core and allocated a fresh
// 3.5 MB tensor each. BiasReLU's passes split rows over goroutines and write
// into buffers the op keeps between runs (see internal/autograd), so a graph
// using it must not be run by two machines at once.
//
// BiasReLU returns an error if the shapes or dtypes do not fit.
func BiasReLU(z, b *gorgonia.Node) (*gorgonia.Node, error) {
	return applyBias("BiasReLU", z, b, true)
}

// AddBiasRows is AddBias, or BiasReLU with relu, computing only the rows
// rows of the output (increasing; nil: all), the others being zero: for a
// trainer that needs some rows of a layer only (its loss's receptive
// field), and knows the incoming gradient of the others to be zero, which
// b's gradient then skips and the ReLU's zeroes. The rows computed are
// those of AddBias or BiasReLU bit for bit, and so is b's gradient.
//
// AddBiasRows returns an error if the shapes or dtypes do not fit or a row
// is out of order or range.
func AddBiasRows(z, b *gorgonia.Node, relu bool, rows []int32) (*gorgonia.Node, error) {
	if err := checkRows("AddBiasRows", rows, z.Shape()[0]); err != nil {
		return nil, err
	}
	return applyBias("AddBiasRows", z, b, relu, rows)
}

// checkRows returns an error unless rows are increasing rows of [0, n).
func checkRows(name string, rows []int32, n int) error {
	for t, r := range rows {
		if r < 0 || int(r) >= n || (t > 0 && r <= rows[t-1]) {
			return fmt.Errorf("nn: %s: row %d at position %d is out of order or outside [0, %d)", name, r, t, n)
		}
	}
	return nil
}

// forRows calls fn on ranges of rows, split over goroutines: [0, n) in
// ranges of about grain elements' worth when rows is nil, else the runs
// of consecutive rows of rows.
func forRows(n, cols int, rows []int32, fn func(lo, hi int)) {
	grain := max(1, minParallelElems/max(cols, 1))
	if rows == nil {
		parallel.For(n, grain, fn)
		return
	}
	parallel.Runs(rows, grain, fn)
}

// applyBias checks the operands of AddBias or BiasReLU and applies the op.
func applyBias(name string, z, b *gorgonia.Node, relu bool, rows ...[]int32) (*gorgonia.Node, error) {
	nodes := []*gorgonia.Node{z}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkMatrices(name, nodes...); err != nil {
		return nil, err
	}
	if b != nil && (b.Shape()[0] != 1 || b.Shape()[1] != z.Shape()[1]) {
		return nil, fmt.Errorf("nn: %s: bias shape %v does not fit %v", name, b.Shape(), z.Shape())
	}
	op := &biasOp{bias: b != nil, relu: relu}
	if len(rows) > 0 {
		op.rows = rows[0]
	}
	out, err := gorgonia.ApplyOp(op, nodes...)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", name, err)
	}
	return out, nil
}

// biasOp is (z[, b]) ↦ z + b, or max(z + b, 0) with relu. Each op owns its
// output buffer.
// With rows not nil it computes those rows only (AddBiasRows).
type biasOp struct {
	bias, relu bool
	rows       []int32
	out        *tensor.Dense
}

// reluGradOp is (y, g) ↦ g where y > 0, else 0: the gradient of a ReLU
// computed from its output y; with rows not nil, in those rows only, the
// others being zero.
type reluGradOp struct {
	rows []int32
	out  *tensor.Dense
}

// columnSumOp sums the columns of its input into a 1×m row, in row order:
// the gradient of a bias; with rows not nil, the sums of those rows.
type columnSumOp struct{ rows []int32 }

var (
	_ gorgonia.SDOp = (*biasOp)(nil)
	_ gorgonia.ADOp = (*biasOp)(nil)
)

func (op *biasOp) Arity() int {
	if op.bias {
		return 2
	}
	return 1
}

func (op *biasOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	if op.bias {
		return hm.NewFnType(m, m, m)
	}
	return hm.NewFnType(m, m)
}

func (op *biasOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	return matrixShape(op, inputs)
}

func (op *biasOp) ReturnsPtr() bool     { return false }
func (op *biasOp) CallsExtern() bool    { return false }
func (op *biasOp) OverwritesInput() int { return -1 }

// WriteHash includes the op's address: two ops of the same inputs must not
// be merged, since each owns its buffer.
func (op *biasOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *biasOp) Hashcode() uint32      { return autograd.Hash(op) }

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *biasOp) OutputBuffer() **tensor.Dense { return &op.out }

// InPlaceInput returns 0: z, read element by element (see
// autograd.InPlace).
func (op *biasOp) InPlaceInput() int { return 0 }

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *reluGradOp) OutputBuffer() **tensor.Dense { return &op.out }

// InPlaceInput returns 1: the incoming gradient, read element by element
// (see autograd.InPlace).
func (op *reluGradOp) InPlaceInput() int { return 1 }
func (op *biasOp) String() string {
	if op.relu {
		return fmt.Sprintf("nn.BiasReLU{%t, %p}", op.bias, op)
	}
	return fmt.Sprintf("nn.AddBias{%p}", op)
}

func (op *biasOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	z, err := autograd.Dense(inputs[0])
	if err != nil {
		return nil, err
	}
	rows, cols := z.Shape()[0], z.Shape()[1]
	var b *tensor.Dense
	if op.bias {
		if b, err = autograd.Dense(inputs[1]); err != nil {
			return nil, err
		}
		if b.Dtype() != z.Dtype() || b.Shape().TotalSize() != cols {
			return nil, fmt.Errorf("nn: %v: bias %v%v does not fit %v%v", op, b.Dtype(), b.Shape(), z.Dtype(), z.Shape())
		}
	}
	out := autograd.Reuse(&op.out, z.Dtype(), rows, cols)
	switch z.Dtype() {
	case tensor.Float32:
		addBias(autograd.Floats[float32](out), autograd.Floats[float32](z), rowOf[float32](b), rows, cols, op.relu, op.rows)
	case tensor.Float64:
		addBias(autograd.Floats[float64](out), autograd.Floats[float64](z), rowOf[float64](b), rows, cols, op.relu, op.rows)
	}
	return out, nil
}

// rowOf returns b's data, or nil for no bias.
func rowOf[T float32 | float64](b *tensor.Dense) []T {
	if b == nil {
		return nil
	}
	return autograd.Floats[T](b)
}

// addBias sets dst = z + b row by row (b nil: z), then max(·, 0) with relu;
// with only not nil, in those rows only, zeroing the others.
func addBias[T float32 | float64](dst, z, b []T, rows, cols int, relu bool, only []int32) {
	parallel.ClearOutside(dst, cols, only)
	forRows(rows, cols, only, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o, r := dst[i*cols:(i+1)*cols], z[i*cols:(i+1)*cols]
			switch {
			case b == nil && relu:
				for j, v := range r {
					o[j] = max(v, 0)
				}
			case b == nil:
				copy(o, r)
			case relu:
				for j, v := range b {
					o[j] = max(r[j]+v, 0)
				}
			default:
				for j, v := range b {
					o[j] = r[j] + v
				}
			}
		}
	})
}

func (op *biasOp) DiffWRT(int) []bool {
	if op.bias {
		return []bool{true, true}
	}
	return []bool{true}
}

// SymDiff returns z's gradient, the incoming one (masked by the ReLU with
// relu), and b's, its column sums.
func (op *biasOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	dz := grad
	if op.relu {
		var err error
		if dz, err = gorgonia.ApplyOp(&reluGradOp{rows: op.rows}, output, grad); err != nil {
			return nil, fmt.Errorf("nn: %v gradient: %w", op, err)
		}
	}
	if !op.bias {
		return gorgonia.Nodes{dz}, nil
	}
	db, err := gorgonia.ApplyOp(columnSumOp{rows: op.rows}, dz)
	if err != nil {
		return nil, fmt.Errorf("nn: %v bias gradient: %w", op, err)
	}
	return gorgonia.Nodes{dz, db}, nil
}

// DoDiff adds z's gradient into its dual value and, with a bias, the column
// sums of that into b's.
func (op *biasOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != op.Arity() {
		return fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	g, err := autograd.GradOf(output)
	if err != nil {
		return err
	}
	dz, err := autograd.GradOf(inputs[0])
	if err != nil {
		return err
	}
	if !dz.Shape().Eq(g.Shape()) || dz.Dtype() != g.Dtype() {
		return fmt.Errorf("nn: %v: gradient shapes %v and %v do not match", op, g.Shape(), dz.Shape())
	}
	rows, cols := g.Shape()[0], g.Shape()[1]
	if op.relu {
		y, err := autograd.Dense(output.Value())
		if err != nil {
			return err
		}
		if !y.Shape().Eq(g.Shape()) {
			return fmt.Errorf("nn: %v: output shape %v does not match gradient %v", op, y.Shape(), g.Shape())
		}
		masked := tensor.New(tensor.Of(g.Dtype()), tensor.WithShape(rows, cols))
		switch g.Dtype() {
		case tensor.Float32:
			reluGrad(autograd.Floats[float32](masked), autograd.Floats[float32](y), autograd.Floats[float32](g), cols, op.rows)
		case tensor.Float64:
			reluGrad(autograd.Floats[float64](masked), autograd.Floats[float64](y), autograd.Floats[float64](g), cols, op.rows)
		}
		g = masked
	}
	switch g.Dtype() {
	case tensor.Float32:
		addInto(autograd.Floats[float32](dz), autograd.Floats[float32](g))
	case tensor.Float64:
		addInto(autograd.Floats[float64](dz), autograd.Floats[float64](g))
	}
	if !op.bias {
		return nil
	}
	db, err := autograd.GradOf(inputs[1])
	if err != nil {
		return err
	}
	if db.Shape().TotalSize() != cols || db.Dtype() != g.Dtype() {
		return fmt.Errorf("nn: %v: bias gradient shape %v does not fit %v", op, db.Shape(), g.Shape())
	}
	switch g.Dtype() {
	case tensor.Float32:
		columnSums(autograd.Floats[float32](db), autograd.Floats[float32](g), rows, cols, op.rows)
	case tensor.Float64:
		columnSums(autograd.Floats[float64](db), autograd.Floats[float64](g), rows, cols, op.rows)
	}
	return nil
}

func addInto[T float32 | float64](dst, src []T) {
	for i, v := range src {
		dst[i] += v
	}
}

// reluGrad sets dst = g where y > 0, else 0, for matrices of cols columns;
// with rows not nil, in those rows only, zeroing the others.
func reluGrad[T float32 | float64](dst, y, g []T, cols int, rows []int32) {
	parallel.ClearOutside(dst, cols, rows)
	n := len(dst)
	if rows != nil {
		n /= max(cols, 1)
	} else {
		cols = 1 // elements, not rows
	}
	forRows(n, cols, rows, func(r0, r1 int) {
		lo, hi := r0*cols, r1*cols
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
func (op *reluGradOp) Hashcode() uint32      { return autograd.Hash(op) }
func (op *reluGradOp) String() string        { return fmt.Sprintf("nn.ReLUGrad{%p}", op) }

func (op *reluGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 2", op, len(inputs))
	}
	y, err := autograd.Dense(inputs[0])
	if err != nil {
		return nil, err
	}
	g, err := autograd.Dense(inputs[1])
	if err != nil {
		return nil, err
	}
	if !y.Shape().Eq(g.Shape()) || y.Dtype() != g.Dtype() || y.Dims() != 2 {
		return nil, fmt.Errorf("nn: %v: output %v%v and gradient %v%v differ", op, y.Dtype(), y.Shape(), g.Dtype(), g.Shape())
	}
	out := autograd.Reuse(&op.out, y.Dtype(), y.Shape()[0], y.Shape()[1])
	switch y.Dtype() {
	case tensor.Float32:
		reluGrad(autograd.Floats[float32](out), autograd.Floats[float32](y), autograd.Floats[float32](g), y.Shape()[1], op.rows)
	case tensor.Float64:
		reluGrad(autograd.Floats[float64](out), autograd.Floats[float64](y), autograd.Floats[float64](g), y.Shape()[1], op.rows)
	}
	return out, nil
}

func (op columnSumOp) Arity() int { return 1 }

func (op columnSumOp) Type() hm.Type {
	m := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(m, m)
}

func (op columnSumOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, err := matrixShape(op, inputs)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{1, s[1]}, nil
}

func (op columnSumOp) ReturnsPtr() bool      { return false }
func (op columnSumOp) CallsExtern() bool     { return false }
func (op columnSumOp) OverwritesInput() int  { return -1 }
func (op columnSumOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op columnSumOp) Hashcode() uint32      { return autograd.Hash(op) }
func (op columnSumOp) String() string {
	if op.rows != nil {
		return fmt.Sprintf("nn.ColumnSum{%p}", op.rows)
	}
	return "nn.ColumnSum"
}

func (op columnSumOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 1", op, len(inputs))
	}
	z, err := autograd.Dense(inputs[0])
	if err != nil {
		return nil, err
	}
	rows, cols := z.Shape()[0], z.Shape()[1]
	out := tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(1, cols))
	switch z.Dtype() {
	case tensor.Float32:
		columnSums(autograd.Floats[float32](out), autograd.Floats[float32](z), rows, cols, op.rows)
	case tensor.Float64:
		columnSums(autograd.Floats[float64](out), autograd.Floats[float64](z), rows, cols, op.rows)
	}
	return out, nil
}

// columnSums adds the columns of z into dst, adding to its contents. Each
// column is summed in row order, so the columns are split over goroutines
// and not the rows: the sums are bit-identical for any GOMAXPROCS. With
// only not nil, the rows only are summed.
func columnSums[T float32 | float64](dst, z []T, rows, cols int, only []int32) {
	n := rows
	if only != nil {
		n = len(only)
	}
	parallel.For(cols, minParallelElems/max(n, 1), func(lo, hi int) {
		d := dst[lo:hi]
		if only != nil {
			for _, i := range only {
				for j, v := range z[int(i)*cols+lo : int(i)*cols+hi] {
					d[j] += v
				}
			}
			return
		}
		for i := 0; i < rows; i++ {
			for j, v := range z[i*cols+lo : i*cols+hi] {
				d[j] += v
			}
		}
	})
}

func (op columnSumOp) DiffWRT(int) []bool { return []bool{false} }

func (op columnSumOp) SymDiff(gorgonia.Nodes, *gorgonia.Node, *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, fmt.Errorf("nn: %v is not differentiable", op)
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
