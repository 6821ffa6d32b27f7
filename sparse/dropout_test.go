package sparse

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

func TestDropoutValuesStatistics(t *testing.T) {
	const n = 1<<20 + 1 // odd, to cover the last single value
	src := make([]float32, n)
	for i := range src {
		src[i] = 1 + float32(i%3)
	}
	for _, p := range []float64{0.01, 0.1, 0.5, 0.9} {
		dst := make([]float32, n)
		DropoutValues(dst, src, p, rand.New(rand.NewPCG(1, 2)))
		scale := float32(1 / (1 - p))
		kept := 0
		var sum, want, sq float64
		for i, v := range dst {
			switch v {
			case 0:
			case src[i] * scale:
				kept++
			default:
				t.Fatalf("p=%v: value %d is %v, want 0 or %v", p, i, v, src[i]*scale)
			}
			sum += float64(v)
			want += float64(src[i])
			sq += float64(src[i]) * float64(src[i])
		}
		// The kept count is binomial(n, 1-p): allow 5 standard deviations.
		sd := math.Sqrt(n * p * (1 - p))
		if d := math.Abs(float64(kept) - n*(1-p)); d > 5*sd {
			t.Errorf("p=%v: kept %d of %d, want about %.0f", p, kept, n, n*(1-p))
		}
		// Inverted dropout keeps the expected sum; its variance is
		// Σ src² · p/(1-p).
		if d := math.Abs(sum - want); d > 5*math.Sqrt(sq*p/(1-p)) {
			t.Errorf("p=%v: sum %v, want about %v", p, sum, want)
		}
		// Both halves of each draw are used: even and odd positions keep
		// at the same rate.
		var even, odd int
		for i, v := range dst {
			if v != 0 {
				if i%2 == 0 {
					even++
				} else {
					odd++
				}
			}
		}
		if d := math.Abs(float64(even - odd)); d > 5*sd {
			t.Errorf("p=%v: %d kept at even positions, %d at odd", p, even, odd)
		}
	}
}

func TestDropoutValuesDeterministic(t *testing.T) {
	src := randomDense32(1001, 3)
	a := make([]float32, len(src))
	b := make([]float32, len(src))
	DropoutValues(a, src, 0.3, rand.New(rand.NewPCG(7, 8)))
	DropoutValues(b, src, 0.3, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(a, b) {
		t.Errorf("same seed gave different results")
	}
	DropoutValues(b, src, 0.3, rand.New(rand.NewPCG(7, 9)))
	if slices.Equal(a, b) {
		t.Errorf("different seeds gave the same result")
	}
	// In place.
	c := append([]float32(nil), src...)
	DropoutValues(c, c, 0.3, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(a, c) {
		t.Errorf("in-place result differs")
	}
}

func TestDropoutValuesZero(t *testing.T) {
	src := randomDense32(11, 3)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewPCG(1, 1))
	DropoutValues(dst, src, 0, rng)
	if !slices.Equal(dst, src) {
		t.Errorf("p=0 did not copy")
	}
	if rng.Uint64() != rand.New(rand.NewPCG(1, 1)).Uint64() {
		t.Errorf("p=0 drew from rng")
	}
	DropoutValues(nil, nil, 0.5, rng) // empty input is fine
}

func TestDropoutValuesPanics(t *testing.T) {
	for _, test := range []struct {
		name     string
		dst, src int
		p        float64
	}{
		{"negative p", 2, 2, -0.1},
		{"p = 1", 2, 2, 1},
		{"p > 1", 2, 2, 1.5},
		{"NaN p", 2, 2, math.NaN()},
		{"length mismatch", 2, 3, 0.5},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", test.name)
				}
			}()
			DropoutValues(make([]float32, test.dst), make([]float32, test.src), test.p, rand.New(rand.NewPCG(1, 1)))
		}()
	}
}

func BenchmarkDropoutValues(b *testing.B) {
	src := randomDense32(randmat.PubMedFeatureNNZ, 1)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewPCG(1, 2))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		DropoutValues(dst, src, 0.5, rng)
	}
}

// TestMatrixDropout checks that Matrix.Dropout drops the same entries in
// the matrix and its cached transpose, keeps about 1-p of them scaled by
// 1/(1-p), depends only on the seed, whatever the thread count, and that
// p = 0 restores the values.
func TestMatrixDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var r, c []int
	var v []float32
	for i := 0; i < 300; i++ {
		for j := 0; j < 200; j++ {
			if rng.Float64() < 0.3 {
				r, c, v = append(r, i), append(c, j), append(v, float32(1+rng.IntN(5)))
			}
		}
	}
	m, err := FromCOO(300, 200, r, c, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []float64{0.1, 0.5, 0.9} {
		cst := NewMatrix(m)
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		cst.Dropout(p, 42)
		one := cst.Values()
		runtime.GOMAXPROCS(3)
		cst.Dropout(p, 42)
		if !slices.Equal(one, cst.Values()) {
			t.Errorf("p=%v: different entries dropped with 1 and 3 threads", p)
		}
		if !slices.Equal(cst.CSR().Data, m.Data) {
			t.Errorf("p=%v: Dropout changed Matrix()", p)
		}
		kept := 0
		for k, x := range one {
			switch {
			case x == 0:
			case math.Abs(float64(x)-float64(m.Data[k])/(1-p)) > 1e-5*float64(x):
				t.Fatalf("p=%v: entry %d = %v, want 0 or %v", p, k, x, float64(m.Data[k])/(1-p))
			default:
				kept++
			}
		}
		n := float64(m.NNZ())
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(kept)-n*(1-p)) > 5*sd {
			t.Errorf("p=%v: kept %d of %v entries", p, kept, n)
		}
		cst.Dropout(p, 43)
		if slices.Equal(one, cst.Values()) {
			t.Errorf("p=%v: seeds 42 and 43 dropped the same entries", p)
		}
		cst.Dropout(0, 0)
		if !slices.Equal(cst.Values(), m.Data) || !cst.Transposed().Equal(m.Transpose()) {
			t.Errorf("p=%v: Dropout(0) did not restore the values", p)
		}
	}
}

func BenchmarkMatrixDropoutPubMed(b *testing.B) {
	m := randomCSR(19717, 500, 988031, 1)
	c := NewMatrix(m)
	seed := uint64(0)
	for b.Loop() {
		seed++
		c.Dropout(0.5, seed)
	}
}

// TestMatrixDropoutProducts checks that products with a dropped-out
// Matrix, which skip dropped entries, equal products with the matrix whose
// dropped values are zero: both directions, float64 and float32, blocked
// and not, with and without accumulation.
func TestMatrixDropoutProducts(t *testing.T) {
	tests := []struct {
		name            string
		rows, cols, nnz int
		k               int
	}{
		{"blocked float32", 600, 700, 60000, 64},
		{"odd k", 300, 200, 6000, 13},
		{"narrow", 50, 40, 300, 8},
		{"binary", 600, 700, 60000, 64},
		// Rows of the dense operand that are all zero, which the scatter
		// kernels skip; k = 120 runs the 64-, 32-, 16- and 8-wide kernels.
		{"zero rows", 600, 700, 150000, 120},
	}
	for _, test := range tests {
		m := randomCSR(test.rows, test.cols, test.nnz, 5)
		if test.name == "binary" {
			for i := range m.Data {
				m.Data[i] = 1
			}
		}
		c := NewMatrix(m)
		for step, p := range []float64{0.5, 0.2, 0, 0.9} {
			c.Dropout(p, uint64(step))
			dropped := m.Clone()
			dropped.Data = c.Values()
			for _, trans := range []bool{false, true} {
				a := dropped
				if trans {
					a = dropped.Transpose()
				}
				x := randomDense64(a.Cols*test.k, uint64(step))
				if test.name == "zero rows" {
					for i := 0; i < a.Cols; i += 3 {
						clear(x[i*test.k : (i+1)*test.k])
					}
				}
				want, mag := refMul(a, x, test.k)
				got := make([]float64, a.Rows*test.k)
				MulInto(c, trans, got, x, test.k, false)
				for i := range got {
					if d := math.Abs(got[i] - want[i]); !(d <= 1e-12*mag[i]) {
						t.Fatalf("%s p=%v trans=%v float64: element %d = %v, want %v", test.name, p, trans, i, got[i], want[i])
					}
				}
				x32 := make([]float32, len(x))
				for i, v := range x {
					x32[i] = float32(v)
				}
				got32 := make([]float32, a.Rows*test.k)
				for i := range got32 {
					got32[i] = 1
				}
				MulInto(c, trans, got32, x32, test.k, true)
				for i := range got32 {
					if d := math.Abs(float64(got32[i]) - 1 - want[i]); !(d <= 1e-5*(mag[i]+1)) {
						t.Fatalf("%s p=%v trans=%v float32: element %d = %v, want %v", test.name, p, trans, i, got32[i]-1, want[i])
					}
				}
			}
		}
	}
}

// TestMatrixRestrictRows checks that a Matrix restricted to some rows keeps
// the same entries of those rows as the unrestricted one and none of the
// others, and that its products are bit for bit the unrestricted ones on
// the rows they compute and zero elsewhere: plain products on the dst
// rows; transposed ones on the src rows without dropout, and with dropout
// on all rows for dense operands that are zero outside dst. Blocked and
// not, float32 and float64, for 1 and 3 threads, with a fifth of the rows
// (Dropout filters a compact copy of them) and four fifths (in place).
func TestMatrixRestrictRows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, test := range []struct {
		name            string
		rows, cols, nnz int
		k               int
		binary          bool
	}{
		{"blocked float32", 600, 700, 60000, 64, false},
		{"binary", 600, 700, 60000, 64, true},
		{"odd k", 300, 200, 6000, 13, false},
		{"most rows", 300, 200, 6000, 13, false},
	} {
		m := randomCSR(test.rows, test.cols, test.nnz, 7)
		if test.binary {
			for i := range m.Data {
				m.Data[i] = 1
			}
		}
		rng := rand.New(rand.NewPCG(8, 9))
		subset := func(n int) ([]int32, []bool) {
			var rows []int32
			in := make([]bool, n)
			for i := range n {
				if (rng.IntN(5) == 0) != (test.name == "most rows") {
					rows = append(rows, int32(i))
					in[i] = true
				}
			}
			return rows, in
		}
		dst, inDst := subset(m.Rows)
		src, inSrc := subset(m.Cols)
		full, part := NewMatrix(m), NewMatrix(m)
		part.RestrictRows(dst, src)
		for step, p := range []float64{0.5, 0.2, 0.9, 0} {
			for _, threads := range []int{1, 3} {
				runtime.GOMAXPROCS(threads)
				seed := uint64(100 + step)
				full.Dropout(p, seed)
				part.Dropout(p, seed)
				if compact := part.sub != nil; p > 0 && compact != (test.name != "most rows") {
					t.Fatalf("%s: compact copy %v", test.name, compact)
				}
				fv, pv := full.Values(), part.Values()
				for i := range m.Rows {
					for q := m.Indptr[i]; q < m.Indptr[i+1]; q++ {
						if want := fv[q] * float32(b2i(inDst[i])); pv[q] != want {
							t.Fatalf("%s p=%v: entry %d of row %d (restricted to %v) = %v, want %v", test.name, p, q, i, inDst[i], pv[q], want)
						}
					}
				}
				x := randomDense64(m.Cols*test.k, seed)
				g := randomDense64(m.Rows*test.k, seed+1)
				if p > 0 {
					for i := range m.Rows {
						if !inDst[i] {
							clear(g[i*test.k : (i+1)*test.k])
						}
					}
				}
				check := func(kind string, trans bool, want, got []float64) {
					t.Helper()
					for e := range want {
						row := e / test.k
						var computed bool
						if trans {
							computed = p > 0 || inSrc[row]
						} else {
							computed = inDst[row]
						}
						if !computed {
							if got[e] != 0 {
								t.Fatalf("%s p=%v %d threads %s trans=%v: element %d outside the restriction = %v, want 0", test.name, p, threads, kind, trans, e, got[e])
							}
							continue
						}
						if math.Float64bits(got[e]) != math.Float64bits(want[e]) {
							t.Fatalf("%s p=%v %d threads %s trans=%v: element %d = %v, want %v", test.name, p, threads, kind, trans, e, got[e], want[e])
						}
					}
				}
				for _, trans := range []bool{false, true} {
					in := x
					if trans {
						in = g
					}
					r, _ := full.Dims(trans)
					// The restricted products must overwrite every row.
					want, got := make([]float64, r*test.k), slices.Repeat([]float64{math.NaN()}, r*test.k)
					MulInto(full, trans, want, in, test.k, false)
					MulInto(part, trans, got, in, test.k, false)
					check("float64", trans, want, got)
					in32 := to32(in)
					want32, got32 := make([]float32, r*test.k), slices.Repeat([]float32{float32(math.NaN())}, r*test.k)
					MulInto(full, trans, want32, in32, test.k, false)
					MulInto(part, trans, got32, in32, test.k, false)
					check("float32", trans, to64(want32), to64(got32))
				}
			}
		}
	}
	for _, rows := range [][2][]int32{{{3, 2}, nil}, {nil, {-1}}, {{10}, nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RestrictRows(%v, %v) did not panic", rows[0], rows[1])
				}
			}()
			NewMatrix(randomCSR(10, 10, 30, 1)).RestrictRows(rows[0], rows[1])
		}()
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestKeepRangeSIMD checks that keepRange, whose groups of 8 entries run in
// assembly where there is AVX2, keeps the entries of the plain Go loop,
// with the same values, count and final state: every length up to 40, at
// several thresholds and offsets, uniform values or not.
func TestKeepRangeSIMD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for length := range 41 {
		for _, keep := range []float64{0.1, 0.5, 0.9} {
			thresh := int64(math.Round(keep * (1 << 32)))
			for _, uniform := range []bool{false, true} {
				idx := make([]int32, length)
				data := make([]float32, length)
				for i := range idx {
					idx[i], data[i] = rng.Int32(), rng.Float32()
				}
				z := rng.Uint64()
				n0 := rng.IntN(3)
				want, got := make([]int32, n0+length+8), make([]int32, n0+length+8)
				wantData, gotData := make([]float32, n0+length+8), make([]float32, n0+length+8)
				wn, wz := keepRangeGo(want, wantData, n0, idx, data, z, thresh, 1.25, uniform)
				gn, gz := keepRange(got, gotData, n0, idx, data, z, thresh, 1.25, uniform)
				if gn != wn || gz != wz {
					t.Fatalf("length %d keep %v uniform %v: count %d state %x, want %d %x", length, keep, uniform, gn, gz, wn, wz)
				}
				if !slices.Equal(got[:gn], want[:wn]) || (!uniform && !slices.Equal(gotData[:gn], wantData[:wn])) {
					t.Fatalf("length %d keep %v uniform %v: kept %v %v, want %v %v", length, keep, uniform, got[:gn], gotData[:gn], want[:wn], wantData[:wn])
				}
			}
		}
	}
}

// TestMatrixReuseDropout checks that a Matrix filling the dropout buffers
// of another (ReuseDropout), larger or smaller, with and without column
// blocks, keeps what a fresh one keeps and gives the same products, and
// that SelectRowsInto, reusing a matrix's arrays, selects what SelectRows
// does.
func TestMatrixReuseDropout(t *testing.T) {
	big := randomCSR(600, 700, 60000, 11)
	var prev *Matrix
	var scratch *CSR
	for step, rows := range [][]int{{5, 3, 599, 0, 17}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 400, 401, 402}, {42}} {
		if step == 1 {
			rows = nil
			for i := range 500 {
				rows = append(rows, (i*7)%600)
			}
		}
		want := big.SelectRows(rows)
		scratch = big.SelectRowsInto(scratch, rows)
		if !scratch.Equal(want) {
			t.Fatalf("step %d: SelectRowsInto differs from SelectRows", step)
		}
		fresh, reused := NewMatrix(want), NewMatrix(scratch)
		reused.ReuseDropout(prev)
		for _, seed := range []uint64{uint64(step), uint64(step + 10)} {
			fresh.Dropout(0.5, seed)
			reused.Dropout(0.5, seed)
			if !slices.Equal(fresh.Values(), reused.Values()) {
				t.Fatalf("step %d seed %d: reused buffers kept other entries", step, seed)
			}
			x := to32(randomDense64(want.Cols*64, seed))
			a, b := make([]float32, want.Rows*64), make([]float32, want.Rows*64)
			MulInto(fresh, false, a, x, 64, false)
			MulInto(reused, false, b, x, 64, false)
			if !slices.Equal(a, b) {
				t.Fatalf("step %d seed %d: products differ", step, seed)
			}
		}
		prev = reused
	}
}
