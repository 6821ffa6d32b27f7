package sparse

import (
	"runtime"
	"testing"

	"github.com/gnsr/gnsr/internal/randmat"
)

// randomCSR returns a rows×cols matrix with about nnz entries at uniformly
// random positions (duplicates are merged) and values in [0, 1), generated
// from a fixed seed.
func randomCSR(rows, cols, nnz int, seed uint64) *CSR {
	r, c, v := randmat.COO(rows, cols, nnz, seed)
	m, err := FromCOO(rows, cols, r, c, v)
	if err != nil {
		panic(err)
	}
	return m
}

func randomDense32(n int, seed uint64) []float32 { return randmat.Uniform32(n, seed) }

func benchmarkSpMM(b *testing.B, rows, cols, nnz, k int) {
	m := randomCSR(rows, cols, nnz, 1)
	x := randomDense32(cols*k, 2)
	dst := make([]float32, rows*k)
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "threads")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.MulDense32(dst, x, k)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(2*float64(m.NNZ())*float64(k)*float64(b.N)/secs/1e9, "GFLOP/s")
}

func BenchmarkSpMMPubMedFeatures(b *testing.B) {
	benchmarkSpMM(b, randmat.PubMedNodes, randmat.PubMedFeatures, randmat.PubMedFeatureNNZ, 16)
}

func BenchmarkSpMMPubMedAdjacency16(b *testing.B) {
	benchmarkSpMM(b, randmat.PubMedNodes, randmat.PubMedNodes, randmat.PubMedAdjacencyNNZ, 16)
}

func BenchmarkSpMMPubMedAdjacency3(b *testing.B) {
	benchmarkSpMM(b, randmat.PubMedNodes, randmat.PubMedNodes, randmat.PubMedAdjacencyNNZ, 3)
}

// Amazon Computers: 13752 nodes, 767 binary features (3.68M non-zeros) and a
// hidden size of 64. The transposed product is the weight gradient Xᵀ·G.
const (
	computersNodes    = 13752
	computersFeatures = 767
	computersFeatNNZ  = 4200000 // about 3.68M after merging duplicates
)

func BenchmarkSpMMComputersFeatures64(b *testing.B) {
	benchmarkSpMM(b, computersNodes, computersFeatures, computersFeatNNZ, 64)
}

func BenchmarkSpMMComputersFeaturesT64(b *testing.B) {
	benchmarkSpMM(b, computersFeatures, computersNodes, computersFeatNNZ, 64)
}

func benchmarkSpMMBlocked(b *testing.B, rows, cols, nnz, k int) {
	m := randomCSR(rows, cols, nnz, 1)
	c := NewMatrix(m)
	x := randomDense32(cols*k, 2)
	dst := make([]float32, rows*k)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		MulInto(c, false, dst, x, k, false)
	}
	b.ReportMetric(2*float64(m.NNZ())*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSpMMBlockedComputersFeatures64(b *testing.B) {
	benchmarkSpMMBlocked(b, computersNodes, computersFeatures, computersFeatNNZ, 64)
}

func BenchmarkSpMMBlockedComputersFeaturesT64(b *testing.B) {
	benchmarkSpMMBlocked(b, computersFeatures, computersNodes, computersFeatNNZ, 64)
}

func BenchmarkSpMMBlockedPubMedFeaturesT16(b *testing.B) {
	benchmarkSpMMBlocked(b, randmat.PubMedFeatures, randmat.PubMedNodes, randmat.PubMedFeatureNNZ, 16)
}

// benchmarkMatrixDropout times Matrix.Dropout of a Computers-sized
// feature matrix, with random values or binary (as the real one).
func benchmarkMatrixDropout(b *testing.B, binary bool) {
	m := randomCSR(computersNodes, computersFeatures, computersFeatNNZ, 1)
	if binary {
		for i := range m.Data {
			m.Data[i] = 1
		}
	}
	c := NewMatrix(m)
	x := randomDense32(computersFeatures*64, 2)
	dst := make([]float32, computersNodes*64)
	seed := uint64(0)
	c.Dropout(0.5, seed)
	MulInto(c, false, dst, x, 64, false) // so that Dropout refreshes column blocks too
	for b.Loop() {
		seed++
		c.Dropout(0.5, seed)
	}
}

func BenchmarkMatrixDropoutComputers(b *testing.B)       { benchmarkMatrixDropout(b, false) }
func BenchmarkMatrixDropoutComputersBinary(b *testing.B) { benchmarkMatrixDropout(b, true) }

// benchmarkTransposed times Xᵀ·G for a Computers-sized X: gathered over all
// entries through the cached transpose, or scattered from the entries kept
// by dropout.
func benchmarkTransposed(b *testing.B, p float64) {
	m := randomCSR(computersNodes, computersFeatures, computersFeatNNZ, 1)
	c := NewMatrix(m)
	c.Dropout(p, 1)
	const k = 64
	g := randomDense32(computersNodes*k, 2)
	dst := make([]float32, computersFeatures*k)
	for b.Loop() {
		MulInto(c, true, dst, g, k, false)
	}
}

func BenchmarkTransposedGather(b *testing.B)  { benchmarkTransposed(b, 0) }
func BenchmarkTransposedScatter(b *testing.B) { benchmarkTransposed(b, 0.5) }
