package matmul

import (
	"runtime"

	"github.com/gnsr/gnsr/internal/parallel"
)

// trivialProduct checks the operands of a product c (n×m) = a (n×k) ·
// b (k×m), panicking if a dimension is negative or a slice is shorter than
// its matrix, and does the products with nothing to multiply: n or m zero,
// or k zero, which clears c unless acc. It reports whether the product is
// done.
func trivialProduct(c, a, b []float32, n, k, m int, acc bool) bool {
	if n < 0 || k < 0 || m < 0 {
		panic("matmul: gemm: negative dimension")
	}
	if n == 0 || m == 0 {
		return true
	}
	if k == 0 {
		if !acc {
			clear(c[:n*m])
		}
		return true
	}
	_ = a[n*k-1]
	_ = b[k*m-1]
	_ = c[n*m-1]
	return false
}

// gemmCore computes gemm (transA false) or gemmTA (transA true) in Go: the
// pure-Go build's gemm and gemmTA (kernel_noblas.go); the openblas build
// calls OpenBLAS instead (kernel_openblas.go).
//
// Blocks of 6 or 4 rows × 16 columns run on the AVX2/FMA kernels; the
// last m%16 columns too, through a zero-padded copy of those columns of b;
// the last n%4 rows in Go. Which code computes an element, and the order of its sum,
// depend only on the shapes, never on the number of goroutines, so results
// are identical for any GOMAXPROCS. Work is split by blocks of 4 rows over
// up to GOMAXPROCS goroutines when it is large enough to pay for them.
//
// gemmCore panics if a slice is shorter than its matrix or a dimension is
// negative.
func gemmCore(c, a, b []float32, n, k, m int, acc, transA bool) {
	gemmCoreWith(nil, c, a, b, n, k, m, acc, transA)
}

// Scratch is memory that products reuse from call to call instead of
// allocating it: the zero-padded copy of the last columns of b, k×16
// floats, which for a weight gradient over a million rows is 64 MB a
// call. The zero value is ready to use; a Scratch must not serve two
// products at once.
type Scratch struct {
	panel []float32
}

// gemmCoreWith is gemmCore taking its panel from s (nil: a new one).
func gemmCoreWith(s *Scratch, c, a, b []float32, n, k, m int, acc, transA bool) {
	gemmCoreLayout(s, c, a, b, n, k, m, acc, transA, false)
}

// PackedLen returns the length of a k×m matrix in the packed layout: m
// rounded up to a multiple of 16, times k.
func PackedLen(k, m int) int { return (m + 15) &^ 15 * k }

// PackedIndex returns where element (p, j) of a k×m matrix lies in the
// packed layout: panels of 16 columns, one after the other, each k rows of 16.
func PackedIndex(k, p, j int) int { return j&^15*k + p*16 + j&15 }

// gemmPacked is Gemm (GemmTA with transA) for b in the packed layout (see
// PackedIndex): the same kernels on the same panels, so the same bits as
// for b row-major, without copying b's panels. It needs the AVX2 kernels
// (hasFMA).
func gemmPacked(c, a, b []float32, n, k, m int, acc, transA bool) {
	if !hasFMA {
		panic("matmul: GemmPacked without the AVX2 kernels")
	}
	if len(b) < PackedLen(k, m) {
		panic("matmul: GemmPacked: b is shorter than its packed matrix")
	}
	gemmCoreLayout(nil, c, a, b, n, k, m, acc, transA, true)
}

// gemmCoreLayout is gemmCoreWith for b row-major or, with packedB, in
// the packed layout.
func gemmCoreLayout(s *Scratch, c, a, b []float32, n, k, m int, acc, transA, packedB bool) {
	if trivialProduct(c, a, b, n, k, m, acc) {
		return
	}
	if !hasFMA {
		if transA {
			at := make([]float32, n*k)
			Transpose(at, a[:n*k], k, n)
			a = at
		}
		Scalar(c, a, b, 0, n, 0, m, k, m, acc)
		return
	}
	g := gemmJob{c: c, a: a, b: b, n: n, k: k, m: m, m16: m &^ 15, acc: acc, transA: transA, packedB: packedB}
	if packedB && g.m16 < m {
		// The last panel is already there, padded.
		g.panel = b[g.m16*k : g.m16*k+16*k]
	} else if g.m16 < m {
		// The last columns, zero-padded to 16, so that they run on the kernel.
		if s == nil {
			g.panel = make([]float32, k*16)
		} else {
			if cap(s.panel) < k*16 {
				s.panel = make([]float32, k*16)
			}
			g.panel = s.panel[:k*16]
		}
		// One pass, split over goroutines: for a weight gradient over all
		// of a graph's nodes the panel is megabytes.
		w := m - g.m16
		parallel.For(k, 1<<12, func(p0, p1 int) {
			for p := p0; p < p1; p++ {
				row := g.panel[p*16 : (p+1)*16]
				copy(row, b[p*m+g.m16:(p+1)*m])
				clear(row[w:])
			}
		})
	}
	blocks := n / 4
	workers := 1
	if n*k*m >= 1<<18 {
		workers = min(runtime.GOMAXPROCS(0), max(blocks, 1))
	}
	if workers <= 1 {
		g.rows(0, blocks, true)
		return
	}
	per := max(1, blocks/parallel.Pieces(workers))
	bounds := []int{0}
	for b0 := per; b0 < blocks; b0 += per {
		bounds = append(bounds, b0)
	}
	parallel.Blocks(append(bounds, blocks), func(b0, b1 int) { g.rows(b0, b1, b1 == blocks) })
}

type gemmJob struct {
	c, a, b      []float32
	n, k, m, m16 int
	acc, transA  bool
	packedB      bool      // b is in the packed layout
	panel        []float32 // b's last m−m16 columns, padded to 16
}

// rows computes the row blocks [b0, b1) of 4 rows, and with tail the rows
// after the last full block.
func (g *gemmJob) rows(b0, b1 int, tail bool) {
	rs, ps := g.k, 1
	if g.transA {
		rs, ps = 1, g.n
	}
	var tmp [64]float32
	// Column panels outside, row blocks inside: a k×16 panel of b stays in
	// cache while the rows stream past it.
	// Six rows at a time, then the 0, 2 or 4 rows left of the range: 4 on
	// gemm4x16, 2 as the last two of a 4-row block computed aside (the
	// same sums; an overlapping call with acc would add twice).
	r0, r1 := 4*b0, 4*b1
	r6 := r0 + (r1-r0)/6*6
	// A panel of b whose rows lie far apart (a row of b per page, for
	// the wide products of convolutions) is copied to contiguous memory
	// first when several row blocks will read it: the kernels then stream
	// it from cache instead of missing the TLB on every row.
	var packed []float32
	if g.m > 16 && r1-r0 >= 12 && !g.packedB {
		packed = make([]float32, 2*g.k*16)
	}
	// panel returns panel j/16 of b and its row stride, copied to
	// packed[half·k·16:] if packing.
	panel := func(j, half int) (*float32, int) {
		switch {
		case g.packedB:
			return &g.b[j*g.k], 16
		case packed != nil:
			dst := packed[half*g.k*16 : (half+1)*g.k*16]
			for p := range g.k {
				copy(dst[p*16:(p+1)*16], g.b[p*g.m+j:])
			}
			return &dst[0], 16
		}
		return &g.b[j], g.m
	}
	for j := 0; j < g.m16; {
		// Two panels at once on the AVX-512 kernel where there are two
		// (the same sums as one at a time).
		width := 16
		if hasAVX512 && j+32 <= g.m16 && r6 > r0 {
			width = 32
		}
		bp, ldb := panel(j, 0)
		bp1 := bp
		if width == 32 {
			bp1, _ = panel(j+16, 1)
		}
		for i := r0; i < r6; i += 6 {
			if width == 32 {
				gemm6x32(g.k, &g.a[i*rs], rs, ps, bp, bp1, ldb, &g.c[i*g.m+j], g.m, g.acc)
			} else {
				gemm6x16(g.k, &g.a[i*rs], rs, ps, bp, ldb, &g.c[i*g.m+j], g.m, g.acc)
			}
		}
		for jj, b := range []*float32{bp, bp1}[:width/16] {
			jj := j + 16*jj
			switch r1 - r6 {
			case 4:
				gemm4x16(g.k, &g.a[r6*rs], rs, ps, b, ldb, &g.c[r6*g.m+jj], g.m, g.acc)
			case 2:
				gemm4x16(g.k, &g.a[(r1-4)*rs], rs, ps, b, ldb, &tmp[0], 16, false)
				for r := 2; r < 4; r++ {
					out := g.c[(r1-4+r)*g.m+jj:][:16]
					for q := range out {
						if g.acc {
							out[q] += tmp[r*16+q]
						} else {
							out[q] = tmp[r*16+q]
						}
					}
				}
			}
		}
		j += width
	}
	for i := 4 * b0; i < 4*b1; i += 4 {
		ai := &g.a[i*rs]
		if g.panel != nil {
			gemm4x16(g.k, ai, rs, ps, &g.panel[0], 16, &tmp[0], 16, false)
			for r := 0; r < 4; r++ {
				out := g.c[(i+r)*g.m+g.m16 : (i+r+1)*g.m]
				for j := range out {
					if g.acc {
						out[j] += tmp[r*16+j]
					} else {
						out[j] = tmp[r*16+j]
					}
				}
			}
		}
	}
	if !tail {
		return
	}
	for i := 4 * (g.n / 4); i < g.n; i++ {
		out := g.c[i*g.m : (i+1)*g.m]
		if !g.acc {
			clear(out)
		}
		for p := 0; p < g.k; p++ {
			av := g.a[i*rs+p*ps]
			if av == 0 {
				continue
			}
			if g.packedB {
				for j := range out {
					out[j] += av * g.b[j/16*16*g.k+p*16+j%16]
				}
				continue
			}
			for j, bv := range g.b[p*g.m : (p+1)*g.m] {
				out[j] += av * bv
			}
		}
	}
}

// Scalar computes, in plain Go, c[i, j] (or adds to it, with acc) for i in
// [i0, i1), j in [j0, j1) of c (·×m) = a (·×k) · b (k×m), row-major. It
// panics if a slice is shorter than its matrix.
func Scalar[T float32 | float64](c, a, b []T, i0, i1, j0, j1, k, m int, acc bool) {
	for i := i0; i < i1; i++ {
		out := c[i*m+j0 : i*m+j1]
		if !acc {
			clear(out)
		}
		for p, av := range a[i*k : (i+1)*k] {
			if av == 0 {
				continue
			}
			row := b[p*m+j0 : p*m+j1]
			for j, bv := range row {
				out[j] += av * bv
			}
		}
	}
}

// Transpose writes the transpose of the r×c matrix src into dst (c×r).
// It works in tiles so that both sides stay in cache. It panics if a slice
// is shorter than r·c.
func Transpose[T float32 | float64](dst, src []T, r, c int) {
	const tile = 32
	_ = src[r*c-1]
	_ = dst[r*c-1]
	for i0 := 0; i0 < r; i0 += tile {
		for j0 := 0; j0 < c; j0 += tile {
			for i := i0; i < min(i0+tile, r); i++ {
				row := src[i*c : (i+1)*c]
				for j := j0; j < min(j0+tile, c); j++ {
					dst[j*r+i] = row[j]
				}
			}
		}
	}
}
