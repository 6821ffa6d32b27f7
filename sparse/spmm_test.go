package sparse

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

// refMul returns m·b computed densely in float64, and the sum of the
// absolute values of the terms of each element, which bounds its rounding
// error.
func refMul(m *CSR, b []float64, k int) (ref, mag []float64) {
	ref = make([]float64, m.Rows*k)
	mag = make([]float64, m.Rows*k)
	for i := 0; i < m.Rows; i++ {
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			v, c := float64(m.Data[p]), int(m.Indices[p])
			for j := 0; j < k; j++ {
				ref[i*k+j] += v * b[c*k+j]
				mag[i*k+j] += math.Abs(v * b[c*k+j])
			}
		}
	}
	return ref, mag
}

func randomDense64(n int, seed uint64) []float64 { return randmat.Normal64(n, seed) }

type spmmCase struct {
	rows, cols, nnz int
}

var spmmCases = []spmmCase{
	{0, 0, 0},
	{0, 5, 0},
	{5, 0, 0},
	{1, 1, 1},
	{7, 5, 0},
	{7, 5, 12},
	{20, 30, 300},
	{300, 200, 6000},  // parallel for larger k
	{2000, 500, 6e4},  // parallel
	{100, 3000, 1e4},  // wide
	{3000, 100, 3000}, // many short rows
}

var spmmKs = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 40, 48, 63, 64, 65, 96, 120, 136}

func TestMulDense64(t *testing.T) {
	for ci, test := range spmmCases {
		m := randomCSR(max(test.rows, 1), max(test.cols, 1), test.nnz, uint64(ci))
		m = shrink(m, test.rows, test.cols)
		for _, k := range spmmKs {
			b := randomDense64(m.Cols*k, uint64(k))
			dst := make([]float64, m.Rows*k)
			for i := range dst {
				dst[i] = math.NaN() // must be overwritten
			}
			m.MulDense64(dst, b, k)
			ref, mag := refMul(m, b, k)
			for i := range dst {
				if d := math.Abs(dst[i] - ref[i]); !(d <= 1e-14*mag[i]) {
					t.Fatalf("%d×%d nnz=%d k=%d: element %d = %v, want %v", m.Rows, m.Cols, m.NNZ(), k, i, dst[i], ref[i])
				}
			}
		}
	}
}

func TestMulDense32(t *testing.T) {
	for ci, test := range spmmCases {
		m := randomCSR(max(test.rows, 1), max(test.cols, 1), test.nnz, uint64(ci))
		m = shrink(m, test.rows, test.cols)
		for _, k := range spmmKs {
			b := randomDense32(m.Cols*k, uint64(k))
			b64 := make([]float64, len(b))
			for i, v := range b {
				b64[i] = float64(v)
			}
			ref, mag := refMul(m, b64, k)
			check := func(kernel string, dst []float32) {
				t.Helper()
				for i := range dst {
					if d := math.Abs(float64(dst[i]) - ref[i]); !(d <= 1e-5*mag[i]) {
						t.Fatalf("%s %d×%d nnz=%d k=%d: element %d = %v, want %v", kernel, m.Rows, m.Cols, m.NNZ(), k, i, dst[i], ref[i])
					}
				}
			}
			dst := make([]float32, m.Rows*k)
			for i := range dst {
				dst[i] = float32(math.NaN())
			}
			m.MulDense32(dst, b, k)
			check("MulDense32", dst)

			// The portable kernel, which machines with AVX2 use for
			// float64 only and for the last k mod 8 columns.
			if m.NNZ() > 0 { // spmm handles empty matrices itself
				clear(dst)
				spmmRowsGo(csrOperand(m), dst, b, k, 0, m.Rows, 0, false)
				check("portable", dst)
			}
		}
	}
}

// shrink returns m's leading rows×cols block, for making degenerate shapes
// from randomCSR.
func shrink(m *CSR, rows, cols int) *CSR {
	if rows == m.Rows && cols == m.Cols {
		return m
	}
	var r, c []int
	var v []float32
	for i := 0; i < rows; i++ {
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			if int(m.Indices[p]) < cols {
				r, c, v = append(r, i), append(c, int(m.Indices[p])), append(v, m.Data[p])
			}
		}
	}
	s, err := FromCOO(rows, cols, r, c, v)
	if err != nil {
		panic(err)
	}
	return s
}

func TestMulDenseAccumulate(t *testing.T) {
	m := randomCSR(400, 300, 5000, 9)
	for _, k := range []int{3, 16, 21} {
		b := randomDense32(m.Cols*k, 1)
		base := randomDense32(m.Rows*k, 2)
		prod := make([]float32, m.Rows*k)
		m.MulDense32(prod, b, k)
		got := append([]float32(nil), base...)
		spmm(m, got, b, k, true)
		for i := range got {
			if got[i] != base[i]+prod[i] {
				t.Fatalf("k=%d: accumulated element %d = %v, want %v + %v", k, i, got[i], base[i], prod[i])
			}
		}
	}
}

func TestMulDensePanics(t *testing.T) {
	m := testMatrix() // 4×5
	for _, test := range []struct {
		name   string
		dst, b int
		k      int
	}{
		{"negative k", 0, 0, -1},
		{"short b", 8, 9, 2},
		{"long b", 8, 11, 2},
		{"short dst", 7, 10, 2},
		{"long dst", 9, 10, 2},
	} {
		for _, prec := range []string{"32", "64"} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s (float%s): no panic", test.name, prec)
					}
				}()
				if prec == "32" {
					m.MulDense32(make([]float32, test.dst), make([]float32, test.b), test.k)
				} else {
					m.MulDense64(make([]float64, test.dst), make([]float64, test.b), test.k)
				}
			}()
		}
	}
}

// TestMulDenseDeterministic checks that products are bit-identical whatever
// the number of threads.
func TestMulDenseDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	// Skewed rows, so that blocks split differently for each thread count.
	m := randomCSR(3000, 800, 120000, 4)
	rs := make([]float32, m.Rows)
	for i := range rs {
		rs[i] = float32(i%7) + 0.25
	}
	m.ScaleRows(rs)
	for _, k := range []int{3, 16, 29, 64, 100} {
		b32 := randomDense32(m.Cols*k, 5)
		b64 := randomDense64(m.Cols*k, 5)
		var want32 []float32
		var want64 []float64
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			got32 := make([]float32, m.Rows*k)
			got64 := make([]float64, m.Rows*k)
			m.MulDense32(got32, b32, k)
			m.MulDense64(got64, b64, k)
			if want32 == nil {
				want32, want64 = got32, got64
				continue
			}
			for i := range got32 {
				if math.Float32bits(got32[i]) != math.Float32bits(want32[i]) {
					t.Fatalf("k=%d GOMAXPROCS=%d: float32 element %d = %v, with 1 thread %v", k, procs, i, got32[i], want32[i])
				}
				if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
					t.Fatalf("k=%d GOMAXPROCS=%d: float64 element %d = %v, with 1 thread %v", k, procs, i, got64[i], want64[i])
				}
			}
		}
	}
}

func TestRowBlocks(t *testing.T) {
	for _, test := range []struct {
		indptr []int
		n      int
	}{
		{[]int{0, 10, 10, 10, 50, 51}, 2},
		{[]int{0, 100, 101, 102}, 3},
		{[]int{0, 0, 0, 0, 0}, 4},
		{[]int{0, 5, 10, 15, 20, 25, 30}, 3},
	} {
		b := rowBlocks(test.indptr, test.n)
		rows := len(test.indptr) - 1
		if len(b) != test.n+1 || b[0] != 0 || b[test.n] != rows {
			t.Errorf("%v into %d: got %v", test.indptr, test.n, b)
			continue
		}
		for w := 0; w < test.n; w++ {
			if b[w] > b[w+1] {
				t.Errorf("%v into %d: boundaries %v decrease", test.indptr, test.n, b)
			}
		}
	}
	if got := fmt.Sprint(rowBlocks([]int{0, 5, 10, 15, 20, 25, 30}, 3)); got != "[0 2 4 6]" {
		t.Errorf("even split: got %s", got)
	}
}
