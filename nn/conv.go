package nn

import (
	"fmt"

	mm "github.com/gnsr/gnsr/internal/matmul"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The convolutional ops of this file, pool.go and batchnorm.go are
// autograd.Layers: one gradient plan serves both gorgonia machines.
//
// Scratch memory (im2col columns, transposes) lives in a Workspace shared
// by the ops of one graph, which a machine runs one at a time; an op uses it
// only inside Do. State that a gradient needs (batch statistics, argmax
// indices) is kept by the forward op. A graph using these ops must not be
// run by two machines at once.
//
// float32 runs on internal/matmul's gemm; float64 on plain Go loops, for
// the gradient checks. Work is split over goroutines only where each
// writes its own part of the output, and every sum runs in an order fixed
// by the shapes, so results are the same for any GOMAXPROCS.

// Workspace is the scratch memory of the ops of one graph.
type Workspace struct {
	f32 [3][]float32
	f64 [3][]float64
}

// scratch returns slot i of ws with at least n elements of type T.
func scratch[T float32 | float64](ws *Workspace, i, n int) []T {
	var zero T
	if _, ok := any(zero).(float32); ok {
		if cap(ws.f32[i]) < n {
			ws.f32[i] = make([]float32, n)
		}
		return any(ws.f32[i][:n]).([]T)
	}
	if cap(ws.f64[i]) < n {
		ws.f64[i] = make([]float64, n)
	}
	return any(ws.f64[i][:n]).([]T)
}

// parallelIfLarge calls fn on contiguous ranges that cover [0, n), on up to
// GOMAXPROCS goroutines when cost (a rough count of element operations) is
// large enough to pay for them. fn must write only its range's own data.
func parallelIfLarge(n, cost int, fn func(lo, hi int)) {
	if cost < 1<<14 {
		fn(0, n)
		return
	}
	parallel.For(n, 1, fn)
}

// gemmAny computes c (n×m) = a (n×k)·b (k×m), or adds it to c with acc.
func gemmAny[T float32 | float64](c, a, b []T, n, k, m int, acc bool) {
	if c32, ok := any(c).([]float32); ok {
		mm.Gemm(c32, any(a).([]float32), any(b).([]float32), n, k, m, acc)
		return
	}
	mm.Scalar(c, a, b, 0, n, 0, m, k, m, acc)
}

// gemmAnyTA computes c (n×m) = aᵀ·b for a stored k×n; float64 transposes a
// into Workspace slot 2 first.
func gemmAnyTA[T float32 | float64](ws *Workspace, c, a, b []T, n, k, m int) {
	if c32, ok := any(c).([]float32); ok {
		mm.GemmTA(c32, any(a).([]float32), any(b).([]float32), n, k, m, false)
		return
	}
	at := scratch[T](ws, 2, n*k)
	mm.Transpose(at, a[:k*n], k, n)
	mm.Scalar(c, at, b, 0, n, 0, m, k, m, false)
}

// convGeom is the geometry of a convolution of n images cin×h×w with cout
// filters cin×kh×kw, giving n×cout×ho×wo.
type convGeom struct {
	n, cin, h, w     int
	cout, kh, kw     int
	stride, pad      int
	ho, wo           int
	noGradX, hasBias bool
}

func (g *convGeom) k() int  { return g.cin * g.kh * g.kw }
func (g *convGeom) hw() int { return g.ho * g.wo }

// groupCols is the number of output positions (image pixels) that a
// convolution multiplies at once. Layers with small images take several
// images per product, so that the products stay large; the im2col matrix of
// a group stays small enough for the caches.
const groupCols = 256

// group is the number of images per product, a function of the shapes only.
func (g *convGeom) group() int {
	return max(1, min(g.n, (groupCols+g.hw()-1)/g.hw()))
}

// Conv2D returns the 2-D cross-correlation of x (n×cin×h×w) with the
// filters w (cout×cin×kh×kw) plus the bias b (cout), which may be nil, with
// the given stride and zero padding on every side: torch's conv2d. With
// noGradX, no gradient is made for x (the network input). The op keeps its
// output and scratch memory in ws, shared by the ops of x's graph.
func Conv2D(ws *Workspace, x, w, b *G.Node, stride, pad int, noGradX bool) (*G.Node, error) {
	in := []*G.Node{x, w}
	dims := []int{4, 4}
	if b != nil {
		in, dims = append(in, b), append(dims, 1)
	}
	if err := autograd.CheckInputs("nn: conv2d", x.Dtype(), in, dims...); err != nil {
		return nil, err
	}
	xs, wsh := x.Shape(), w.Shape()
	g := &convGeom{n: xs[0], cin: xs[1], h: xs[2], w: xs[3], cout: wsh[0], kh: wsh[2], kw: wsh[3],
		stride: stride, pad: pad, noGradX: noGradX, hasBias: b != nil}
	if stride < 1 || pad < 0 || wsh[1] != g.cin || g.kh < 1 || g.kw < 1 {
		return nil, fmt.Errorf("nn: conv2d: input %v, filters %v, stride %d, padding %d do not fit", xs, wsh, stride, pad)
	}
	if b != nil && b.Shape()[0] != g.cout {
		return nil, fmt.Errorf("nn: conv2d: bias %v for %d filters", b.Shape(), g.cout)
	}
	g.ho = (g.h+2*pad-g.kh)/stride + 1
	g.wo = (g.w+2*pad-g.kw)/stride + 1
	if g.h+2*pad < g.kh || g.w+2*pad < g.kw || g.ho < 1 || g.wo < 1 {
		return nil, fmt.Errorf("nn: conv2d: %v input too small for %v filters with padding %d", xs, wsh, pad)
	}
	dt := x.Dtype()
	ys := tensor.Shape{g.n, g.cout, g.ho, g.wo}
	inShapes := []tensor.Shape{xs.Clone(), wsh.Clone()}
	if b != nil {
		inShapes = append(inShapes, b.Shape().Clone())
	}
	spec := autograd.LayerSpec{Name: "nn.Conv2d", Dtype: dt, In: inShapes, Shape: ys}
	spec.Fn = func(out *tensor.Dense, in []*tensor.Dense) error {
		var bias *tensor.Dense
		if len(in) == 3 {
			bias = in[2]
		}
		if dt == tensor.Float32 {
			convForward(ws, g, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32), dataOr[float32](bias))
		} else {
			convForward(ws, g, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64), dataOr[float64](bias))
		}
		return nil
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 x, 1 w, [2 b], then out, grad, steps
		gi := len(in) + 1
		var steps []autograd.GradStep
		grads := []int{-1, -1, -1}[:len(in)]
		next := gi + 1
		if !noGradX {
			steps = append(steps, autograd.GradStep{Op: autograd.NewFn("nn.Conv2dGradX", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
				if dt == tensor.Float32 {
					convBackX(ws, g, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32))
				} else {
					convBackX(ws, g, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64))
				}
				return nil
			}, wsh.Clone(), ys.Clone()), Args: []int{1, gi}})
			grads[0] = next
			next++
		}
		steps = append(steps, autograd.GradStep{Op: autograd.NewFn("nn.Conv2dGradW", dt, wsh.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			if dt == tensor.Float32 {
				convBackW(ws, g, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32))
			} else {
				convBackW(ws, g, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64))
			}
			return nil
		}, xs.Clone(), ys.Clone()), Args: []int{0, gi}})
		grads[1] = next
		next++
		if b != nil {
			steps = append(steps, autograd.GradStep{Op: channelSumOp(dt, ys), Args: []int{gi}})
			grads[2] = next
		}
		return steps, grads
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: conv2d", in...)
}

func dataOr[T float32 | float64](d *tensor.Dense) []T {
	if d == nil {
		return nil
	}
	return d.Data().([]T)
}

// channelSumOp returns the op g (n×c×h×w) ↦ Σ over n, h, w of g (c): the
// gradient of a per-channel bias.
func channelSumOp(dt tensor.Dtype, gs tensor.Shape) *autograd.Fn {
	n, c, hw := gs[0], gs[1], gs[2]*gs[3]
	return autograd.NewFn("nn.ChannelSum", dt, tensor.Shape{c}, func(out *tensor.Dense, in []*tensor.Dense) error {
		if dt == tensor.Float32 {
			channelSums(out.Data().([]float32), in[0].Data().([]float32), n, c, hw)
		} else {
			channelSums(out.Data().([]float64), in[0].Data().([]float64), n, c, hw)
		}
		return nil
	}, gs.Clone())
}

func channelSums[T float32 | float64](dst, g []T, n, c, hw int) {
	parallelIfLarge(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for i := 0; i < n; i++ {
				for _, v := range g[(i*c+ch)*hw:][:hw] {
					s += float64(v)
				}
			}
			dst[ch] = T(s)
		}
	})
}

// validRange returns the output columns [o0, o1) whose input column
// o·stride − pad + k lies in [0, size).
func validRange(size, out, stride, pad, k int) (int, int) {
	o0 := 0
	if d := pad - k; d > 0 {
		o0 = (d + stride - 1) / stride
	}
	t := size - 1 + pad - k
	if t < 0 {
		return o0, o0
	}
	o1 := min(out, t/stride+1)
	return o0, max(o0, o1)
}

// im2col writes channel c of one image (xc, h×w) into the rows
// c·kh·kw … (c+1)·kh·kw − 1 of col, a matrix with m columns, from column off.
// Rows are short (wo pixels), so they are copied by loops, not by copy and
// clear, whose calls would cost more than the data.
func im2col[T float32 | float64](g *convGeom, col []T, m, off int, xc []T, c int) {
	hw := g.hw()
	for ki := 0; ki < g.kh; ki++ {
		for kj := 0; kj < g.kw; kj++ {
			row := (c*g.kh+ki)*g.kw + kj
			dst := col[row*m+off:][:hw]
			o0, o1 := validRange(g.w, g.wo, g.stride, g.pad, kj)
			for oy := 0; oy < g.ho; oy++ {
				d := dst[oy*g.wo:][:g.wo]
				iy := oy*g.stride - g.pad + ki
				if iy < 0 || iy >= g.h || o0 == o1 {
					clear(d)
					continue
				}
				clear(d[:o0])
				clear(d[o1:])
				src := xc[iy*g.w:][:g.w]
				if g.stride == 1 {
					copy(d[o0:o1], src[o0-g.pad+kj:])
					continue
				}
				for ox := o0; ox < o1; ox++ {
					d[ox] = src[ox*g.stride-g.pad+kj]
				}
			}
		}
	}
}

// transposeInto writes the transpose of the r×c matrix src into dst
// (c×r), four rows of src at a time, so that each write is a run of four.
func transposeInto[T float32 | float64](dst, src []T, r, c int) {
	dst, src = dst[:r*c], src[:r*c]
	i := 0
	for ; i+4 <= r; i += 4 {
		s0, s1, s2, s3 := src[i*c:][:c], src[(i+1)*c:][:c], src[(i+2)*c:][:c], src[(i+3)*c:][:c]
		for j, v := range s0 {
			d := dst[j*r+i:][:4]
			d[0], d[1], d[2], d[3] = v, s1[j], s2[j], s3[j]
		}
	}
	for ; i < r; i++ {
		for j, v := range src[i*c:][:c] {
			dst[j*r+i] = v
		}
	}
}

// col2im sets channel c of one image's gradient (dxc, h×w) to the sum of
// the entries of dcol (m columns, from column off) that im2col copied it to.
func col2im[T float32 | float64](g *convGeom, dxc, dcol []T, m, off, c int) {
	clear(dxc)
	hw := g.hw()
	for ki := 0; ki < g.kh; ki++ {
		for kj := 0; kj < g.kw; kj++ {
			row := (c*g.kh+ki)*g.kw + kj
			src := dcol[row*m+off:][:hw]
			o0, o1 := validRange(g.w, g.wo, g.stride, g.pad, kj)
			if o0 == o1 {
				continue
			}
			for oy := 0; oy < g.ho; oy++ {
				iy := oy*g.stride - g.pad + ki
				if iy < 0 || iy >= g.h {
					continue
				}
				d := dxc[iy*g.w:][:g.w]
				s := src[oy*g.wo:][:g.wo]
				if g.stride == 1 {
					d := d[o0-g.pad+kj:][:o1-o0]
					for j, v := range s[o0:o1] {
						d[j] += v
					}
					continue
				}
				for ox := o0; ox < o1; ox++ {
					d[ox*g.stride-g.pad+kj] += s[ox]
				}
			}
		}
	}
}

// convForward computes y = conv(x, w) + b, a group of images at a time:
// im2col of the group (K × m), then W (cout × K) · col, written straight
// into y for a single image and scattered into it otherwise.
func convForward[T float32 | float64](ws *Workspace, g *convGeom, y, x, w, b []T) {
	// float32 products take col in panels of 16 columns, as the kernels
	// read it, written so by im2col: no copy of a wide, strided col.
	_, f32 := any(y).([]float32)
	convForwardLayout(ws, g, y, x, w, b, f32 && mm.HasPacked())
}

// convForwardLayout is convForward with col row-major or, with packed
// (float32 only), in panels of 16 columns (mm.PackedIndex): the same bits.
func convForwardLayout[T float32 | float64](ws *Workspace, g *convGeom, y, x, w, b []T, packed bool) {
	K, hw, grp := g.k(), g.hw(), g.group()
	inImg, plane, outImg := g.cin*g.h*g.w, g.h*g.w, g.cout*hw
	col := scratch[T](ws, 0, mm.PackedLen(K, grp*hw))
	var tmp []T
	if grp > 1 {
		tmp = scratch[T](ws, 1, g.cout*grp*hw)
	}
	for i0 := 0; i0 < g.n; i0 += grp {
		gi := min(grp, g.n-i0)
		m := gi * hw
		col := col[:mm.PackedLen(K, m)]
		parallelIfLarge(gi*g.cin, K*m, func(lo, hi int) {
			var rows []T // a channel's kh·kw rows of col, before packing
			if packed {
				rows = make([]T, g.kh*g.kw*hw)
			}
			for t := lo; t < hi; t++ {
				i, c := t/g.cin, t%g.cin
				xc := x[(i0+i)*inImg+c*plane:][:plane]
				if !packed {
					im2col(g, col, m, i*hw, xc, c)
					continue
				}
				im2col(g, rows, hw, 0, xc, 0)
				for r := range g.kh * g.kw {
					p := c*g.kh*g.kw + r
					packRow(col, K, p, i*hw, rows[r*hw:][:hw])
				}
			}
		})
		gemm := func(c []T) {
			if packed {
				mm.GemmPacked(any(c).([]float32), any(w).([]float32), any(col).([]float32), g.cout, K, m, false)
				return
			}
			gemmAny(c, w, col, g.cout, K, m, false)
		}
		if gi == 1 {
			yi := y[i0*outImg:][:outImg]
			gemm(yi)
			for co, bv := range b { // no bias: b is nil
				for j := range yi[co*hw : (co+1)*hw] {
					yi[co*hw+j] += bv
				}
			}
			continue
		}
		t := tmp[:g.cout*m]
		gemm(t)
		parallelIfLarge(gi, g.cout*m, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				yi := y[(i0+i)*outImg:][:outImg]
				for co := 0; co < g.cout; co++ {
					src, dst := t[co*m+i*hw:][:hw], yi[co*hw:][:hw]
					if b == nil {
						copy(dst, src)
						continue
					}
					bv := b[co]
					for j, v := range src {
						dst[j] = v + bv
					}
				}
			}
		})
	}
}

// packRow writes src as row p, columns [j0, j0+len(src)), of a k-row
// matrix in the packed layout (mm.PackedIndex): a copy a run of columns up
// to the end of their panel.
func packRow[T float32 | float64](dst []T, k, p, j0 int, src []T) {
	for j := 0; j < len(src); {
		J := j0 + j
		n := min(len(src)-j, 16-J%16)
		copy(dst[mm.PackedIndex(k, p, J):][:n], src[j:j+n])
		j += n
	}
}

// convBackX computes dx = col2im(Wᵀ·dy), a group of images at a time.
func convBackX[T float32 | float64](ws *Workspace, g *convGeom, dx, w, dy []T) {
	_, f32 := any(dx).([]float32)
	convBackXLayout(ws, g, dx, w, dy, f32 && mm.HasPacked())
}

// convBackXLayout is convBackX with the group's dy gathered row-major or,
// with packed (float32 only), in panels of 16 columns (mm.PackedIndex),
// which the product reads in place: the same bits.
func convBackXLayout[T float32 | float64](ws *Workspace, g *convGeom, dx, w, dy []T, packed bool) {
	K, hw, grp := g.k(), g.hw(), g.group()
	inImg, plane, outImg := g.cin*g.h*g.w, g.h*g.w, g.cout*hw
	dcol := scratch[T](ws, 0, K*grp*hw)
	var gat []T
	if grp > 1 || packed {
		gat = scratch[T](ws, 1, mm.PackedLen(g.cout, grp*hw))
	}
	for i0 := 0; i0 < g.n; i0 += grp {
		gi := min(grp, g.n-i0)
		m := gi * hw
		d := dy[i0*outImg:][:outImg]
		dc := dcol[:K*m]
		if packed {
			d = gat[:mm.PackedLen(g.cout, m)]
			parallelIfLarge(gi, g.cout*m, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					di := dy[(i0+i)*outImg:][:outImg]
					for co := 0; co < g.cout; co++ {
						src := di[co*hw:][:hw]
						packRow(d, g.cout, co, i*hw, src)
					}
				}
			})
			mm.GemmTAPacked(any(dc).([]float32), any(w).([]float32), any(d).([]float32), K, g.cout, m, false)
		} else {
			if gi > 1 {
				d = gat[:g.cout*m]
				parallelIfLarge(gi, g.cout*m, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						di := dy[(i0+i)*outImg:][:outImg]
						for co := 0; co < g.cout; co++ {
							copy(d[co*m+i*hw:][:hw], di[co*hw:][:hw])
						}
					}
				})
			}
			gemmAnyTA(ws, dc, w, d, K, g.cout, m)
		}
		parallelIfLarge(gi*g.cin, K*m, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				i, c := t/g.cin, t%g.cin
				col2im(g, dx[(i0+i)*inImg+c*plane:][:plane], dc, m, i*hw, c)
			}
		})
	}
}

// convBackW computes dw = Σ over images of dy·colᵀ as (col·dyᵀ)ᵀ, a group
// of images at a time: im2col of the group (K × m, its rows padded to a
// multiple of 4 with zeros, so that all run on the kernel's row blocks),
// dy's rows transposed to m × cout, and the product accumulated into a
// K × cout matrix, transposed into dw at the end.
func convBackW[T float32 | float64](ws *Workspace, g *convGeom, dw, x, dy []T) {
	K, hw, grp := g.k(), g.hw(), g.group()
	kr := (K + 3) &^ 3
	inImg, plane, outImg := g.cin*g.h*g.w, g.h*g.w, g.cout*hw
	col := scratch[T](ws, 0, kr*grp*hw)
	dyT := scratch[T](ws, 1, grp*hw*g.cout)
	dwT := scratch[T](ws, 2, kr*g.cout)
	for i0 := 0; i0 < g.n; i0 += grp {
		gi := min(grp, g.n-i0)
		m := gi * hw
		col := col[:kr*m]
		clear(col[K*m:])
		parallelIfLarge(gi*g.cin, K*m, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				i, c := t/g.cin, t%g.cin
				im2col(g, col, m, i*hw, x[(i0+i)*inImg+c*plane:][:plane], c)
			}
		})
		parallelIfLarge(gi, g.cout*m, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				transposeInto(dyT[i*hw*g.cout:][:hw*g.cout], dy[(i0+i)*outImg:][:outImg], g.cout, hw)
			}
		})
		gemmAny(dwT, col, dyT[:m*g.cout], kr, m, g.cout, i0 > 0)
	}
	transposeInto(dw[:g.cout*K], dwT[:K*g.cout], K, g.cout)
}
