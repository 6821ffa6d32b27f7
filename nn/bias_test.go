package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reluRef is the float64 reference of sum(C ⊙ max(X·W + b, 0)) (BiasReLU),
// or without relu of sum(C ⊙ (X·W + b)) (AddBias); with rows, of AddBiasRows
// on those rows, C being zero on the others (the gradient AddBiasRows
// expects there).
type reluRef struct {
	n, d, c    int
	x, cw      []float64
	bias, relu bool
	rows       []int32
}

func (r *reluRef) loss(w, b []float64) float64 {
	var sum float64
	for i := 0; i < r.n; i++ {
		for j := 0; j < r.c; j++ {
			var s float64
			for l := 0; l < r.d; l++ {
				s += r.x[i*r.d+l] * w[l*r.c+j]
			}
			if r.bias {
				s += b[j]
			}
			if r.relu {
				s = max(s, 0)
			}
			sum += r.cw[i*r.c+j] * s
		}
	}
	return sum
}

// numGrad returns the central finite difference of the loss in p.
func (r *reluRef) numGrad(w, b, p []float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(p))
	for i := range p {
		old := p[i]
		p[i] = old + h
		up := r.loss(w, b)
		p[i] = old - h
		down := r.loss(w, b)
		p[i] = old
		g[i] = (up - down) / (2 * h)
	}
	return g
}

// grads runs the graph of r on machine and returns the loss and the
// gradients of W and b (nil without bias).
func (r *reluRef) grads(t *testing.T, machine string, w, b []float64) (float64, []float64, []float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	x := gorgonia.NewConstant(tensor.New(tensor.WithShape(r.n, r.d), tensor.WithBacking(append([]float64(nil), r.x...))))
	cw := gorgonia.NewConstant(tensor.New(tensor.WithShape(r.n, r.c), tensor.WithBacking(append([]float64(nil), r.cw...))))
	wn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(r.d, r.c), gorgonia.WithName("W"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(r.d, r.c), tensor.WithBacking(append([]float64(nil), w...)))))
	params := gorgonia.Nodes{wn}
	var bn *gorgonia.Node
	if r.bias {
		bn = gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(1, r.c), gorgonia.WithName("b"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, r.c), tensor.WithBacking(append([]float64(nil), b...)))))
		params = append(params, bn)
	}
	z := gorgonia.Must(gorgonia.Mul(x, wn))
	var y *gorgonia.Node
	var err error
	switch {
	case r.rows != nil:
		y, err = AddBiasRows(z, bn, r.relu, r.rows)
	case r.relu:
		y, err = BiasReLU(z, bn)
	default:
		y, err = AddBias(z, bn)
	}
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(cw, y))))
	var vm gorgonia.VM
	switch machine {
	case "tape":
		if _, err := gorgonia.Grad(cost, params...); err != nil {
			t.Fatal(err)
		}
		vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
	case "lisp":
		vm = gorgonia.NewLispMachine(g)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: %v", machine, err)
	}
	grad := func(n *gorgonia.Node) []float64 {
		v, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), v.Data().([]float64)...)
	}
	var db []float64
	if r.bias {
		db = grad(bn)
	}
	return cost.Value().Data().(float64), grad(wn), db
}

// TestBiasGradients checks BiasReLU, with and without a bias, AddBias, and
// AddBiasRows of both kinds against finite differences on both machines.
func TestBiasGradients(t *testing.T) {
	for _, op := range []struct{ bias, relu, rows bool }{{true, true, false}, {false, true, false}, {true, false, false},
		{true, true, true}, {true, false, true}} {
		bias := op.bias
		rng := rand.New(rand.NewPCG(7, 1))
		r := &reluRef{n: 9, d: 4, c: 3, bias: bias, relu: op.relu}
		normals := func(n int) []float64 {
			s := make([]float64, n)
			for i := range s {
				s[i] = rng.NormFloat64()
			}
			return s
		}
		r.x, r.cw = normals(r.n*r.d), normals(r.n*r.c)
		if op.rows {
			r.rows = []int32{1, 2, 5, 8}
			for i := range r.n {
				if i != 1 && i != 2 && i != 5 && i != 8 {
					clear(r.cw[i*r.c : (i+1)*r.c])
				}
			}
		}
		w, b := normals(r.d*r.c), normals(r.c)
		want := r.loss(w, b)
		wantW, wantB := r.numGrad(w, b, w), r.numGrad(w, b, b)
		for _, machine := range []string{"tape", "lisp"} {
			t.Run(fmt.Sprintf("bias=%t/relu=%t/rows=%t/%s", bias, op.relu, op.rows, machine), func(t *testing.T) {
				got, gw, gb := r.grads(t, machine, w, b)
				if math.Abs(got-want) > 1e-9*(1+math.Abs(want)) {
					t.Errorf("loss = %v, want %v", got, want)
				}
				check := func(name string, got, want []float64) {
					for i := range want {
						if math.Abs(got[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
							t.Errorf("d%s[%d] = %v, want %v (finite differences)", name, i, got[i], want[i])
						}
					}
				}
				check("W", gw, wantW)
				if bias {
					check("b", gb, wantB)
				}
			})
		}
	}
}

// TestBiasReLUThreads checks a matrix large enough to be split over
// goroutines against a plain loop, bit for bit, for several thread counts,
// forward and backward, and across reruns of one machine (the op reuses its
// buffers).
func TestBiasReLUThreads(t *testing.T) {
	const rows, cols = 3000, 48
	rng := rand.New(rand.NewPCG(3, 4))
	zs, bs, gs := make([]float32, rows*cols), make([]float32, cols), make([]float32, rows*cols)
	for i := range zs {
		zs[i], gs[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	for i := range bs {
		bs[i] = float32(rng.NormFloat64())
	}
	wantY, wantDZ, wantDB := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			q := i*cols + j
			if v := zs[q] + bs[j]; v > 0 {
				wantY[q], wantDZ[q] = v, gs[q]
				wantDB[j] += gs[q]
			}
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		g := gorgonia.NewGraph()
		z := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(rows, cols), gorgonia.WithName("z"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(zs))))
		b := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(1, cols), gorgonia.WithName("b"),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, cols), tensor.WithBacking(bs))))
		cg := gorgonia.NewConstant(tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(gs)))
		y := gorgonia.Must(BiasReLU(z, b))
		var yv gorgonia.Value
		gorgonia.Read(y, &yv)
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(cg, y))))
		if _, err := gorgonia.Grad(cost, z, b); err != nil {
			t.Fatal(err)
		}
		vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(z, b))
		for run := range 2 {
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			dz, _ := z.Grad()
			db, _ := b.Grad()
			for name, pair := range map[string][2][]float32{
				"y": {yv.Data().([]float32), wantY}, "dz": {dz.Data().([]float32), wantDZ}, "db": {db.Data().([]float32), wantDB},
			} {
				for i := range pair[1] {
					if pair[0][i] != pair[1][i] {
						t.Fatalf("GOMAXPROCS %d, run %d: %s[%d] = %v, want %v", procs, run, name, i, pair[0][i], pair[1][i])
					}
				}
			}
			vm.Reset()
			// The machine adds gradients into the dual values.
			dz.(*tensor.Dense).Zero()
			db.(*tensor.Dense).Zero()
		}
		vm.Close()
	}
}

func TestBiasErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	z := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(4, 3), gorgonia.WithName("z"))
	for _, b := range []*gorgonia.Node{
		gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(1, 4), gorgonia.WithName("b14")),
		gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("b23")),
		gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("v3")),
	} {
		if _, err := BiasReLU(z, b); err == nil {
			t.Errorf("BiasReLU with bias shape %v: no error", b.Shape())
		}
		if _, err := AddBias(z, b); err == nil {
			t.Errorf("AddBias with bias shape %v: no error", b.Shape())
		}
	}
	if _, err := AddBias(z, nil); err == nil {
		t.Errorf("AddBias without a bias: no error")
	}
}
