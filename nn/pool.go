package nn

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/internal/autograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool returns the maximum of every k×k window of x (n×c×h×w), windows
// stride apart without padding (torch's max_pool2d with ceil_mode off). The
// gradient goes to the window's maximum, the first in row-major order on
// ties, or to its last NaN if it has one, as torch on the CPU.
func MaxPool(x *G.Node, k, stride int) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: maxpool", x.Dtype(), []*G.Node{x}, 4); err != nil {
		return nil, err
	}
	xs := x.Shape().Clone()
	n, c, h, w := xs[0], xs[1], xs[2], xs[3]
	if k < 1 || stride < 1 || h < k || w < k {
		return nil, fmt.Errorf("nn: maxpool: window %d, stride %d on input %v", k, stride, xs)
	}
	ho, wo := (h-k)/stride+1, (w-k)/stride+1
	ys := tensor.Shape{n, c, ho, wo}
	dt := x.Dtype()
	var arg []int32 // per output, the index of its maximum in its input plane
	spec := autograd.LayerSpec{Name: "nn.MaxPool", Dtype: dt, In: []tensor.Shape{xs}, Shape: ys}
	spec.Fn = func(out *tensor.Dense, in []*tensor.Dense) error {
		if len(arg) != ys.TotalSize() {
			arg = make([]int32, ys.TotalSize())
		}
		if dt == tensor.Float32 {
			poolForward(out.Data().([]float32), in[0].Data().([]float32), arg, n*c, h, w, k, stride, ho, wo)
		} else {
			poolForward(out.Data().([]float64), in[0].Data().([]float64), arg, n*c, h, w, k, stride, ho, wo)
		}
		return nil
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		back := autograd.NewFn("nn.MaxPoolGrad", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			if len(arg) != ys.TotalSize() {
				return fmt.Errorf("no forward pass before the gradient")
			}
			if dt == tensor.Float32 {
				poolBackward(out.Data().([]float32), in[0].Data().([]float32), arg, n*c, h*w, ho*wo)
			} else {
				poolBackward(out.Data().([]float64), in[0].Data().([]float64), arg, n*c, h*w, ho*wo)
			}
			return nil
		}, ys.Clone())
		return []autograd.GradStep{{Op: back, Args: []int{2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: maxpool", x)
}

func poolForward[T float32 | float64](y, x []T, arg []int32, planes, h, w, k, stride, ho, wo int) {
	parallelIfLarge(planes, planes*ho*wo*k*k, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xp, yp, ap := x[p*h*w:][:h*w], y[p*ho*wo:][:ho*wo], arg[p*ho*wo:][:ho*wo]
			if k == 2 && stride == 2 {
				pool2x2(yp, xp, ap, w, ho, wo)
				continue
			}
			for oy := 0; oy < ho; oy++ {
				for ox := 0; ox < wo; ox++ {
					first := oy*stride*w + ox*stride
					best, at := T(math.Inf(-1)), first
					for i := 0; i < k; i++ {
						row := first + i*w
						for j, v := range xp[row : row+k] {
							best, at = maxAt(best, at, v, row+j)
						}
					}
					yp[oy*wo+ox], ap[oy*wo+ox] = best, int32(at)
				}
			}
		}
	})
}

// maxAt returns the new maximum and its index after seeing v at index i,
// as torch's CPU kernel: v replaces the maximum if greater or NaN. It has
// no branches (a branch on which of four pixels wins is a coin toss): the
// index moves by integer arithmetic and the maximum is max, which agrees
// with torch except that max(−0, +0) is +0 where torch keeps the first.
func maxAt[T float32 | float64](best T, at int, v T, i int) (T, int) {
	c := b2i(v > best) | b2i(v != v)
	return max(best, v), at + c*(i-at)
}

func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// pool2x2 is poolForward's loop over one plane for 2×2 windows, stride 2.
func pool2x2[T float32 | float64](yp, xp []T, ap []int32, w, ho, wo int) {
	for oy := 0; oy < ho; oy++ {
		r0 := 2 * oy * w
		top, bot := xp[r0:][:2*wo], xp[r0+w:][:2*wo]
		ys, as := yp[oy*wo:][:wo], ap[oy*wo:][:wo]
		for ox := range ys {
			i := 2 * ox
			best, at := top[i], r0+i
			best, at = maxAt(best, at, top[i+1], r0+i+1)
			best, at = maxAt(best, at, bot[i], r0+w+i)
			best, at = maxAt(best, at, bot[i+1], r0+w+i+1)
			ys[ox], as[ox] = best, int32(at)
		}
	}
}

func poolBackward[T float32 | float64](dx, g []T, arg []int32, planes, hw, ohw int) {
	parallelIfLarge(planes, planes*hw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			dp := dx[p*hw:][:hw]
			clear(dp)
			for o, v := range g[p*ohw:][:ohw] {
				dp[arg[p*ohw+o]] += v
			}
		}
	})
}

// GlobalAvgPool returns the mean of every channel of x (n×c×h×w), n×c.
func GlobalAvgPool(x *G.Node) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: global average pool", x.Dtype(), []*G.Node{x}, 4); err != nil {
		return nil, err
	}
	xs := x.Shape().Clone()
	planes, hw := xs[0]*xs[1], xs[2]*xs[3]
	ys := tensor.Shape{xs[0], xs[1]}
	dt := x.Dtype()
	spec := autograd.LayerSpec{Name: "nn.GlobalAvgPool", Dtype: dt, In: []tensor.Shape{xs}, Shape: ys}
	spec.Fn = func(out *tensor.Dense, in []*tensor.Dense) error {
		if dt == tensor.Float32 {
			planeMeans(out.Data().([]float32), in[0].Data().([]float32), planes, hw)
		} else {
			planeMeans(out.Data().([]float64), in[0].Data().([]float64), planes, hw)
		}
		return nil
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		back := autograd.NewFn("nn.GlobalAvgPoolGrad", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			if dt == tensor.Float32 {
				spread(out.Data().([]float32), in[0].Data().([]float32), hw)
			} else {
				spread(out.Data().([]float64), in[0].Data().([]float64), hw)
			}
			return nil
		}, ys.Clone())
		return []autograd.GradStep{{Op: back, Args: []int{2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: global average pool", x)
}

func planeMeans[T float32 | float64](y, x []T, planes, hw int) {
	for p := range planes {
		var s float64
		for _, v := range x[p*hw:][:hw] {
			s += float64(v)
		}
		y[p] = T(s / float64(hw))
	}
}

// spread sets every element of plane p of dx to g[p]/hw.
func spread[T float32 | float64](dx, g []T, hw int) {
	for p, v := range g {
		v /= T(hw)
		d := dx[p*hw:][:hw]
		for i := range d {
			d[i] = v
		}
	}
}

// Flatten returns x (n×c×h×w) as an n×(c·h·w) matrix, a copy.
//
// A copy rather than a view: an op output sharing another's memory could be
// overwritten by gorgonia's register reuse while one of the two is live.
func Flatten(x *G.Node) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: flatten", x.Dtype(), []*G.Node{x}, 4); err != nil {
		return nil, err
	}
	xs := x.Shape().Clone()
	ys := tensor.Shape{xs[0], xs[1] * xs[2] * xs[3]}
	dt := x.Dtype()
	spec := autograd.LayerSpec{Name: "nn.Flatten", Dtype: dt, In: []tensor.Shape{xs}, Shape: ys, Fn: copyData}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		return []autograd.GradStep{{Op: autograd.NewFn("nn.Unflatten", dt, xs.Clone(), copyData, ys.Clone()), Args: []int{2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: flatten", x)
}

func copyData(out *tensor.Dense, in []*tensor.Dense) error {
	switch d := out.Data().(type) {
	case []float32:
		copy(d, in[0].Data().([]float32))
	case []float64:
		copy(d, in[0].Data().([]float64))
	}
	return nil
}

// Residual returns a + b for tensors of one shape, then max(·, 0) with
// relu: the end of a residual block.
func Residual(a, b *G.Node, relu bool) (*G.Node, error) {
	s := a.Shape()
	if err := autograd.CheckInputs("nn: residual add", a.Dtype(), []*G.Node{a, b}, s.Dims(), s.Dims()); err != nil {
		return nil, err
	}
	if !b.Shape().Eq(s) {
		return nil, fmt.Errorf("nn: residual add: shapes %v and %v", s, b.Shape())
	}
	dt, shape := a.Dtype(), s.Clone()
	spec := autograd.LayerSpec{Name: "nn.Residual", Dtype: dt, In: []tensor.Shape{shape, shape}, Shape: shape}
	spec.Fn = func(out *tensor.Dense, in []*tensor.Dense) error {
		if dt == tensor.Float32 {
			addRelu(out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32), relu)
		} else {
			addRelu(out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64), relu)
		}
		return nil
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		if !relu {
			return nil, []int{3, 3}
		}
		return []autograd.GradStep{{Op: reluMaskOp(dt, shape), Args: []int{2, 3}}}, []int{4, 4}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: residual add", a, b)
}

func addRelu[T float32 | float64](y, a, b []T, relu bool) {
	b = b[:len(a)]
	y = y[:len(a)]
	parallelIfLarge(len(a), len(a), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := a[i] + b[i]
			if relu {
				v = max(v, 0)
			}
			y[i] = v
		}
	})
}

// reluMaskOp returns the op (y, g) ↦ g where y > 0, else 0: the gradient of
// a ReLU from its output.
func reluMaskOp(dt tensor.Dtype, s tensor.Shape) *autograd.Fn {
	return autograd.NewFn("nn.ReLUMask", dt, s.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
		if dt == tensor.Float32 {
			reluMask(out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32))
		} else {
			reluMask(out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64))
		}
		return nil
	}, s.Clone(), s.Clone())
}

func reluMask[T float32 | float64](dst, y, g []T) {
	g = g[:len(y)]
	dst = dst[:len(y)]
	parallelIfLarge(len(y), len(y), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = g[i] * T(b2i(y[i] > 0)) // no branch: ReLU patterns are unpredictable
		}
	})
}
