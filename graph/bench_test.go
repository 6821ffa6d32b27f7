package graph

import "testing"

// PubMed (Planetoid) has 19717 nodes and 44324 undirected edges.
const pubmedNodes, pubmedEdges = 19717, 44324

func pubmedLike(b *testing.B) *Graph {
	b.Helper()
	return randomGraph(b, pubmedNodes, pubmedEdges, 42)
}

func BenchmarkFromEdges(b *testing.B) {
	edges := randomEdges(pubmedNodes, pubmedEdges, 42)
	for b.Loop() {
		if _, err := FromEdges(pubmedNodes, edges); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeSymmetric(b *testing.B) {
	g := pubmedLike(b)
	for b.Loop() {
		NormalizeSymmetric(g)
	}
}

func BenchmarkNormalizeMean(b *testing.B) {
	g := pubmedLike(b)
	for b.Loop() {
		NormalizeMean(g)
	}
}

func BenchmarkLargestConnectedComponent(b *testing.B) {
	g := pubmedLike(b)
	for b.Loop() {
		LargestConnectedComponent(g)
	}
}
