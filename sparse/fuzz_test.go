package sparse

import (
	"errors"
	"slices"
	"testing"
)

// fuzzBytes hands out the fuzzer's bytes one at a time, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() int8 {
	if len(*b) == 0 {
		return 0
	}
	v := int8((*b)[0])
	*b = (*b)[1:]
	return v
}

// FuzzNewCSR builds CSR arrays from bytes: NewCSR must return an error
// wrapping ErrInvalid or a matrix on which every operation works and agrees
// with its dense form.
func FuzzNewCSR(f *testing.F) {
	f.Add([]byte{2, 3, 3, 0, 2, 3, 3, 0, 2, 1, 1, 4, 8, 12}) // valid 2×3
	f.Add([]byte{3, 2, 4, 0, 0, 2, 2, 2, 1, 1, 1, 4, 0xfc})  // duplicates
	f.Add([]byte{2, 3, 3, 0, 2, 1, 1, 0, 1, 4})              // decreasing indptr
	f.Add([]byte{1, 2, 2, 0, 1, 1, 0xff, 1, 4})              // negative index
	f.Add([]byte{1, 2, 2, 0, 2, 2, 0, 1, 0, 4, 8})           // length mismatch
	f.Fuzz(func(t *testing.T, data []byte) {
		b := fuzzBytes(data)
		rows, cols := int(b.next()%8), int(b.next()%8) // may be negative
		indptr := make([]int, int(uint8(b.next())%10))
		for i := range indptr {
			indptr[i] = int(b.next() % 20)
		}
		indices := make([]int32, int(uint8(b.next())%20))
		for i := range indices {
			indices[i] = int32(b.next() % 10)
		}
		vals := make([]float32, len(indices))
		if b.next()%4 == 0 && len(vals) > 0 {
			vals = vals[1:] // length mismatch
		}
		for i := range vals {
			vals[i] = float32(b.next()) / 4 // exact in float32, with exact small sums
		}
		m, err := NewCSR(rows, cols, indptr, indices, vals)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || m != nil {
				t.Fatalf("NewCSR returned %v, %v", m, err)
			}
			return
		}
		checkCSROps(t, m)
	})
}

func checkCSROps(t *testing.T, m *CSR) {
	d := m.ToDense()
	tr := m.Transpose()
	if err := tr.Validate(); err != nil {
		t.Fatalf("transpose invalid: %v", err)
	}
	dt := tr.ToDense()
	rs, cs := m.RowSums(), m.ColSums()
	for i := 0; i < m.Rows; i++ {
		var s float32
		for j := 0; j < m.Cols; j++ {
			if d[i*m.Cols+j] != dt[j*m.Rows+i] {
				t.Fatalf("transpose differs at (%d,%d)", i, j)
			}
			s += d[i*m.Cols+j]
		}
		if s != rs[i] {
			t.Fatalf("row sum %d = %v, want %v", i, rs[i], s)
		}
	}
	if len(cs) != m.Cols {
		t.Fatalf("%d column sums for %d columns", len(cs), m.Cols)
	}
	c := m.Clone()
	if !c.Equal(m) {
		t.Fatal("clone differs")
	}
	n := m.RowNormalizeL1()
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	// Rebuilding through FromCOO gives the same dense matrix.
	var r, cc []int
	for i := 0; i < m.Rows; i++ {
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			r, cc = append(r, i), append(cc, int(m.Indices[p]))
		}
	}
	fc, err := FromCOO(m.Rows, m.Cols, r, cc, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fc.ToDense(), d) {
		t.Fatalf("FromCOO of the entries differs")
	}
	for k := 0; k <= 9; k += 3 {
		b := make([]float64, m.Cols*k)
		for i := range b {
			b[i] = float64(i%5) - 2
		}
		got := make([]float64, m.Rows*k)
		m.MulDense64(got, b, k)
		b32 := make([]float32, len(b))
		for i, v := range b {
			b32[i] = float32(v)
		}
		got32 := make([]float32, m.Rows*k)
		m.MulDense32(got32, b32, k)
		for i := 0; i < m.Rows; i++ {
			for j := 0; j < k; j++ {
				var want float64
				for q := 0; q < m.Cols; q++ {
					want += float64(d[i*m.Cols+q]) * b[q*k+j]
				}
				if got[i*k+j] != want || float64(got32[i*k+j]) != want {
					t.Fatalf("k=%d: product (%d,%d) = %v (float32 %v), want %v", k, i, j, got[i*k+j], got32[i*k+j], want)
				}
			}
		}
	}
	cst := NewMatrix(m)
	if err := cst.SetData(m.Data); err != nil {
		t.Fatal(err)
	}
	if !cst.CSR().Equal(m) {
		t.Fatal("constant differs from its matrix")
	}
}
