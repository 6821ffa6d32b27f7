package nn

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	mm "github.com/gnsr/gnsr/internal/matmul"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul returns the node a·b for float matrices a (n×k) and b (k×m).
//
// Unlike gorgonia.Mul, whose BLAS path is slow for the tall, thin products of
// full-batch GNNs (19,717×16 times 16×3 on PubMed), MatMul runs float32 on
// the AVX2 kernel of internal/matmul (OpenBLAS with -tags openblas) and
// float64 on row-parallel Go loops. Either way the result does not depend on
// the thread count: every output element is summed by one goroutine in an
// order fixed by the shapes (in Go, the weight gradient aᵀ·g is reduced over
// fixed row blocks in block order).
//
// MatMul returns an error if a or b is not a float matrix or their inner
// dimensions or dtypes differ.
func MatMul(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkMatrices("MatMul", a, b); err != nil {
		return nil, err
	}
	if a.Shape()[1] != b.Shape()[0] {
		return nil, fmt.Errorf("nn: MatMul: shapes %v and %v do not chain", a.Shape(), b.Shape())
	}
	out, err := gorgonia.ApplyOp(&matMulOp{}, a, b)
	if err != nil {
		return nil, fmt.Errorf("nn: MatMul: %w", err)
	}
	return out, nil
}

func checkMatrices(name string, nodes ...*gorgonia.Node) error {
	for _, n := range nodes {
		if n.Dims() != 2 {
			return fmt.Errorf("nn: %s: %v is not a matrix (shape %v)", name, n, n.Shape())
		}
		if dt := n.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return fmt.Errorf("nn: %s: %v has dtype %v", name, n, dt)
		}
		if n.Dtype() != nodes[0].Dtype() {
			return fmt.Errorf("nn: %s: dtypes %v and %v differ", name, nodes[0].Dtype(), n.Dtype())
		}
	}
	return nil
}

// Products computed by matMulOp.
const (
	prodNN = iota // a·b
	prodNT        // a·bᵀ, the input gradient g·bᵀ
	prodTN        // aᵀ·b, the weight gradient aᵀ·g
)

// matMulOp multiplies two matrices into a buffer it keeps between runs.
// Its hash holds no address, so gorgonia may merge two identical products
// (of the same inputs), which then share the one buffer.
type matMulOp struct {
	prod    int
	out     *tensor.Dense // kept between runs (see internal/autograd)
	scratch *mm.Scratch   // the float32 kernel's, kept between runs; may be shared (UseScratch)
}

func (op *matMulOp) Arity() int { return 2 }

func (op *matMulOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, m)
}

func (op *matMulOp) outShape(a, b tensor.Shape) tensor.Shape {
	switch op.prod {
	case prodNT:
		return tensor.Shape{a[0], b[0]}
	case prodTN:
		return tensor.Shape{a[1], b[1]}
	}
	return tensor.Shape{a[0], b[1]}
}

func (op *matMulOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 2", op, len(inputs))
	}
	a, ok1 := inputs[0].(tensor.Shape)
	b, ok2 := inputs[1].(tensor.Shape)
	if !ok1 || !ok2 || len(a) != 2 || len(b) != 2 {
		return nil, fmt.Errorf("nn: %v: want two matrix shapes, got %v and %v", op, inputs[0], inputs[1])
	}
	return op.outShape(a, b), nil
}

func (op *matMulOp) ReturnsPtr() bool     { return false }
func (op *matMulOp) CallsExtern() bool    { return false }
func (op *matMulOp) OverwritesInput() int { return -1 }
func (op *matMulOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "nn.MatMul%d", op.prod)
}
func (op *matMulOp) Hashcode() uint32 { return autograd.Hash(op) }

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *matMulOp) OutputBuffer() **tensor.Dense { return &op.out }

// UseScratch makes the op take the kernel's scratch memory from s, which
// ops that never run at the same time may share (see autograd.Plan).
func (op *matMulOp) UseScratch(s *mm.Scratch) { op.scratch = s }

// scratchMem returns the op's scratch memory, making its own on first use.
func (op *matMulOp) scratchMem() *mm.Scratch {
	if op.scratch == nil {
		op.scratch = new(mm.Scratch)
	}
	return op.scratch
}
func (op *matMulOp) String() string {
	return [...]string{"MatMul", "MatMulNT", "MatMulTN"}[op.prod]
}

func (op *matMulOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v: %d inputs, want 2", op, len(inputs))
	}
	a, err := autograd.Dense(inputs[0])
	if err != nil {
		return nil, err
	}
	b, err := autograd.Dense(inputs[1])
	if err != nil {
		return nil, err
	}
	if a.Dtype() != b.Dtype() || a.Dims() != 2 || b.Dims() != 2 {
		return nil, fmt.Errorf("nn: %v: inputs %v%v and %v%v", op, a.Dtype(), a.Shape(), b.Dtype(), b.Shape())
	}
	out := autograd.Reuse(&op.out, a.Dtype(), op.outShape(a.Shape(), b.Shape())...)
	if err := op.compute(out, a, b, false); err != nil {
		return nil, err
	}
	return out, nil
}

// compute writes (or with acc adds) the product of a and b into dst.
func (op *matMulOp) compute(dst, a, b *tensor.Dense, acc bool) error {
	as, bs := a.Shape(), b.Shape()
	var inner bool
	switch op.prod {
	case prodNN:
		inner = as[1] == bs[0]
	case prodNT:
		inner = as[1] == bs[1]
	case prodTN:
		inner = as[0] == bs[0]
	}
	if !inner || !dst.Shape().Eq(op.outShape(as, bs)) || dst.Dtype() != a.Dtype() {
		return fmt.Errorf("nn: %v: shapes %v, %v into %v do not match", op, as, bs, dst.Shape())
	}
	switch a.Dtype() {
	case tensor.Float32:
		matmul(op.scratchMem(), op.prod, autograd.Floats[float32](dst), autograd.Floats[float32](a), autograd.Floats[float32](b), as[0], as[1], bs[0], bs[1], acc)
	case tensor.Float64:
		matmul(op.scratchMem(), op.prod, autograd.Floats[float64](dst), autograd.Floats[float64](a), autograd.Floats[float64](b), as[0], as[1], bs[0], bs[1], acc)
	}
	return nil
}

func (op *matMulOp) DiffWRT(int) []bool { return []bool{op.prod == prodNN, op.prod == prodNN} }

func (op *matMulOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.prod != prodNN || len(inputs) != 2 {
		return nil, fmt.Errorf("nn: %v is not differentiable", op)
	}
	da, err := gorgonia.ApplyOp(&matMulOp{prod: prodNT}, grad, inputs[1])
	if err != nil {
		return nil, fmt.Errorf("nn: MatMul gradient: %w", err)
	}
	db, err := gorgonia.ApplyOp(&matMulOp{prod: prodTN}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("nn: MatMul gradient: %w", err)
	}
	return gorgonia.Nodes{da, db}, nil
}

// DoDiff adds g·bᵀ and aᵀ·g into the inputs' gradients.
func (op *matMulOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if op.prod != prodNN || len(inputs) != 2 {
		return fmt.Errorf("nn: %v is not differentiable", op)
	}
	g, err := autograd.GradOf(output)
	if err != nil {
		return err
	}
	a, err := autograd.Dense(inputs[0].Value())
	if err != nil {
		return err
	}
	b, err := autograd.Dense(inputs[1].Value())
	if err != nil {
		return err
	}
	da, err := autograd.GradOf(inputs[0])
	if err != nil {
		return err
	}
	db, err := autograd.GradOf(inputs[1])
	if err != nil {
		return err
	}
	if err := (&matMulOp{prod: prodNT}).compute(da, g, b, true); err != nil {
		return err
	}
	return (&matMulOp{prod: prodTN}).compute(db, a, g, true)
}

// minRowsPerTask keeps goroutines for work worth more than their start-up.
const minRowsPerTask = 512

// reduceBlock is the row block of the aᵀ·b reduction. It is fixed, not
// derived from the thread count, so that the sum order never changes.
const reduceBlock = 2048

// matmul computes the product selected by prod of a (ar×ac) and b (br×bc)
// into dst, adding to it when acc is set. In the Go loops (float64), inner
// loops run over the longer of
// the two small dimensions (the layer widths), so that the tall-thin
// products of a 16→3 layer do not spend their time in loop overhead.
func matmul[T float32 | float64](s *mm.Scratch, prod int, dst, a, b []T, ar, ac, br, bc int, acc bool) {
	if d32, ok := any(dst).([]float32); ok {
		// float32 runs on the SIMD kernel of internal/matmul, whose sums
		// also have an order fixed by the shapes.
		a32, b32 := any(a).([]float32), any(b).([]float32)
		switch prod {
		case prodNN:
			mm.GemmWith(s, d32, a32, b32, ar, ac, bc, acc)
		case prodNT:
			bt := make([]float32, br*bc)
			mm.Transpose(bt, b32, br, bc)
			mm.GemmWith(s, d32, a32, bt, ar, ac, br, acc)
		case prodTN:
			mm.GemmTAWith(s, d32, a32, b32, ac, ar, bc, acc)
		}
		return
	}
	switch prod {
	case prodNN: // dst (ar×bc) = a·b, inner dimension ac = br
		k, m := ac, bc
		if m < k {
			bt := transpose(b, br, bc) // m×k
			parallel.For(ar, minRowsPerTask, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					arow, out := a[i*k:(i+1)*k], dst[i*m:(i+1)*m]
					for j := range out {
						s := dot(arow, bt[j*k:(j+1)*k])
						if acc {
							out[j] += s
						} else {
							out[j] = s
						}
					}
				}
			})
			return
		}
		parallel.For(ar, minRowsPerTask, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out := dst[i*m : (i+1)*m]
				if !acc {
					clear(out)
				}
				for p, av := range a[i*k : (i+1)*k] {
					if av != 0 {
						axpy(out, av, b[p*m:(p+1)*m])
					}
				}
			}
		})
	case prodNT: // dst (ar×br) = a·bᵀ, inner dimension ac = bc
		k, m := br, ac
		bt := transpose(b, br, bc) // m×k
		parallel.For(ar, minRowsPerTask, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out := dst[i*k : (i+1)*k]
				if !acc {
					clear(out)
				}
				for p, gv := range a[i*m : (i+1)*m] {
					if gv != 0 {
						axpy(out, gv, bt[p*k:(p+1)*k])
					}
				}
			}
		})
	case prodTN: // dst (ac×bc) = aᵀ·b, summed over the ar = br rows
		// Each fixed block of rows adds into its own partial (bc×ac, so that
		// the inner loop runs over a's ac columns); the partials are summed
		// in block order, independent of the thread count.
		k, m := ac, bc
		blocks := (ar + reduceBlock - 1) / reduceBlock
		partial := make([]T, blocks*k*m)
		parallel.For(blocks, 1, func(lo, hi int) {
			for blk := lo; blk < hi; blk++ {
				part := partial[blk*k*m : (blk+1)*k*m]
				for i := blk * reduceBlock; i < min((blk+1)*reduceBlock, ar); i++ {
					arow := a[i*k : (i+1)*k]
					for j, gv := range b[i*m : (i+1)*m] {
						if gv != 0 {
							axpy(part[j*k:(j+1)*k], gv, arow)
						}
					}
				}
			}
		})
		if !acc {
			clear(dst)
		}
		for blk := 0; blk < blocks; blk++ {
			part := partial[blk*k*m : (blk+1)*k*m]
			for j := 0; j < m; j++ {
				for p := 0; p < k; p++ {
					dst[p*m+j] += part[j*k+p]
				}
			}
		}
	}
}

func transpose[T float32 | float64](b []T, rows, cols int) []T {
	t := make([]T, len(b))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = b[i*cols+j]
		}
	}
	return t
}

// dot returns Σ x[i]·y[i] with four accumulators, in a fixed order.
func dot[T float32 | float64](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy adds alpha·x to dst.
func axpy[T float32 | float64](dst []T, alpha T, x []T) {
	x = x[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] += alpha * x[i]
		dst[i+1] += alpha * x[i+1]
		dst[i+2] += alpha * x[i+2]
		dst[i+3] += alpha * x[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] += alpha * x[i]
	}
}
