// Package randmat generates the deterministic random matrices that the
// tests and benchmarks of several packages share. It imports none of them,
// so that their internal tests can use it.
package randmat

import "math/rand/v2"

// COO returns nnz coordinate triplets of a rows×cols matrix at uniformly
// random positions (duplicates possible) with values in [0, 1), generated
// from seed: the input of sparse.FromCOO.
func COO(rows, cols, nnz int, seed uint64) (r, c []int, v []float32) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	r = make([]int, nnz)
	c = make([]int, nnz)
	v = make([]float32, nnz)
	for i := range r {
		r[i] = rng.IntN(rows)
		c[i] = rng.IntN(cols)
		v[i] = rng.Float32()
	}
	return r, c, v
}

// Uniform32 returns n values drawn from U(-1, 1) with seed.
func Uniform32(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := make([]float32, n)
	for i := range d {
		d[i] = rng.Float32()*2 - 1
	}
	return d
}

// Normal64 returns n standard normal values drawn with seed.
func Normal64(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	return d
}

// The sizes of PubMed, for benchmarks that time kernels at a real scale:
// nodes, features, stored feature entries, and entries of the GCN
// propagation matrix (edges in both directions plus the diagonal).
const (
	PubMedNodes        = 19717
	PubMedFeatures     = 500
	PubMedFeatureNNZ   = 988031
	PubMedAdjacencyNNZ = 108365
)
