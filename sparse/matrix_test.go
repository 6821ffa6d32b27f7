package sparse

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// symmetrize returns m + mᵀ, which is symmetric bit for bit (each value is
// the sum of the same two addends).
func symmetrize(m *CSR) *CSR {
	t := m.Transpose()
	var r, c []int
	var v []float32
	for _, x := range []*CSR{m, t} {
		for i := 0; i < x.Rows; i++ {
			for p := x.Indptr[i]; p < x.Indptr[i+1]; p++ {
				r, c, v = append(r, i), append(c, int(x.Indices[p])), append(v, x.Data[p])
			}
		}
	}
	s, err := FromCOO(m.Rows, m.Cols, r, c, v)
	if err != nil {
		panic(err)
	}
	return s
}

// TestMatrixTransposeShared checks that a symmetric matrix serves as its
// own transpose, that transposed products equal those of an explicit
// transpose bit for bit in both cases, that NewMatrix does not copy and a
// View shares the transpose but not the dropout.
func TestMatrixTransposeShared(t *testing.T) {
	const k = 16
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 300*k)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for _, test := range []struct {
		name string
		m    *CSR
		sym  bool
	}{
		{"symmetric", symmetrize(randomCSR(300, 300, 3000, 5)), true},
		{"general", randomCSR(300, 300, 3000, 6), false},
	} {
		c := NewMatrix(test.m)
		if c.CSR() != test.m {
			t.Errorf("%s: NewMatrix copied its matrix", test.name)
		}
		at := c.Transposed()
		if (at == test.m) != test.sym {
			t.Errorf("%s: Transposed is the matrix itself: %v, want %v", test.name, at == test.m, test.sym)
		}
		if !at.Equal(test.m.Transpose()) {
			t.Errorf("%s: Transposed differs from Transpose", test.name)
		}
		got, want := make([]float32, 300*k), make([]float32, 300*k)
		MulInto(c, true, got, x, k, false)
		test.m.Transpose().MulDense32(want, x, k)
		if !slices.Equal(got, want) {
			t.Errorf("%s: transposed product differs from the explicit transpose's", test.name)
		}
		v := c.View()
		c.Dropout(0.5, 1)
		if slices.Equal(c.Values(), test.m.Data) || !slices.Equal(v.Values(), test.m.Data) {
			t.Errorf("%s: the dropout of a Matrix reached its view (or did not happen)", test.name)
		}
		if v.Transposed() != at {
			t.Errorf("%s: a view made its own transpose", test.name)
		}
	}
}

// TestMatrixSetDataCopies checks that SetData leaves NewMatrix's matrix
// alone and makes the transpose again from the new values.
func TestMatrixSetDataCopies(t *testing.T) {
	m := symmetrize(randomCSR(50, 50, 300, 7))
	orig := slices.Clone(m.Data)
	c := NewMatrix(m)
	if c.Transposed() != m {
		t.Fatal("a symmetric matrix got a transpose")
	}
	vals := make([]float32, m.NNZ())
	for i := range vals {
		vals[i] = float32(i)
	}
	if err := c.SetData(vals); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Data, orig) {
		t.Error("SetData changed the matrix given to NewMatrix")
	}
	want := c.CSR().Transpose()
	if got := c.Transposed(); !got.Equal(want) || got == c.CSR() {
		t.Error("the transpose after SetData is not that of the new, asymmetric values")
	}
}

// TestMatrixSelectRows checks that Matrix.SelectRows makes the Matrix that
// NewMatrix makes of the selected rows: the same entries, flags and kept
// entries under dropout.
func TestMatrixSelectRows(t *testing.T) {
	for _, binary := range []bool{false, true} {
		m := randomCSR(300, 200, 6000, 3)
		if binary {
			for i := range m.Data {
				m.Data[i] = 1
			}
		}
		rows := []int{7, 7, 0, 299, 150}
		got, want := NewMatrix(m).SelectRows(nil, rows), NewMatrix(m.SelectRows(rows))
		if !got.CSR().Equal(want.CSR()) || got.e.sorted != want.e.sorted || got.e.uniform != want.e.uniform {
			t.Fatalf("binary %v: SelectRows made sorted %v uniform %v, NewMatrix %v %v", binary, got.e.sorted, got.e.uniform, want.e.sorted, want.e.uniform)
		}
		got.Dropout(0.5, 1)
		want.Dropout(0.5, 1)
		if !slices.Equal(got.Values(), want.Values()) {
			t.Fatalf("binary %v: different entries kept", binary)
		}
	}
}

// TestMatrixRowRange checks that a range of rows multiplies as those rows
// of the whole matrix, bit for bit, where the range alone would be
// cache-blocked and the whole would not: 100 rows of 40 entries over 800
// columns, then 100 rows of 5.
func TestMatrixRowRange(t *testing.T) {
	const rows, cols, k = 200, 800, 16
	rng := rand.New(rand.NewPCG(5, 6))
	var r, c []int
	var v []float32
	for i := range rows {
		n := 40
		if i >= 100 {
			n = 5
		}
		for _, j := range rng.Perm(cols)[:n] {
			r, c, v = append(r, i), append(c, j), append(v, rng.Float32()-0.5)
		}
	}
	a, err := FromCOO(rows, cols, r, c, v)
	if err != nil {
		t.Fatal(err)
	}
	whole := NewMatrix(a)
	if w := blockWidth(rows, cols, len(a.Data), k); w != 0 {
		t.Fatalf("the whole matrix is blocked (width %d): the test needs it not to be", w)
	}
	b := make([]float32, cols*k)
	for i := range b {
		b[i] = rng.Float32() - 0.5
	}
	want := make([]float32, rows*k)
	MulInto(whole, false, want, b, k, false)
	for _, rr := range [][2]int{{0, 100}, {37, 163}, {0, rows}, {199, 200}, {50, 50}} {
		part := whole.RowRange(rr[0], rr[1])
		got := make([]float32, (rr[1]-rr[0])*k)
		MulInto(part, false, got, b, k, false)
		if !slices.Equal(got, want[rr[0]*k:rr[1]*k]) {
			t.Errorf("rows [%d, %d): product differs from the whole matrix's rows", rr[0], rr[1])
		}
		// A range of a range keeps the whole matrix's blocking.
		if rr[1]-rr[0] > 10 {
			inner := part.RowRange(5, 10)
			got := make([]float32, 5*k)
			MulInto(inner, false, got, b, k, false)
			if !slices.Equal(got, want[(rr[0]+5)*k:(rr[0]+10)*k]) {
				t.Errorf("rows [%d, %d) of [%d, %d): product differs", 5, 10, rr[0], rr[1])
			}
		}
	}
	if simdWidth(k) == k && blockWidth(100, cols, 4000, k) == 0 {
		t.Fatal("the first 100 rows alone would not be blocked: the test misses its case")
	}
}
