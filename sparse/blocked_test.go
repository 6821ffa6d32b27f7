package sparse

import (
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestMulBlocked checks the cache-blocked product against a float64
// reference, with and without accumulation, for widths that split rows into
// several blocks, including empty blocks and rows.
func TestMulBlocked(t *testing.T) {
	if simdWidth(64) != 64 {
		t.Skip("no assembly kernel: products are never blocked here")
	}
	tests := []struct {
		rows, cols, nnz, k, width int
	}{
		{50, 300, 6000, 64, 96},
		{50, 300, 6000, 8, 40},
		{33, 1000, 500, 16, 64}, // many empty (row, block) pairs
		{7, 100, 700, 24, 8},
		{1, 97, 97, 40, 16},
		{200, 50, 0, 32, 8}, // no entries at all
	}
	for _, test := range tests {
		m := randomCSR(test.rows, test.cols, max(test.nnz, 1), uint64(test.k))
		if test.nnz == 0 {
			m = &CSR{Rows: test.rows, Cols: test.cols, Indptr: make([]int, test.rows+1)}
		}
		cb := newColBlocks(csrOperand(m), test.width)
		if cb == nil {
			t.Fatalf("%d×%d: no blocks for a matrix with sorted rows", test.rows, test.cols)
		}
		b := randomDense32(m.Cols*test.k, 3)
		b64 := make([]float64, len(b))
		for i, v := range b {
			b64[i] = float64(v)
		}
		ref, mag := refMul(m, b64, test.k)
		for _, acc := range []bool{false, true} {
			dst := make([]float32, m.Rows*test.k)
			for i := range dst {
				dst[i] = float32(math.NaN())
			}
			if acc {
				for i := range dst {
					dst[i] = 1
				}
			}
			spmmBlocked(csrOperand(m), cb, dst, b, test.k, acc)
			for i := range dst {
				want := ref[i]
				if acc {
					want++
				}
				if d := math.Abs(float64(dst[i]) - want); !(d <= 1e-5*(mag[i]+1)) {
					t.Fatalf("%+v acc=%v: element %d = %v, want %v", test, acc, i, dst[i], want)
				}
			}
		}
	}
}

// TestMulBlockedDeterministic checks that blocked products are bit-identical
// for any number of threads.
func TestMulBlockedDeterministic(t *testing.T) {
	if simdWidth(64) != 64 {
		t.Skip("no assembly kernel: products are never blocked here")
	}
	m := randomCSR(3000, 700, 300000, 9)
	const k = 64
	width := blockWidth(m.Rows, m.Cols, m.NNZ(), k)
	if width == 0 {
		t.Fatalf("blockWidth(%d×%d, nnz %d, k %d) = 0: want a blocked product", m.Rows, m.Cols, m.NNZ(), k)
	}
	cb := newColBlocks(csrOperand(m), width)
	b := randomDense32(m.Cols*k, 4)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first []float32
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		dst := make([]float32, m.Rows*k)
		spmmBlocked(csrOperand(m), cb, dst, b, k, false)
		if first == nil {
			first = dst
		} else if !slices.Equal(first, dst) {
			t.Fatalf("GOMAXPROCS=%d: product differs from GOMAXPROCS=1", procs)
		}
	}
}

// TestBlockWidth checks when products are blocked: feature-like matrices
// whose dense operand exceeds L1, not sparse adjacency matrices.
func TestBlockWidth(t *testing.T) {
	if simdWidth(64) != 64 {
		t.Skip("no assembly kernel: products are never blocked here")
	}
	tests := []struct {
		name               string
		rows, cols, nnz, k int
		blocked            bool
	}{
		{"features, k=64", 1000, 767, 250000, 64, true},
		{"features, k=16", 2000, 500, 100000, 16, true},
		{"b fits L1", 1000, 90, 50000, 64, false},
		{"adjacency", 5000, 5000, 25000, 16, false},
		{"k not a multiple of 8", 1000, 767, 250000, 10, false},
	}
	for _, test := range tests {
		m := randomCSR(test.rows, test.cols, test.nnz, 1)
		if got := blockWidth(m.Rows, m.Cols, m.NNZ(), test.k) > 0; got != test.blocked {
			t.Errorf("%s: blocked = %v, want %v", test.name, got, test.blocked)
		}
	}
}

// TestSortedRows checks the test that decides whether a Matrix's products
// may be blocked.
func TestSortedRows(t *testing.T) {
	sorted := &CSR{Rows: 2, Cols: 20, Indptr: []int{0, 2, 3}, Indices: []int32{3, 15, 0}, Data: []float32{1, 2, 3}}
	unsorted := &CSR{Rows: 2, Cols: 20, Indptr: []int{0, 2, 3}, Indices: []int32{15, 3, 0}, Data: []float32{1, 2, 3}}
	if !sortedRows(sorted) || sortedRows(unsorted) {
		t.Fatalf("sortedRows = %v, %v; want true, false", sortedRows(sorted), sortedRows(unsorted))
	}
}

// TestScatterDeterministic checks that transposed products after dropout
// are bit-identical for any number of threads: those that scatter over
// column blocks split among goroutines, and those of rows too short to
// block (float32 or float64), whose plain loop may split the columns, each
// against the one-column-range loop.
func TestScatterDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		name            string
		rows, cols, nnz int
		k               int
		plain           bool
		split           bool // the plain loop splits the columns on 8 threads
	}{
		{"blocked", 3000, 700, 900000, 64, false, false},
		{"short rows", 20000, 700, 60000, 64, true, false},
		{"short rows, k 16", 20000, 700, 60000, 16, true, false},
		{"short rows, split", 4000, 700, 160000, 64, true, true},
	} {
		m := randomCSR(tc.rows, tc.cols, tc.nnz, 9)
		if plain := blockWidth(m.Rows, m.Cols, m.NNZ()/2, tc.k) == 0; plain != tc.plain {
			t.Fatalf("%s: blockWidth chooses the plain loop: %v, want %v", tc.name, plain, tc.plain)
		}
		c := NewMatrix(m)
		c.Dropout(0.5, 7)
		g := randomDense32(m.Rows*tc.k, 4)
		g64 := make([]float64, len(g))
		for i, v := range g {
			g64[i] = float64(v)
		}
		if ranges := columnRanges(c.operand(false), tc.k, 8); tc.plain && (ranges > 1) != tc.split {
			t.Fatalf("%s: the plain loop takes %d column ranges on 8 threads; split %v", tc.name, ranges, tc.split)
		}
		var want64 []float64
		if tc.plain {
			want64 = make([]float64, m.Cols*tc.k)
			scatterGo(c.operand(false), want64, g64, tc.k, 0, m.Cols)
		}
		var first []float32
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			dst := make([]float32, m.Cols*tc.k)
			MulInto(c, true, dst, g, tc.k, false)
			dst64 := make([]float64, m.Cols*tc.k)
			MulInto(c, true, dst64, g64, tc.k, false)
			runtime.GOMAXPROCS(1)
			if first == nil {
				first = dst
			} else if !slices.Equal(first, dst) {
				t.Fatalf("%s: GOMAXPROCS=%d: product differs from GOMAXPROCS=1", tc.name, procs)
			}
			if want64 != nil && !slices.Equal(want64, dst64) {
				t.Fatalf("%s: GOMAXPROCS=%d: float64 product differs from the serial loop", tc.name, procs)
			}
		}
	}
}

// TestBlockGroups checks that blocks are split into contiguous groups
// covering all blocks, balanced by the entries of the active rows.
func TestBlockGroups(t *testing.T) {
	// Row 0 has 10 entries in block 0 and 1 in each of blocks 1–3; row 1
	// has 1 entry in block 0 and 10 in block 3.
	cb := &colBlocks{width: 4, starts: [][]int{{0, 13}, {10, 14}, {11, 14}, {12, 14}, {13, 24}}}
	for _, test := range []struct {
		active []int32
		n      int
		want   []int
	}{
		{[]int32{0}, 1, []int{0, 4}},
		{[]int32{0}, 2, []int{0, 1, 4}},
		{[]int32{0}, 4, []int{0, 1, 1, 2, 4}},
		{[]int32{1}, 2, []int{0, 4, 4}}, // block 3 alone is past the half
		{nil, 2, []int{0, 2, 4}},
	} {
		if got := blockGroups(cb, test.active, test.n); !slices.Equal(got, test.want) {
			t.Errorf("blockGroups(active=%v, n=%d) = %v, want %v", test.active, test.n, got, test.want)
		}
	}
}

// TestScatterGoSIMD checks that scatterGo, whose float32 rows run in AVX2
// where k is a multiple of 8, gives the bits of the plain loop (each
// product rounded, then added) for whole and partial column ranges.
func TestScatterGoSIMD(t *testing.T) {
	m := randomCSR(300, 200, 6000, 4)
	a := csrOperand(m)
	for _, k := range []int{8, 16, 24, 64, 72, 13} {
		g := to32(randomDense64(m.Rows*k, uint64(k)))
		for _, cols := range [][2]int{{0, 200}, {37, 150}} {
			want := to32(randomDense64(m.Cols*k, 9))
			got := slices.Clone(want)
			for i := range m.Rows {
				for p := m.Indptr[i]; p < m.Indptr[i+1]; p++ {
					c := int(m.Indices[p])
					if c < cols[0] || c >= cols[1] {
						continue
					}
					v := m.Data[p]
					for j := range k {
						want[c*k+j] += v * g[i*k+j]
					}
				}
			}
			scatterGo(a, got, g, k, cols[0], cols[1])
			for e := range want {
				if math.Float32bits(got[e]) != math.Float32bits(want[e]) {
					t.Fatalf("k %d columns %v: element %d = %v, want %v", k, cols, e, got[e], want[e])
				}
			}
		}
	}
}
