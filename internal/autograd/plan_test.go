package autograd

import (
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// affine returns the node a·x + b elementwise, as a Fn.
func affine(t *testing.T, x *G.Node, a, b float32) *G.Node {
	t.Helper()
	op := NewFn("test.Affine", tensor.Float32, x.Shape().Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
		o, v := out.Data().([]float32), in[0].Data().([]float32)
		for i := range o {
			o[i] = a*v[i] + b
		}
		return nil
	}, x.Shape().Clone())
	n, err := G.ApplyOp(op, x)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sum returns the node x + y elementwise, as a Fn.
func sum(t *testing.T, x, y *G.Node) *G.Node {
	t.Helper()
	op := NewFn("test.Sum", tensor.Float32, x.Shape().Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
		o, u, v := out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32)
		for i := range o {
			o[i] = u[i] + v[i]
		}
		return nil
	}, x.Shape().Clone(), y.Shape().Clone())
	n, err := G.ApplyOp(op, x, y)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// chain builds x → h1 → h2 → h3 → h4 = h3 + h1 (h1 alive across) plus a
// view of h2 read by another output, and returns the graph and the outputs.
func chain(t *testing.T) (*G.ExprGraph, []*G.Node) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}))))
	h1 := affine(t, x, 2, 1)
	h2 := affine(t, h1, 3, 0)
	view, err := G.Slice(h2, G.S(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	h3 := affine(t, h2, -1, 5)
	h4 := sum(t, h3, h1)
	h5 := affine(t, h4, 0.5, 0)
	h6 := affine(t, h5, 1, 1)
	h7 := affine(t, view, 1, 0)
	return g, []*G.Node{h6, h7}
}

func run(t *testing.T, g *G.ExprGraph, outs []*G.Node) [][]float32 {
	t.Helper()
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var res [][]float32
	for _, o := range outs {
		res = append(res, slices.Clone(o.Value().Data().([]float32)))
	}
	return res
}

// TestPlan checks that a planned graph computes what an unplanned one does,
// with fewer buffers than ops, and that a second graph planned with the
// same pool reuses its buffers.
func TestPlan(t *testing.T) {
	g, outs := chain(t)
	want := run(t, g, outs)

	g, outs = chain(t)
	var pool Pool
	if err := Plan(g, &pool, outs...); err != nil {
		t.Fatal(err)
	}
	got := run(t, g, outs)
	if !slices.EqualFunc(got, want, slices.Equal[[]float32]) {
		t.Errorf("planned graph computed %v, want %v", got, want)
	}
	ops := 0
	for _, n := range g.AllNodes() {
		if _, ok := n.Op().(Buffered); ok {
			ops++
		}
	}
	if len(pool.bufs) >= ops {
		t.Errorf("%d buffers for %d ops: nothing shared", len(pool.bufs), ops)
	}
	size := pool.Bytes()
	g2, outs2 := chain(t)
	if err := Plan(g2, &pool, outs2...); err != nil {
		t.Fatal(err)
	}
	if pool.Bytes() != size {
		t.Errorf("a second graph of the same shapes grew the pool from %d to %d bytes", size, pool.Bytes())
	}
	if got := run(t, g2, outs2); !slices.EqualFunc(got, want, slices.Equal[[]float32]) {
		t.Errorf("second planned graph computed %v, want %v", got, want)
	}
}

// inPlaceAffine is affine as an InPlace op.
type inPlaceAffine struct{ *Fn }

func (inPlaceAffine) InPlaceInput() int { return 0 }

// TestPlanInPlace checks that an InPlace op whose input dies with it
// writes over the input's buffer, and not while the input is still read.
func TestPlanInPlace(t *testing.T) {
	build := func() (*G.ExprGraph, *G.Node, *G.Node, *G.Node) {
		g := G.NewGraph()
		x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 2), G.WithName("x"),
			G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4}))))
		h := affine(t, x, 2, 0)
		mk := func(in *G.Node, a float32) *G.Node {
			op := NewFn("test.InPlace", tensor.Float32, tensor.Shape{2, 2}, func(out *tensor.Dense, ins []*tensor.Dense) error {
				o, v := out.Data().([]float32), ins[0].Data().([]float32)
				for i := range o {
					o[i] = a*v[i] + 1
				}
				return nil
			}, tensor.Shape{2, 2})
			n, err := G.ApplyOp(inPlaceAffine{op}, in)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		u := mk(h, 3)     // h is read again below: not in place
		v := sum(t, u, h) // u dies here
		w := mk(v, 5)     // v dies here: in place
		return g, h, v, w
	}
	g, _, _, w := build()
	want := run(t, g, []*G.Node{w})
	g, _, v, w := build()
	var pool Pool
	if err := Plan(g, &pool, w); err != nil {
		t.Fatal(err)
	}
	got := run(t, g, []*G.Node{w})
	if !slices.EqualFunc(got, want, slices.Equal[[]float32]) {
		t.Errorf("planned in place: %v, want %v", got, want)
	}
	if &v.Value().Data().([]float32)[0] != &w.Value().Data().([]float32)[0] {
		t.Error("the last op did not write over its dying input")
	}
}
