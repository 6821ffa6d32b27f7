package nn

import (
	"testing"

	"github.com/gnsr/gnsr/internal/gradtest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestELUGradient(t *testing.T) {
	gradtest.Check(t, []*tensor.Dense{gradtest.Random(1, 5, 4)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		return ELU(in[0])
	}, 1e-6)
}

func TestELUForward(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(1, 3), G.WithName("x"), G.WithValue(tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{-1, 0, 2}))))
	y := G.Must(ELU(x))
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := y.Value().Data().([]float32)
	if want := []float32{float32(-0.6321205588285577), 0, 2}; got[0] != want[0] || got[1] != 0 || got[2] != 2 {
		t.Errorf("ELU = %v, want %v", got, want)
	}
}

// TestBatchNormMatrix checks batch norm on n×c node features against
// finite differences, in training (batch statistics) and evaluation.
func TestBatchNormMatrix(t *testing.T) {
	for _, train := range []bool{true, false} {
		run := &BNRunning{Mean: tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.1, -0.2, 0.3})),
			Variance: tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1.5, 0.5, 2}))}
		no := false
		run.Update = &no // finite differences rerun the forward pass
		gamma := gradtest.Random(2, 3)
		gradtest.Check(t, []*tensor.Dense{gradtest.Random(1, 6, 3), gamma, gradtest.Random(3, 3)}, nil, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return BatchNorm(in[0], in[1], in[2], run, train, false)
		}, 1e-5)
	}
}
