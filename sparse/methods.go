package sparse

import (
	"math"

	"github.com/gnsr/gnsr/internal/parallel"
)

// Clone returns a deep copy of m.
func (m *CSR) Clone() *CSR {
	return &CSR{
		Rows:    m.Rows,
		Cols:    m.Cols,
		Indptr:  append([]int(nil), m.Indptr...),
		Indices: append([]int32(nil), m.Indices...),
		Data:    append([]float32(nil), m.Data...),
	}
}

// Equal reports whether m and o have the same shape and the same stored
// entries in the same order. Values are compared with ==, so explicit zeros
// matter and NaN never equals NaN.
func (m *CSR) Equal(o *CSR) bool {
	if m.Rows != o.Rows || m.Cols != o.Cols || len(m.Indptr) != len(o.Indptr) ||
		len(m.Indices) != len(o.Indices) || len(m.Data) != len(o.Data) {
		return false
	}
	for i, v := range m.Indptr {
		if o.Indptr[i] != v {
			return false
		}
	}
	for i, v := range m.Indices {
		if o.Indices[i] != v {
			return false
		}
	}
	for i, v := range m.Data {
		if o.Data[i] != v {
			return false
		}
	}
	return true
}

// ToDense returns m as a Rows×Cols row-major dense matrix, summing duplicate
// entries. It is meant for tests and small matrices.
func (m *CSR) ToDense() []float32 {
	d := make([]float32, m.Rows*m.Cols)
	for i := 0; i < m.Rows; i++ {
		row := d[i*m.Cols : (i+1)*m.Cols]
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			row[m.Indices[p]] += m.Data[p]
		}
	}
	return d
}

// Transpose returns mᵀ as a new matrix. Its rows have sorted columns, and
// entries of equal position keep their relative order.
func (m *CSR) Transpose() *CSR {
	t, _ := m.TransposePerm()
	return t
}

// TransposePerm returns mᵀ and the permutation perm that maps entry k of m
// (m.Data[k]) to its position perm[k] in the transpose, so that new values
// for the same pattern can be carried over with t.Data[perm[k]] = v[k].
func (m *CSR) TransposePerm() (*CSR, []int) {
	nnz := len(m.Data)
	indptr := make([]int, m.Cols+1)
	for _, c := range m.Indices {
		indptr[c+1]++
	}
	for j := 0; j < m.Cols; j++ {
		indptr[j+1] += indptr[j]
	}
	next := append([]int(nil), indptr[:m.Cols]...)
	indices := make([]int32, nnz)
	data := make([]float32, nnz)
	perm := make([]int, nnz)
	// Visiting m row by row fills each transposed row in increasing
	// original-row order, so the result has sorted columns without sorting.
	for i := 0; i < m.Rows; i++ {
		for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
			c := m.Indices[p]
			q := next[c]
			next[c]++
			indices[q] = int32(i)
			data[q] = m.Data[p]
			perm[p] = q
		}
	}
	return &CSR{Rows: m.Cols, Cols: m.Rows, Indptr: indptr, Indices: indices, Data: data}, perm
}

// RowSums returns the sum of each row. Sums are accumulated in float64 so
// that long rows do not lose precision.
func (m *CSR) RowSums() []float32 {
	s := make([]float32, m.Rows)
	for i := range s {
		var acc float64
		for _, v := range m.Data[m.Indptr[i]:m.Indptr[i+1]] {
			acc += float64(v)
		}
		s[i] = float32(acc)
	}
	return s
}

// ColSums returns the sum of each column, accumulated in float64.
func (m *CSR) ColSums() []float32 {
	acc := make([]float64, m.Cols)
	for p, c := range m.Indices {
		acc[c] += float64(m.Data[p])
	}
	s := make([]float32, m.Cols)
	for j, v := range acc {
		s[j] = float32(v)
	}
	return s
}

// RowNormalizeL1 returns a copy of m in which each row is divided by the sum
// of the absolute values of its entries, as in Kipf & Welling's feature
// preprocessing. Rows whose sum is zero are left unchanged (all zero).
func (m *CSR) RowNormalizeL1() *CSR {
	out := m.Clone()
	for i := 0; i < out.Rows; i++ {
		row := out.Data[out.Indptr[i]:out.Indptr[i+1]]
		var sum float64
		for _, v := range row {
			sum += math.Abs(float64(v))
		}
		if sum == 0 {
			continue
		}
		for p, v := range row {
			row[p] = float32(float64(v) / sum)
		}
	}
	return out
}

// ScaleRows multiplies row i of m by s[i] in place. It panics if
// len(s) != m.Rows.
func (m *CSR) ScaleRows(s []float32) {
	if len(s) != m.Rows {
		panic("sparse: ScaleRows: len(s) != Rows")
	}
	for i, f := range s {
		row := m.Data[m.Indptr[i]:m.Indptr[i+1]]
		for p := range row {
			row[p] *= f
		}
	}
}

// SelectRows returns the matrix of the given rows of m, in that order (rows
// may repeat). It panics if a row is out of range.
func (m *CSR) SelectRows(rows []int) *CSR { return m.SelectRowsInto(nil, rows) }

// SelectRowsInto is SelectRows writing into dst's arrays where they are
// large enough (dst nil: new ones), so that a loop over mini-batches does
// not allocate and clear a matrix a batch; it returns the matrix, dst
// itself if not nil. The result must not be in use when dst is reused.
func (m *CSR) SelectRowsInto(dst *CSR, rows []int) *CSR {
	if dst == nil {
		dst = new(CSR)
	}
	indptr := grow(dst.Indptr, len(rows)+1)
	indptr[0] = 0
	for i, r := range rows {
		indptr[i+1] = indptr[i] + m.Indptr[r+1] - m.Indptr[r]
	}
	nnz := indptr[len(rows)]
	*dst = CSR{Rows: len(rows), Cols: m.Cols, Indptr: indptr, Indices: grow(dst.Indices, nnz), Data: grow(dst.Data, nnz)}
	// The rows are copied in parallel: a batch's gather of rows scattered
	// over a big matrix waits on memory, row after row.
	parallel.For(len(rows), max(1, len(rows)*(1<<14)/max(1, nnz)), func(i0, i1 int) {
		for i, r := range rows[i0:i1] {
			i += i0
			copy(dst.Indices[indptr[i]:indptr[i+1]], m.Indices[m.Indptr[r]:m.Indptr[r+1]])
			copy(dst.Data[indptr[i]:indptr[i+1]], m.Data[m.Indptr[r]:m.Indptr[r+1]])
		}
	})
	return dst
}

// grow returns s resliced to n elements if its capacity allows, else a new
// slice of n; the contents are to be overwritten.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
