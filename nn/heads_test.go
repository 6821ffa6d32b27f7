package nn

import (
	"testing"

	"github.com/gnsr/gnsr/internal/gradtest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestHeadOpGradients is the float64 finite-difference table of the
// attention-head ops on both machines.
func TestHeadOpGradients(t *testing.T) {
	t.Run("HeadDot", func(t *testing.T) {
		gradtest.Check(t, []*tensor.Dense{gradtest.Random(1, 5, 6), gradtest.Random(2, 1, 6)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return HeadDot(in[0], in[1], 3)
		}, 1e-6)
	})
	t.Run("HeadDotRows", func(t *testing.T) {
		// Rows 0 and 3 are not computed: zero, whatever x holds there.
		gradtest.Check(t, []*tensor.Dense{gradtest.Random(1, 5, 6), gradtest.Random(2, 1, 6)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return HeadDotRows(in[0], in[1], 3, []int32{1, 2, 4})
		}, 1e-6)
	})
	t.Run("LeakyReLU", func(t *testing.T) {
		gradtest.Check(t, []*tensor.Dense{gradtest.Random(3, 7, 3)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return LeakyReLU(in[0], 0.2)
		}, 1e-6)
	})
	t.Run("HeadMean", func(t *testing.T) {
		gradtest.Check(t, []*tensor.Dense{gradtest.Random(4, 4, 6)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return HeadMean(in[0], 2)
		}, 1e-6)
	})
}

func TestHeadOpForward(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 4), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{1, 2, -3, 4}))))
	a := G.NewMatrix(g, tensor.Float64, G.WithShape(1, 4), G.WithName("a"),
		G.WithValue(tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{1, 1, 2, 0.5}))))
	dot := G.Must(HeadDot(x, a, 2))
	mean := G.Must(HeadMean(x, 2))
	leak := G.Must(LeakyReLU(x, 0.2))
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  G.Value
		want []float64
	}{
		{"HeadDot", dot.Value(), []float64{3, -4}},
		{"HeadMean", mean.Value(), []float64{-1, 3}},
		{"LeakyReLU", leak.Value(), []float64{1, 2, -0.6000000000000001, 4}},
	} {
		if err := gradtest.CloseTo(c.got, c.want, 1e-12); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := HeadDot(x, a, 3); err == nil {
		t.Error("HeadDot with 3 heads of a 4-wide row: no error")
	}
	for _, rows := range [][]int32{{1}, {0, 0}, {-1}} {
		if _, err := HeadDotRows(x, a, 2, rows); err == nil {
			t.Errorf("HeadDotRows of rows %v of a 1-row matrix: no error", rows)
		}
	}
	if _, err := LeakyReLU(x, 0); err == nil {
		t.Error("LeakyReLU with slope 0: no error")
	}
}
