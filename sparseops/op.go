package sparseops

import (
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"slices"
	"sync"

	"github.com/chewxy/hm"
	"github.com/gnsr/gnsr/internal/opbuf"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrShape is wrapped by errors that report operands of mismatched shape,
// length or type.
var ErrShape = errors.New("sparseops: shape mismatch")

// Constant is a sparse matrix that is constant during a training step, for
// use as the left operand of Mul: a normalised adjacency matrix or a sparse
// feature matrix. It caches the transpose that gradients need, and can
// apply dropout to its entries (Dropout) for one step at a time.
//
// A Constant must not be changed (SetData, Dropout) while a graph that uses
// it runs.
type Constant struct {
	a, at *CSR
	// src[q] is the entry of a that sits at position q of at.
	src []int32
	// sorted records that every row of a and at has increasing columns, so
	// that products can be cache-blocked.
	sorted bool
	// uniform records that a has entries, all of the same value (binary
	// features), so that Dropout need not copy values.
	uniform bool

	// dropped holds, after a Dropout with p > 0, the entries kept in a,
	// each row's moved to the front of its range: products then skip
	// dropped entries instead of multiplying by zero, and transposed ones
	// scatter from them (see scatterProduct) rather than filter at too. nil
	// when no dropout is active.
	dropped *keptEntries

	// blocks caches column blocks for cache-blocked float32 products of all
	// entries, by matrix (0: a, 1: at) and block width (those of the kept
	// entries of a are in dropped). The mutex guards both because one
	// Constant may serve several graphs.
	mu     sync.Mutex
	blocks [2]map[int]*colBlocks
}

// keptEntries are the entries of a matrix that survive dropout: those of
// row i are positions [indptr[i], hi[i]) of indices and data, in the row's
// order, with values scaled by 1/(1-p).
type keptEntries struct {
	hi      []int
	indices []int32
	data    []float32
	// filled is the value every element of data holds when the matrix's
	// values are all equal (binary features): then only indices are
	// compacted, a third less memory traffic. NaN otherwise.
	filled float32
	// blocks are column blocks of the kept entries by block width: those
	// that products asked for, which every Dropout then refreshes while it
	// compacts, instead of searching each row again.
	blocks map[int]*colBlocks
	// full are the blocks of the smallest width in blocks, over all the
	// matrix's entries: the fixed bounds that compaction walks.
	full *colBlocks
}

// NewConstant returns a Constant holding a copy of a, so that SetData never
// changes a. It panics if a is not valid (see Validate).
func NewConstant(a *CSR) *Constant {
	if err := a.Validate(); err != nil {
		panic(err)
	}
	a = a.Clone()
	at, perm := a.TransposePerm()
	src := make([]int32, len(perm))
	for k, q := range perm {
		src[q] = int32(k)
	}
	return &Constant{a: a, at: at, src: src, sorted: sortedRows(a) && sortedRows(at), uniform: allEqual(a.Data)}
}

// Matrix returns the matrix held by c, with the values given to NewConstant
// or the last SetData: dropout does not change it (see Values). The caller
// must not modify it; use SetData to change its values.
func (c *Constant) Matrix() *CSR { return c.a }

// Values returns the values that products use now, in the order of
// Matrix().Data: after Dropout with p > 0 the kept values scaled by 1/(1-p)
// and zeros for dropped ones, else Matrix().Data. It returns a new slice.
func (c *Constant) Values() []float32 {
	m := c.a
	if c.dropped == nil {
		return slices.Clone(m.Data)
	}
	out := make([]float32, len(m.Data))
	d := c.dropped
	for i := 0; i < m.Rows; i++ {
		// The kept entries are a subsequence of the row: match them up.
		p := m.Indptr[i]
		for q := m.Indptr[i]; q < d.hi[i]; q++ {
			for m.Indices[p] != d.indices[q] {
				p++
			}
			out[p] = d.data[q]
			p++
		}
	}
	return out
}

// SetData replaces the values of c's matrix, and of its cached transpose,
// with vals, keeping the sparsity pattern: vals[k] becomes the value of
// entry k (Matrix().Data[k]). vals is copied. Any dropout is undone. It
// returns an error wrapping ErrShape if len(vals) differs from the number
// of entries.
func (c *Constant) SetData(vals []float32) error {
	if len(vals) != len(c.a.Data) {
		return fmt.Errorf("%w: SetData got %d values for a matrix with %d entries", ErrShape, len(vals), len(c.a.Data))
	}
	copy(c.a.Data, vals)
	// Gathering into the transpose is a plain copy per position, so it can
	// be split over goroutines without affecting the result.
	dst, src := c.at.Data, c.src
	parallel.For(len(dst), 1<<16, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		for q := range d {
			d[q] = vals[s[q]]
		}
	})
	c.uniform = allEqual(c.a.Data)
	c.setDropped(nil)
	return nil
}

// setDropped makes d the kept entries (nil: all entries).
func (c *Constant) setDropped(d *keptEntries) {
	c.mu.Lock()
	c.dropped = d
	c.mu.Unlock()
}

// Dropout makes products with c use each entry's value (from NewConstant or
// the last SetData) scaled by 1/(1-p), or drop the entry with probability p:
// dropout on the stored entries, as for the input features of a GCN. Which
// entries are kept is a hash of seed and the entry's position (a
// counter-based generator), so rows are filtered in parallel and the result
// depends only on seed and p: not on the thread count. Dropped entries are left out of
// products rather than multiplied by zero, which halves their cost at
// p = 0.5. p = 0 restores all entries. Dropout panics if p is not in [0, 1).
func (c *Constant) Dropout(p float64, seed uint64) {
	if !(p >= 0 && p < 1) {
		panic("sparseops: Dropout: p outside [0, 1)")
	}
	if p == 0 {
		c.setDropped(nil)
		return
	}
	d := c.dropped
	if d == nil {
		// Reuse the buffers of the previous step's dropout, if any.
		d = new(keptEntries)
	}
	keep := 1 - p
	t := int64(math.Round(keep * (1 << 32)))
	scale := float32(1 / keep)
	keepEntries(d, c.a, c.uniform, scale, seed, t)
	c.setDropped(d)
}

// keepEntries fills d with the entries of m that dropout keeps, their values
// scaled: entry q is kept if the high half of splitMix(weylState(seed, q)) is below
// thresh. With uniform (all values of m equal), d.data is filled with the
// one scaled value and only indices are compacted. Rows run in parallel, each
// compacted to the front of its range without branching on the draw (kept
// or not, an entry is written at the next free position, which advances
// only if it is kept). The column blocks in d.blocks are recomputed for the
// kept entries on the way: a row is compacted block by block of m's own
// entries, whose bounds are fixed, so no entry tests its column. m's rows
// must have sorted columns if there are any blocks.
func keepEntries(d *keptEntries, m *CSR, uniform bool, scale float32, seed uint64, thresh int64) {
	if len(d.hi) != m.Rows {
		d.hi = make([]int, m.Rows)
		d.indices = make([]int32, len(m.Indices))
		d.data = make([]float32, len(m.Data))
		d.filled = float32(math.NaN())
	}
	if uniform {
		if v := m.Data[0] * scale; v != d.filled {
			for i := range d.data {
				d.data[i] = v
			}
			d.filled = v
		}
	} else {
		d.filled = float32(math.NaN())
	}
	// One block width is updated in the loop (products of one Constant use
	// one k in practice); any others are searched for afterwards.
	var cb *colBlocks
	for _, b := range d.blocks {
		if cb == nil || b.width < cb.width {
			cb = b
		}
	}
	var full *colBlocks // the same blocks of all of m's entries
	nb := 1
	if cb != nil {
		nb = len(cb.starts) - 1
		cb.starts[0], cb.starts[nb] = m.Indptr[:m.Rows], d.hi
		if d.full == nil || d.full.width != cb.width {
			d.full = newColBlocks(csrOperand(m), cb.width)
		}
		full = d.full
	}
	rowsPer := max(1, m.Rows*(1<<15)/max(1, len(m.Data)))
	indptr, inIdx, inData, outIdx, outData, hi := m.Indptr, m.Indices, m.Data, d.indices, d.data, d.hi
	parallel.For(m.Rows, rowsPer, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			lo, end := indptr[i], indptr[i+1]
			keptIdx, keptData := outIdx[lo:end], outData[lo:end]
			var n int
			z := weylState(seed, uint64(lo))
			if cb == nil {
				n, _ = keepRange(keptIdx, keptData, 0, inIdx[lo:end], inData[lo:end], z, thresh, scale, uniform)
				hi[i] = lo + n
				continue
			}
			for q := 0; q < nb; q++ {
				if q > 0 {
					cb.starts[q][i] = lo + n
				}
				s, e := full.starts[q][i], full.starts[q+1][i]
				n, z = keepRange(keptIdx, keptData, n, inIdx[s:e], inData[s:e], z, thresh, scale, uniform)
			}
			hi[i] = lo + n
		}
	})
	kept := operand{rows: m.Rows, cols: m.Cols, lo: m.Indptr[:m.Rows], hi: d.hi, indices: d.indices, data: d.data, indptr: m.Indptr}
	for w, b := range d.blocks {
		if b != cb {
			d.blocks[w] = newColBlocks(kept, w)
		}
	}
}

// keepRange compacts the consecutive entries idx (values data) into
// keptIdx[n:] and keptData[n:] (only indices if uniform), keeping each
// with the draw of its Weyl state, the first being z. It returns the new
// count and the state after the last entry.
func keepRange(keptIdx []int32, keptData []float32, n int, idx []int32, data []float32, z uint64, thresh int64, scale float32, uniform bool) (int, uint64) {
	if uniform {
		for _, col := range idx {
			keptIdx[n] = col
			n += keptBit(z, thresh)
			z += weyl
		}
		return n, z
	}
	for p, col := range idx {
		keptIdx[n] = col
		keptData[n] = data[p] * scale
		n += keptBit(z, thresh)
		z += weyl
	}
	return n, z
}

// keptBit returns 1 if the draw of Weyl state z keeps its entry (the high
// half of splitMix(z) below thresh), else 0, without a branch.
func keptBit(z uint64, thresh int64) int {
	return int(uint64(int64(splitMix(z)>>32)-thresh) >> 63)
}

// allEqual reports whether v is not empty and every element equals v[0].
func allEqual(v []float32) bool {
	if len(v) == 0 {
		return false
	}
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

// operand returns the current entries of a (trans false), all of them or
// those kept by Dropout, or all entries of its transpose (trans true).
func (c *Constant) operand(trans bool) operand {
	if trans {
		return csrOperand(c.at)
	}
	o := csrOperand(c.a)
	if d := c.dropped; d != nil {
		o.hi, o.indices, o.data = d.hi, d.indices, d.data
	}
	return o
}

// mul sets dst = A·x (or adds it, with acc), A = c.a or its transpose with
// the current entries, for x of k columns. float32 products are
// cache-blocked when that pays (see blockWidth); transposed products after
// Dropout scatter from the kept entries of a.
func mul[T float32 | float64](c *Constant, trans bool, dst, x []T, k int, acc bool) {
	scatter := trans && c.dropped != nil
	a := c.operand(trans && !scatter)
	var cb *colBlocks
	if _, ok := any(dst).([]float32); ok && c.sorted {
		if width := blockWidth(a.rows, a.cols, a.indptr[a.rows], k); width > 0 {
			cb = c.colBlocks(trans && !scatter, a, width)
		}
	}
	switch {
	case scatter:
		scatterProduct(a, cb, dst, x, k, acc)
	case cb != nil:
		spmmBlocked(a, cb, any(dst).([]float32), any(x).([]float32), k, acc)
	default:
		spmmOperand(a, dst, x, k, acc)
	}
}

// colBlocks returns the column blocks of width of a, the current entries
// of c's matrix (trans false) or of its transpose, computing them once.
func (c *Constant) colBlocks(trans bool, a operand, width int) *colBlocks {
	c.mu.Lock()
	defer c.mu.Unlock()
	blocks := &c.blocks[0]
	switch {
	case trans:
		blocks = &c.blocks[1]
	case c.dropped != nil:
		blocks = &c.dropped.blocks
	}
	cb := (*blocks)[width]
	if cb == nil {
		cb = newColBlocks(a, width)
		if *blocks == nil {
			*blocks = map[int]*colBlocks{}
		}
		(*blocks)[width] = cb
	}
	return cb
}

// Dropout draws 64 random-looking bits for entry k from
// splitMix(weylState(seed, k)): the SplitMix64 finaliser of a Weyl
// sequence, a good counter-based generator.

// weyl is the increment of the Weyl sequence.
const weyl = 0x9e3779b97f4a7c15

// weylState returns the Weyl sequence's state for counter k; the state of
// k+1 is that plus weyl, which lets loops step it with an addition.
func weylState(seed, k uint64) uint64 { return seed + (k+1)*weyl }

// splitMix is the SplitMix64 finaliser.
func splitMix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Mul returns the node c·h, where h is a Float32 or Float64 matrix node
// with c.Matrix().Cols rows. The sparse operand is part of the operation,
// not an input node, so gradients flow to h only: through symbolic
// differentiation (gorgonia.Grad and a TapeMachine) as well as through
// gorgonia's LispMachine. It serves both Â·H (Â a normalised adjacency) and
// X·W (X a sparse feature matrix). The op keeps its output buffer between
// runs, so a graph using it must not be run by two machines at once.
//
// It returns an error wrapping ErrShape if h is not such a matrix.
func Mul(c *Constant, h *gorgonia.Node) (*gorgonia.Node, error) {
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
func MulAdd(c *Constant, h, z *gorgonia.Node) (*gorgonia.Node, error) {
	if err := checkMulOperands("MulAdd", c, h); err != nil {
		return nil, err
	}
	if z == nil || !z.IsMatrix() || z.Dtype() != h.Dtype() || z.Shape()[0] != c.a.Rows || z.Shape()[1] != h.Shape()[1] {
		return nil, fmt.Errorf("%w: MulAdd: addend %v does not fit a %d×%d product of %v", ErrShape, z, c.a.Rows, h.Shape()[1], h.Dtype())
	}
	n, err := gorgonia.ApplyOp(&mulOp{c: c, add: true}, h, z)
	if err != nil {
		return nil, fmt.Errorf("sparseops: MulAdd: %w", err)
	}
	return n, nil
}

// checkMulOperands checks that h can multiply c from the right.
func checkMulOperands(name string, c *Constant, h *gorgonia.Node) error {
	if c == nil || h == nil {
		return fmt.Errorf("sparseops: %s: nil operand", name)
	}
	if !h.IsMatrix() {
		return fmt.Errorf("%w: %s needs a matrix node, got shape %v", ErrShape, name, h.Shape())
	}
	if dt := h.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("%w: %s needs a Float32 or Float64 node, got %v", ErrShape, name, dt)
	}
	if r := h.Shape()[0]; r != c.a.Cols {
		return fmt.Errorf("%w: %s of a %d×%d sparse matrix with a node of %d rows", ErrShape, name, c.a.Rows, c.a.Cols, r)
	}
	return nil
}

// mulOp is the gorgonia operation h ↦ A·h, or h ↦ Aᵀ·h if trans is set,
// with A = c.a; with add, (h, z) ↦ A·h + z. The products are each other's
// gradient. Each op writes into its own buffer (see internal/opbuf): a
// product is 3.5 MB on Amazon Computers, and allocating (and zeroing) a
// fresh one per run showed in profiles.
type mulOp struct {
	c     *Constant
	trans bool
	add   bool
	out   *tensor.Dense
}

var (
	_ gorgonia.SDOp = (*mulOp)(nil)
	_ gorgonia.ADOp = (*mulOp)(nil)
)

func (op *mulOp) matrix() *CSR {
	if op.trans {
		return op.c.at
	}
	return op.c.a
}

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
	a := op.matrix()
	if s[0] != a.Cols {
		return nil, fmt.Errorf("%w: %v applied to %d rows", ErrShape, op, s[0])
	}
	return tensor.Shape{a.Rows, s[1]}, nil
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
	if s.Dims() != 2 || s[0] != op.matrix().Cols {
		return nil, nil, fmt.Errorf("%w: %v applied to shape %v", ErrShape, op, s)
	}
	if !op.add {
		return h, nil, nil
	}
	if z, err = dense(op, vals[1]); err != nil {
		return nil, nil, err
	}
	if zs := z.Shape(); zs.Dims() != 2 || zs[0] != op.matrix().Rows || zs[1] != s[1] || z.Dtype() != h.Dtype() {
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
	a, k := op.matrix(), h.Shape()[1]
	switch x := h.Data().(type) {
	case []float32:
		return productInto(op, h.Dtype(), a.Rows, k, x, z), nil
	case []float64:
		return productInto(op, h.Dtype(), a.Rows, k, x, z), nil
	}
	return nil, fmt.Errorf("%w: %v does not support %v", ErrShape, op, h.Dtype())
}

// productInto computes op's product of x (k columns) into op's buffer,
// adding z if it is not nil, and returns the buffer.
func productInto[T float32 | float64](op *mulOp, dt tensor.Dtype, rows, k int, x []T, z tensor.Tensor) tensor.Tensor {
	out := opbuf.Reuse(&op.out, dt, rows, k)
	dst := out.Data().([]T)
	if z != nil {
		copy(dst, z.Data().([]T))
	}
	mul(op.c, op.trans, dst, x, k, z != nil)
	return out
}

func (op *mulOp) ReturnsPtr() bool     { return false }
func (op *mulOp) CallsExtern() bool    { return false }
func (op *mulOp) OverwritesInput() int { return -1 }

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
	a := op.matrix()
	t := ""
	if op.trans {
		t = "ᵀ"
	}
	add := ""
	if op.add {
		add = "Add"
	}
	return fmt.Sprintf("SpMul%s%s(%p, %d×%d)", t, add, op.c, a.Rows, a.Cols)
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
	at := (&mulOp{c: op.c, trans: !op.trans}).matrix()
	gs, ds := g.Shape(), d.Shape()
	if gs.Dims() != 2 || ds.Dims() != 2 || gs[0] != at.Cols || ds[0] != at.Rows || gs[1] != ds[1] {
		return fmt.Errorf("%w: %v: gradient shapes %v and %v", ErrShape, op, gs, ds)
	}
	switch x := g.Data().(type) {
	case []float32:
		if y, ok := d.Data().([]float32); ok {
			mul(op.c, !op.trans, y, x, gs[1], true)
			return nil
		}
	case []float64:
		if y, ok := d.Data().([]float64); ok {
			mul(op.c, !op.trans, y, x, gs[1], true)
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
