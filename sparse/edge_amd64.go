//go:build amd64 && !purego

package sparse

import "unsafe"

// edgeMulStrip64 sets out's rows [0, rows) (ostride bytes apart) to a
// 64-column strip of EdgeMul without accumulation: the products of the
// edge weights with x's blocks of 8 columns (rows xstride bytes apart,
// starting at the strip), the b-th block weighted by the float at byte
// headOff[b] of the edge's weights (wstride bytes an edge). indptr points
// at the first row's Indptr entry; perm, if not nil, maps entries to edges.
//
//go:noescape
func edgeMulStrip64(indptr *int, indices *int32, perm *int32, vals *float32, wstride int, headOff *int, x *float32, xstride int, out *float32, ostride int, rows int)

// edgeMulBlock is edgeMulStrip64 for one block of up to 8 columns, whose
// weights are up to 8 consecutive heads starting at vals; consts is
// edgeBlockConsts.
//
//go:noescape
func edgeMulBlock(indptr *int, indices *int32, perm *int32, vals *float32, wstride int, consts *int32, x *float32, xstride int, out *float32, ostride int, rows int)

// edgeMulSIMD computes rows [r0, r1) of EdgeMul for float32 without
// accumulation and reports whether it did. Its sums are the portable
// kernel's, bit for bit.
func edgeMulSIMD(p *CSR, vals []float32, perm []int32, heads int, x []float32, width int, out []float32, r0, r1 int) bool {
	if !useSIMD || r0 >= r1 || p.NNZ() == 0 {
		return false
	}
	hw := heads * width
	var permp *int32
	if perm != nil {
		permp = unsafe.SliceData(perm)
	}
	indptr, indices, valp := &p.Indptr[r0], unsafe.SliceData(p.Indices), unsafe.SliceData(vals)
	wstride, stride := heads*4, hw*4
	var off [8]int
	c := 0
	for ; c+64 <= hw && width%8 == 0; c += 64 {
		for b := range off {
			off[b] = (c + 8*b) / width * 4
		}
		edgeMulStrip64(indptr, indices, permp, valp, wstride, &off[0], &x[c], stride, &out[r0*hw+c], stride, r1-r0)
	}
	for ; c < hw; c += 8 {
		h0 := c / width
		consts := edgeBlockConsts(heads-h0, c, min(8, hw-c), width)
		edgeMulBlock(indptr, indices, permp, &vals[h0], wstride, &consts[0], &x[c], stride, &out[r0*hw+c], stride, r1-r0)
	}
	return true
}

// edgeBlockConsts returns edgeMulBlock's vectors for the block of lanes
// columns from column c, of heads width wide, the first of its heads
// being c/width, with left heads from there on: the load mask of those
// heads, each column's head relative to the first, the block's lanes.
func edgeBlockConsts(left, c, lanes, width int) [24]int32 {
	var v [24]int32
	h0 := c / width
	for l := range 8 {
		if l < left {
			v[l] = -1
		}
		if l < lanes {
			v[8+l] = int32((c+l)/width - h0)
			v[16+l] = -1
		}
	}
	return v
}

// edgeSoftmax8 computes EdgeSoftmax of 8 heads for rows [0, rows) from
// the one indptr points at, until a row with a value that is not finite;
// it returns how many rows it did.
//
//go:noescape
func edgeSoftmax8(indptr *int, e *float32, out *float32, rows int) int

// edgeSoftmaxSIMD computes rows [r0, r1) of EdgeSoftmax for float32 and 8
// heads, bit for bit as the portable kernel, which it calls for the rows
// that hold NaN or infinities; it reports whether it did.
func edgeSoftmaxSIMD(p *CSR, e []float32, heads int, out []float32, r0, r1 int) bool {
	if !useSIMD || heads != 8 || p.NNZ() == 0 {
		return false
	}
	for i := r0; i < r1; i++ {
		i += edgeSoftmax8(&p.Indptr[i], unsafe.SliceData(e), unsafe.SliceData(out), r1-i)
		if i < r1 {
			edgeSoftmaxRows(p, e, heads, out, i, i+1)
		}
	}
	return true
}

// edgeAdd8 is EdgeAdd of 8 heads for rows [0, rows) from the one indptr
// points at, u pointing at that row's terms.
//
//go:noescape
func edgeAdd8(indptr *int, indices *int32, u, v, out *float32, rows int)

// edgeRowSums8 is EdgeRowSums of 8 heads for rows [0, rows) from the one
// indptr points at, out pointing at that row's sums.
//
//go:noescape
func edgeRowSums8(indptr *int, perm *int32, vals, out *float32, rows int)

// edgeAddSIMD computes rows [r0, r1) of EdgeAdd for float32 and 8 heads
// and reports whether it did.
func edgeAddSIMD(p *CSR, u, v []float32, heads int, out []float32, r0, r1 int) bool {
	if !useSIMD || heads != 8 || r0 >= r1 || p.NNZ() == 0 {
		return false
	}
	edgeAdd8(&p.Indptr[r0], unsafe.SliceData(p.Indices), &u[r0*heads], unsafe.SliceData(v), unsafe.SliceData(out), r1-r0)
	return true
}

// edgeRowSumsSIMD computes rows [r0, r1) of EdgeRowSums for float32 and
// 8 heads and reports whether it did.
func edgeRowSumsSIMD(p *CSR, vals []float32, perm []int32, heads int, out []float32, r0, r1 int) bool {
	if !useSIMD || heads != 8 || r0 >= r1 || p.NNZ() == 0 {
		return false
	}
	var permp *int32
	if perm != nil {
		permp = unsafe.SliceData(perm)
	}
	edgeRowSums8(&p.Indptr[r0], permp, unsafe.SliceData(vals), &out[r0*heads], r1-r0)
	return true
}

// edgeDot8x8 is EdgeDot of 8 heads of 8 for rows [0, rows) from the one
// indptr points at, u pointing at that row.
//
//go:noescape
func edgeDot8x8(indptr *int, indices *int32, u, v, out *float32, rows int)

// edgeDotSIMD computes rows [r0, r1) of EdgeDot for float32 and 8 heads
// of 8 and reports whether it did.
func edgeDotSIMD(p *CSR, u, v []float32, heads, width int, out []float32, r0, r1 int) bool {
	if !useSIMD || heads != 8 || width != 8 || r0 >= r1 || p.NNZ() == 0 {
		return false
	}
	edgeDot8x8(&p.Indptr[r0], unsafe.SliceData(p.Indices), &u[r0*64], unsafe.SliceData(v), unsafe.SliceData(out), r1-r0)
	return true
}
