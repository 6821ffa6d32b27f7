package nn

import (
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the scalar mean over the given rows of
// -log softmax(logits[row])[label], where labels[i] is the class of rows[i].
// A nil rows means every row of logits, and then labels[i] is the class of
// row i. logits must be a float32 or float64 matrix of shape (n, classes).
//
// The rows and labels are copied into the op, so no gradient is ever made
// for them and the caller may reuse the slices. Only the chosen rows get a
// gradient, (softmax - onehot)/len(rows), which lets full-batch GNN training
// take the loss on a few training nodes without gathering them. A row listed
// twice counts twice.
//
// SoftmaxCrossEntropy returns an error if logits is not a float matrix, if
// rows is empty but not nil, if len(labels) does not match, or if a row or
// label is out of range.
func SoftmaxCrossEntropy(logits *gorgonia.Node, rows []int, labels []int) (*gorgonia.Node, error) {
	s := logits.Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: logits %v have shape %v, want a matrix", logits, s)
	}
	if dt := logits.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: logits %v have dtype %v", logits, dt)
	}
	n, c := s[0], s[1]
	if c == 0 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: logits %v have no classes", logits)
	}
	want := n
	if rows != nil {
		want = len(rows)
	}
	if want == 0 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: no rows to average over")
	}
	if len(labels) != want {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: %d labels for %d rows", len(labels), want)
	}
	op := &xentOp{n: n, c: c, labels: append([]int(nil), labels...)}
	if rows != nil {
		op.rows = append([]int(nil), rows...)
	}
	for i, y := range op.labels {
		if y < 0 || y >= c {
			return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: label %d at %d out of range [0,%d)", y, i, c)
		}
	}
	seen := make([]bool, n)
	op.distinct = true
	for i, r := range op.rows {
		if r < 0 || r >= n {
			return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: row %d at %d out of range [0,%d)", r, i, n)
		}
		op.distinct = op.distinct && !seen[r]
		seen[r] = true
	}
	out, err := gorgonia.ApplyOp(op, logits)
	if err != nil {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: %w", err)
	}
	return out, nil
}

// xentOp is the forward op of SoftmaxCrossEntropy.
type xentOp struct {
	n, c   int
	rows   []int // nil: all rows
	labels []int
	// distinct says no row repeats, so that rows' gradients may be
	// written in parallel.
	distinct bool

	mu      sync.Mutex
	rowLoss []float64 // each label's loss, summed in order after the parallel pass
}

func (op *xentOp) row(i int) int {
	if op.rows == nil {
		return i
	}
	return op.rows[i]
}

func (op *xentOp) Arity() int { return 1 }

func (op *xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, a)
}

func (op *xentOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}

func (op *xentOp) ReturnsPtr() bool     { return false }
func (op *xentOp) CallsExtern() bool    { return false }
func (op *xentOp) OverwritesInput() int { return -1 }

// WriteHash includes the op's address: gorgonia merges nodes with equal op
// hashes and inputs, and two losses over different rows of the same logits
// must stay two nodes.
func (op *xentOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "nn.SoftmaxCrossEntropy%p", op) }

func (op *xentOp) Hashcode() uint32 { return autograd.Hash(op) }

func (op *xentOp) String() string {
	return fmt.Sprintf("SoftmaxCrossEntropy{%d rows, %p}", len(op.labels), op)
}

func (op *xentOp) check(v gorgonia.Value) (*tensor.Dense, error) {
	x, err := autograd.Dense(v)
	if err != nil {
		return nil, err
	}
	if s := x.Shape(); s.Dims() != 2 || s[0] != op.n || s[1] != op.c {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: logits have shape %v, want (%d, %d)", s, op.n, op.c)
	}
	return x, nil
}

func (op *xentOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: %d inputs, want 1", len(inputs))
	}
	x, err := op.check(inputs[0])
	if err != nil {
		return nil, err
	}
	switch x.Dtype() {
	case tensor.Float64:
		return gorgonia.NewF64(xentLoss(op, autograd.Floats[float64](x))), nil
	case tensor.Float32:
		return gorgonia.NewF32(float32(xentLoss(op, autograd.Floats[float32](x)))), nil
	}
	panic("unreachable")
}

func (op *xentOp) DiffWRT(int) []bool { return []bool{true} }

func (op *xentOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy: %d inputs, want 1", len(inputs))
	}
	dx, err := gorgonia.ApplyOp(&xentGradOp{fwd: op}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy gradient: %w", err)
	}
	return gorgonia.Nodes{dx}, nil
}

// DoDiff adds the gradient into the logits' dual value, which Node.Grad
// exposes without copying.
func (op *xentOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != 1 {
		return fmt.Errorf("nn: SoftmaxCrossEntropy: %d inputs, want 1", len(inputs))
	}
	x, err := op.check(inputs[0].Value())
	if err != nil {
		return err
	}
	dx, err := autograd.GradOf(inputs[0])
	if err != nil {
		return err
	}
	gv, err := output.Grad()
	if err != nil {
		return fmt.Errorf("nn: SoftmaxCrossEntropy: %w", err)
	}
	g, err := autograd.ScalarOf(gv)
	if err != nil {
		return err
	}
	return op.addGrad(dx, x, g)
}

// addGrad adds g·∂loss/∂x to dst.
func (op *xentOp) addGrad(dst, x *tensor.Dense, g float64) error {
	if dst.Dtype() != x.Dtype() || !dst.Shape().Eq(x.Shape()) {
		return fmt.Errorf("nn: SoftmaxCrossEntropy: gradient %v%v does not match logits %v%v", dst.Dtype(), dst.Shape(), x.Dtype(), x.Shape())
	}
	switch x.Dtype() {
	case tensor.Float64:
		xentAddGrad(op, autograd.Floats[float64](dst), autograd.Floats[float64](x), g)
	case tensor.Float32:
		xentAddGrad(op, autograd.Floats[float32](dst), autograd.Floats[float32](x), g)
	}
	return nil
}

// logSumExp returns max(row) and log Σ exp(row - max), accumulated in float64.
func logSumExp[T float32 | float64](row []T) (mx, lse float64) {
	mx = math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return mx, math.Log(s)
}

// xentLoss returns the mean loss over the labels: each label's loss in
// parallel, then their sum in label order, as one loop would add them.
func xentLoss[T float32 | float64](op *xentOp, x []T) float64 {
	op.mu.Lock()
	defer op.mu.Unlock()
	if len(op.rowLoss) != len(op.labels) {
		op.rowLoss = make([]float64, len(op.labels))
	}
	losses := op.rowLoss
	parallel.For(len(op.labels), xentMinRows(op.c), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r, y := op.row(i), op.labels[i]
			row := x[r*op.c : (r+1)*op.c]
			mx, lse := logSumExp(row)
			losses[i] = lse - (float64(row[y]) - mx)
		}
	})
	var sum float64
	for _, l := range losses {
		sum += l
	}
	return sum / float64(len(op.labels))
}

// xentMinRows returns the fewest labels a goroutine of the loss takes on
// with c classes: 64 logits, each an exponential or two (over a
// microsecond), what handing a range to the crew costs several times over.
func xentMinRows(c int) int { return max(1, 64/max(c, 1)) }

// xentAddGrad adds g times the loss's gradient to dst: rows in parallel
// where no row repeats (each written by one goroutine), else in order.
func xentAddGrad[T float32 | float64](op *xentOp, dst, x []T, g float64) {
	scale := g / float64(len(op.labels))
	minRows := xentMinRows(op.c)
	if !op.distinct {
		minRows = len(op.labels)
	}
	parallel.For(len(op.labels), minRows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r, y := op.row(i), op.labels[i]
			row := x[r*op.c : (r+1)*op.c]
			drow := dst[r*op.c : (r+1)*op.c]
			mx, lse := logSumExp(row)
			for j, v := range row {
				p := math.Exp(float64(v) - mx - lse)
				if j == y {
					p--
				}
				drow[j] += T(scale * p)
			}
		}
	})
}

// xentGradOp computes the gradient of a SoftmaxCrossEntropy from its logits
// and the incoming scalar gradient. It is made only by SymDiff and is not
// itself differentiable.
type xentGradOp struct {
	fwd *xentOp
	out *tensor.Dense // kept between runs (see internal/autograd)
}

func (op *xentGradOp) Arity() int { return 2 }

func (op *xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, a, t)
}

func (op *xentGradOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.fwd.n, op.fwd.c}, nil
}

func (op *xentGradOp) ReturnsPtr() bool     { return false }
func (op *xentGradOp) CallsExtern() bool    { return false }
func (op *xentGradOp) OverwritesInput() int { return -1 }

func (op *xentGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "nn.SoftmaxCrossEntropyGrad%p", op.fwd)
}

func (op *xentGradOp) Hashcode() uint32 { return autograd.Hash(op) }

func (op *xentGradOp) String() string {
	return fmt.Sprintf("SoftmaxCrossEntropyGrad{%d rows, %p}", len(op.fwd.labels), op.fwd)
}

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *xentGradOp) OutputBuffer() **tensor.Dense { return &op.out }

// Do writes the gradient into the op's buffer.
func (op *xentGradOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropy gradient: %d inputs, want 2", len(inputs))
	}
	x, err := op.fwd.check(inputs[0])
	if err != nil {
		return nil, err
	}
	g, err := autograd.ScalarOf(inputs[1])
	if err != nil {
		return nil, err
	}
	dst := autograd.Reuse(&op.out, x.Dtype(), op.fwd.n, op.fwd.c)
	autograd.Zero(dst)
	if err := op.fwd.addGrad(dst, x, g); err != nil {
		return nil, err
	}
	return dst, nil
}
