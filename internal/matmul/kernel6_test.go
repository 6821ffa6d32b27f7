package matmul

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gemmFour is the product as gemmCore computed it on 4-row blocks only
// (before the 6-row kernel): the reference for TestGemmSixRowsSameBits.
func gemmFour(c, a, b []float32, n, k, m int, acc, transA bool) {
	rs, ps := k, 1
	if transA {
		rs, ps = 1, n
	}
	m16 := m &^ 15
	for i := 0; i+4 <= n; i += 4 {
		for j := 0; j < m16; j += 16 {
			gemm4x16(k, &a[i*rs], rs, ps, &b[j], m, &c[i*m+j], m, acc)
		}
	}
	var tmp [64]float32
	panel := make([]float32, k*16)
	for p := range k {
		copy(panel[p*16:], b[p*m+m16:(p+1)*m])
	}
	for i := 0; i+4 <= n; i += 4 {
		if m16 == m {
			break
		}
		gemm4x16(k, &a[i*rs], rs, ps, &panel[0], 16, &tmp[0], 16, false)
		for r := range 4 {
			out := c[(i+r)*m+m16 : (i+r+1)*m]
			for j := range out {
				if acc {
					out[j] += tmp[r*16+j]
				} else {
					out[j] = tmp[r*16+j]
				}
			}
		}
	}
	for i := 4 * (n / 4); i < n; i++ {
		out := c[i*m : (i+1)*m]
		if !acc {
			clear(out)
		}
		for p := range k {
			av := a[i*rs+p*ps]
			if av == 0 {
				continue
			}
			for j, bv := range b[p*m : (p+1)*m] {
				out[j] += av * bv
			}
		}
	}
}

// TestGemmSixRowsSameBits checks that gemmCore, which runs most rows on the
// 6-row kernel, gives the bits of the 4-row kernel for every shape of the
// 6/4/2-row split (n from 1 to 30), transposed or not, with and without
// accumulation, on one goroutine and several.
func TestGemmSixRowsSameBits(t *testing.T) {
	if !hasFMA {
		t.Skip("no AVX2 kernel")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 30; n++ {
		for _, km := range [][2]int{{7, 16}, {33, 40}, {300, 100}} {
			k, m := km[0], km[1]
			a, b := randSlice(rng, n*k), randSlice(rng, k*m)
			for _, transA := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					base := randSlice(rng, n*m)
					want := append([]float32(nil), base...)
					gemmFour(want, a, b, n, k, m, acc, transA)
					got := append([]float32(nil), base...)
					gemmCore(got, a, b, n, k, m, acc, transA)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("n=%d k=%d m=%d transA=%v acc=%v: c[%d] = %v, 4-row kernel %v", n, k, m, transA, acc, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmPackedSameBits checks that GemmPacked, on b written in panels of
// 16 columns (PackedIndex), gives Gemm's bits for b row-major, with tails
// of rows and columns, with and without accumulation.
func TestGemmPackedSameBits(t *testing.T) {
	if !HasPacked() {
		t.Skip("no packed product in this build")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][3]int{{1, 5, 3}, {6, 9, 16}, {13, 40, 37}, {64, 576, 300}, {30, 7, 100}} {
		n, k, m := s[0], s[1], s[2]
		a, b := randSlice(rng, n*k), randSlice(rng, k*m)
		packed := randSlice(rng, PackedLen(k, m)) // the padding holds garbage, as a reused buffer would
		for p := range k {
			for j := range m {
				packed[PackedIndex(k, p, j)] = b[p*m+j]
			}
		}
		for _, acc := range []bool{false, true} {
			base := randSlice(rng, n*m)
			want := append([]float32(nil), base...)
			Gemm(want, a, b, n, k, m, acc)
			got := append([]float32(nil), base...)
			GemmPacked(got, a, packed, n, k, m, acc)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v acc=%v: c[%d] = %v, Gemm %v", s, acc, i, got[i], want[i])
				}
			}
		}
	}
}
