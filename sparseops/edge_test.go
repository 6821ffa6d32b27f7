package sparseops

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/internal/gradtest"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// edgePatterns are the patterns the edge ops are checked on: a square one
// with self-loops and a bipartite block (3 destinations, 5 sources) with a
// row without edges and a source that no edge leaves.
func edgePatterns(t testing.TB) map[string]*sparse.Matrix {
	square, err := sparse.FromCOO(4, 4, []int{0, 0, 1, 1, 1, 2, 2, 3, 3}, []int{0, 1, 0, 1, 3, 2, 3, 1, 3}, make([]float32, 9))
	if err != nil {
		t.Fatal(err)
	}
	block, err := sparse.FromCOO(3, 5, []int{0, 0, 0, 2, 2}, []int{0, 3, 4, 1, 3}, make([]float32, 5))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*sparse.Matrix{"square": sparse.NewMatrix(square), "block": sparse.NewMatrix(block)}
}

// TestEdgeOpGradients is the float64 finite-difference table of the edge
// ops on both machines, alone and chained as GAT chains them.
func TestEdgeOpGradients(t *testing.T) {
	const heads, width = 2, 3
	for name, p := range edgePatterns(t) {
		a := p.CSR()
		e := a.NNZ()
		t.Run(name+"/SDDMMAdd", func(t *testing.T) {
			gradtest.Check(t, []*tensor.Dense{gradtest.Random(1, a.Rows, heads), gradtest.Random(2, a.Cols, heads)}, nil,
				func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return SDDMM(p, in[0], in[1], heads, SDDMMAdd) }, 1e-6)
		})
		t.Run(name+"/SDDMMDot", func(t *testing.T) {
			gradtest.Check(t, []*tensor.Dense{gradtest.Random(3, a.Rows, heads*width), gradtest.Random(4, a.Cols, heads*width)}, nil,
				func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return SDDMM(p, in[0], in[1], heads, SDDMMDot) }, 1e-6)
		})
		t.Run(name+"/EdgeSoftmax", func(t *testing.T) {
			gradtest.Check(t, []*tensor.Dense{gradtest.Random(5, e, heads)}, nil,
				func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return EdgeSoftmax(p, in[0]) }, 1e-6)
		})
		t.Run(name+"/EdgeMul", func(t *testing.T) {
			gradtest.Check(t, []*tensor.Dense{gradtest.Random(6, e, heads), gradtest.Random(7, a.Cols, heads*width)}, nil,
				func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return EdgeMul(p, in[0], in[1]) }, 1e-6)
		})
		t.Run(name+"/attention", func(t *testing.T) {
			// softmax(LeakyReLU(u_i + v_j)) weighting x_j, as GAT.
			gradtest.Check(t, []*tensor.Dense{gradtest.Random(8, a.Rows, heads), gradtest.Random(9, a.Cols, heads), gradtest.Random(10, a.Cols, heads*width)}, nil,
				func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
					s, err := SDDMM(p, in[0], in[1], heads, SDDMMAdd)
					if err != nil {
						return nil, err
					}
					if s, err = nn.LeakyReLU(s, 0.2); err != nil {
						return nil, err
					}
					if s, err = EdgeSoftmax(p, s); err != nil {
						return nil, err
					}
					return EdgeMul(p, s, in[2])
				}, 1e-6)
		})
	}
}

// TestEdgeOpForward compares the edge ops' values with dense loops over
// the pattern's entries.
func TestEdgeOpForward(t *testing.T) {
	const heads, width = 2, 3
	for name, p := range edgePatterns(t) {
		a := p.CSR()
		u, v := gradtest.Random(1, a.Rows, heads*width), gradtest.Random(2, a.Cols, heads*width)
		x := gradtest.Random(3, a.Cols, heads*width)
		g := G.NewGraph()
		node := func(d *tensor.Dense, n string) *G.Node {
			return G.NewMatrix(g, tensor.Float64, G.WithShape(d.Shape()...), G.WithName(n), G.WithValue(d))
		}
		un, vn, xn := node(u, "u"), node(v, "v"), node(x, "x")
		dot := G.Must(SDDMM(p, un, vn, heads, SDDMMDot))
		alpha := G.Must(EdgeSoftmax(p, dot))
		out := G.Must(EdgeMul(p, alpha, xn))
		m := G.NewTapeMachine(g)
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		ud, vd, xd := u.Data().([]float64), v.Data().([]float64), x.Data().([]float64)
		hw := heads * width
		wantDot := make([]float64, a.NNZ()*heads)
		wantAlpha := make([]float64, a.NNZ()*heads)
		wantOut := make([]float64, a.Rows*hw)
		for i := range a.Rows {
			for h := range heads {
				var sum float64
				for k := a.Indptr[i]; k < a.Indptr[i+1]; k++ {
					j := int(a.Indices[k])
					var s float64
					for f := range width {
						s += ud[i*hw+h*width+f] * vd[j*hw+h*width+f]
					}
					wantDot[k*heads+h] = s
					sum += math.Exp(s)
				}
				for k := a.Indptr[i]; k < a.Indptr[i+1]; k++ {
					w := math.Exp(wantDot[k*heads+h]) / sum
					wantAlpha[k*heads+h] = w
					j := int(a.Indices[k])
					for f := range width {
						wantOut[i*hw+h*width+f] += w * xd[j*hw+h*width+f]
					}
				}
			}
		}
		for _, c := range []struct {
			what string
			got  G.Value
			want []float64
		}{{"SDDMM", dot.Value(), wantDot}, {"EdgeSoftmax", alpha.Value(), wantAlpha}, {"EdgeMul", out.Value(), wantOut}} {
			if err := gradtest.CloseTo(c.got, c.want, 1e-12); err != nil {
				t.Errorf("%s: %s: %v", name, c.what, err)
			}
		}
	}
}

// TestEdgeOpsDeterministic checks that float32 values and gradients of a
// large attention chain are the same bits for 1, 2, 3 and 8 threads.
func TestEdgeOpsDeterministic(t *testing.T) {
	const n, heads, width = 3000, 4, 8
	r, c, _ := randCOO(n, n, 40000, 9)
	pat, err := sparse.FromCOO(n, n, r, c, make([]float32, len(r)))
	if err != nil {
		t.Fatal(err)
	}
	p := sparse.NewMatrix(pat)
	run := func(procs int) [][]float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		g := G.NewGraph()
		mk := func(seed uint64, cols int, name string) *G.Node {
			d := gradtest.Random(seed, n, cols).Data().([]float64)
			f := make([]float32, len(d))
			for i, v := range d {
				f[i] = float32(v)
			}
			return G.NewMatrix(g, tensor.Float32, G.WithShape(n, cols), G.WithName(name), G.WithValue(tensor.New(tensor.WithShape(n, cols), tensor.WithBacking(f))))
		}
		u, v, x := mk(1, heads, "u"), mk(2, heads, "v"), mk(3, heads*width, "x")
		s := G.Must(SDDMM(p, u, v, heads, SDDMMAdd))
		alpha := G.Must(EdgeSoftmax(p, s))
		out := G.Must(EdgeMul(p, alpha, x))
		cost := G.Must(G.Sum(G.Must(G.Square(out))))
		if _, err := G.Grad(cost, u, v, x); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g, G.BindDualValues(u, v, x))
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		var res [][]float32
		res = append(res, slices.Clone(out.Value().Data().([]float32)))
		for _, nd := range []*G.Node{u, v, x} {
			gv, _ := nd.Grad()
			res = append(res, slices.Clone(gv.Data().([]float32)))
		}
		return res
	}
	want := run(1)
	for _, procs := range []int{2, 3, 8} {
		for i, got := range run(procs) {
			if !slices.Equal(got, want[i]) {
				t.Errorf("%d threads: result %d differs from 1 thread's", procs, i)
			}
		}
	}
}

// randCOO returns m random positions of an r×c matrix from seed.
func randCOO(r, c, m int, seed uint64) ([]int, []int, []float32) {
	rows, cols := make([]int, m), make([]int, m)
	x := seed
	for i := range rows {
		x = x*6364136223846793005 + 1442695040888963407
		rows[i] = int(x>>33) % r
		x = x*6364136223846793005 + 1442695040888963407
		cols[i] = int(x>>33) % c
	}
	return rows, cols, make([]float32, m)
}

func TestEdgeOpErrors(t *testing.T) {
	p := edgePatterns(t)["block"]
	g := G.NewGraph()
	m := func(r, c int) *G.Node {
		return G.NewMatrix(g, tensor.Float64, G.WithShape(r, c), G.WithInit(G.Zeroes()))
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"SDDMM rows", wrap(func() error { _, err := SDDMM(p, m(4, 2), m(5, 2), 2, SDDMMAdd); return err }())},
		{"SDDMM heads", wrap(func() error { _, err := SDDMM(p, m(3, 3), m(5, 3), 2, SDDMMDot); return err }())},
		{"EdgeSoftmax", wrap(func() error { _, err := EdgeSoftmax(p, m(4, 2)); return err }())},
		{"EdgeMul", wrap(func() error { _, err := EdgeMul(p, m(5, 2), m(5, 3)); return err }())},
	} {
		if c.err == nil || !errors.Is(c.err, ErrShape) {
			t.Errorf("%s: error %v, want one wrapping ErrShape", c.name, c.err)
		}
	}
}

// wrap returns err, or an error that wraps nothing if err is nil.
func wrap(err error) error {
	if err == nil {
		return errors.New("no error")
	}
	return err
}
