package nn

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ELU returns the exponential linear unit of x elementwise (Clevert et
// al.; torch's elu with α = 1): x where x > 0, else exp(x) − 1. Its
// gradient is computed from the output y: the incoming gradient where
// y > 0, else times y + 1. It returns an error if x is not a float32 or
// float64 matrix.
func ELU(x *G.Node) (*G.Node, error) {
	if err := autograd.CheckInputs("nn: ELU", x.Dtype(), []*G.Node{x}, 2); err != nil {
		return nil, err
	}
	dt, s := x.Dtype(), x.Shape().Clone()
	spec := autograd.LayerSpec{Name: "nn.ELU", Dtype: dt, In: []tensor.Shape{s}, Shape: s,
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				eluForward(o, in[0].Data().([]float32))
			case []float64:
				eluForward(o, in[0].Data().([]float64))
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		grad := autograd.NewFn("nn.ELUGrad", dt, s.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			switch o := out.Data().(type) {
			case []float32:
				eluBackward(o, in[0].Data().([]float32), in[1].Data().([]float32))
			case []float64:
				eluBackward(o, in[0].Data().([]float64), in[1].Data().([]float64))
			}
			return nil
		}, s.Clone(), s.Clone())
		// list: 0 x, 1 y, 2 dy, 3 dx
		return []autograd.GradStep{{Op: grad, Args: []int{1, 2}}}, []int{3}
	}
	out, err := autograd.Apply(autograd.NewLayer(spec), "nn: ELU", x)
	if err != nil {
		return nil, fmt.Errorf("nn: ELU: %w", err)
	}
	return out, nil
}

func eluForward[T float32 | float64](y, x []T) {
	parallel.For(len(y), minParallelElems, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if v := x[i]; v > 0 {
				y[i] = v
			} else {
				y[i] = T(math.Expm1(float64(v)))
			}
		}
	})
}

// eluBackward sets dx = dy where y > 0, else dy·(y + 1) (= dy·exp(x)).
func eluBackward[T float32 | float64](dx, y, dy []T) {
	parallel.For(len(dx), minParallelElems, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if y[i] > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = dy[i] * (y[i] + 1)
			}
		}
	})
}
