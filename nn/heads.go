package nn

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The ops of this file work on matrices of attention heads: x is
// n×(heads·width), head h of row r the block x[r, h·width : (h+1)·width].

// HeadDot returns the n×heads matrix of each row's heads dotted with the
// matching block of the 1×(heads·width) vector a: out[r,h] = Σ_f
// x[r,h,f]·a[h,f], GAT's per-node attention terms. Gradients reach x and
// a. It returns an error if the shapes or dtypes do not fit.
func HeadDot(x, a *G.Node, heads int) (*G.Node, error) { return HeadDotRows(x, a, heads, nil) }

// HeadDotRows is HeadDot computed on the rows rows of x only (increasing;
// nil: all): the other rows of the output are zero, and the gradients
// take the incoming gradient to be zero on them, as it is where no
// consumer reads those rows. Summing a's gradient over rows rows alone
// then adds the same numbers in the same order as over all rows. It
// returns an error if the shapes or dtypes do not fit or a row is out of
// range.
func HeadDotRows(x, a *G.Node, heads int, rows []int32) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: HeadDot", x.Dtype(), []*G.Node{x, a}, 2, 2); err != nil {
		return nil, err
	}
	xs, as := x.Shape().Clone(), a.Shape().Clone()
	if heads < 1 || xs[1]%heads != 0 || as[0] != 1 || as[1] != xs[1] {
		return nil, fmt.Errorf("nn: HeadDot: %v and %v do not fit %d heads", xs, as, heads)
	}
	dt, n, width := x.Dtype(), xs[0], xs[1]/heads
	if err := checkRows("HeadDot", rows, n); err != nil {
		return nil, err
	}
	hs := headShape{n: n, heads: heads, width: width, rows: rows}
	ys := tensor.Shape{n, heads}
	spec := autograd.LayerSpec{Name: "nn.HeadDot", Dtype: dt, In: []tensor.Shape{xs, as}, Shape: ys,
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			switch out.Dtype() {
			case tensor.Float32:
				headDot(autograd.Floats[float32](out), autograd.Floats[float32](in[0]), autograd.Floats[float32](in[1]), hs)
			case tensor.Float64:
				headDot(autograd.Floats[float64](out), autograd.Floats[float64](in[0]), autograd.Floats[float64](in[1]), hs)
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 x, 1 a, 2 out, 3 g; steps 4 dx, 5 da.
		dx := autograd.NewFn("nn.HeadDotGradX", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			switch out.Dtype() {
			case tensor.Float32:
				headScale(autograd.Floats[float32](out), autograd.Floats[float32](in[0]), autograd.Floats[float32](in[1]), hs)
			case tensor.Float64:
				headScale(autograd.Floats[float64](out), autograd.Floats[float64](in[0]), autograd.Floats[float64](in[1]), hs)
			}
			return nil
		}, ys.Clone(), as.Clone())
		da := autograd.NewFn("nn.HeadDotGradA", dt, as.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			switch out.Dtype() {
			case tensor.Float32:
				headWeightGrad(autograd.Floats[float32](out), autograd.Floats[float32](in[0]), autograd.Floats[float32](in[1]), hs)
			case tensor.Float64:
				headWeightGrad(autograd.Floats[float64](out), autograd.Floats[float64](in[0]), autograd.Floats[float64](in[1]), hs)
			}
			return nil
		}, ys.Clone(), xs.Clone())
		return []autograd.GradStep{{Op: dx, Args: []int{3, 1}}, {Op: da, Args: []int{3, 0}}}, []int{4, 5}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: HeadDot", x, a)
}

// headShape is the shape of HeadDot's x, n rows of heads blocks of width,
// and the rows it computes (nil: all).
type headShape struct {
	n, heads, width int
	rows            []int32
}

func headDot[T float32 | float64](out, x, a []T, s headShape) {
	heads, width := s.heads, s.width
	hw := heads * width
	parallel.ClearOutside(out, heads, s.rows)
	forRows(s.n, hw, s.rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*hw : (r+1)*hw]
			for h := range heads {
				var t T
				for f, v := range xr[h*width : (h+1)*width] {
					t += v * a[h*width+f]
				}
				out[r*heads+h] = t
			}
		}
	})
}

// headScale sets out[r,h,f] = g[r,h]·a[h,f] on the computed rows, and the
// other rows to zero.
func headScale[T float32 | float64](out, g, a []T, s headShape) {
	heads, width := s.heads, s.width
	hw := heads * width
	parallel.ClearOutside(out, hw, s.rows)
	forRows(s.n, hw, s.rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for h := range heads {
				gv := g[r*heads+h]
				o := out[r*hw+h*width:][:width]
				for f, v := range a[h*width : (h+1)*width] {
					o[f] = gv * v
				}
			}
		}
	})
}

// headWeightGrad sets out[h,f] = Σ_r g[r,h]·x[r,h,f] over the computed
// rows, summing them in order. Heads are split over goroutines, each
// summing its heads' columns over every row, so the sums are the same for
// any GOMAXPROCS.
func headWeightGrad[T float32 | float64](out, g, x []T, s headShape) {
	heads, width := s.heads, s.width
	hw := heads * width
	rows := s.n
	if s.rows != nil {
		rows = len(s.rows)
	}
	parallel.For(heads, minParallelElems/max(rows*width, 1), func(h0, h1 int) {
		clear(out[h0*width : h1*width])
		for i := range rows {
			r := i
			if s.rows != nil {
				r = int(s.rows[i])
			}
			xr, gr := x[r*hw:(r+1)*hw], g[r*heads:(r+1)*heads]
			for h := h0; h < h1; h++ {
				gv := gr[h]
				o, xs := out[h*width:(h+1)*width], xr[h*width:(h+1)*width]
				for f, v := range xs {
					o[f] += gv * v
				}
			}
		}
	})
}

// LeakyReLU returns x where x > 0, else slope·x, elementwise on a matrix;
// its gradient is computed from the output (slope must be positive, so
// the output's sign is the input's). It returns an error if x is not a
// float matrix or slope is not positive.
func LeakyReLU(x *G.Node, slope float64) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: LeakyReLU", x.Dtype(), []*G.Node{x}, 2); err != nil {
		return nil, err
	}
	if !(slope > 0) {
		return nil, fmt.Errorf("nn: LeakyReLU: slope %v, need > 0", slope)
	}
	dt, s := x.Dtype(), x.Shape().Clone()
	spec := autograd.LayerSpec{Name: "nn.LeakyReLU", Dtype: dt, In: []tensor.Shape{s}, Shape: s.Clone(),
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				leaky(o, in[0].Data().([]float32), in[0].Data().([]float32), float32(slope))
			case []float64:
				leaky(o, in[0].Data().([]float64), in[0].Data().([]float64), slope)
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 x, 1 y, 2 g; step 3 dx.
		grad := autograd.NewFn("nn.LeakyReLUGrad", dt, s.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				leaky(o, in[0].Data().([]float32), in[1].Data().([]float32), float32(slope))
			case []float64:
				leaky(o, in[0].Data().([]float64), in[1].Data().([]float64), slope)
			}
			return nil
		}, s.Clone(), s.Clone())
		return []autograd.GradStep{{Op: grad, Args: []int{1, 2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: LeakyReLU", x)
}

// leaky sets out[i] = v[i] where sign[i] > 0, else slope·v[i]: the
// forward pass with sign = v = x, the gradient with sign = y, v = g.
func leaky[T float32 | float64](out, sign, v []T, slope T) {
	parallel.For(len(out), minParallelElems, func(lo, hi int) {
		o, sg, vs := out[lo:hi], sign[lo:hi], v[lo:hi]
		if o32, ok := any(o).([]float32); ok {
			leaky32(o32, any(sg).([]float32), any(vs).([]float32), float32(slope))
			return
		}
		for i, x := range vs {
			r := slope * x
			if sg[i] > 0 {
				r = x
			}
			o[i] = r
		}
	})
}

// leaky32 is leaky for float32, selecting with a mask on the bits: the
// sign is a coin toss, and a branch on it (Go does not make a float select
// a conditional move) is mispredicted half the time. sign > 0 holds for the bit patterns from 1
// (the smallest positive subnormal) to 0x7f800000 (+Inf).
func leaky32(o, sg, vs []float32, slope float32) {
	sg, o = sg[:len(vs)], o[:len(vs)]
	for i, x := range vs {
		// keep is all ones where sg[i]'s bits−1 < 0x7f800000 (unsigned).
		keep := uint32((int64(math.Float32bits(sg[i])-1) - 0x7f800000) >> 63)
		o[i] = math.Float32frombits(math.Float32bits(x)&keep | math.Float32bits(slope*x)&^keep)
	}
}

// HeadMean returns the n×width mean of x's heads: out[r,f] = (1/heads)
// Σ_h x[r,h,f], the output layer of multi-head attention. It returns an
// error if the shapes do not fit.
func HeadMean(x *G.Node, heads int) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: HeadMean", x.Dtype(), []*G.Node{x}, 2); err != nil {
		return nil, err
	}
	xs := x.Shape().Clone()
	if heads < 1 || xs[1]%heads != 0 {
		return nil, fmt.Errorf("nn: HeadMean: %v does not split into %d heads", xs, heads)
	}
	dt, n, width := x.Dtype(), xs[0], xs[1]/heads
	ys := tensor.Shape{n, width}
	spec := autograd.LayerSpec{Name: "nn.HeadMean", Dtype: dt, In: []tensor.Shape{xs}, Shape: ys,
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				headMean(o, in[0].Data().([]float32), n, heads, width)
			case []float64:
				headMean(o, in[0].Data().([]float64), n, heads, width)
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 x, 1 y, 2 g; step 3 dx.
		grad := autograd.NewFn("nn.HeadMeanGrad", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				headSpread(o, in[0].Data().([]float32), n, heads, width)
			case []float64:
				headSpread(o, in[0].Data().([]float64), n, heads, width)
			}
			return nil
		}, ys.Clone())
		return []autograd.GradStep{{Op: grad, Args: []int{2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: HeadMean", x)
}

func headMean[T float32 | float64](out, x []T, n, heads, width int) {
	hw, inv := heads*width, 1/T(heads)
	parallel.For(n, minParallelElems/max(hw, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o := out[r*width : (r+1)*width]
			clear(o)
			for h := range heads {
				for f, v := range x[r*hw+h*width:][:width] {
					o[f] += v
				}
			}
			for f := range o {
				o[f] *= inv
			}
		}
	})
}

// headSpread sets out[r,h,f] = g[r,f]/heads.
func headSpread[T float32 | float64](out, g []T, n, heads, width int) {
	hw, inv := heads*width, 1/T(heads)
	parallel.For(n, minParallelElems/max(hw, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			for h := range heads {
				o := out[r*hw+h*width:][:width]
				for f, v := range g[r*width : (r+1)*width] {
					o[f] = v * inv
				}
			}
		}
	})
}
