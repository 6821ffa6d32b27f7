package sparse

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

// TestEdgeKernelsRows checks every edge kernel restricted to some rows
// against the unrestricted kernel: the values of those rows (their edges,
// or their rows of a node matrix) bit for bit, the others zero (EdgeMul
// with acc: untouched), forward and transposed, for heads the assembly
// takes (8) and heads it does not, at several GOMAXPROCS.
func TestEdgeKernelsRows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	m := NewMatrix(randomCSR(400, 400, 6000, 11))
	a, at, perm := m.CSR(), m.Transposed(), m.TransposeSources()
	// Runs of consecutive rows, gaps, and the last row.
	var rows []int32
	for i := range int32(400) {
		if i%7 < 3 || i%50 == 13 || i == 399 {
			rows = append(rows, i)
		}
	}
	nan := float32(math.NaN())
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, heads := range []int{8, 3} {
			const width = 4
			hw := heads * width
			u := randmat.Uniform32(a.Rows*hw, 1)
			v := randmat.Uniform32(a.Cols*hw, 2)
			e := randmat.Uniform32(a.NNZ()*heads, 3)
			g := randmat.Uniform32(a.NNZ()*heads, 4)
			// edge checks an edge-valued kernel: full, then restricted into
			// an output full of NaN.
			edge := func(name string, p *CSR, run func(rows []int32, out []float32)) {
				t.Helper()
				want := make([]float32, p.NNZ()*heads)
				run(nil, want)
				got := slices.Repeat([]float32{nan}, p.NNZ()*heads)
				run(rows, got)
				in := make([]bool, p.Rows)
				for _, r := range rows {
					in[r] = true
				}
				for i := range p.Rows {
					for k := p.Indptr[i] * heads; k < p.Indptr[i+1]*heads; k++ {
						if w := want[k]; in[i] && math.Float32bits(got[k]) != math.Float32bits(w) || !in[i] && got[k] != 0 {
							t.Fatalf("GOMAXPROCS %d, %d heads, %s: row %d (computed %v), value %d: %v, want %v", procs, heads, name, i, in[i], k, got[k], w)
						}
					}
				}
			}
			// node checks a kernel whose result has cols values per row of p.
			node := func(name string, p *CSR, cols int, fill float32, run func(rows []int32, out []float32)) {
				t.Helper()
				want := make([]float32, p.Rows*cols)
				run(nil, want)
				got := slices.Repeat([]float32{fill}, p.Rows*cols)
				run(rows, got)
				in := make([]bool, p.Rows)
				for _, r := range rows {
					in[r] = true
				}
				for i := range p.Rows {
					for k := i * cols; k < (i+1)*cols; k++ {
						if w := want[k]; in[i] && math.Float32bits(got[k]) != math.Float32bits(w) || !in[i] && math.Float32bits(got[k]) != math.Float32bits(fill) {
							t.Fatalf("GOMAXPROCS %d, %d heads, %s: row %d (computed %v), value %d: %v, want %v", procs, heads, name, i, in[i], k, got[k], w)
						}
					}
				}
			}
			edge("EdgeAdd", a, func(r []int32, out []float32) { EdgeAdd(a, r, u[:a.Rows*heads], v[:a.Cols*heads], heads, out) })
			edge("EdgeDot", a, func(r []int32, out []float32) { EdgeDot(a, r, u, v, heads, width, out) })
			edge("EdgeSoftmax", a, func(r []int32, out []float32) { EdgeSoftmax(a, r, e, heads, out) })
			edge("EdgeSoftmaxGrad", a, func(r []int32, out []float32) { EdgeSoftmaxGrad(a, r, e, g, heads, out) })
			node("EdgeMul", a, hw, 0, func(r []int32, out []float32) { EdgeMul(a, r, e, nil, heads, v, width, out, false) })
			node("EdgeMulᵀ", at, hw, 0, func(r []int32, out []float32) { EdgeMul(at, r, e, perm, heads, u, width, out, false) })
			node("EdgeMul acc", a, hw, 0.25, func(r []int32, out []float32) {
				for i := range out {
					out[i] = 0.25
				}
				EdgeMul(a, r, e, nil, heads, v, width, out, true)
			})
			node("EdgeRowSums", a, heads, 0, func(r []int32, out []float32) { EdgeRowSums(a, r, g, nil, heads, out) })
			node("EdgeRowSumsᵀ", at, heads, 0, func(r []int32, out []float32) { EdgeRowSums(at, r, g, perm, heads, out) })
		}
	}
}
