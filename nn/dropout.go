package nn

import (
	"encoding/binary"
	"fmt"
	"hash"
	"math/bits"
	"math/rand/v2"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DropoutMask is the mask of a Dropout op. It is owned by the trainer, which
// calls Resample before each training step with its per-run PCG, and
// SetTraining to switch the op between dropout and identity.
//
// A DropoutMask is not safe for concurrent use.
type DropoutMask struct {
	p        float64
	thresh   uint64 // an element is dropped when a uniform uint32 is below thresh
	shape    tensor.Shape
	keep     []uint8 // 1 if kept, 0 if dropped
	training bool
	// rows, if not nil, are the rows of a matrix mask that it draws and
	// applies (RestrictRows).
	rows []int32
}

// RestrictRows makes the mask, of a matrix, draw and apply to the rows rows
// only (increasing; nil: all): Resample draws those rows' elements as it
// would without the restriction and leaves src in the same state, and the
// ops zero the other rows of their outputs, for a trainer that needs some
// rows of a layer only. Kept is then meaningless outside rows.
// RestrictRows panics if the mask is not of a matrix or a row is out of
// order or range.
func (m *DropoutMask) RestrictRows(rows []int32) {
	if len(m.shape) != 2 {
		panic(fmt.Sprintf("nn: DropoutMask.RestrictRows of a mask of shape %v", m.shape))
	}
	if err := checkRows("DropoutMask.RestrictRows", rows, m.shape[0]); err != nil {
		panic(err)
	}
	m.rows = rows
}

// NewDropoutMask returns a mask for inputs of the given shape dropping each
// element with probability p and scaling the kept ones by 1/(1-p). The mask
// starts in training mode keeping every element, until the first Resample.
//
// NewDropoutMask panics if p is not in [0, 1) or a dimension is not positive.
func NewDropoutMask(p float64, shape ...int) *DropoutMask {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("nn: dropout probability %v not in [0, 1)", p))
	}
	size := 1
	for _, d := range shape {
		if d <= 0 {
			panic(fmt.Sprintf("nn: bad dropout mask shape %v", shape))
		}
		size *= d
	}
	m := &DropoutMask{
		p:        p,
		thresh:   uint64(p * (1 << 32)),
		shape:    tensor.Shape(append([]int(nil), shape...)),
		keep:     make([]uint8, size),
		training: true,
	}
	for i := range m.keep {
		m.keep[i] = 1
	}
	return m
}

// P returns the drop probability.
func (m *DropoutMask) P() float64 { return m.p }

// Shape returns the shape of the inputs the mask applies to.
func (m *DropoutMask) Shape() tensor.Shape { return m.shape.Clone() }

// Training reports whether the mask drops elements (true) or is the identity.
func (m *DropoutMask) Training() bool { return m.training }

// SetTraining switches between dropout (true) and identity (false).
func (m *DropoutMask) SetTraining(training bool) { m.training = training }

// Kept reports whether element i (in row-major order) is currently kept.
func (m *DropoutMask) Kept(i int) bool { return m.keep[i] != 0 }

// Resample draws a new mask from src: the elements in row-major order take
// the Uint64s src would give in turn, one per two elements (the low 32 bits
// for the even element, the high for the odd one), each compared with a
// threshold; none if P is zero. The draws are split over goroutines, each
// jumping a copy of src ahead to its first draw, so the mask and src's state
// afterwards are those of the serial loop, for any GOMAXPROCS.
func (m *DropoutMask) Resample(src *rand.PCG) {
	if m.p == 0 {
		return
	}
	k := m.keep
	draws := (len(k) + 1) / 2
	start := readPCG(src)
	if m.rows != nil {
		m.resampleRows(start)
		end := start.advance(uint64(draws))
		src.Seed(end.hi, end.lo)
		return
	}
	parallel.For(draws, minParallelDraws, func(lo, hi int) {
		s := start.advance(uint64(lo))
		for j := lo; j < hi; j++ {
			s = s.step()
			u := s.output()
			k[2*j] = b2u(u&0xffffffff >= m.thresh)
			if 2*j+1 < len(k) {
				k[2*j+1] = b2u(u>>32 >= m.thresh)
			}
		}
	})
	end := start.advance(uint64(draws))
	src.Seed(end.hi, end.lo)
}

// resampleRows draws the elements of m's rows from the stream whose state
// before the first draw is start: each run of consecutive rows from a
// jump ahead to its first draw, or by stepping when that is near.
func (m *DropoutMask) resampleRows(start pcgState) {
	k, cols := m.keep, m.shape[1]
	parallel.For(len(m.rows), max(1, 2*minParallelDraws/cols), func(t0, t1 int) {
		var s pcgState
		next := -1 // the draw s is the state before
		for t := t0; t < t1; {
			lo := int(m.rows[t])
			hi := lo + 1
			for t++; t < t1 && int(m.rows[t]) == hi; t++ {
				hi++
			}
			e0, e1 := lo*cols, hi*cols
			j0, j1 := e0/2, (e1+1)/2
			if next < 0 || j0 < next || j0-next > maxSteps {
				s = start.advance(uint64(j0))
			} else {
				for ; next < j0; next++ {
					s = s.step()
				}
			}
			for j := j0; j < j1; j++ {
				s = s.step()
				u := s.output()
				if 2*j >= e0 {
					k[2*j] = b2u(u&0xffffffff >= m.thresh)
				}
				if 2*j+1 < e1 {
					k[2*j+1] = b2u(u>>32 >= m.thresh)
				}
			}
			next = j1
		}
	})
}

// maxSteps is the gap in draws up to which resampleRows steps rather than
// jumps: a jump costs about as much as a hundred steps.
const maxSteps = 128

// minParallelDraws is the least number of draws a goroutine of Resample
// takes: a jump ahead costs about as much as a hundred draws.
const minParallelDraws = 1 << 10

// pcgState is the 128-bit state of math/rand/v2's PCG, stepped here as
// there (state = state·mul + inc mod 2^128, output by DXSM), so that a
// stream can be jumped ahead in O(log n) and drawn in parallel.
type pcgState struct{ hi, lo uint64 }

// The multiplier and increment of math/rand/v2's PCG.
var (
	pcgMul = pcgState{2549297995355413924, 4865540595714422341}
	pcgInc = pcgState{6364136223846793005, 1442695040888963407}
)

// readPCG returns p's state, read through its binary encoding ("pcg:", then
// hi and lo big-endian), the only way the package exposes it.
func readPCG(p *rand.PCG) pcgState {
	var buf [20]byte
	b, err := p.AppendBinary(buf[:0])
	if err != nil || len(b) != 20 {
		panic(fmt.Sprintf("nn: unexpected PCG encoding %q (%v)", b, err))
	}
	return pcgState{binary.BigEndian.Uint64(b[4:12]), binary.BigEndian.Uint64(b[12:20])}
}

func (a pcgState) mul(b pcgState) pcgState {
	hi, lo := bits.Mul64(a.lo, b.lo)
	return pcgState{hi + a.hi*b.lo + a.lo*b.hi, lo}
}

func (a pcgState) add(b pcgState) pcgState {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(a.hi, b.hi, c)
	return pcgState{hi, lo}
}

// step returns the next state.
func (a pcgState) step() pcgState { return a.mul(pcgMul).add(pcgInc) }

// output returns the Uint64 that PCG gives on stepping to state a.
func (a pcgState) output() uint64 {
	const cheapMul = 0xda942042e4dd58b5
	hi := a.hi
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= a.lo | 1
	return hi
}

// advance returns the state n steps on, composing the affine steps by
// squaring (Brown, "Random number generation with arbitrary strides", 1994).
func (a pcgState) advance(n uint64) pcgState {
	accMul, accInc := pcgState{0, 1}, pcgState{}
	curMul, curInc := pcgMul, pcgInc
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			accMul = accMul.mul(curMul)
			accInc = accInc.mul(curMul).add(curInc)
		}
		curInc = curMul.add(pcgState{0, 1}).mul(curInc)
		curMul = curMul.mul(curMul)
	}
	return accMul.mul(a).add(accInc)
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// apply writes x∘mask into dst (x itself when not training), or adds it
// with accumulate; dst may be x. Elements are independent, so the work is
// split over goroutines.
func apply[T float32 | float64](m *DropoutMask, dst, x []T, accumulate bool) {
	dst = dst[:len(x)]
	f := [2]T{0, T(1 / (1 - m.p))}
	k := m.keep[:len(x)]
	body := func(lo, hi int) {
		d, xs, ks := dst[lo:hi], x[lo:hi], k[lo:hi]
		switch {
		case !m.training && accumulate:
			for i, v := range xs {
				d[i] += v
			}
		case !m.training:
			copy(d, xs)
		case accumulate:
			for i, v := range xs {
				d[i] += v * f[ks[i]]
			}
		default:
			for i, v := range xs {
				d[i] = v * f[ks[i]]
			}
		}
	}
	if m.rows != nil && m.training {
		cols := m.shape[1]
		if !accumulate {
			parallel.ClearOutside(dst, cols, m.rows)
		}
		forRows(len(x)/cols, cols, m.rows, func(r0, r1 int) { body(r0*cols, r1*cols) })
		return
	}
	parallel.For(len(x), minParallelElems, body)
}

// Dropout returns x with the mask d applied: each element is zeroed or
// scaled by 1/(1-p) as the mask last drew, or x unchanged when d is not
// training. Its gradient is the incoming gradient times the same mask, so
// the mask must not be resampled between the forward and backward passes.
//
// Dropout returns an error if x is not float32 or float64 or if its shape is
// not the mask's.
func Dropout(x *gorgonia.Node, d *DropoutMask) (*gorgonia.Node, error) {
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: Dropout: %v has dtype %v", x, dt)
	}
	if !x.Shape().Eq(d.shape) {
		return nil, fmt.Errorf("nn: Dropout: %v has shape %v, mask has %v", x, x.Shape(), d.shape)
	}
	out, err := gorgonia.ApplyOp(&dropoutOp{m: d}, x)
	if err != nil {
		return nil, fmt.Errorf("nn: Dropout: %w", err)
	}
	return out, nil
}

// dropoutOp multiplies by its mask. Being linear, its gradient is another
// dropoutOp of the same mask. Each op keeps its output buffer between runs
// (see internal/autograd), which is why the gradient is another op.
type dropoutOp struct {
	m   *DropoutMask
	out *tensor.Dense
}

func (op *dropoutOp) Arity() int { return 1 }

func (op *dropoutOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op *dropoutOp) InferShape(inputs ...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.m.shape.Clone(), nil
}

func (op *dropoutOp) ReturnsPtr() bool     { return false }
func (op *dropoutOp) CallsExtern() bool    { return false }
func (op *dropoutOp) OverwritesInput() int { return -1 }

// WriteHash includes the mask's address so that two dropouts of the same
// input with different masks are not merged into one node.
func (op *dropoutOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "nn.Dropout%p", op.m) }

func (op *dropoutOp) Hashcode() uint32 { return autograd.Hash(op) }

func (op *dropoutOp) String() string { return fmt.Sprintf("Dropout{%v, %p}", op.m.p, op.m) }

func (op *dropoutOp) check(v gorgonia.Value) (*tensor.Dense, error) {
	x, err := autograd.Dense(v)
	if err != nil {
		return nil, err
	}
	if !x.Shape().Eq(op.m.shape) {
		return nil, fmt.Errorf("nn: Dropout: input has shape %v, mask has %v", x.Shape(), op.m.shape)
	}
	return x, nil
}

// OutputBuffer returns the op's output buffer (see autograd.Buffered).
func (op *dropoutOp) OutputBuffer() **tensor.Dense { return &op.out }

// InPlaceInput returns 0: x, read element by element (see
// autograd.InPlace).
func (op *dropoutOp) InPlaceInput() int { return 0 }

// Do writes x∘mask into the op's buffer. In eval mode the output is a
// copy, not x itself, so that no later in-place op can clobber x.
func (op *dropoutOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nn: Dropout: %d inputs, want 1", len(inputs))
	}
	x, err := op.check(inputs[0])
	if err != nil {
		return nil, err
	}
	dst := autograd.Reuse(&op.out, x.Dtype(), x.Shape()...)
	switch x.Dtype() {
	case tensor.Float64:
		apply(op.m, autograd.Floats[float64](dst), autograd.Floats[float64](x), false)
	case tensor.Float32:
		apply(op.m, autograd.Floats[float32](dst), autograd.Floats[float32](x), false)
	}
	return dst, nil
}

func (op *dropoutOp) DiffWRT(int) []bool { return []bool{true} }

func (op *dropoutOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("nn: Dropout: %d inputs, want 1", len(inputs))
	}
	dx, err := gorgonia.ApplyOp(&dropoutOp{m: op.m}, grad)
	if err != nil {
		return nil, fmt.Errorf("nn: Dropout gradient: %w", err)
	}
	return gorgonia.Nodes{dx}, nil
}

// DoDiff adds mask∘dy into the input's dual value, which Node.Grad exposes
// without copying.
func (op *dropoutOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if len(inputs) != 1 {
		return fmt.Errorf("nn: Dropout: %d inputs, want 1", len(inputs))
	}
	dx, err := autograd.GradOf(inputs[0])
	if err != nil {
		return err
	}
	dy, err := autograd.GradOf(output)
	if err != nil {
		return err
	}
	if !dx.Shape().Eq(op.m.shape) || !dy.Shape().Eq(op.m.shape) || dx.Dtype() != dy.Dtype() {
		return fmt.Errorf("nn: Dropout: gradients %v%v and %v%v do not match mask %v", dx.Dtype(), dx.Shape(), dy.Dtype(), dy.Shape(), op.m.shape)
	}
	switch dy.Dtype() {
	case tensor.Float64:
		apply(op.m, autograd.Floats[float64](dx), autograd.Floats[float64](dy), true)
	case tensor.Float32:
		apply(op.m, autograd.Floats[float32](dx), autograd.Floats[float32](dy), true)
	}
	return nil
}
