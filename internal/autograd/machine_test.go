package autograd_test

import (
	"slices"
	"testing"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gorgoniaNet builds loss = Σ relu(x·w + b)² / 2 + Σ tanh(x·w) of
// gorgonia's own ops, whose program shares registers between nodes, with
// its gradients, and returns the graph, the parameters and the nodes whose
// values a run is compared on.
func gorgoniaNet(t *testing.T) (*G.ExprGraph, []*G.Node, []*G.Node) {
	t.Helper()
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float64{1, -2, 3, 0.5, 5, -6, 7, 0.25, -9, 1, 1.5, -2}))))
	w := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 2), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{0.3, -0.2, 0.1, 0.4, -0.5, 0.6}))))
	b := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithName("b"),
		G.WithValue(tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8}))))
	xw := must(t)(G.Mul(x, w))
	h := must(t)(G.Rectify(must(t)(G.Add(xw, b))))
	sq := must(t)(G.Sum(must(t)(G.Square(h))))
	loss := must(t)(G.Add(must(t)(G.Div(sq, G.NewConstant(2.0))), must(t)(G.Sum(must(t)(G.Tanh(xw))))))
	if _, err := G.Grad(loss, w, b); err != nil {
		t.Fatal(err)
	}
	return g, []*G.Node{w, b}, []*G.Node{xw, h, sq, loss}
}

// gnnNet builds a two-layer network of gnsr's ops, whose program gives
// every node its own register, with the gradients of its cross-entropy,
// and returns the graph, the parameters and the nodes whose values a run
// is compared on.
func gnnNet(t *testing.T) (*G.ExprGraph, []*G.Node, []*G.Node) {
	t.Helper()
	g := G.NewGraph()
	xs := make([]float32, 6*4)
	for i := range xs {
		xs[i] = float32(i%7) - 2.5
	}
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(6, 4), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(6, 4), tensor.WithBacking(xs))))
	init := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = scale * float32((i*5)%11-5)
		}
		return v
	}
	w1 := nn.NewParam(g, "w1", []int{4, 5}, init(20, 0.1))
	b1 := nn.NewParam(g, "b1", []int{1, 5}, init(5, 0.05))
	w2 := nn.NewParam(g, "w2", []int{5, 3}, init(15, 0.2))
	b2 := nn.NewParam(g, "b2", []int{1, 3}, init(3, 0.1))
	h := must(t)(nn.BiasReLU(must(t)(nn.MatMul(x, w1)), b1))
	z := must(t)(nn.AddBias(must(t)(nn.MatMul(h, w2)), b2))
	loss := must(t)(nn.SoftmaxCrossEntropy(z, []int{0, 2, 3, 5}, []int{1, 0, 2, 2}))
	params := []*G.Node{w1, b1, w2, b2}
	if _, err := G.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	return g, params, []*G.Node{h, z, loss}
}

// must returns a function that returns its node or fails t.
func must(t *testing.T) func(*G.Node, error) *G.Node {
	return func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// floats returns a copy of v's data as float64s.
func floats(t *testing.T, v G.Value) []float64 {
	t.Helper()
	switch d := v.Data().(type) {
	case []float64:
		return slices.Clone(d)
	case float64:
		return []float64{d}
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case float32:
		return []float64{float64(d)}
	}
	t.Fatalf("value of type %T", v.Data())
	return nil
}

// TestMachineRunsOnce checks that a second RunAll without Reset runs
// nothing, as gorgonia's does: the program counter is at the end.
func TestMachineRunsOnce(t *testing.T) {
	g, params, outs := gnnNet(t)
	m := autograd.NewTapeMachine(g, G.BindDualValues(params...))
	defer m.Close()
	grad := func() []float64 {
		d, err := autograd.GradOf(params[0])
		if err != nil {
			t.Fatal(err)
		}
		return floats(t, d)
	}
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	loss, g1 := floats(t, outs[2].Value()), grad()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if g2 := grad(); !slices.Equal(g2, g1) {
		t.Errorf("a second RunAll added to the gradient again: %v, then %v", g1, g2)
	}
	m.Reset()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	g3 := grad()
	for i := range g3 {
		if g3[i] != 2*g1[i] {
			t.Fatalf("after Reset, RunAll did not add the gradient once more: %v, then %v", g1, g3)
		}
	}
	if l := floats(t, outs[2].Value()); !slices.Equal(l, loss) {
		t.Errorf("loss %v, then %v", loss, l)
	}
}

// TestMachineMatchesRunAll checks that a Machine computes, run after run,
// what gorgonia's RunAll does: every value and every parameter's gradient,
// bit for bit, on the calling goroutine: for gnsr's ops, and for
// gorgonia's, which write in place and share registers between nodes.
func TestMachineMatchesRunAll(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*testing.T) (*G.ExprGraph, []*G.Node, []*G.Node)
	}{
		{"gnsr ops", gnnNet},
		{"gorgonia ops", gorgoniaNet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := machineRuns(t, tc.build, func(g *G.ExprGraph, opts ...G.VMOpt) G.VM { return G.NewTapeMachine(g, opts...) })
			got := machineRuns(t, tc.build, func(g *G.ExprGraph, opts ...G.VMOpt) G.VM {
				m := autograd.NewTapeMachine(g, opts...)
				if !m.Direct() {
					t.Fatal("the machine runs the program on gorgonia's goroutine: has gorgonia's tape machine changed?")
				}
				return m
			})
			for run := range want {
				for i := range want[run] {
					if !slices.Equal(got[run][i], want[run][i]) {
						t.Errorf("run %d, value %d: %v, gorgonia's RunAll %v", run, i, got[run][i], want[run][i])
					}
				}
			}
		})
	}
}

// machineRuns builds a network, runs it three times on a machine newVM
// makes, with a step of gradient descent after each, and returns the values
// of each run: the outputs, then the gradients, none of which may be all
// zeros (they would not tell machines apart).
func machineRuns(t *testing.T, build func(*testing.T) (*G.ExprGraph, []*G.Node, []*G.Node), newVM func(*G.ExprGraph, ...G.VMOpt) G.VM) [][][]float64 {
	t.Helper()
	g, params, outs := build(t)
	vm := newVM(g, G.BindDualValues(params...))
	defer vm.Close()
	var runs [][][]float64
	for run := range 3 {
		if run > 0 {
			vm.Reset()
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		var values [][]float64
		for _, o := range outs {
			values = append(values, floats(t, o.Value()))
		}
		for _, p := range params {
			grad, err := autograd.GradOf(p)
			if err != nil {
				t.Fatal(err)
			}
			d := floats(t, grad)
			if !slices.ContainsFunc(d, func(v float64) bool { return v != 0 }) {
				t.Fatalf("gradient of %v is zero", p)
			}
			values = append(values, d)
			grad.Zero() // the machines add into it
			pv := p.Value().(*tensor.Dense)
			for i, v := range d {
				switch x := pv.Data().(type) {
				case []float64:
					x[i] -= 0.1 * v
				case []float32:
					x[i] -= float32(0.1 * v)
				}
			}
		}
		runs = append(runs, values)
	}
	return runs
}
