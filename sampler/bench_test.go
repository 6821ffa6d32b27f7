package sampler

import (
	"testing"
)

// PubMed (Planetoid) has 19717 nodes and 44324 undirected edges.
const pubmedNodes, pubmedEdges = 19717, 44324

// benchSample samples batches of batchSize seeds from a PubMed-sized random
// graph, cycling through one shuffled epoch, and reports seeds per second.
func benchSample(b *testing.B, batchSize int, fanouts []int) {
	g := mustGraph(b, pubmedNodes, randomEdges(pubmedNodes, pubmedEdges, 42))
	s, err := New(g, fanouts)
	if err != nil {
		b.Fatal(err)
	}
	nodes := make([]int, pubmedNodes)
	for i := range nodes {
		nodes[i] = i
	}
	rng := newRNG(1)
	batches := Batches(nodes, batchSize, rng)
	seeds, k := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		batch := batches[k%len(batches)]
		k++
		if _, err := s.Sample(batch, rng); err != nil {
			b.Fatal(err)
		}
		seeds += len(batch)
	}
	b.ReportMetric(float64(seeds)/b.Elapsed().Seconds(), "seeds/s")
}

func BenchmarkSamplePubMed(b *testing.B)            { benchSample(b, 512, []int{25, 10}) }
func BenchmarkSamplePubMedAll(b *testing.B)         { benchSample(b, 512, []int{-1, -1}) }
func BenchmarkSamplePubMedThreeHop(b *testing.B)    { benchSample(b, 512, []int{15, 10, 5}) }
func BenchmarkSamplePubMedSmallFanout(b *testing.B) { benchSample(b, 512, []int{3, 2}) }
