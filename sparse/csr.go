package sparse

import (
	"errors"
	"fmt"
	"sort"
)

// ErrInvalid is wrapped by every error that reports a malformed CSR matrix.
var ErrInvalid = errors.New("sparse: invalid CSR matrix")

// CSR is a float32 sparse matrix in compressed sparse row form.
//
// Row i holds the entries Data[Indptr[i]:Indptr[i+1]] in the columns
// Indices[Indptr[i]:Indptr[i+1]]. Matrices built by this package have sorted,
// unique column indices in each row; Validate checks a matrix that came from
// elsewhere.
type CSR struct {
	Rows, Cols int
	Indptr     []int   // len Rows+1, non-decreasing, Indptr[0] = 0
	Indices    []int32 // len NNZ, each in [0, Cols)
	Data       []float32
}

// NewCSR returns the CSR matrix with the given arrays after checking them
// with Validate. The slices are used, not copied.
func NewCSR(rows, cols int, indptr []int, indices []int32, data []float32) (*CSR, error) {
	m := &CSR{Rows: rows, Cols: cols, Indptr: indptr, Indices: indices, Data: data}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// NNZ returns the number of stored entries.
func (m *CSR) NNZ() int { return len(m.Data) }

// Validate reports whether m is a well-formed CSR matrix: non-negative shape,
// an indptr of length Rows+1 that starts at 0, never decreases and ends at
// NNZ, and column indices in [0, Cols). Columns need not be sorted.
func (m *CSR) Validate() error {
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("%w: negative shape %d×%d", ErrInvalid, m.Rows, m.Cols)
	}
	if len(m.Indptr) != m.Rows+1 {
		return fmt.Errorf("%w: indptr has length %d, want rows+1 = %d", ErrInvalid, len(m.Indptr), m.Rows+1)
	}
	if len(m.Indices) != len(m.Data) {
		return fmt.Errorf("%w: %d indices but %d values", ErrInvalid, len(m.Indices), len(m.Data))
	}
	if m.Indptr[0] != 0 {
		return fmt.Errorf("%w: indptr[0] = %d, want 0", ErrInvalid, m.Indptr[0])
	}
	for i := 0; i < m.Rows; i++ {
		if m.Indptr[i+1] < m.Indptr[i] {
			return fmt.Errorf("%w: indptr decreases at row %d (%d > %d)", ErrInvalid, i, m.Indptr[i], m.Indptr[i+1])
		}
	}
	if m.Indptr[m.Rows] != len(m.Data) {
		return fmt.Errorf("%w: indptr ends at %d but there are %d entries", ErrInvalid, m.Indptr[m.Rows], len(m.Data))
	}
	for k, c := range m.Indices {
		if c < 0 || int(c) >= m.Cols {
			return fmt.Errorf("%w: column index %d at position %d is outside [0, %d)", ErrInvalid, c, k, m.Cols)
		}
	}
	return nil
}

// FromCOO builds a rows×cols CSR matrix from coordinate triplets. Entries at
// the same position are summed and columns are sorted in each row. It returns
// an error if the slices differ in length or an index is out of range.
func FromCOO(rows, cols int, r, c []int, v []float32) (*CSR, error) {
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("%w: negative shape %d×%d", ErrInvalid, rows, cols)
	}
	if len(r) != len(c) || len(r) != len(v) {
		return nil, fmt.Errorf("%w: COO slices have lengths %d, %d, %d", ErrInvalid, len(r), len(c), len(v))
	}
	indptr := make([]int, rows+1)
	for k := range r {
		if r[k] < 0 || r[k] >= rows {
			return nil, fmt.Errorf("%w: row index %d at position %d is outside [0, %d)", ErrInvalid, r[k], k, rows)
		}
		if c[k] < 0 || c[k] >= cols {
			return nil, fmt.Errorf("%w: column index %d at position %d is outside [0, %d)", ErrInvalid, c[k], k, cols)
		}
		indptr[r[k]+1]++
	}
	for i := 0; i < rows; i++ {
		indptr[i+1] += indptr[i]
	}
	next := append([]int(nil), indptr[:rows]...)
	idx := make([]int32, len(r))
	val := make([]float32, len(r))
	for k := range r {
		p := next[r[k]]
		idx[p], val[p] = int32(c[k]), v[k]
		next[r[k]]++
	}
	// Sort each row by column (stable, so duplicates are summed in input
	// order and the result is deterministic), then merge duplicates in place.
	out := 0
	for i := 0; i < rows; i++ {
		lo, hi := indptr[i], indptr[i+1]
		sort.Stable(byColumn{idx[lo:hi], val[lo:hi]})
		start := out
		for p := lo; p < hi; p++ {
			if out > start && idx[out-1] == idx[p] {
				val[out-1] += val[p]
				continue
			}
			idx[out], val[out] = idx[p], val[p]
			out++
		}
		indptr[i] = start
	}
	indptr[rows] = out
	return &CSR{Rows: rows, Cols: cols, Indptr: indptr, Indices: idx[:out:out], Data: val[:out:out]}, nil
}

type byColumn struct {
	idx []int32
	val []float32
}

func (b byColumn) Len() int           { return len(b.idx) }
func (b byColumn) Less(i, j int) bool { return b.idx[i] < b.idx[j] }
func (b byColumn) Swap(i, j int) {
	b.idx[i], b.idx[j] = b.idx[j], b.idx[i]
	b.val[i], b.val[j] = b.val[j], b.val[i]
}
