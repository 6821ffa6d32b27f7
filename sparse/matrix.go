package sparse

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gnsr/gnsr/internal/parallel"
)

// ErrShape is wrapped by errors that report operands of mismatched shape,
// length or type.
var ErrShape = errors.New("sparse: shape mismatch")

// Matrix is a CSR matrix prepared as the left operand of products during
// training (MulInto, and the gorgonia ops of package sparseops): a
// normalised adjacency matrix or a sparse feature matrix. It makes the
// transpose that gradients need on first use, and not at all for a
// symmetric matrix (whose products by the transpose are those by the matrix
// itself), and can apply dropout to its entries (Dropout) for one step at a
// time. Views (View) share its entries, its transpose and its caches but
// not its dropout.
//
// A Matrix must not be changed (SetData, Dropout) while a graph that uses
// it, or one of its views, runs.
type Matrix struct {
	e *entries

	// dropped holds, after a Dropout with p > 0, the entries kept in a,
	// each row's moved to the front of its range: products then skip
	// dropped entries instead of multiplying by zero, and transposed ones
	// scatter from them (see scatterProduct) rather than filter at too. nil
	// when no dropout is active. mu guards it and its blocks, because one
	// Matrix may serve several graphs.
	mu      sync.Mutex
	dropped *keptEntries
	// rows and src, if not nil, restrict products to some rows of their
	// results (RestrictRows): rows those of plain products, whose entries
	// alone Dropout draws for, and src those of transposed ones; rowsNNZ
	// and srcNNZ count the entries of rows and of src's rows of the
	// transpose. dstHi and srcHi are the row ends of the
	// restricted operands (a row outside ends where it starts), and
	// rblocks their column blocks, made on first use.
	rows, src    []int32
	rowsNNZ      int
	srcNNZ       int
	dstHi, srcHi []int
	rblocks      [2]map[int]*colBlocks
	// sub, if not nil, is a compact copy of the entries of rows (the other
	// rows empty) that Dropout filters instead of the whole matrix, made by
	// the first Dropout when they are at most half of it: contiguous memory rather than rows
	// scattered over all of it. Row i's entries start at subBase[i] in
	// the whole matrix, which numbers their draws.
	sub     *CSR
	subBase []int
	// spare are buffers for the next Dropout to fill (ReuseDropout).
	spare *keptEntries
}

// entries are the stored entries of a Matrix and what is derived from
// them, shared by its views.
type entries struct {
	a *CSR
	// own records that a.Data is the Matrix's own copy (made by the first
	// SetData); until then a is the caller's matrix, read only.
	own bool
	// sorted records that every row of a has increasing columns (those of
	// the transpose always do), so that products can be cache-blocked.
	sorted bool
	// uniform records that a has entries, all of the same value (binary
	// features), so that Dropout need not copy values.
	uniform bool
	// blockRows and blockNNZ, if blockRows > 0, are the shape that plain
	// products choose their cache blocking by instead of a's: those of the
	// matrix a is a range of rows of (RowRange), so that its rows are
	// summed as there.
	blockRows, blockNNZ int

	// mu guards the fields below, made on first use.
	mu sync.Mutex
	// sym is symUnknown until a transposed product asks, then whether a
	// equals its transpose bit for bit; at is the transpose when it does
	// not (a itself when it does), and src[q] the entry of a that sits at
	// position q of the transpose (for the edge kernels; nil until asked).
	sym int8
	at  *CSR
	src []int32
	// blocks caches column blocks for cache-blocked float32 products of all
	// entries, by matrix (0: a, 1: its transpose) and block width (those of
	// the kept entries of a are in keptEntries).
	blocks [2]map[int]*colBlocks
}

// The states of entries.sym.
const (
	symUnknown int8 = iota
	symYes
	symNo
)

// keptEntries are the entries of a matrix that survive dropout: those of
// row i are positions [lo[i], hi[i]) of indices and data, in the row's
// order, with values scaled by 1/(1-p). lo are the row pointers of the
// matrix filtered: the Matrix's own, or those of its restricted rows'
// compact copy (see Matrix.sub).
type keptEntries struct {
	lo, hi  []int
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
}

// NewMatrix returns a Matrix on a, which it reads but never changes: a
// must not be modified while the Matrix is in use (SetData copies the
// values first). It panics if a is not valid (see Validate).
func NewMatrix(a *CSR) *Matrix {
	if err := a.Validate(); err != nil {
		panic(err)
	}
	return &Matrix{e: &entries{a: a, sorted: sortedRows(a), uniform: allEqual(a.Data)}}
}

// SelectRows returns a Matrix of the rows rows of c's matrix, in that order
// (CSR.SelectRowsInto into dst, which may be nil), made without the checks
// of NewMatrix: the rows of c's matrix are valid, sorted if c's are, and of
// one value if c's are. It panics if a row is out of range.
func (c *Matrix) SelectRows(dst *CSR, rows []int) *Matrix {
	a := c.e.a.SelectRowsInto(dst, rows)
	return &Matrix{e: &entries{a: a, sorted: c.e.sorted, uniform: c.e.uniform && len(a.Data) > 0}}
}

// RowRange returns a Matrix of rows [r0, r1) of c's matrix, sharing its
// entries' arrays, whose products compute each row as c's do, bit for bit
// (their cache blocking is chosen as c's would be; RestrictRows computes
// the same rows in a product of c's size instead). It panics unless
// 0 ≤ r0 ≤ r1 ≤ c's rows.
func (c *Matrix) RowRange(r0, r1 int) *Matrix {
	a := c.e.a
	if r0 < 0 || r0 > r1 || r1 > a.Rows {
		panic(fmt.Sprintf("sparse: RowRange [%d, %d) of %d rows", r0, r1, a.Rows))
	}
	lo, hi := a.Indptr[r0], a.Indptr[r1]
	indptr := make([]int, r1-r0+1)
	for i := range indptr {
		indptr[i] = a.Indptr[r0+i] - lo
	}
	sub := &CSR{Rows: r1 - r0, Cols: a.Cols, Indptr: indptr, Indices: a.Indices[lo:hi:hi], Data: a.Data[lo:hi:hi]}
	rows, nnz := a.Rows, a.Indptr[a.Rows]
	if c.e.blockRows > 0 {
		rows, nnz = c.e.blockRows, c.e.blockNNZ
	}
	return &Matrix{e: &entries{a: sub, sorted: c.e.sorted, uniform: c.e.uniform && hi > lo, blockRows: rows, blockNNZ: nnz}}
}

// View returns a Matrix on the same entries as c, with c's transpose and
// caches, but without its dropout: for a second graph on the same matrix
// (evaluation beside training) at no copy. A SetData of either changes
// the values of both.
func (c *Matrix) View() *Matrix { return &Matrix{e: c.e} }

// CSR returns the matrix held by c, with the values given to NewMatrix
// or the last SetData: dropout does not change it (see Values). The caller
// must not modify it; use SetData to change its values.
func (c *Matrix) CSR() *CSR { return c.e.a }

// Dims returns the number of rows and columns of c's matrix, or of its
// transpose with trans.
func (c *Matrix) Dims(trans bool) (rows, cols int) {
	a := c.e.a
	if trans {
		return a.Cols, a.Rows
	}
	return a.Rows, a.Cols
}

// Transposed returns the transpose of c's matrix, with the values of the
// last NewMatrix or SetData, making it on first use: c's own matrix if it
// is symmetric. The caller must not modify it.
func (c *Matrix) Transposed() *CSR {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.transposed()
}

// transposed returns the transpose, making it if needed; e.mu must be
// held.
func (e *entries) transposed() *CSR {
	if e.sym == symUnknown {
		e.sym = symNo
		if symmetric(e.a) {
			e.sym = symYes
		}
	}
	if e.sym == symYes {
		return e.a
	}
	if e.at == nil {
		e.at, _ = e.a.TransposePerm()
	}
	return e.at
}

// TransposeSources returns, for each stored entry q of the transpose of
// c's matrix (Transposed), the index of the same entry in c's matrix: the
// perm of the edge kernels. It is made on first use. The caller must not
// modify it.
func (c *Matrix) TransposeSources() []int32 {
	e := c.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.src == nil {
		e.transposed()
		at, perm := e.a.TransposePerm()
		if e.sym == symNo {
			e.at = at
		}
		e.src = make([]int32, len(perm))
		for k, q := range perm {
			e.src[q] = int32(k)
		}
	}
	return e.src
}

// symmetric reports whether m is square and equal to its transpose, bit
// for bit: every entry (i, j) has an entry (j, i) of the same value. The
// rows of m must have sorted, unique columns for it to report true (then
// the transpose's arrays are m's own). Rows are checked in parallel.
func symmetric(m *CSR) bool {
	if m.Rows != m.Cols || !sortedRows(m) {
		return false
	}
	var mu sync.Mutex
	ok := true
	parallel.For(m.Rows, 4096, func(r0, r1 int) {
		for i := r0; i < r1; i++ {
			for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
				j := m.Indices[p]
				row := m.Indices[m.Indptr[j]:m.Indptr[j+1]]
				q, found := slices.BinarySearch(row, int32(i))
				if !found || math.Float32bits(m.Data[m.Indptr[j]+q]) != math.Float32bits(m.Data[p]) {
					mu.Lock()
					ok = false
					mu.Unlock()
					return
				}
			}
		}
	})
	return ok
}

// Values returns the values that plain products use now, in the order of
// CSR().Data: after Dropout with p > 0 the kept values scaled by 1/(1-p)
// and zeros for dropped ones, else CSR().Data, with zeros for rows outside
// a restriction (RestrictRows). It returns a new slice.
func (c *Matrix) Values() []float32 {
	m := c.e.a
	if c.dropped == nil {
		out := slices.Clone(m.Data)
		if a, ok := c.restricted(false, csrOperand(m)); ok {
			for i := range m.Rows {
				clear(out[a.hi[i]:m.Indptr[i+1]])
			}
		}
		return out
	}
	out := make([]float32, len(m.Data))
	d := c.dropped
	for i := 0; i < m.Rows; i++ {
		// The kept entries are a subsequence of the row: match them up.
		p := m.Indptr[i]
		for q := d.lo[i]; q < d.hi[i]; q++ {
			for m.Indices[p] != d.indices[q] {
				p++
			}
			out[p] = d.data[q]
			p++
		}
	}
	return out
}

// SetData replaces the values of c's matrix (those of all its views) with
// vals, keeping the sparsity pattern: vals[k]
// becomes the value of entry k (CSR().Data[k]). vals is copied; the matrix
// given to NewMatrix is not changed. c's dropout is undone. It returns an
// error wrapping ErrShape if len(vals) differs from the number of entries.
func (c *Matrix) SetData(vals []float32) error {
	e := c.e
	if len(vals) != len(e.a.Data) {
		return fmt.Errorf("%w: SetData got %d values for a matrix with %d entries", ErrShape, len(vals), len(e.a.Data))
	}
	e.mu.Lock()
	if !e.own {
		a := *e.a
		a.Data = make([]float32, len(vals))
		e.a, e.own = &a, true
	}
	copy(e.a.Data, vals)
	e.uniform = allEqual(e.a.Data)
	// The transpose is made again from the new values when asked for;
	// src depends on the pattern only and stays.
	e.at, e.sym = nil, symUnknown
	e.mu.Unlock()
	c.setDropped(nil)
	return nil
}

// setDropped makes d the kept entries (nil: all entries).
func (c *Matrix) setDropped(d *keptEntries) {
	c.mu.Lock()
	c.dropped = d
	c.mu.Unlock()
}

// Dropout makes products with c use each entry's value (from NewMatrix or
// the last SetData) scaled by 1/(1-p), or drop the entry with probability p:
// dropout on the stored entries, as for the input features of a GCN. Which
// entries are kept is a hash of seed and the entry's position (a
// counter-based generator), so rows are filtered in parallel and the result
// depends only on seed and p: not on the thread count, nor on a
// restriction to some rows (RestrictRows), which draws for those rows
// alone. Dropped entries are left out of products rather than multiplied
// by zero, which halves their cost at p = 0.5. p = 0 restores all entries
// (of the rows a restriction leaves). Dropout panics if p is not in [0, 1).
func (c *Matrix) Dropout(p float64, seed uint64) {
	if !(p >= 0 && p < 1) {
		panic("sparse: Dropout: p outside [0, 1)")
	}
	if p == 0 {
		c.setDropped(nil)
		return
	}
	d := c.dropped
	if d == nil {
		// Reuse the buffers of the previous step's dropout, or of another
		// Matrix's (ReuseDropout), if any.
		d, c.spare = c.spare, nil
		if d == nil {
			d = new(keptEntries)
		}
	}
	keep := 1 - p
	t := int64(math.Round(keep * (1 << 32)))
	scale := float32(1 / keep)
	m, base := c.e.a, c.e.a.Indptr
	if c.rows != nil && c.sub == nil && 2*c.rowsNNZ <= len(m.Indices) {
		c.sub, c.subBase = compactRows(m, c.rows, c.rowsNNZ)
	}
	if c.sub != nil {
		m, base = c.sub, c.subBase
	}
	keepEntries(d, m, base, c.e.uniform, scale, seed, t, c.rows, c.rowsNNZ)
	c.setDropped(d)
}

// ReuseDropout hands the buffers of prev's dropout to c, whose next
// Dropout fills them, growing them if need be, instead of allocating: for
// a loop that makes a Matrix a mini-batch. prev must not be used after.
// It changes no result.
func (c *Matrix) ReuseDropout(prev *Matrix) {
	if prev == nil || prev.dropped == nil {
		return
	}
	d := prev.dropped
	prev.setDropped(nil)
	d.hi = d.hi[:0] // made again for c's matrix
	c.mu.Lock()
	c.spare = d
	c.mu.Unlock()
}

// RestrictRows makes products with c compute some rows of their results
// only, the others being zero (or left as they are, when a product
// accumulates): plain products the rows dst, transposed ones the rows src
// (columns of c's matrix). Under Dropout, only the entries of rows dst are
// drawn for, with the draws of an unrestricted Dropout (each depends on its
// entry's position), the others being dropped, and transposed products
// scatter from those kept entries whatever src. So the rows computed are
// bit for bit those of the unrestricted products, given, for transposed
// products, a dense operand that is zero outside dst: this is how a
// trainer computes only the receptive field of its loss, at the cost of
// that field. Each of dst and src must be increasing rows of its result,
// or nil for all of them. The current dropout is undone. RestrictRows
// panics if a row is out of order or range.
func (c *Matrix) RestrictRows(dst, src []int32) {
	a := c.e.a
	checkRows("dst", dst, a.Rows)
	checkRows("src", src, a.Cols)
	nnz := 0
	for _, i := range dst {
		nnz += a.Indptr[i+1] - a.Indptr[i]
	}
	c.mu.Lock()
	c.rows, c.src, c.rowsNNZ, c.dropped = dst, src, nnz, nil
	c.dstHi, c.srcHi, c.rblocks = nil, nil, [2]map[int]*colBlocks{}
	c.sub, c.subBase = nil, nil
	c.mu.Unlock()
}

// Restriction returns the rows RestrictRows restricts c's products to:
// dst those of plain products, src those of transposed ones (nil: all).
func (c *Matrix) Restriction() (dst, src []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rows, c.src
}

// compactRows returns a copy of the entries of a's rows rows (increasing),
// its other rows empty, and where each row's entries start in a.
func compactRows(a *CSR, rows []int32, nnz int) (*CSR, []int) {
	sub := &CSR{Rows: a.Rows, Cols: a.Cols, Indptr: make([]int, a.Rows+1), Indices: make([]int32, 0, nnz), Data: make([]float32, 0, nnz)}
	base := make([]int, a.Rows)
	next := 0
	for _, i := range rows {
		for ; next <= int(i); next++ {
			sub.Indptr[next] = len(sub.Indices)
		}
		base[i] = a.Indptr[i]
		sub.Indices = append(sub.Indices, a.Indices[a.Indptr[i]:a.Indptr[i+1]]...)
		sub.Data = append(sub.Data, a.Data[a.Indptr[i]:a.Indptr[i+1]]...)
	}
	for ; next <= a.Rows; next++ {
		sub.Indptr[next] = len(sub.Indices)
	}
	return sub, base
}

// checkRows panics unless rows are increasing and in [0, n).
func checkRows(name string, rows []int32, n int) {
	for t, i := range rows {
		if i < 0 || int(i) >= n || (t > 0 && i <= rows[t-1]) {
			panic(fmt.Sprintf("sparse: RestrictRows: %s row %d at position %d is out of order or outside [0, %d)", name, i, t, n))
		}
	}
}

// restricted returns a, c's entries (trans false) or its transpose's,
// with the rows outside c's restriction emptied, and whether there is a
// restriction. It must not be called after a Dropout with p > 0, whose
// kept entries are restricted already.
func (c *Matrix) restricted(trans bool, a operand) (operand, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, hi, nnz := c.rows, &c.dstHi, &c.rowsNNZ
	if trans {
		rows, hi, nnz = c.src, &c.srcHi, &c.srcNNZ
	}
	if rows == nil {
		return a, false
	}
	if *hi == nil {
		h, n := slices.Clone(a.lo), 0
		for _, i := range rows {
			h[i] = a.indptr[i+1]
			n += a.indptr[i+1] - a.indptr[i]
		}
		*hi, *nnz = h, n // the same rowsNNZ as RestrictRows's for rows
	}
	a.hi, a.active, a.activeNNZ = *hi, rows, *nnz
	return a, true
}

// keepEntries fills d with the entries of m that dropout keeps, their values
// scaled: entry q is kept if the high half of splitMix(weylState(seed, q)) is below
// thresh, q being base[i] for the first entry of row i. If rows is not
// nil, only those rows (nnz entries in all) are filtered and the others
// stay empty. With uniform (all values of m equal), d.data is filled with the
// one scaled value and only indices are compacted. Rows run in parallel, each
// compacted to the front of its range without branching on the draw (kept
// or not, an entry is written at the next free position, which advances
// only if it is kept), a whole row at a time (in groups of 8 in AVX2). The
// column blocks in d.blocks are recomputed for the kept entries on the
// way, each bound by a scan of the row's kept columns. m's rows must have
// sorted columns if there are any blocks.
func keepEntries(d *keptEntries, m *CSR, base []int, uniform bool, scale float32, seed uint64, thresh int64, rows []int32, nnz int) {
	if len(d.hi) != m.Rows {
		d.lo = m.Indptr[:m.Rows]
		d.hi = grow(d.hi, m.Rows)
		copy(d.hi, m.Indptr[:m.Rows]) // rows outside a restriction stay empty
		d.indices = grow(d.indices, len(m.Indices))
		d.data = grow(d.data, len(m.Data))
		d.filled = float32(math.NaN())
		d.blocks = nil
	}
	if uniform && len(m.Data) > 0 {
		if v := m.Data[0] * scale; v != d.filled {
			for i := range d.data {
				d.data[i] = v
			}
			d.filled = v
		}
	} else {
		d.filled = float32(math.NaN())
	}
	// One block width is updated in the loop (products of one Matrix use
	// one k in practice); any others are searched for afterwards.
	var cb *colBlocks
	for _, b := range d.blocks {
		if cb == nil || b.width < cb.width {
			cb = b
		}
	}
	nb := 1
	if cb != nil {
		nb = len(cb.starts) - 1
		cb.starts[0], cb.starts[nb] = m.Indptr[:m.Rows], d.hi
	}
	n := m.Rows
	if rows != nil {
		n = len(rows)
	} else {
		nnz = len(m.Data)
	}
	rowsPer := max(1, n*(1<<15)/max(1, nnz))
	indptr, inIdx, inData, outIdx, outData, hi := m.Indptr, m.Indices, m.Data, d.indices, d.data, d.hi
	parallel.For(n, rowsPer, func(r0, r1 int) {
		for t := r0; t < r1; t++ {
			i := t
			if rows != nil {
				i = int(rows[t])
			}
			lo, end := indptr[i], indptr[i+1]
			keptIdx, keptData := outIdx[lo:end], outData[lo:end]
			z := weylState(seed, uint64(base[i]))
			n, _ := keepRange(keptIdx, keptData, 0, inIdx[lo:end], inData[lo:end], z, thresh, scale, uniform)
			hi[i] = lo + n
			// Block q of the kept row starts at its first column of q·width
			// or more.
			p := 0
			for q := 1; q < nb; q++ {
				c := int32(q * cb.width)
				for p < n && keptIdx[p] < c {
					p++
				}
				cb.starts[q][i] = lo + p
			}
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
	n, z, done := keepSIMD(keptIdx, keptData, n, idx, data, z, thresh, scale, uniform)
	return keepRangeGo(keptIdx, keptData, n, idx[done:], data[done:], z, thresh, scale, uniform)
}

// keepRangeGo is keepRange in plain Go.
func keepRangeGo(keptIdx []int32, keptData []float32, n int, idx []int32, data []float32, z uint64, thresh int64, scale float32, uniform bool) (int, uint64) {
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
// those kept by Dropout, or all entries of its transpose (trans true),
// made on first use.
func (c *Matrix) operand(trans bool) operand {
	if trans {
		return csrOperand(c.Transposed())
	}
	o := csrOperand(c.e.a)
	if d := c.dropped; d != nil {
		// indptr stays the whole matrix's: the split of rows among
		// goroutines and the blocking are those of unfiltered products.
		o.lo, o.hi, o.indices, o.data, o.active, o.activeNNZ = d.lo, d.hi, d.indices, d.data, c.rows, c.rowsNNZ
	}
	return o
}

// MulInto sets dst = A·x (or adds A·x to dst, with acc), where A is c's
// matrix with its current entries (trans false) or its transpose (trans
// true), and x is a row-major matrix of k columns. float32 products are
// cache-blocked when that pays (see blockWidth); transposed products after
// Dropout scatter from the kept entries, and those of a symmetric matrix
// use the matrix itself. Results do not depend on the number of
// goroutines. MulInto panics if dst or x do not have the product's
// dimensions.
func MulInto[T float32 | float64](c *Matrix, trans bool, dst, x []T, k int, acc bool) {
	dropped := c.dropped != nil
	scatter := trans && dropped
	a := c.operand(trans && !scatter)
	restricted := false
	if !dropped {
		a, restricted = c.restricted(trans, a)
	}
	var cb *colBlocks
	if _, ok := any(dst).([]float32); ok && c.e.sorted {
		// The blocking depends on the whole matrix, so that restricted
		// rows are summed as unrestricted ones.
		rows, nnz := a.rows, a.indptr[a.rows]
		if c.e.blockRows > 0 && !trans {
			rows, nnz = c.e.blockRows, c.e.blockNNZ
		}
		if width := blockWidth(rows, a.cols, nnz, k); width > 0 {
			if restricted {
				cb = c.restrictedBlocks(trans, a, width)
			} else {
				cb = c.colBlocks(trans && !scatter, a, width)
			}
		}
	}
	switch {
	case scatter:
		scatterProduct(a, cb, dst, x, k, acc, c.e.sorted)
	case cb != nil:
		spmmBlocked(a, cb, any(dst).([]float32), any(x).([]float32), k, acc)
	default:
		spmmOperand(a, dst, x, k, acc)
	}
}

// restrictedBlocks returns the column blocks of width of a, c's restricted
// entries (trans false) or its transpose's, computing them once.
func (c *Matrix) restrictedBlocks(trans bool, a operand, width int) *colBlocks {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	if trans {
		t = 1
	}
	cb := c.rblocks[t][width]
	if cb == nil {
		cb = newColBlocks(a, width)
		if c.rblocks[t] == nil {
			c.rblocks[t] = map[int]*colBlocks{}
		}
		c.rblocks[t][width] = cb
	}
	return cb
}

// colBlocks returns the column blocks of width of a, the current entries
// of c's matrix (trans false) or of its transpose, computing them once.
func (c *Matrix) colBlocks(trans bool, a operand, width int) *colBlocks {
	var blocks *map[int]*colBlocks
	if !trans && c.dropped != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		blocks = &c.dropped.blocks
	} else {
		e := c.e
		e.mu.Lock()
		defer e.mu.Unlock()
		blocks = &e.blocks[0]
		if trans && e.sym != symYes {
			blocks = &e.blocks[1]
		}
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
