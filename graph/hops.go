package graph

import (
	"fmt"
	"slices"
)

// Within returns, in increasing order, the nodes of g at most hops edges
// away from one of seeds, the seeds included: the receptive field of
// seeds in a model of hops graph convolutions, whose output at a node
// depends on its neighbours' inputs and its own. Repeated seeds count once.
// Within panics if a seed is not a node of g or hops < 0.
func Within(g *Graph, seeds []int, hops int) []int32 {
	if hops < 0 {
		panic(fmt.Sprintf("graph: Within: %d hops", hops))
	}
	seen := make([]bool, g.n)
	var frontier []int32
	for _, s := range seeds {
		g.check(s)
		if !seen[s] {
			seen[s] = true
			frontier = append(frontier, int32(s))
		}
	}
	all := slices.Clone(frontier)
	for range hops {
		var next []int32
		for _, v := range frontier {
			for _, u := range g.Neighbors(int(v)) {
				if !seen[u] {
					seen[u] = true
					next = append(next, u)
				}
			}
		}
		if len(next) == 0 {
			break
		}
		all = append(all, next...)
		frontier = next
	}
	slices.Sort(all)
	return all
}
