package sparse

import (
	"math"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

// TestEdgeMulSIMD checks the assembly EdgeMul against the portable kernel,
// bit for bit, forward and transposed (through perm), for heads whose
// width is a multiple of 8 (strips of 64 columns) and any other (blocks of
// up to 8 columns across heads, the last one partial), with most weights zero
// (as after attention dropout), negative zeros among them, and NaN and Inf
// in x behind zero weights only, where they must not leak into the sums.
func TestEdgeMulSIMD(t *testing.T) {
	m := NewMatrix(randomCSR(300, 300, 3000, 5))
	a := m.CSR()
	for _, shape := range []struct{ heads, width int }{{8, 8}, {1, 8}, {3, 8}, {2, 16}, {1, 64}, {9, 8}, {2, 72}, {5, 16},
		{8, 3}, {1, 7}, {1, 6}, {3, 5}, {16, 1}, {12, 2}, {1, 1}, {2, 4}, {9, 1}} {
		hw := shape.heads * shape.width
		vals := randmat.Uniform32(a.NNZ()*shape.heads, 6)
		for e := range vals {
			switch e % 5 {
			case 0, 1:
				vals[e] = 0
			case 2:
				vals[e] = float32(math.Copysign(0, -1))
			}
		}
		x := randmat.Uniform32(a.Cols*hw, 7)
		for i := range x {
			x[i] -= 0.5
		}
		// Poison every x block that only zero weights reach.
		reached := make([]bool, a.Cols*shape.heads)
		for k := range a.NNZ() {
			for h := range shape.heads {
				if vals[k*shape.heads+h] != 0 {
					reached[int(a.Indices[k])*shape.heads+h] = true
				}
			}
		}
		for j, r := range reached {
			if !r {
				x[j*shape.width] = float32(math.NaN())
				if shape.width > 1 {
					x[j*shape.width+1] = float32(math.Inf(-1))
				}
			}
		}
		want := make([]float32, a.Rows*hw)
		got := make([]float32, a.Rows*hw)
		edgeMulRows(a, vals, nil, shape.heads, x, shape.width, want, false, 0, a.Rows)
		if !edgeMulSIMD(a, vals, nil, shape.heads, x, shape.width, got, 0, a.Rows) {
			t.Skip("no assembly kernel on this machine")
		}
		compareBits(t, "forward", shape.heads, shape.width, got, want)
		// Transposed: x has a.Rows rows, reached through the transpose.
		at, perm := m.Transposed(), m.TransposeSources()
		xt := randmat.Uniform32(at.Cols*hw, 8)
		want, got = make([]float32, at.Rows*hw), make([]float32, at.Rows*hw)
		edgeMulRows(at, vals, perm, shape.heads, xt, shape.width, want, false, 0, at.Rows)
		// A block of rows in the middle, as forRows hands one goroutine.
		edgeMulRows(at, vals, perm, shape.heads, xt, shape.width, got, false, 0, 100)
		edgeMulSIMD(at, vals, perm, shape.heads, xt, shape.width, got, 100, 250)
		edgeMulRows(at, vals, perm, shape.heads, xt, shape.width, got, false, 250, at.Rows)
		compareBits(t, "transposed", shape.heads, shape.width, got, want)
	}
}

func compareBits(t *testing.T, name string, heads, width int, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s, %d heads of %d: out[%d] = %v (%#x), portable %v (%#x)", name, heads, width, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestEdgeSoftmaxSIMD checks the assembly EdgeSoftmax of 8 heads against
// the portable kernel, bit for bit: scores from −200 to 200 (so that some
// differences from the row's maximum fall below Exp32's range), zeros of
// both signs, empty rows, and rows with NaN or infinities, which the
// portable kernel takes over; split into row blocks as forRows does.
func TestEdgeSoftmaxSIMD(t *testing.T) {
	const heads = 8
	a := randomCSR(400, 400, 2500, 9) // about a third of the rows empty
	e := randmat.Uniform32(a.NNZ()*heads, 10)
	for k := range e {
		switch {
		case k%97 == 0:
			e[k] = 0
		case k%89 == 0:
			e[k] = float32(math.Copysign(0, -1))
		case k%13 == 0:
			e[k] = (e[k] - 0.5) * 400
		default:
			e[k] = (e[k] - 0.5) * 8
		}
	}
	e[a.Indptr[50]*heads+3] = float32(math.NaN())
	e[a.Indptr[120]*heads] = float32(math.Inf(1))
	e[a.Indptr[121]*heads+7] = float32(math.Inf(-1))
	e[(a.Indptr[399]-1)*heads+2] = float32(math.NaN()) // in the last non-empty row
	want := make([]float32, len(e))
	edgeSoftmaxRows(a, e, heads, want, 0, a.Rows)
	got := make([]float32, len(e))
	for _, b := range [][2]int{{0, 37}, {37, 300}, {300, a.Rows}} {
		if !edgeSoftmaxSIMD(a, e, heads, got, b[0], b[1]) {
			t.Skip("no assembly kernel on this machine")
		}
	}
	nan := 0
	for k := range want {
		if math.IsNaN(float64(want[k])) {
			nan++
		}
	}
	if nan == 0 {
		t.Fatal("no NaN in the portable kernel's output: the test lost its non-finite rows")
	}
	compareBits(t, "softmax", heads, 1, got, want)
}

// TestEdgeAddRowSums8 checks EdgeAdd and EdgeRowSums of 8 heads (the
// assembly kernels on amd64) against their definitions, bit for bit, with
// and without perm and on row blocks as forRows hands them out; on other
// machines it checks the portable kernels the same way.
func TestEdgeAddRowSums8(t *testing.T) {
	const heads = 8
	m := NewMatrix(randomCSR(300, 200, 2500, 11))
	a := m.CSR()
	u, v := randmat.Uniform32(a.Rows*heads, 12), randmat.Uniform32(a.Cols*heads, 13)
	vals := randmat.Uniform32(a.NNZ()*heads, 14)
	for i := range vals {
		vals[i] = (vals[i] - 0.5) * float32(1+i%7*100)
	}
	got := make([]float32, a.NNZ()*heads)
	edgeAddSIMD(a, u, v, heads, got, 0, 120)
	EdgeAdd(a, nil, u, v, heads, got) // whole, through the dispatch
	for i := range a.Rows {
		for k := a.Indptr[i]; k < a.Indptr[i+1]; k++ {
			for h := range heads {
				want := u[i*heads+h] + v[int(a.Indices[k])*heads+h]
				if g := got[k*heads+h]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("EdgeAdd: edge %d head %d = %v, want %v", k, h, g, want)
				}
			}
		}
	}
	for _, tc := range []struct {
		name string
		p    *CSR
		perm []int32
	}{{"rows", a, nil}, {"columns", m.Transposed(), m.TransposeSources()}} {
		got := make([]float32, tc.p.Rows*heads)
		if edgeRowSumsSIMD(tc.p, vals, tc.perm, heads, got, 0, 50) {
			edgeRowSumsSIMD(tc.p, vals, tc.perm, heads, got, 50, tc.p.Rows)
		} else {
			EdgeRowSums(tc.p, nil, vals, tc.perm, heads, got)
		}
		for i := range tc.p.Rows {
			for h := range heads {
				var want float32
				for k := tc.p.Indptr[i]; k < tc.p.Indptr[i+1]; k++ {
					e := k
					if tc.perm != nil {
						e = int(tc.perm[k])
					}
					want += vals[e*heads+h]
				}
				if g := got[i*heads+h]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("EdgeRowSums (%s): row %d head %d = %v, want %v", tc.name, i, h, g, want)
				}
			}
		}
	}
}

// TestEdgeDot8 checks EdgeDot of 8 heads (the assembly kernel on amd64
// for heads of 8) against its definition, each head's sum from 0 in
// column order, bit for bit, with values of mixed signs and magnitudes
// (where another order would round differently), on row blocks.
func TestEdgeDot8(t *testing.T) {
	const heads = 8
	a := randomCSR(250, 180, 2000, 15)
	for _, width := range []int{8, 3} {
		hw := heads * width
		u, v := randmat.Uniform32(a.Rows*hw, 16), randmat.Uniform32(a.Cols*hw, 17)
		for i := range u {
			u[i] = (u[i] - 0.5) * float32(1+i%5*1000)
		}
		for i := range v {
			v[i] -= 0.5
		}
		got := make([]float32, a.NNZ()*heads)
		if edgeDotSIMD(a, u, v, heads, width, got, 0, 77) {
			edgeDotSIMD(a, u, v, heads, width, got, 77, a.Rows)
		} else {
			EdgeDot(a, nil, u, v, heads, width, got)
		}
		for i := range a.Rows {
			for k := a.Indptr[i]; k < a.Indptr[i+1]; k++ {
				j := int(a.Indices[k])
				for h := range heads {
					var want float32
					for f := range width {
						want += u[i*hw+h*width+f] * v[j*hw+h*width+f]
					}
					if g := got[k*heads+h]; math.Float32bits(g) != math.Float32bits(want) {
						t.Fatalf("width %d: edge %d head %d = %v, want %v", width, k, h, g, want)
					}
				}
			}
		}
	}
}
