package graph

import (
	"slices"
	"testing"

	"gonum.org/v1/gonum/graph/path"
)

// TestWithin checks Within against gonum's breadth-first shortest paths.
func TestWithin(t *testing.T) {
	g := randomGraph(t, 300, 450, 3)
	seeds := []int{5, 17, 17, 200}
	var paths []path.Shortest
	for _, s := range seeds {
		paths = append(paths, path.DijkstraFrom(g.Node(int64(s)), g))
	}
	for hops := range 4 {
		got := Within(g, seeds, hops)
		var want []int32
		for v := range g.NumNodes() {
			for _, p := range paths {
				if p.WeightTo(int64(v)) <= float64(hops) {
					want = append(want, int32(v))
					break
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d hops: %d nodes %v, want %d %v", hops, len(got), got, len(want), want)
		}
	}
	if got := Within(g, nil, 2); len(got) != 0 {
		t.Errorf("no seeds: %v", got)
	}
}
