package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	mm "github.com/gnsr/gnsr/internal/matmul"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linearCost is Σ C ⊙ (A·B + 1bᵀ) in float64, the reference of the graph
// built by buildLinear.
func linearCost(a, b, bias, c []float64, n, k, m int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			z := bias[j]
			for p := 0; p < k; p++ {
				z += a[i*k+p] * b[p*m+j]
			}
			s += c[i*m+j] * z
		}
	}
	return s
}

func buildLinear(a, b, bias, c []float64, n, k, m int) (g *gorgonia.ExprGraph, params gorgonia.Nodes, cost *gorgonia.Node, err error) {
	g = gorgonia.NewGraph()
	mk := func(name string, data []float64, r, col int) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(r, col), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(r, col), tensor.WithBacking(slices.Clone(data)))))
	}
	an, bn, biasn := mk("A", a, n, k), mk("B", b, k, m), mk("bias", bias, 1, m)
	cn := gorgonia.NewConstant(tensor.New(tensor.WithShape(n, m), tensor.WithBacking(slices.Clone(c))))
	z, err := MatMul(an, bn)
	if err != nil {
		return nil, nil, nil, err
	}
	if z, err = AddBias(z, biasn); err != nil {
		return nil, nil, nil, err
	}
	prod, err := gorgonia.HadamardProd(z, cn)
	if err != nil {
		return nil, nil, nil, err
	}
	cost, err = gorgonia.Sum(prod)
	return g, gorgonia.Nodes{an, bn, biasn}, cost, err
}

func TestMatMulAddBiasGradients(t *testing.T) {
	for _, sz := range []struct{ n, k, m int }{{1, 1, 1}, {5, 3, 2}, {7, 4, 6}} {
		rng := rand.New(rand.NewPCG(uint64(sz.n), 2))
		randn := func(l int) []float64 {
			s := make([]float64, l)
			for i := range s {
				s[i] = rng.NormFloat64()
			}
			return s
		}
		a, b, bias, c := randn(sz.n*sz.k), randn(sz.k*sz.m), randn(sz.m), randn(sz.n*sz.m)
		vals := [][]float64{a, b, bias}
		for _, machine := range []string{"tape", "lisp"} {
			t.Run(fmt.Sprintf("%dx%dx%d/%s", sz.n, sz.k, sz.m, machine), func(t *testing.T) {
				g, params, cost, err := buildLinear(a, b, bias, c, sz.n, sz.k, sz.m)
				if err != nil {
					t.Fatal(err)
				}
				var vm gorgonia.VM
				if machine == "tape" {
					if _, err := gorgonia.Grad(cost, params...); err != nil {
						t.Fatal(err)
					}
					vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(params...))
				} else {
					vm = gorgonia.NewLispMachine(g)
				}
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				want := linearCost(a, b, bias, c, sz.n, sz.k, sz.m)
				if got := cost.Value().Data().(float64); math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
					t.Errorf("cost = %v, want %v", got, want)
				}
				for pi, p := range params {
					gv, err := p.Grad()
					if err != nil {
						t.Fatal(err)
					}
					grad := gv.Data().([]float64)
					v := vals[pi]
					for i := range v {
						const h = 1e-6
						old := v[i]
						v[i] = old + h
						up := linearCost(a, b, bias, c, sz.n, sz.k, sz.m)
						v[i] = old - h
						down := linearCost(a, b, bias, c, sz.n, sz.k, sz.m)
						v[i] = old
						fd := (up - down) / (2 * h)
						if math.Abs(grad[i]-fd) > 1e-7*(1+math.Abs(fd)) {
							t.Errorf("%v: grad[%d] = %v, finite differences %v", p, i, grad[i], fd)
						}
					}
				}
			})
		}
	}
}

// TestMatMulDeterministic checks that the products, including the blocked
// reduction aᵀ·g, give the same bits with one thread and with several.
func TestMatMulDeterministic(t *testing.T) {
	const n, k, m = 3*reduceBlock + 17, 16, 3
	rng := rand.New(rand.NewPCG(7, 7))
	a, g, w := make([]float32, n*k), make([]float32, n*m), make([]float32, k*m)
	for _, s := range [][]float32{a, g, w} {
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
	}
	products := func() [][]float32 {
		nn, nt, tn := make([]float32, n*m), make([]float32, n*k), make([]float32, k*m)
		var s mm.Scratch // one for all three: reuse across shapes
		matmul(&s, prodNN, nn, a, w, n, k, k, m, false)
		matmul(&s, prodNT, nt, g, w, n, m, k, m, false)
		matmul(&s, prodTN, tn, a, g, n, k, n, m, false)
		return [][]float32{nn, nt, tn}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	one := products()
	runtime.GOMAXPROCS(4)
	four := products()
	for i := range one {
		if !slices.Equal(one[i], four[i]) {
			t.Errorf("product %d differs between 1 and 4 threads", i)
		}
	}
}

func BenchmarkMatMulTallThin(b *testing.B) {
	const n, k, m = 19717, 16, 3
	a, w, out := make([]float32, n*k), make([]float32, k*m), make([]float32, n*m)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for b.Loop() {
		matmul(nil, prodNN, out, a, w, n, k, k, m, false)
	}
}
