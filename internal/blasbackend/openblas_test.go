//go:build openblas && cgo

package blasbackend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

func TestInstall(t *testing.T) {
	old := G.WhichBLAS()
	defer G.Use(old)
	Install()
	if _, ok := G.WhichBLAS().(Implementation); !ok {
		t.Fatalf("after Install gorgonia uses %T", G.WhichBLAS())
	}
}

func randFloats(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func near[T float32 | float64](t *testing.T, what string, got, want []T, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-float64(want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d = %v, gonum %v", what, i, got[i], want[i])
		}
	}
}

// TestGemmMatchesGonum compares every transpose combination, with padded
// leading dimensions, against gonum, in both precisions.
func TestGemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trans := []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}
	for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {100, 256, 100}, {0, 3, 4}, {4, 3, 0}} {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range trans {
			for _, tB := range trans {
				for _, ab := range [][2]float64{{1, 0}, {0.5, 1}, {-2, 0.25}, {0, 3}} {
					alpha, beta := ab[0], ab[1]
					ar, ac := m, k
					if tA != blas.NoTrans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB != blas.NoTrans {
						br, bc = n, k
					}
					lda, ldb, ldc := max(ac, 1)+2, max(bc, 1)+1, max(n, 1)+3
					a, b := randFloats(rng, max(ar*lda, 1)), randFloats(rng, max(br*ldb, 1))
					c := randFloats(rng, max(m*ldc, 1))
					what := fmt.Sprintf("%v %c%c α=%v β=%v", s, tA, tB, alpha, beta)

					want, got := append([]float64(nil), c...), append([]float64(nil), c...)
					gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
					Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
					near(t, "Dgemm "+what, got, want, 1e-12*float64(k+1))

					want32, got32 := to32(c), to32(c)
					gonum.Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), to32(a), lda, to32(b), ldb, float32(beta), want32, ldc)
					Implementation{}.Sgemm(tA, tB, m, n, k, float32(alpha), to32(a), lda, to32(b), ldb, float32(beta), got32, ldc)
					near(t, "Sgemm "+what, got32, want32, 1e-5*float64(k+1))
				}
			}
		}
	}
}

func TestGemvMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][2]int{{1, 1}, {5, 3}, {64, 130}, {0, 4}} {
		m, n := s[0], s[1]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, inc := range [][2]int{{1, 1}, {2, 3}, {-1, 1}, {1, -2}} {
				nx, ny := n, m
				if tA != blas.NoTrans {
					nx, ny = m, n
				}
				incX, incY := inc[0], inc[1]
				lda := n + 1
				a := randFloats(rng, max(m*lda, 1))
				x := randFloats(rng, max(nx*abs(incX), 1))
				y := randFloats(rng, max(ny*abs(incY), 1))
				what := fmt.Sprintf("%v %c inc %v", s, tA, inc)

				want, got := append([]float64(nil), y...), append([]float64(nil), y...)
				gonum.Implementation{}.Dgemv(tA, m, n, 1.5, a, lda, x, incX, 0.5, want, incY)
				Implementation{}.Dgemv(tA, m, n, 1.5, a, lda, x, incX, 0.5, got, incY)
				near(t, "Dgemv "+what, got, want, 1e-12*float64(max(m, n)+1))

				want32, got32 := to32(y), to32(y)
				gonum.Implementation{}.Sgemv(tA, m, n, 1.5, to32(a), lda, to32(x), incX, 0.5, want32, incY)
				Implementation{}.Sgemv(tA, m, n, 1.5, to32(a), lda, to32(x), incX, 0.5, got32, incY)
				near(t, "Sgemv "+what, got32, want32, 1e-5*float64(max(m, n)+1))
			}
		}
	}
}

func abs(v int) int { return max(v, -v) }

// TestInvalidArgumentsPanicAsGonum checks that bad calls never reach
// OpenBLAS: they panic with gonum's message.
func TestInvalidArgumentsPanicAsGonum(t *testing.T) {
	a, b, c := make([]float64, 12), make([]float64, 12), make([]float64, 12)
	calls := map[string]func(blas.Float64){
		"short A":   func(i blas.Float64) { i.Dgemm(blas.NoTrans, blas.NoTrans, 4, 3, 4, 1, a, 4, b, 3, 0, c, 3) },
		"short C":   func(i blas.Float64) { i.Dgemm(blas.NoTrans, blas.NoTrans, 3, 4, 3, 1, a, 3, b, 4, 0, c[:11], 4) },
		"bad lda":   func(i blas.Float64) { i.Dgemm(blas.Trans, blas.NoTrans, 3, 3, 3, 1, a, 2, b, 3, 0, c, 3) },
		"bad trans": func(i blas.Float64) { i.Dgemm('x', blas.NoTrans, 3, 3, 3, 1, a, 3, b, 3, 0, c, 3) },
		"m < 0":     func(i blas.Float64) { i.Dgemm(blas.NoTrans, blas.NoTrans, -1, 3, 3, 1, a, 3, b, 3, 0, c, 3) },
		"short x":   func(i blas.Float64) { i.Dgemv(blas.NoTrans, 3, 4, 1, a, 4, b[:3], 1, 0, c, 1) },
		"zero incY": func(i blas.Float64) { i.Dgemv(blas.NoTrans, 3, 4, 1, a, 4, b, 1, 0, c, 0) },
	}
	for name, call := range calls {
		want, got := recovered(func() { call(gonum.Implementation{}) }), recovered(func() { call(Implementation{}) })
		if want == nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: panic %v, gonum's %v", name, got, want)
		}
	}
}

func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}
