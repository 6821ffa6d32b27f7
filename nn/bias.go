package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddBias returns z + b with the 1×m row b added to every row of the n×m
// matrix z.
//
// It replaces gorgonia.BroadcastAdd, which materialises the n×m repeated
// bias and reduces it again on the way back; AddBias's gradient for b is the
// column sums of the incoming gradient, summed in row order.
//
// AddBias returns an error if the shapes or dtypes do not fit.
func AddBias(z, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkMatrices("AddBias", z, b); err != nil {
		return nil, err
	}
	if b.Shape()[0] != 1 || b.Shape()[1] != z.Shape()[1] {
		return nil, fmt.Errorf("nn: AddBias: bias shape %v does not fit %v", b.Shape(), z.Shape())
	}
	out, err := gorgonia.ApplyOp(biasOp{}, z, b)
	if err != nil {
		return nil, fmt.Errorf("nn: AddBias: %w", err)
	}
	return out, nil
}

// biasOp adds a row to every row (forward) or, as colSum, sums the columns of
// its input into a 1×m row (the bias gradient).
type biasOp struct{ colSum bool }

func (op biasOp) Arity() int {
	if op.colSum {
		return 1
	}
	return 2
}

func (op biasOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	if op.colSum {
		return hm.NewFnType(m, m)
	}
	return hm.NewFnType(m, m, m)
}

func (op biasOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := inputs[0].(tensor.Shape)
	if !ok || len(s) != 2 {
		return nil, fmt.Errorf("nn: %v: want a matrix shape, got %v", op, inputs[0])
	}
	if op.colSum {
		return tensor.Shape{1, s[1]}, nil
	}
	return s.Clone(), nil
}

func (op biasOp) ReturnsPtr() bool      { return false }
func (op biasOp) CallsExtern() bool     { return false }
func (op biasOp) OverwritesInput() int  { return -1 }
func (op biasOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op biasOp) Hashcode() uint32      { return hashOf(op) }
func (op biasOp) String() string {
	if op.colSum {
		return "nn.ColumnSum"
	}
	return "nn.AddBias"
}

func (op biasOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("nn: %v: %d inputs, want %d", op, len(inputs), op.Arity())
	}
	z, err := denseOf(inputs[0])
	if err != nil {
		return nil, err
	}
	rows, cols := z.Shape()[0], z.Shape()[1]
	if op.colSum {
		out := tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(1, cols))
		switch d := z.Data().(type) {
		case []float32:
			columnSums(out.Data().([]float32), d, rows, cols)
		case []float64:
			columnSums(out.Data().([]float64), d, rows, cols)
		}
		return out, nil
	}
	b, err := denseOf(inputs[1])
	if err != nil {
		return nil, err
	}
	if b.Dtype() != z.Dtype() || b.Shape().TotalSize() != cols {
		return nil, fmt.Errorf("nn: AddBias: bias %v%v does not fit %v%v", b.Dtype(), b.Shape(), z.Dtype(), z.Shape())
	}
	out := tensor.New(tensor.Of(z.Dtype()), tensor.WithShape(rows, cols))
	switch d := z.Data().(type) {
	case []float32:
		addRow(out.Data().([]float32), d, b.Data().([]float32), rows, cols)
	case []float64:
		addRow(out.Data().([]float64), d, b.Data().([]float64), rows, cols)
	}
	return out, nil
}

func addRow[T float32 | float64](dst, z, b []T, rows, cols int) {
	for i := 0; i < rows; i++ {
		o, r := dst[i*cols:(i+1)*cols], z[i*cols:(i+1)*cols]
		for j, v := range b {
			o[j] = r[j] + v
		}
	}
}

// columnSums adds the columns of z into dst, adding to its contents.
func columnSums[T float32 | float64](dst, z []T, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j, v := range z[i*cols : (i+1)*cols] {
			dst[j] += v
		}
	}
}

func (op biasOp) DiffWRT(int) []bool {
	if op.colSum {
		return []bool{false}
	}
	return []bool{true, true}
}

func (op biasOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.colSum || len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v is not differentiable", op)
	}
	db, err := gorgonia.ApplyOp(biasOp{colSum: true}, grad)
	if err != nil {
		return nil, fmt.Errorf("nn: AddBias gradient: %w", err)
	}
	return gorgonia.Nodes{grad, db}, nil
}

// DoDiff adds the incoming gradient into z's and its column sums into b's.
func (op biasOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if op.colSum || len(inputs) != 2 {
		return fmt.Errorf("nn: %v is not differentiable", op)
	}
	g, err := gradOf(output)
	if err != nil {
		return err
	}
	dz, err := gradOf(inputs[0])
	if err != nil {
		return err
	}
	db, err := gradOf(inputs[1])
	if err != nil {
		return err
	}
	rows, cols := g.Shape()[0], g.Shape()[1]
	if !dz.Shape().Eq(g.Shape()) || db.Shape().TotalSize() != cols || dz.Dtype() != g.Dtype() || db.Dtype() != g.Dtype() {
		return fmt.Errorf("nn: AddBias: gradient shapes %v, %v, %v do not match", g.Shape(), dz.Shape(), db.Shape())
	}
	switch gd := g.Data().(type) {
	case []float32:
		addInto(dz.Data().([]float32), gd)
		columnSums(db.Data().([]float32), gd, rows, cols)
	case []float64:
		addInto(dz.Data().([]float64), gd)
		columnSums(db.Data().([]float64), gd, rows, cols)
	}
	return nil
}

func addInto[T float32 | float64](dst, src []T) {
	for i, v := range src {
		dst[i] += v
	}
}
