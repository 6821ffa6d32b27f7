package vision

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

func axpyG(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] += a * x[i]
		dst[i+1] += a * x[i+1]
		dst[i+2] += a * x[i+2]
		dst[i+3] += a * x[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] += a * x[i]
	}
}

func BenchmarkNaive(b *testing.B) {
	n, k, m := 100, 784, 256
	a := make([]float32, n*k)
	w := make([]float32, k*m)
	c := make([]float32, n*m)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for b.Loop() {
		for i := 0; i < n; i++ {
			out := c[i*m : (i+1)*m]
			clear(out)
			for p, av := range a[i*k : (i+1)*k] {
				axpyG(out, av, w[p*m:(p+1)*m])
			}
		}
	}
	b.ReportMetric(float64(2*n*k*m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

func BenchmarkGonum(b *testing.B) {
	n, k, m := 100, 784, 256
	blas32.Use(gonum.Implementation{})
	a := make([]float32, n*k)
	w := make([]float32, k*m)
	c := make([]float32, n*m)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for b.Loop() {
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, n, m, k, 1, a, k, w, m, 0, c, m)
	}
	b.ReportMetric(float64(2*n*k*m)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
