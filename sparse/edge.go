package sparse

import (
	"fmt"
	"math"
	"runtime"

	"github.com/gnsr/gnsr/internal/fastmath"
	"github.com/gnsr/gnsr/internal/parallel"
)

// The edge kernels compute with values on the stored entries (the edges)
// of a pattern: a CSR matrix whose own values are ignored, with E entries.
// An edge matrix holds heads values per edge, row-major E×heads, edge k
// being the k-th stored entry (row i, column j). A node matrix holds, per
// row, heads blocks of width values (rows×(heads·width)); head h of node n
// is the block [n·heads·width + h·width, +width).
//
// Attention (GAT) needs them: scores on the edges from both endpoints
// (EdgeAdd, or EdgeDot for dot-product attention), a softmax over each
// row's edges (EdgeSoftmax), and products weighted by the edges' values
// (EdgeMul), with their gradients. Work is split over rows, each output
// element summed by one goroutine in the pattern's order, so results are
// the same for any GOMAXPROCS. On amd64 with AVX2, float32 EdgeMul, and
// EdgeAdd, EdgeDot, EdgeSoftmax and EdgeRowSums of 8 heads, run in
// assembly (edge_amd64.s) that computes the portable kernels' bits: the
// same operations in the same order, no fused multiply-adds. The kernels
// panic if a slice is shorter than the shapes need.
//
// Each kernel takes rows, nil or the increasing rows of p to compute (a
// restriction, as sparse.Matrix.RestrictRows makes for a receptive
// field): the edges of the other rows, or the other rows of a node-matrix
// result, are set to zero. Every computed value is the unrestricted
// kernel's, bit for bit.

// need panics, naming the kernel, unless each length (even arguments) is
// at least the size after it.
func need(kernel string, lengthSize ...int) {
	for i := 0; i < len(lengthSize); i += 2 {
		if lengthSize[i] < lengthSize[i+1] {
			panic(fmt.Sprintf("sparse: %s: operand %d has %d values, need %d", kernel, i/2, lengthSize[i], lengthSize[i+1]))
		}
	}
}

// forRows calls fn on contiguous blocks of p's rows of about equal cost,
// or with rows on the runs of consecutive rows of rows, on up to
// GOMAXPROCS goroutines when the work (entries and rows, times cost per
// entry) pays for them.
func forRows(p *CSR, rows []int32, cost int, fn func(r0, r1 int)) {
	workers := runtime.GOMAXPROCS(0)
	if rows != nil {
		work := len(rows)
		for _, i := range rows {
			work += p.Indptr[i+1] - p.Indptr[i]
		}
		work *= cost
		if workers <= 1 || work < 1<<15 {
			parallel.Runs(rows, len(rows), fn)
			return
		}
		// Ranges of at least 1<<13 units of work, by the mean row.
		parallel.Runs(rows, max(1, len(rows)*(1<<13)/work), fn)
		return
	}
	if workers <= 1 || (p.NNZ()+p.Rows)*cost < 1<<15 {
		fn(0, p.Rows)
		return
	}
	parallel.Blocks(rowBlocks(p.Indptr, parallel.Pieces(workers)), fn)
}

// clearEdgesOutside zeroes the values (heads per edge) of the edges of the
// rows of p that are not in rows (increasing); none if rows is nil.
func clearEdgesOutside[T float32 | float64](p *CSR, rows []int32, heads int, vals []T) {
	if rows == nil {
		return
	}
	// Gap t is the rows between rows[t-1] and rows[t], the first and the
	// last reaching the ends.
	parallel.For(len(rows)+1, max(1, len(rows)*(1<<13)/max(len(vals), 1)), func(t0, t1 int) {
		for t := t0; t < t1; t++ {
			lo, hi := 0, p.NNZ()
			if t > 0 {
				lo = p.Indptr[rows[t-1]+1]
			}
			if t < len(rows) {
				hi = p.Indptr[rows[t]]
			}
			clear(vals[lo*heads : hi*heads])
		}
	})
}

// EdgeAdd sets out[k, h] = u[i, h] + v[j, h] for every edge k = (i, j) of
// p and head h: the attention scores of GAT from per-node terms of the
// destination (u, p.Rows×heads) and the source (v, p.Cols×heads).
func EdgeAdd[T float32 | float64](p *CSR, rows []int32, u, v []T, heads int, out []T) {
	need("EdgeAdd", len(u), p.Rows*heads, len(v), p.Cols*heads, len(out), p.NNZ()*heads)
	clearEdgesOutside(p, rows, heads, out)
	forRows(p, rows, heads, func(r0, r1 int) {
		if u32, ok := any(u).([]float32); ok && edgeAddSIMD(p, u32, any(v).([]float32), heads, any(out).([]float32), r0, r1) {
			return
		}
		for i := r0; i < r1; i++ {
			ui := u[i*heads : (i+1)*heads]
			for k := p.Indptr[i]; k < p.Indptr[i+1]; k++ {
				j := int(p.Indices[k])
				vj, o := v[j*heads:(j+1)*heads], out[k*heads:(k+1)*heads]
				for h, x := range ui {
					o[h] = x + vj[h]
				}
			}
		}
	})
}

// EdgeDot sets out[k, h] = Σ_f u[i, h, f]·v[j, h, f] for every edge
// k = (i, j) of p and head h: the sampled dense-dense product (SDDMM) of
// node matrices u (p.Rows rows) and v (p.Cols rows) of heads blocks of
// width values.
func EdgeDot[T float32 | float64](p *CSR, rows []int32, u, v []T, heads, width int, out []T) {
	hw := heads * width
	need("EdgeDot", len(u), p.Rows*hw, len(v), p.Cols*hw, len(out), p.NNZ()*heads)
	clearEdgesOutside(p, rows, heads, out)
	forRows(p, rows, hw, func(r0, r1 int) {
		if u32, ok := any(u).([]float32); ok && edgeDotSIMD(p, u32, any(v).([]float32), heads, width, any(out).([]float32), r0, r1) {
			return
		}
		for i := r0; i < r1; i++ {
			ui := u[i*hw : (i+1)*hw]
			for k := p.Indptr[i]; k < p.Indptr[i+1]; k++ {
				j := int(p.Indices[k])
				vj, o := v[j*hw:(j+1)*hw], out[k*heads:(k+1)*heads]
				for h := range heads {
					a, b := ui[h*width:(h+1)*width], vj[h*width:(h+1)*width]
					var s T
					for f, x := range a {
						s += x * b[f]
					}
					o[h] = s
				}
			}
		}
	})
}

// EdgeSoftmax sets out to the softmax of the edge values e over each row's
// edges, per head: exp(e[k,h] − m)/Σ exp(e[k',h] − m) with m the row's
// maximum. Rows without edges have none.
func EdgeSoftmax[T float32 | float64](p *CSR, rows []int32, e []T, heads int, out []T) {
	need("EdgeSoftmax", len(e), p.NNZ()*heads, len(out), p.NNZ()*heads)
	clearEdgesOutside(p, rows, heads, out)
	forRows(p, rows, 3*heads, func(r0, r1 int) {
		if e32, ok := any(e).([]float32); ok && edgeSoftmaxSIMD(p, e32, heads, any(out).([]float32), r0, r1) {
			return
		}
		edgeSoftmaxRows(p, e, heads, out, r0, r1)
	})
}

// edgeSoftmaxRows is the portable EdgeSoftmax of rows [r0, r1).
func edgeSoftmaxRows[T float32 | float64](p *CSR, e []T, heads int, out []T, r0, r1 int) {
	mx := make([]float64, heads)
	sum := make([]float64, heads)
	for i := r0; i < r1; i++ {
		lo, hi := p.Indptr[i], p.Indptr[i+1]
		if lo == hi {
			continue
		}
		for h := range mx {
			mx[h], sum[h] = math.Inf(-1), 0
		}
		for k := lo; k < hi; k++ {
			for h, x := range e[k*heads : (k+1)*heads] {
				mx[h] = max(mx[h], float64(x))
			}
		}
		for k := lo; k < hi; k++ {
			o := out[k*heads : (k+1)*heads]
			for h, x := range e[k*heads : (k+1)*heads] {
				w := exp(x, mx[h])
				o[h] = T(w)
				sum[h] += w
			}
		}
		for k := lo; k < hi; k++ {
			o := out[k*heads : (k+1)*heads]
			for h := range o {
				o[h] = T(float64(o[h]) / sum[h])
			}
		}
	}
}

// exp returns e^(x−m): in float32 arithmetic for float32 x, which
// math.Exp's float64 would spend most of a softmax's time on.
func exp[T float32 | float64](x T, m float64) float64 {
	if x32, ok := any(x).(float32); ok {
		return float64(fastmath.Exp32(x32 - float32(m)))
	}
	return math.Exp(float64(x) - m)
}

// EdgeSoftmaxGrad sets out to the gradient of EdgeSoftmax's input from its
// output alpha and the gradient g of the output:
// out[k,h] = alpha[k,h]·(g[k,h] − Σ_{k' in k's row} alpha[k',h]·g[k',h]).
func EdgeSoftmaxGrad[T float32 | float64](p *CSR, rows []int32, alpha, g []T, heads int, out []T) {
	need("EdgeSoftmaxGrad", len(alpha), p.NNZ()*heads, len(g), p.NNZ()*heads, len(out), p.NNZ()*heads)
	clearEdgesOutside(p, rows, heads, out)
	forRows(p, rows, 2*heads, func(r0, r1 int) {
		dot := make([]float64, heads)
		for i := r0; i < r1; i++ {
			lo, hi := p.Indptr[i], p.Indptr[i+1]
			clear(dot)
			for k := lo; k < hi; k++ {
				gk := g[k*heads : (k+1)*heads]
				for h, a := range alpha[k*heads : (k+1)*heads] {
					dot[h] += float64(a) * float64(gk[h])
				}
			}
			for k := lo; k < hi; k++ {
				gk, o := g[k*heads:(k+1)*heads], out[k*heads:(k+1)*heads]
				for h, a := range alpha[k*heads : (k+1)*heads] {
					o[h] = T(float64(a) * (float64(gk[h]) - dot[h]))
				}
			}
		}
	})
}

// EdgeMul sets out[i, h, ·] = Σ_{k=(i,j) in p} vals[k', h]·x[j, h, ·]: the
// product of p, weighted per head by edge values, with the node matrix x
// (p.Cols rows of heads blocks of width); zero weights add nothing, not
// even a NaN of x. With perm nil, k' = k; else
// k' = perm[k], for p the transpose of the matrix vals belongs to (see
// Matrix.TransposeSources). With acc it adds to out, and leaves the rows
// outside rows as they are.
func EdgeMul[T float32 | float64](p *CSR, rows []int32, vals []T, perm []int32, heads int, x []T, width int, out []T, acc bool) {
	hw := heads * width
	need("EdgeMul", len(vals), p.NNZ()*heads, len(x), p.Cols*hw, len(out), p.Rows*hw)
	if !acc {
		parallel.ClearOutside(out, hw, rows)
	}
	forRows(p, rows, hw, func(r0, r1 int) {
		if v32, ok := any(vals).([]float32); ok && !acc && edgeMulSIMD(p, v32, perm, heads, any(x).([]float32), width, any(out).([]float32), r0, r1) {
			return
		}
		edgeMulRows(p, vals, perm, heads, x, width, out, acc, r0, r1)
	})
}

// edgeMulRows is the portable EdgeMul of rows [r0, r1).
func edgeMulRows[T float32 | float64](p *CSR, vals []T, perm []int32, heads int, x []T, width int, out []T, acc bool, r0, r1 int) {
	hw := heads * width
	for i := r0; i < r1; i++ {
		o := out[i*hw : (i+1)*hw]
		if !acc {
			clear(o)
		}
		for k := p.Indptr[i]; k < p.Indptr[i+1]; k++ {
			e := k
			if perm != nil {
				e = int(perm[k])
			}
			w := vals[e*heads : (e+1)*heads]
			xj := x[int(p.Indices[k])*hw:][:hw]
			for h, a := range w {
				// Attention dropout zeroes most weights in training:
				// skipping them skips their reads of x.
				if a != 0 {
					axpy(o[h*width:(h+1)*width], a, xj[h*width:(h+1)*width])
				}
			}
		}
	}
}

// EdgeRowSums sets out[i, h] = Σ_{k in row i of p} vals[k', h], with k' as
// in EdgeMul: with perm, the column sums of the matrix that p transposes.
func EdgeRowSums[T float32 | float64](p *CSR, rows []int32, vals []T, perm []int32, heads int, out []T) {
	need("EdgeRowSums", len(vals), p.NNZ()*heads, len(out), p.Rows*heads)
	parallel.ClearOutside(out, heads, rows)
	forRows(p, rows, heads, func(r0, r1 int) {
		if v32, ok := any(vals).([]float32); ok && edgeRowSumsSIMD(p, v32, perm, heads, any(out).([]float32), r0, r1) {
			return
		}
		for i := r0; i < r1; i++ {
			o := out[i*heads : (i+1)*heads]
			clear(o)
			for k := p.Indptr[i]; k < p.Indptr[i+1]; k++ {
				e := k
				if perm != nil {
					e = int(perm[k])
				}
				for h, v := range vals[e*heads : (e+1)*heads] {
					o[h] += v
				}
			}
		}
	})
}

// axpy adds a·x to y, four elements at a time.
func axpy[T float32 | float64](y []T, a T, x []T) {
	x = x[:len(y)]
	f := 0
	for ; f+4 <= len(y); f += 4 {
		y[f] += a * x[f]
		y[f+1] += a * x[f+1]
		y[f+2] += a * x[f+2]
		y[f+3] += a * x[f+3]
	}
	for ; f < len(y); f++ {
		y[f] += a * x[f]
	}
}
