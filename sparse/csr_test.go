package sparse

import (
	"errors"
	"slices"
	"testing"
)

func TestFromCOO(t *testing.T) {
	for _, test := range []struct {
		name       string
		rows, cols int
		r, c       []int
		v          []float32
		want       *CSR
	}{
		{
			name: "empty", rows: 0, cols: 0,
			want: &CSR{Indptr: []int{0}, Indices: []int32{}, Data: []float32{}},
		},
		{
			name: "no entries", rows: 2, cols: 3,
			want: &CSR{Rows: 2, Cols: 3, Indptr: []int{0, 0, 0}, Indices: []int32{}, Data: []float32{}},
		},
		{
			name: "sorts columns", rows: 2, cols: 3,
			r: []int{1, 0, 0, 1}, c: []int{0, 2, 0, 2}, v: []float32{1, 2, 3, 4},
			want: &CSR{Rows: 2, Cols: 3, Indptr: []int{0, 2, 4}, Indices: []int32{0, 2, 0, 2}, Data: []float32{3, 2, 1, 4}},
		},
		{
			name: "sums duplicates", rows: 3, cols: 2,
			r: []int{2, 0, 2, 2, 0}, c: []int{1, 0, 1, 0, 0}, v: []float32{1, 2, 3, 4, 5},
			want: &CSR{Rows: 3, Cols: 2, Indptr: []int{0, 1, 1, 3}, Indices: []int32{0, 0, 1}, Data: []float32{7, 4, 4}},
		},
		{
			name: "keeps explicit zeros", rows: 1, cols: 2,
			r: []int{0, 0}, c: []int{1, 1}, v: []float32{1, -1},
			want: &CSR{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{1}, Data: []float32{0}},
		},
	} {
		got, err := FromCOO(test.rows, test.cols, test.r, test.c, test.v)
		if err != nil {
			t.Errorf("%s: unexpected error: %v", test.name, err)
			continue
		}
		if !got.Equal(test.want) {
			t.Errorf("%s: got %+v, want %+v", test.name, got, test.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: result invalid: %v", test.name, err)
		}
	}
}

func TestFromCOOErrors(t *testing.T) {
	for _, test := range []struct {
		name       string
		rows, cols int
		r, c       []int
		v          []float32
	}{
		{name: "negative rows", rows: -1, cols: 2},
		{name: "negative cols", rows: 2, cols: -1},
		{name: "length mismatch", rows: 2, cols: 2, r: []int{0}, c: []int{0, 1}, v: []float32{1}},
		{name: "row too large", rows: 2, cols: 2, r: []int{2}, c: []int{0}, v: []float32{1}},
		{name: "negative row", rows: 2, cols: 2, r: []int{-1}, c: []int{0}, v: []float32{1}},
		{name: "column too large", rows: 2, cols: 2, r: []int{0}, c: []int{2}, v: []float32{1}},
		{name: "negative column", rows: 2, cols: 2, r: []int{0}, c: []int{-1}, v: []float32{1}},
	} {
		_, err := FromCOO(test.rows, test.cols, test.r, test.c, test.v)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got error %v, want one wrapping ErrInvalid", test.name, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, test := range []struct {
		name    string
		m       CSR
		wantErr bool
	}{
		{name: "valid", m: CSR{Rows: 2, Cols: 3, Indptr: []int{0, 1, 3}, Indices: []int32{2, 0, 1}, Data: []float32{1, 2, 3}}},
		{name: "valid unsorted", m: CSR{Rows: 1, Cols: 3, Indptr: []int{0, 2}, Indices: []int32{2, 0}, Data: []float32{1, 2}}},
		{name: "empty", m: CSR{Indptr: []int{0}}},
		{name: "negative shape", m: CSR{Rows: -1, Indptr: []int{}}, wantErr: true},
		{name: "short indptr", m: CSR{Rows: 2, Cols: 2, Indptr: []int{0, 0}}, wantErr: true},
		{name: "nil indptr", m: CSR{}, wantErr: true},
		{name: "indices and data differ", m: CSR{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{0}, Data: []float32{1, 2}}, wantErr: true},
		{name: "indptr starts above 0", m: CSR{Rows: 1, Cols: 2, Indptr: []int{1, 1}, Indices: []int32{0}, Data: []float32{1}}, wantErr: true},
		{name: "indptr decreases", m: CSR{Rows: 2, Cols: 2, Indptr: []int{0, 2, 1}, Indices: []int32{0, 1}, Data: []float32{1, 2}}, wantErr: true},
		{name: "indptr ends early", m: CSR{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{0, 1}, Data: []float32{1, 2}}, wantErr: true},
		{name: "negative index", m: CSR{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{-1}, Data: []float32{1}}, wantErr: true},
		{name: "index equals cols", m: CSR{Rows: 1, Cols: 2, Indptr: []int{0, 1}, Indices: []int32{2}, Data: []float32{1}}, wantErr: true},
	} {
		err := test.m.Validate()
		if test.wantErr != (err != nil) {
			t.Errorf("%s: got error %v, want error %t", test.name, err, test.wantErr)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v does not wrap ErrInvalid", test.name, err)
		}
		m, err2 := NewCSR(test.m.Rows, test.m.Cols, test.m.Indptr, test.m.Indices, test.m.Data)
		if (err == nil) != (err2 == nil) || (err2 == nil) != (m != nil) {
			t.Errorf("%s: NewCSR returned %v, %v; Validate %v", test.name, m, err2, err)
		}
	}
}

// testMatrix is a 4×5 matrix with an empty row, an
// explicit zero and a negative value.
func testMatrix() *CSR {
	m, err := FromCOO(4, 5,
		[]int{0, 0, 1, 3, 3, 3, 0},
		[]int{0, 3, 1, 0, 2, 3, 4},
		[]float32{1, 2, -3, 4, 0, 5, 6},
	)
	if err != nil {
		panic(err)
	}
	return m
}

func TestTranspose(t *testing.T) {
	for _, m := range []*CSR{
		testMatrix(),
		{Indptr: []int{0}},
		{Rows: 3, Cols: 0, Indptr: []int{0, 0, 0, 0}},
		randomCSR(50, 70, 400, 3),
	} {
		tr, perm := m.TransposePerm()
		if err := tr.Validate(); err != nil {
			t.Fatalf("transpose invalid: %v", err)
		}
		if tr.Rows != m.Cols || tr.Cols != m.Rows {
			t.Errorf("transpose of %d×%d is %d×%d", m.Rows, m.Cols, tr.Rows, tr.Cols)
		}
		d, dt := m.ToDense(), tr.ToDense()
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < m.Cols; j++ {
				if d[i*m.Cols+j] != dt[j*m.Rows+i] {
					t.Fatalf("transpose differs at (%d,%d)", i, j)
				}
			}
		}
		for i := 0; i < tr.Rows; i++ {
			if !slices.IsSorted(tr.Indices[tr.Indptr[i]:tr.Indptr[i+1]]) {
				t.Errorf("row %d of transpose not sorted", i)
			}
		}
		for k, q := range perm {
			if tr.Data[q] != m.Data[k] {
				t.Errorf("perm[%d] = %d maps %v to %v", k, q, m.Data[k], tr.Data[q])
			}
		}
		if !tr.Transpose().Equal(m) {
			t.Errorf("transpose twice differs from the matrix")
		}
	}
}

func TestSums(t *testing.T) {
	m := testMatrix()
	d := m.ToDense()
	rs, cs := m.RowSums(), m.ColSums()
	if len(rs) != m.Rows || len(cs) != m.Cols {
		t.Fatalf("got %d row sums and %d column sums", len(rs), len(cs))
	}
	for i := 0; i < m.Rows; i++ {
		var want float32
		for j := 0; j < m.Cols; j++ {
			want += d[i*m.Cols+j]
		}
		if rs[i] != want {
			t.Errorf("row %d sum %v, want %v", i, rs[i], want)
		}
	}
	for j := 0; j < m.Cols; j++ {
		var want float32
		for i := 0; i < m.Rows; i++ {
			want += d[i*m.Cols+j]
		}
		if cs[j] != want {
			t.Errorf("column %d sum %v, want %v", j, cs[j], want)
		}
	}
}

func TestRowNormalizeL1(t *testing.T) {
	m := testMatrix()
	orig := m.Clone()
	n := m.RowNormalizeL1()
	if !m.Equal(orig) {
		t.Fatalf("RowNormalizeL1 changed its receiver")
	}
	// Row sums of |x|: 1+2+6 = 9, 3, 0 (empty), 4+0+5 = 9.
	want := []float32{1.0 / 9, 2.0 / 9, 6.0 / 9, -1, 4.0 / 9, 0, 5.0 / 9}
	if !slices.Equal(n.Data, want) {
		t.Errorf("got %v, want %v", n.Data, want)
	}
	if !slices.Equal(n.Indptr, m.Indptr) || !slices.Equal(n.Indices, m.Indices) {
		t.Errorf("pattern changed")
	}
	z := &CSR{Rows: 1, Cols: 2, Indptr: []int{0, 2}, Indices: []int32{0, 1}, Data: []float32{0, 0}}
	if got := z.RowNormalizeL1(); !got.Equal(z) {
		t.Errorf("zero row became %v", got.Data)
	}
}

func TestScaleRows(t *testing.T) {
	m := testMatrix()
	m.ScaleRows([]float32{2, -1, 5, 0.5})
	want := []float32{2, 4, 12, 3, 2, 0, 2.5}
	if !slices.Equal(m.Data, want) {
		t.Errorf("got %v, want %v", m.Data, want)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("no panic for wrong length")
		}
	}()
	m.ScaleRows([]float32{1})
}

func TestCloneEqual(t *testing.T) {
	m := testMatrix()
	c := m.Clone()
	if !c.Equal(m) {
		t.Fatalf("clone differs")
	}
	c.Data[0] = 42
	if m.Data[0] == 42 {
		t.Fatalf("clone shares data")
	}
	if c.Equal(m) {
		t.Errorf("Equal ignores values")
	}
	c = m.Clone()
	c.Indices[0] = 1
	if c.Equal(m) {
		t.Errorf("Equal ignores indices")
	}
	c = m.Clone()
	c.Cols++
	if c.Equal(m) {
		t.Errorf("Equal ignores shape")
	}
}

func TestToDense(t *testing.T) {
	// Duplicates and unsorted columns, possible through NewCSR, are summed.
	m, err := NewCSR(2, 3, []int{0, 3, 3}, []int32{2, 0, 2}, []float32{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{2, 0, 4, 0, 0, 0}
	if got := m.ToDense(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSelectRows(t *testing.T) {
	m, err := FromCOO(3, 4, []int{0, 0, 1, 2}, []int{1, 3, 0, 2}, []float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rows []int
		want []float32
	}{
		{nil, nil},
		{[]int{2}, []float32{0, 0, 4, 0}},
		{[]int{1, 0, 1}, []float32{3, 0, 0, 0, 0, 1, 0, 2, 3, 0, 0, 0}},
	} {
		got := m.SelectRows(tc.rows)
		if err := got.Validate(); err != nil {
			t.Fatal(err)
		}
		if d := got.ToDense(); !slices.Equal(d, tc.want) && !(len(d) == 0 && len(tc.want) == 0) {
			t.Errorf("rows %v: got %v, want %v", tc.rows, d, tc.want)
		}
	}
}
