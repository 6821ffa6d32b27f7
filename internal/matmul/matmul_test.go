package matmul

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func naiveGemm(a, b []float32, n, k, m int) []float64 {
	c := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b[p*m+j])
			}
			c[i*m+j] = s
		}
	}
	return c
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// checkProduct compares c, a product of inner dimension k computed onto
// base (with acc) or over it, with the float64 product want.
func checkProduct(t *testing.T, shape [3]int, acc bool, c, base []float32, want []float64, k int) {
	t.Helper()
	for i := range c {
		w := want[i]
		if acc {
			w += float64(base[i])
		}
		if math.Abs(float64(c[i])-w) > 1e-4*(1+math.Sqrt(float64(k))) {
			t.Fatalf("%v acc=%v: c[%d] = %v, want %v", shape, acc, i, c[i], w)
		}
	}
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{1, 1, 1}, {4, 3, 16}, {5, 7, 17}, {100, 784, 256}, {100, 256, 100}, {13, 9, 10}, {8, 0, 32}, {64, 100, 48}} {
		n, k, m := s[0], s[1], s[2]
		a, b := randSlice(rng, n*k), randSlice(rng, k*m)
		if k == 0 {
			a, b = make([]float32, 1), make([]float32, 1)
		}
		want := naiveGemm(a, b, n, k, m)
		for _, acc := range []bool{false, true} {
			c := randSlice(rng, n*m)
			base := append([]float32(nil), c...)
			if k == 0 {
				if !acc {
					clear(c)
				}
				continue // Gemm needs k > 0 slices; callers never pass k = 0
			}
			Gemm(c, a, b, n, k, m, acc)
			checkProduct(t, s, acc, c, base, want, k)
		}
	}
}

func TestGemmThreadIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, k, m := 132, 300, 100
	a, b := randSlice(rng, n*k), randSlice(rng, k*m)
	c1, c2 := make([]float32, n*m), make([]float32, n*m)
	old := runtime.GOMAXPROCS(1)
	Gemm(c1, a, b, n, k, m, false)
	runtime.GOMAXPROCS(4)
	Gemm(c2, a, b, n, k, m, false)
	runtime.GOMAXPROCS(old)
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Fatalf("element %d: %v with 1 thread, %v with 4", i, c1[i], c2[i])
		}
	}
}

// BenchmarkGemm times the float32 products of one MLP-4 training step on
// MNIST at batch 100 (784 inputs, hidden 256 and 100, 10 classes): the
// forward x·W (gemm with acc, as the linear op), the input gradients g·Wᵀ
// of the layers after the first (gemm), and the weight gradients xᵀ·g
// (gemmTA); each alone, then all of them as "step". It reports GFLOP/s at
// 2·n·k·m flops a product.
func BenchmarkGemm(b *testing.B) {
	const batch = 100
	sizes := []int{28 * 28, 256, 100, 10}
	type product struct {
		name    string
		n, k, m int
		ta, acc bool
	}
	var step []product
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		step = append(step, product{fmt.Sprintf("fwd%d_%dx%dx%d", l, batch, in, out), batch, in, out, false, true})
		if l > 0 {
			step = append(step, product{fmt.Sprintf("gradX%d_%dx%dx%d", l, batch, out, in), batch, out, in, false, false})
		}
		step = append(step, product{fmt.Sprintf("gradW%d_%dx%dx%d", l, in, batch, out), in, batch, out, true, false})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type operands struct{ c, a, b []float32 }
	ops := make([]operands, len(step))
	for i, p := range step {
		ops[i] = operands{make([]float32, p.n*p.m), randSlice(rng, p.n*p.k), randSlice(rng, p.k*p.m)}
	}
	run := func(b *testing.B, ps []product, xs []operands) {
		flops := 0
		for _, p := range ps {
			flops += 2 * p.n * p.k * p.m
		}
		for b.Loop() {
			for i, p := range ps {
				if p.ta {
					GemmTA(xs[i].c, xs[i].a, xs[i].b, p.n, p.k, p.m, p.acc)
				} else {
					Gemm(xs[i].c, xs[i].a, xs[i].b, p.n, p.k, p.m, p.acc)
				}
			}
		}
		b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	for i, p := range step {
		b.Run(p.name, func(b *testing.B) { run(b, step[i:i+1], ops[i:i+1]) })
	}
	b.Run("step", func(b *testing.B) { run(b, step, ops) })
}

func TestGemmTA(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{4, 5, 16}, {7, 3, 33}, {784, 100, 256}, {100, 100, 10}, {256, 100, 100}} {
		n, k, m := s[0], s[1], s[2]
		at, b := randSlice(rng, k*n), randSlice(rng, k*m)
		a := make([]float32, n*k)
		Transpose(a, at, k, n)
		want := naiveGemm(a, b, n, k, m)
		for _, acc := range []bool{false, true} {
			c := randSlice(rng, n*m)
			base := append([]float32(nil), c...)
			GemmTA(c, at, b, n, k, m, acc)
			checkProduct(t, s, acc, c, base, want, k)
		}
	}
}

func TestScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, k, m = 9, 11, 13
	a32, b32 := randSlice(rng, n*k), randSlice(rng, k*m)
	want := naiveGemm(a32, b32, n, k, m)
	a, b := make([]float64, n*k), make([]float64, k*m)
	for i, v := range a32 {
		a[i] = float64(v)
	}
	for i, v := range b32 {
		b[i] = float64(v)
	}
	for _, acc := range []bool{false, true} {
		c := make([]float64, n*m)
		for i := range c {
			c[i] = 1
		}
		// Two calls over disjoint blocks cover c, as the parallel callers do.
		Scalar(c, a, b, 0, 4, 0, m, k, m, acc)
		Scalar(c, a, b, 4, n, 0, m, k, m, acc)
		for i := range c {
			w := want[i]
			if acc {
				w++
			}
			if math.Abs(c[i]-w) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("acc=%v: c[%d] = %v, want %v", acc, i, c[i], w)
			}
		}
	}
}

func TestGemmPanics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, k, m int
		la, lb  int
	}{
		{"negative n", -1, 2, 2, 4, 4},
		{"short a", 2, 3, 2, 5, 6},
		{"short b", 2, 3, 2, 6, 5},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			Gemm(make([]float32, 4), make([]float32, tc.la), make([]float32, tc.lb), tc.n, tc.k, tc.m, false)
		}()
	}
}
