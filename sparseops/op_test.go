package sparseops

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
	"github.com/gnsr/gnsr/sparse"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normalizedAdjacency returns D^-1/2 (A+I) D^-1/2 for the 5-node graph with
// edges 0-1, 1-2, 1-3, 3-4.
func normalizedAdjacency() *sparse.CSR {
	edges := [][2]int{{0, 1}, {1, 2}, {1, 3}, {3, 4}}
	const n = 5
	var r, c []int
	for i := 0; i < n; i++ {
		r, c = append(r, i), append(c, i)
	}
	for _, e := range edges {
		r, c = append(r, e[0], e[1]), append(c, e[1], e[0])
	}
	v := make([]float32, len(r))
	for i := range v {
		v[i] = 1
	}
	a, err := sparse.FromCOO(n, n, r, c, v)
	if err != nil {
		panic(err)
	}
	deg := a.RowSums()
	for i := 0; i < n; i++ {
		for p := a.Indptr[i]; p < a.Indptr[i+1]; p++ {
			j := a.Indices[p]
			a.Data[p] = float32(1 / math.Sqrt(float64(deg[i])*float64(deg[j])))
		}
	}
	return a
}

func denseValue(rows, cols int, seed uint64) *tensor.Dense {
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(randmat.Normal64(rows*cols, seed)))
}

// gradModel builds a scalar loss of the parameter p in g.
type gradModel struct {
	name       string
	rows, cols int // of the parameter
	loss       func(g *gorgonia.ExprGraph, p *gorgonia.Node) (*gorgonia.Node, error)
	paramSeed  uint64
}

func gradModels() []gradModel {
	adj := sparse.NewMatrix(normalizedAdjacency())
	// X: 5×4 random sparse features with an empty row and an explicit zero.
	x, err := sparse.FromCOO(5, 4,
		[]int{0, 0, 1, 2, 2, 2, 4, 4},
		[]int{1, 3, 0, 0, 2, 3, 1, 2},
		[]float32{0.5, -1.25, 2, 0.75, 0, -0.5, 1.5, 0.25})
	if err != nil {
		panic(err)
	}
	feat := sparse.NewMatrix(x)
	wsum := func(g *gorgonia.ExprGraph, n *gorgonia.Node, seed uint64) (*gorgonia.Node, error) {
		s := n.Shape()
		w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(s...), gorgonia.WithName(fmt.Sprint("C", seed)),
			gorgonia.WithValue(denseValue(s[0], s[1], seed)))
		prod, err := gorgonia.HadamardProd(w, n)
		if err != nil {
			return nil, err
		}
		return gorgonia.Sum(prod)
	}
	return []gradModel{
		{
			name: "sum(C⊙(Â·H)) wrt H", rows: 5, cols: 3, paramSeed: 11,
			loss: func(g *gorgonia.ExprGraph, h *gorgonia.Node) (*gorgonia.Node, error) {
				ah, err := Mul(adj, h)
				if err != nil {
					return nil, err
				}
				return wsum(g, ah, 1)
			},
		},
		{
			name: "sum(C⊙(X·W)) wrt W", rows: 4, cols: 3, paramSeed: 12,
			loss: func(g *gorgonia.ExprGraph, w *gorgonia.Node) (*gorgonia.Node, error) {
				xw, err := Mul(feat, w)
				if err != nil {
					return nil, err
				}
				return wsum(g, xw, 2)
			},
		},
		{
			name: "sum(C⊙tanh(Â·(X·W))) wrt W", rows: 4, cols: 2, paramSeed: 13,
			loss: func(g *gorgonia.ExprGraph, w *gorgonia.Node) (*gorgonia.Node, error) {
				xw, err := Mul(feat, w)
				if err != nil {
					return nil, err
				}
				axw, err := Mul(adj, xw)
				if err != nil {
					return nil, err
				}
				th, err := gorgonia.Tanh(axw)
				if err != nil {
					return nil, err
				}
				return wsum(g, th, 3)
			},
		},
		{
			name: "sum(C⊙(Â·H + tanh(H))) wrt H", rows: 5, cols: 3, paramSeed: 15,
			loss: func(g *gorgonia.ExprGraph, h *gorgonia.Node) (*gorgonia.Node, error) {
				th, err := gorgonia.Tanh(h)
				if err != nil {
					return nil, err
				}
				out, err := MulAdd(adj, h, th)
				if err != nil {
					return nil, err
				}
				return wsum(g, out, 6)
			},
		},
		{
			// Two different sparse matrices applied to the same node: the
			// products must not be merged by gorgonia's node dedup.
			name: "sum(C⊙(Â·H)) + sum(D⊙(Âᵀ·H)) wrt H", rows: 5, cols: 2, paramSeed: 14,
			loss: func(g *gorgonia.ExprGraph, h *gorgonia.Node) (*gorgonia.Node, error) {
				asym := normalizedAdjacency()
				asym.Data[1] *= 3 // make it non-symmetric
				a2 := sparse.NewMatrix(asym)
				at2 := sparse.NewMatrix(asym.Transpose())
				p, err := Mul(a2, h)
				if err != nil {
					return nil, err
				}
				q, err := Mul(at2, h)
				if err != nil {
					return nil, err
				}
				lp, err := wsum(g, p, 4)
				if err != nil {
					return nil, err
				}
				lq, err := wsum(g, q, 5)
				if err != nil {
					return nil, err
				}
				return gorgonia.Add(lp, lq)
			},
		},
	}
}

// evalLoss returns the loss at parameter value p, run forward only.
func evalLoss(t *testing.T, model gradModel, p *tensor.Dense) float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	pn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(model.rows, model.cols), gorgonia.WithName("p"), gorgonia.WithValue(p))
	loss, err := model.loss(g, pn)
	if err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return loss.Value().Data().(float64)
}

// modelGrad returns the gradient of the loss at the model's parameter value
// computed on the given machine.
func modelGrad(t *testing.T, model gradModel, machine string) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	pn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(model.rows, model.cols), gorgonia.WithName("p"),
		gorgonia.WithValue(denseValue(model.rows, model.cols, model.paramSeed)))
	loss, err := model.loss(g, pn)
	if err != nil {
		t.Fatal(err)
	}
	var vm gorgonia.VM
	switch machine {
	case "tape":
		if _, err := gorgonia.Grad(loss, pn); err != nil {
			t.Fatal(err)
		}
		vm = gorgonia.NewTapeMachine(g)
	case "lisp":
		vm = gorgonia.NewLispMachine(g)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: %v", machine, err)
	}
	gv, err := pn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), gv.Data().([]float64)...)
}

// TestMulGradient checks the gradients computed by gorgonia through Mul
// against central finite differences, on a TapeMachine (symbolic, SymDiff)
// and on a LispMachine (DoDiff).
func TestMulGradient(t *testing.T) {
	const h = 1e-6
	for _, model := range gradModels() {
		p0 := denseValue(model.rows, model.cols, model.paramSeed)
		fd := make([]float64, model.rows*model.cols)
		for i := range fd {
			p := p0.Clone().(*tensor.Dense)
			d := p.Data().([]float64)
			d[i] = p0.Data().([]float64)[i] + h
			up := evalLoss(t, model, p)
			d[i] = p0.Data().([]float64)[i] - h
			down := evalLoss(t, model, p)
			fd[i] = (up - down) / (2 * h)
		}
		for _, machine := range []string{"tape", "lisp"} {
			got := modelGrad(t, model, machine)
			for i := range fd {
				if math.Abs(got[i]-fd[i]) > 1e-7*(1+math.Abs(fd[i])) {
					t.Errorf("%s on %s: gradient element %d = %v, finite difference %v", model.name, machine, i, got[i], fd[i])
				}
			}
		}
	}
}

func TestMulForward(t *testing.T) {
	a := randomCSR(30, 20, 150, 6)
	c := sparse.NewMatrix(a)
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, k := range []int{1, 3, 16, 19} {
			g := gorgonia.NewGraph()
			var hv *tensor.Dense
			if dt == tensor.Float32 {
				hv = tensor.New(tensor.WithShape(20, k), tensor.WithBacking(randmat.Uniform32(20*k, 7)))
			} else {
				hv = tensor.New(tensor.WithShape(20, k), tensor.WithBacking(randmat.Normal64(20*k, 7)))
			}
			hn := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(20, k), gorgonia.WithName("h"), gorgonia.WithValue(hv))
			out, err := Mul(c, hn)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Shape().Eq(tensor.Shape{30, k}) || out.Dtype() != dt {
				t.Fatalf("%v k=%d: node has shape %v and type %v", dt, k, out.Shape(), out.Dtype())
			}
			m := gorgonia.NewTapeMachine(g)
			// Twice, to check that a run after Reset gives the same.
			for run := 0; run < 2; run++ {
				if err := m.RunAll(); err != nil {
					t.Fatal(err)
				}
				switch dt {
				case tensor.Float32:
					want := make([]float32, 30*k)
					a.MulDense32(want, hv.Data().([]float32), k)
					if got := out.Value().Data().([]float32); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("float32 k=%d run %d: got %v, want %v", k, run, got, want)
					}
				case tensor.Float64:
					want := make([]float64, 30*k)
					a.MulDense64(want, hv.Data().([]float64), k)
					if got := out.Value().Data().([]float64); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("float64 k=%d run %d: got %v, want %v", k, run, got, want)
					}
				}
				m.Reset()
			}
			m.Close()
		}
	}
}

// TestMulFloat32Gradient checks a float32 graph on both machines against
// the product Xᵀ·C computed directly.
func TestMulFloat32Gradient(t *testing.T) {
	x := randomCSR(40, 12, 200, 8)
	c := sparse.NewMatrix(x)
	const k = 16
	cw := randmat.Uniform32(40*k, 9)
	want := make([]float32, 12*k)
	x.Transpose().MulDense32(want, cw, k)
	for _, machine := range []string{"tape", "lisp"} {
		g := gorgonia.NewGraph()
		w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(12, k), gorgonia.WithName("w"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(12, k), tensor.WithBacking(randmat.Uniform32(12*k, 10)))))
		cn := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(40, k), gorgonia.WithName("c"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(40, k), tensor.WithBacking(cw))))
		xw, err := Mul(c, w)
		if err != nil {
			t.Fatal(err)
		}
		loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(cn, xw))))
		var vm gorgonia.VM
		if machine == "tape" {
			if _, err := gorgonia.Grad(loss, w); err != nil {
				t.Fatal(err)
			}
			vm = gorgonia.NewTapeMachine(g)
		} else {
			vm = gorgonia.NewLispMachine(g)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		gv, err := w.Grad()
		if err != nil {
			t.Fatal(err)
		}
		got := gv.Data().([]float32)
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: gradient element %d = %v, want %v", machine, i, got[i], want[i])
			}
		}
		vm.Close()
	}
}

// TestMulDistinctConstants checks that products of different sparse
// matrices with one node are different nodes, and equal products the same.
func TestMulDistinctConstants(t *testing.T) {
	a := normalizedAdjacency()
	b := a.Clone()
	b.Data[0] = 7
	ca, cb := sparse.NewMatrix(a), sparse.NewMatrix(b)
	g := gorgonia.NewGraph()
	h := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(5, 2), gorgonia.WithName("h"), gorgonia.WithValue(denseValue(5, 2, 1)))
	pa := gorgonia.Must(Mul(ca, h))
	pb := gorgonia.Must(Mul(cb, h))
	pa2 := gorgonia.Must(Mul(ca, h))
	if pa == pb {
		t.Fatalf("products with different constants were merged")
	}
	if pa != pa2 {
		t.Errorf("equal products were not merged")
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pa.Value()) == fmt.Sprint(pb.Value()) {
		t.Errorf("products with different constants have equal values")
	}
}

// TestMulAfterSetData checks that new values of a sparse.Matrix reach both
// the product and its gradient, which uses the cached transpose.
func TestMulAfterSetData(t *testing.T) {
	x := randomCSR(30, 10, 120, 11)
	c := sparse.NewMatrix(x)
	if err := c.SetData(make([]float32, x.NNZ()+1)); !errors.Is(err, sparse.ErrShape) {
		t.Errorf("wrong length: got error %v", err)
	}
	const k = 4
	g := gorgonia.NewGraph()
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(10, k), gorgonia.WithName("w"), gorgonia.WithValue(denseValue(10, k, 2)))
	xw := gorgonia.Must(Mul(c, w))
	loss := gorgonia.Must(gorgonia.Sum(xw))
	if _, err := gorgonia.Grad(loss, w); err != nil {
		t.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for step := 0; step < 3; step++ {
		vals := make([]float32, x.NNZ())
		sparse.DropoutValues(vals, x.Data, 0.5, rng)
		if err := c.SetData(vals); err != nil {
			t.Fatal(err)
		}
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		xd := x.Clone()
		copy(xd.Data, vals)
		want := make([]float64, 30*k)
		xd.MulDense64(want, w.Value().Data().([]float64), k)
		if got := xw.Value().Data().([]float64); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("step %d: product %v, want %v", step, got, want)
		}
		// d sum(X·W)/dW[c][j] = column sum c of X.
		cs := xd.ColSums()
		gv, _ := w.Grad()
		for i, v := range gv.Data().([]float64) {
			if math.Abs(v-float64(cs[i/k])) > 1e-6 {
				t.Fatalf("step %d: gradient element %d = %v, want %v", step, i, v, cs[i/k])
			}
		}
		m.Reset()
	}
	if x.Data[0] == c.CSR().Data[0] && x.Data[1] == c.CSR().Data[1] && x.Data[2] == c.CSR().Data[2] {
		// With p = 0.5 at least one of three values changed with
		// overwhelming probability; the point is that x is not the
		// constant's storage.
		t.Logf("first values unchanged")
	}
	if &x.Data[0] == &c.CSR().Data[0] {
		t.Errorf("NewConstant did not copy its matrix")
	}
}

func TestMulErrors(t *testing.T) {
	c := sparse.NewMatrix(normalizedAdjacency()) // 5×5
	g := gorgonia.NewGraph()
	for _, test := range []struct {
		name string
		h    *gorgonia.Node
	}{
		{"vector", gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(5), gorgonia.WithName("v"))},
		{"wrong rows", gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 2), gorgonia.WithName("m42"))},
		{"integer", gorgonia.NewMatrix(g, tensor.Int, gorgonia.WithShape(5, 2), gorgonia.WithName("mi"))},
	} {
		if _, err := Mul(c, test.h); !errors.Is(err, ErrShape) {
			t.Errorf("%s: got error %v, want one wrapping ErrShape", test.name, err)
		}
	}
	h := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(5, 2), gorgonia.WithName("m52"))
	if _, err := Mul(nil, h); err == nil {
		t.Errorf("nil constant: no error")
	}
	for _, test := range []struct {
		name string
		z    *gorgonia.Node
	}{
		{"addend shape", gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(5, 3), gorgonia.WithName("z53"))},
		{"addend dtype", gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(5, 2), gorgonia.WithName("z52f"))},
		{"addend vector", gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(10), gorgonia.WithName("z10"))},
		{"no addend", nil},
	} {
		if _, err := MulAdd(c, h, test.z); !errors.Is(err, ErrShape) {
			t.Errorf("MulAdd, %s: got error %v, want one wrapping ErrShape", test.name, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("NewConstant of an invalid matrix did not panic")
		}
	}()
	sparse.NewMatrix(&sparse.CSR{Rows: 1, Cols: 1, Indptr: []int{0, 1}, Indices: []int32{1}, Data: []float32{1}})
}

// TestMulTransposedInput checks that a view (a transposed node) is
// materialised before the product.
func TestMulTransposedInput(t *testing.T) {
	a := normalizedAdjacency()
	c := sparse.NewMatrix(a)
	g := gorgonia.NewGraph()
	hv := denseValue(3, 5, 4)
	h := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 5), gorgonia.WithName("h"), gorgonia.WithValue(hv))
	ht := gorgonia.Must(gorgonia.Transpose(h))
	out := gorgonia.Must(Mul(c, ht))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	b := make([]float64, 15)
	hd := hv.Data().([]float64)
	for i := 0; i < 3; i++ {
		for j := 0; j < 5; j++ {
			b[j*3+i] = hd[i*5+j]
		}
	}
	want := make([]float64, 15)
	a.MulDense64(want, b, 3)
	if got := out.Value().Data().([]float64); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func BenchmarkMulOpForwardBackward(b *testing.B) {
	x := sparse.NewMatrix(randomCSR(randmat.PubMedNodes, randmat.PubMedFeatures, randmat.PubMedFeatureNNZ, 1))
	adj := sparse.NewMatrix(randomCSR(randmat.PubMedNodes, randmat.PubMedNodes, randmat.PubMedAdjacencyNNZ, 2))
	const k = 16
	g := gorgonia.NewGraph()
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(randmat.PubMedFeatures, k), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(randmat.PubMedFeatures, k), tensor.WithBacking(randmat.Uniform32(randmat.PubMedFeatures*k, 3)))))
	// loss = sum(Â·(X·W)): two products forward, two transposed products
	// backward (the gradient of X·W is Âᵀ·1, then Xᵀ·that).
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(Mul(adj, gorgonia.Must(Mul(x, w))))))
	if _, err := gorgonia.Grad(loss, w); err != nil {
		b.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	for b.Loop() {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
}

// randomCSR returns a rows×cols matrix with about nnz entries, generated
// from seed.
func randomCSR(rows, cols, nnz int, seed uint64) *sparse.CSR {
	r, c, v := randmat.COO(rows, cols, nnz, seed)
	m, err := sparse.FromCOO(rows, cols, r, c, v)
	if err != nil {
		panic(err)
	}
	return m
}
