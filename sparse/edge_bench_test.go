package sparse

import (
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

// edgeBenchPattern is a PubMed-sized attention pattern: the GCN
// adjacency's entries (edges both ways and the diagonal).
func edgeBenchPattern() *Matrix {
	return NewMatrix(randomCSR(randmat.PubMedNodes, randmat.PubMedNodes, randmat.PubMedAdjacencyNNZ, 4))
}

// BenchmarkEdgeMul times the attention-weighted product of GAT's first
// layer on PubMed: 8 heads of 8 units, forward and transposed (its
// gradient for the features).
func BenchmarkEdgeMul(b *testing.B) {
	const heads, width = 8, 8
	m := edgeBenchPattern()
	a := m.CSR()
	vals := randmat.Uniform32(a.NNZ()*heads, 1)
	x := randmat.Uniform32(a.Cols*heads*width, 2)
	out := make([]float32, a.Rows*heads*width)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			EdgeMul(a, nil, vals, nil, heads, x, width, out, false)
		}
	})
	b.Run("transposed", func(b *testing.B) {
		for b.Loop() {
			EdgeMul(m.Transposed(), nil, vals, m.TransposeSources(), heads, x, width, out, false)
		}
	})
	e := make([]float32, a.NNZ()*heads)
	b.Run("dot", func(b *testing.B) {
		for b.Loop() {
			EdgeDot(a, nil, x, x, heads, width, e)
		}
	})
	b.Run("softmax", func(b *testing.B) {
		for b.Loop() {
			EdgeSoftmax(a, nil, vals, heads, e)
		}
	})
}

// BenchmarkCalibrate times a sequential axpy over the same 7M elements as
// EdgeMul's forward pass, for comparison.
func BenchmarkCalibrate(b *testing.B) {
	x := randmat.Uniform32(108365*64, 2)
	y := make([]float32, 64)
	for b.Loop() {
		for k := 0; k+64 <= len(x); k += 64 {
			axpy(y, 0.5, x[k:k+64])
		}
	}
}
