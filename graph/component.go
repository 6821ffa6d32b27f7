package graph

import (
	"fmt"
	"slices"
)

// Components returns the connected component of every node of g: comp[i] is
// the component of node i, components are numbered 0..count-1 in order of
// their smallest node, and isolated nodes are components of their own.
func Components(g *Graph) (comp []int32, count int) {
	comp = make([]int32, g.n)
	for i := range comp {
		comp[i] = -1
	}
	queue := make([]int32, 0, g.n)
	for s := range g.n {
		if comp[s] >= 0 {
			continue
		}
		c := int32(count)
		count++
		comp[s] = c
		queue = append(queue[:0], int32(s))
		for h := 0; h < len(queue); h++ {
			for _, v := range g.Neighbors(int(queue[h])) {
				if comp[v] < 0 {
					comp[v] = c
					queue = append(queue, v)
				}
			}
		}
	}
	return comp, count
}

// LargestConnectedComponent returns the subgraph induced by the largest
// connected component of g, relabelled 0..k-1 in the order of the original
// node indices, together with nodes, the sorted original indices of the
// kept nodes: node i of sub is node nodes[i] of g. Ties are broken in favour
// of the component holding the smallest node index. For a graph with no
// nodes, sub has no nodes and nodes is empty.
func LargestConnectedComponent(g *Graph) (sub *Graph, nodes []int) {
	comp, count := Components(g)
	size := make([]int, count)
	for _, c := range comp {
		size[c]++
	}
	best := 0
	for c := range size {
		if size[c] > size[best] {
			best = c
		}
	}
	nodes = []int{}
	if count > 0 {
		nodes = make([]int, 0, size[best])
		for i, c := range comp {
			if int(c) == best {
				nodes = append(nodes, i)
			}
		}
	}
	return subgraph(g, nodes), nodes
}

// Subgraph returns the subgraph of g induced by nodes, with node k of the
// result being node nodes[k] of g. nodes need not be sorted.
//
// Subgraph returns an error wrapping ErrNodeRange if a node is outside
// [0, g.NumNodes()) and one wrapping ErrDuplicateNode if a node is listed
// twice.
func Subgraph(g *Graph, nodes []int) (*Graph, error) {
	seen := make([]bool, g.n)
	for k, u := range nodes {
		if u < 0 || u >= g.n {
			return nil, fmt.Errorf("%w: nodes[%d] = %d is outside [0, %d)", ErrNodeRange, k, u, g.n)
		}
		if seen[u] {
			return nil, fmt.Errorf("%w: nodes[%d] = %d", ErrDuplicateNode, k, u)
		}
		seen[u] = true
	}
	return subgraph(g, nodes), nil
}

// subgraph is Subgraph for valid, distinct nodes.
func subgraph(g *Graph, nodes []int) *Graph {
	k := len(nodes)
	if k == 0 {
		return &Graph{}
	}
	relabel := make([]int32, g.n)
	for i := range relabel {
		relabel[i] = -1
	}
	for i, u := range nodes {
		relabel[u] = int32(i)
	}
	// Relabelling is monotone when nodes is sorted, so rows stay sorted and
	// need no sort in the common (LargestConnectedComponent) case.
	sorted := slices.IsSorted(nodes)
	bound := 0
	for _, u := range nodes {
		bound += g.Degree(u)
	}
	indptr := make([]int, k+1)
	indices := make([]int32, 0, bound)
	for i, u := range nodes {
		for _, v := range g.Neighbors(u) {
			if w := relabel[v]; w >= 0 {
				indices = append(indices, w)
			}
		}
		indptr[i+1] = len(indices)
		if !sorted {
			slices.Sort(indices[indptr[i]:])
		}
	}
	return &Graph{n: k, indptr: indptr, indices: slices.Clip(indices)}
}
