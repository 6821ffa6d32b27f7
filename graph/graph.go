package graph

import (
	"slices"
	"unsafe"

	gonum "gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/iterator"
	"gonum.org/v1/gonum/graph/simple"
)

// Graph is an immutable simple undirected graph on the nodes 0..n-1.
//
// The neighbours of node i are indices[indptr[i]:indptr[i+1]], sorted
// ascending without repeats and never including i; every edge is stored
// once in each direction. The zero value is a graph with no nodes.
//
// Graph implements gonum's graph.Undirected with node IDs equal to node
// indices; its nodes are simple.Node values and its edges simple.Edge values.
type Graph struct {
	n       int
	indptr  []int   // len n+1 (nil when n == 0)
	indices []int32 // len 2·NumEdges
}

var _ gonum.Undirected = (*Graph)(nil)

// NumNodes returns the number of nodes.
func (g *Graph) NumNodes() int { return g.n }

// NumEdges returns the number of undirected edges.
func (g *Graph) NumEdges() int { return len(g.indices) / 2 }

// Bytes returns the memory the graph's arrays take: 8 bytes a node and 4
// bytes a directed entry (8 an undirected edge), and the unused room a
// build from repeated edges may leave.
func (g *Graph) Bytes() int64 {
	return int64(cap(g.indptr))*int64(unsafe.Sizeof(int(0))) + int64(cap(g.indices))*4
}

// Degree returns the number of neighbours of node i.
// Degree panics if i is not in [0, NumNodes()).
func (g *Graph) Degree(i int) int {
	g.check(i)
	return g.indptr[i+1] - g.indptr[i]
}

// Neighbors returns the neighbours of node i in ascending order.
// The returned slice is a view of the graph's storage and must not be
// modified; its capacity is clipped so appending to it copies.
// Neighbors panics if i is not in [0, NumNodes()).
func (g *Graph) Neighbors(i int) []int32 {
	g.check(i)
	lo, hi := g.indptr[i], g.indptr[i+1]
	return g.indices[lo:hi:hi]
}

func (g *Graph) check(i int) {
	if i < 0 || i >= g.n {
		panic("graph: node index out of range")
	}
}

func (g *Graph) has(id int64) bool { return 0 <= id && id < int64(g.n) }

// Node returns the node with the given ID if it is in [0, NumNodes()),
// and nil otherwise. It is part of gonum's graph.Graph interface.
func (g *Graph) Node(id int64) gonum.Node {
	if !g.has(id) {
		return nil
	}
	return simple.Node(id)
}

// Nodes returns all nodes of g in ascending ID order. It is part of gonum's
// graph.Graph interface.
func (g *Graph) Nodes() gonum.Nodes {
	if g.n == 0 {
		return gonum.Empty
	}
	return iterator.NewImplicitNodes(0, g.n, newNode)
}

func newNode(id int) gonum.Node { return simple.Node(id) }

// From returns the neighbours of the node with the given ID in ascending ID
// order, and an empty iterator if there is no such node. It is part of
// gonum's graph.Graph interface.
func (g *Graph) From(id int64) gonum.Nodes {
	if !g.has(id) || g.Degree(int(id)) == 0 {
		return gonum.Empty
	}
	return &neighborNodes{ids: g.Neighbors(int(id)), curr: -1}
}

// HasEdgeBetween reports whether the nodes with IDs xid and yid are
// adjacent. It is part of gonum's graph.Graph interface.
func (g *Graph) HasEdgeBetween(xid, yid int64) bool {
	if !g.has(xid) || !g.has(yid) || xid == yid {
		return false
	}
	// Search the shorter list: hubs have long neighbour lists.
	if g.Degree(int(xid)) > g.Degree(int(yid)) {
		xid, yid = yid, xid
	}
	_, ok := slices.BinarySearch(g.Neighbors(int(xid)), int32(yid))
	return ok
}

// Edge returns the edge from uid to vid as a simple.Edge if the nodes are
// adjacent, and nil otherwise. It is part of gonum's graph.Graph interface.
func (g *Graph) Edge(uid, vid int64) gonum.Edge {
	if !g.HasEdgeBetween(uid, vid) {
		return nil
	}
	return simple.Edge{F: simple.Node(uid), T: simple.Node(vid)}
}

// EdgeBetween returns the edge between xid and yid, oriented from xid to
// yid, if the nodes are adjacent, and nil otherwise. It is part of gonum's
// graph.Undirected interface.
func (g *Graph) EdgeBetween(xid, yid int64) gonum.Edge { return g.Edge(xid, yid) }

// neighborNodes iterates over a neighbour list without allocating a
// []graph.Node up front, which matters for traversals of large graphs.
type neighborNodes struct {
	ids  []int32
	curr int
}

func (it *neighborNodes) Len() int {
	if it.curr >= len(it.ids) {
		return 0
	}
	return len(it.ids) - it.curr - 1
}

func (it *neighborNodes) Next() bool {
	if it.curr < len(it.ids) {
		it.curr++
	}
	return it.curr < len(it.ids)
}

func (it *neighborNodes) Node() gonum.Node {
	if it.curr < 0 || it.curr >= len(it.ids) {
		return nil
	}
	return simple.Node(it.ids[it.curr])
}

func (it *neighborNodes) Reset() { it.curr = -1 }

// NodeSlice returns the remaining nodes and exhausts the iterator; it lets
// graph.NodesOf avoid the generic Next/Node loop.
func (it *neighborNodes) NodeSlice() []gonum.Node {
	if it.Len() == 0 {
		it.curr = len(it.ids)
		return nil
	}
	nodes := make([]gonum.Node, 0, it.Len())
	for _, id := range it.ids[it.curr+1:] {
		nodes = append(nodes, simple.Node(id))
	}
	it.curr = len(it.ids)
	return nodes
}
