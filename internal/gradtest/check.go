package gradtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Builder builds an op (or a whole network) on the input nodes in into g
// and returns its output.
type Builder func(g *G.ExprGraph, in []*G.Node) (*G.Node, error)

// Check compares the gradients that both gorgonia machines compute for
// float64 inputs with central finite differences. The cost is Σ out⊙R for
// a fixed random R of the output's shape, so every output element matters.
// Inputs listed in constant get no gradient check (their nodes still take
// the values). A gradient element passes when it is within tol of the
// finite difference relative to max(|fd|, 1e-3·max|fd|, 1e-6).
func Check(t testing.TB, inputs []*tensor.Dense, constant []bool, build Builder, tol float64) {
	t.Helper()
	var weights []float64
	eval := func(machine string, vals []*tensor.Dense) (float64, []G.Value, error) {
		g := G.NewGraph()
		nodes := make([]*G.Node, len(vals))
		for i, v := range vals {
			c := v.Clone().(*tensor.Dense)
			nodes[i] = G.NewTensor(g, tensor.Float64, c.Dims(), G.WithShape(c.Shape()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(c))
		}
		out, err := build(g, nodes)
		if err != nil {
			return 0, nil, err
		}
		n := out.Shape().TotalSize()
		if weights == nil {
			rng := rand.New(rand.NewPCG(uint64(n), 77))
			weights = make([]float64, n)
			for i := range weights {
				weights[i] = rng.NormFloat64()
			}
		}
		r := G.NewConstant(tensor.New(tensor.WithShape(out.Shape().Clone()...), tensor.WithBacking(append([]float64(nil), weights...))))
		prod, err := G.HadamardProd(out, r)
		if err != nil {
			return 0, nil, err
		}
		c, err := G.Sum(prod)
		if err != nil {
			return 0, nil, err
		}
		var cv G.Value
		G.Read(c, &cv)
		var wrt []*G.Node
		for i, n := range nodes {
			if !(i < len(constant) && constant[i]) {
				wrt = append(wrt, n)
			}
		}
		var vm G.VM
		switch machine {
		case "tape":
			if _, err := G.Grad(c, wrt...); err != nil {
				return 0, nil, err
			}
			vm = G.NewTapeMachine(g, G.BindDualValues(wrt...))
		case "lisp":
			vm = G.NewLispMachine(g)
		default:
			vm = G.NewTapeMachine(g)
		}
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			return 0, nil, err
		}
		grads := make([]G.Value, len(nodes))
		if machine != "" {
			for i, n := range nodes {
				if gv, err := n.Grad(); err == nil {
					grads[i] = gv
				}
			}
		}
		return AsF64(cv)[0], grads, nil
	}
	if _, _, err := eval("", inputs); err != nil {
		t.Fatalf("forward: %v", err)
	}
	for _, machine := range []string{"tape", "lisp"} {
		_, grads, err := eval(machine, inputs)
		if err != nil {
			t.Fatalf("%s machine: %v", machine, err)
		}
		for i := range inputs {
			if i < len(constant) && constant[i] {
				continue
			}
			if grads[i] == nil {
				t.Errorf("%s machine: no gradient for input %d", machine, i)
				continue
			}
			got := AsF64(grads[i])
			fd := numericGrad(t, inputs, i, eval)
			var scale float64
			for _, v := range fd {
				scale = max(scale, math.Abs(v))
			}
			for k := range fd {
				if d := math.Abs(got[k] - fd[k]); !(d <= tol*max(math.Abs(fd[k]), 1e-3*scale) || d <= 1e-8) {
					t.Errorf("%s machine: input %d element %d: gradient %.10g, finite difference %.10g", machine, i, k, got[k], fd[k])
					break
				}
			}
		}
	}
}

// numericGrad returns the central finite differences of the cost with
// respect to input i.
func numericGrad(t testing.TB, inputs []*tensor.Dense, i int, eval func(string, []*tensor.Dense) (float64, []G.Value, error)) []float64 {
	t.Helper()
	const h = 1e-6
	x := inputs[i].Data().([]float64)
	fd := make([]float64, len(x))
	for k := range x {
		old := x[k]
		x[k] = old + h
		up, _, err := eval("", inputs)
		if err == nil {
			x[k] = old - h
			var down float64
			down, _, err = eval("", inputs)
			fd[k] = (up - down) / (2 * h)
		}
		x[k] = old
		if err != nil {
			t.Fatalf("finite difference of input %d element %d: %v", i, k, err)
		}
	}
	return fd
}

// Random returns a float64 tensor of the given shape with values drawn
// from N(0, 1) with seed.
func Random(seed uint64, shape ...int) *tensor.Dense {
	rng := rand.New(rand.NewPCG(seed, 3))
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}
