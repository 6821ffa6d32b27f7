package gradtest

import (
	"fmt"
	"testing"

	"github.com/gnsr/gnsr/internal/autograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// recorder is a testing.TB that records failures instead of reporting
// them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	panic(fmt.Sprintf(format, args...))
}

// square returns x², with the gradient scale·2x: right for scale 1.
func square(x *G.Node, scale float64) (*G.Node, error) {
	s := x.Shape().Clone()
	spec := autograd.LayerSpec{Name: "test.Square", Dtype: tensor.Float64, In: []tensor.Shape{s}, Shape: s,
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			for i, v := range in[0].Data().([]float64) {
				out.Data().([]float64)[i] = v * v
			}
			return nil
		},
		Plan: func() ([]autograd.GradStep, []int) {
			grad := autograd.NewFn("test.SquareGrad", tensor.Float64, s.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
				g := in[1].Data().([]float64)
				for i, v := range in[0].Data().([]float64) {
					out.Data().([]float64)[i] = scale * 2 * v * g[i]
				}
				return nil
			}, s.Clone(), s.Clone())
			return []autograd.GradStep{{Op: grad, Args: []int{0, 2}}}, []int{3}
		},
	}
	return autograd.Apply(autograd.NewLayer(spec), "test: square", x)
}

// TestCheckFails checks that Check passes a right gradient and fails a
// wrong one, so that the gradient tables built on it can fail.
func TestCheckFails(t *testing.T) {
	for _, c := range []struct {
		scale float64
		fail  bool
	}{{1, false}, {1.01, true}} {
		r := &recorder{TB: t}
		Check(r, []*tensor.Dense{Random(1, 3, 2)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return square(in[0], c.scale)
		}, 1e-6)
		if r.failed != c.fail {
			t.Errorf("gradient scaled by %v: failed %v, want %v", c.scale, r.failed, c.fail)
		}
	}
}
