package graph

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	gonum "gonum.org/v1/gonum/graph"

	"github.com/gnsr/gnsr/sparse"
)

var (
	// ErrNodeCount is wrapped by errors reporting a node count that is
	// negative or does not fit the int32 node indices.
	ErrNodeCount = errors.New("graph: invalid node count")

	// ErrNodeRange is wrapped by errors reporting a node index outside
	// [0, n).
	ErrNodeRange = errors.New("graph: node index out of range")

	// ErrDuplicateNode is wrapped by errors reporting a node listed twice.
	ErrDuplicateNode = errors.New("graph: duplicate node")

	// ErrNotSquare is wrapped by errors reporting an adjacency matrix that
	// is not square.
	ErrNotSquare = errors.New("graph: adjacency matrix is not square")
)

// MaxNodes is the largest number of nodes a Graph can hold; node indices are
// stored as int32.
const MaxNodes = math.MaxInt32

func checkNodeCount(n int) error {
	if n < 0 || n > MaxNodes {
		return fmt.Errorf("%w: %d is outside [0, %d]", ErrNodeCount, n, MaxNodes)
	}
	return nil
}

// FromEdges returns the undirected graph on the nodes 0..n-1 with the given
// edges. Each pair {u, v} is an undirected edge whatever its orientation;
// self-loops and repeated edges are dropped.
//
// FromEdges returns an error wrapping ErrNodeCount if n is negative or
// larger than MaxNodes, and one wrapping ErrNodeRange, naming the edge's
// index, if an endpoint is outside [0, n).
func FromEdges(n int, edges [][2]int) (*Graph, error) {
	if err := checkNodeCount(n); err != nil {
		return nil, err
	}
	for k, e := range edges {
		if e[0] < 0 || e[0] >= n || e[1] < 0 || e[1] >= n {
			return nil, fmt.Errorf("%w: edge %d (%d, %d) has an endpoint outside [0, %d)", ErrNodeRange, k, e[0], e[1], n)
		}
	}
	return build(n, func(yield func(u, v int32)) {
		for _, e := range edges {
			yield(int32(e[0]), int32(e[1]))
		}
	}), nil
}

// FromPairs returns the undirected graph on the nodes 0..n-1 with an edge
// {src[k], dst[k]} for each k: the compact form of FromEdges, 8 bytes an
// edge, for loaders of large graphs. Each pair is an undirected edge
// whatever its orientation; self-loops and repeated edges are dropped.
// src and dst are not modified and may be dropped once FromPairs returns.
//
// FromPairs returns an error wrapping ErrNodeCount if n is negative or
// larger than MaxNodes, and one wrapping ErrNodeRange, naming the pair's
// index, if an endpoint is outside [0, n). It panics if src and dst differ
// in length.
func FromPairs(n int, src, dst []int32) (*Graph, error) {
	if len(src) != len(dst) {
		panic("graph: FromPairs with src and dst of different lengths")
	}
	if err := checkNodeCount(n); err != nil {
		return nil, err
	}
	for k := range src {
		if u, v := src[k], dst[k]; u < 0 || int(u) >= n || v < 0 || int(v) >= n {
			return nil, fmt.Errorf("%w: pair %d (%d, %d) has an endpoint outside [0, %d)", ErrNodeRange, k, u, v, n)
		}
	}
	return build(n, func(yield func(u, v int32)) {
		for k := range src {
			yield(src[k], dst[k])
		}
	}), nil
}

// FromDirectedCSR returns the undirected graph whose nodes are the rows of
// the square adjacency matrix a, with an edge between i and j when
// a[i,j] ≠ 0 or a[j,i] ≠ 0. Diagonal entries are ignored, as are stored
// entries whose value (after summing duplicates) is zero; a need not have
// sorted columns. a is not modified.
//
// FromDirectedCSR returns an error wrapping ErrNotSquare if a is not square,
// wrapping sparse.ErrInvalid if a is malformed, and wrapping ErrNodeCount
// if a has more than MaxNodes rows. It panics if a is nil.
func FromDirectedCSR(a *sparse.CSR) (*Graph, error) {
	if a.Rows != a.Cols {
		return nil, fmt.Errorf("%w: %d×%d", ErrNotSquare, a.Rows, a.Cols)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	if err := checkNodeCount(a.Rows); err != nil {
		return nil, err
	}
	var r row
	return build(a.Rows, func(yield func(u, v int32)) {
		for i := range a.Rows {
			idx, val := r.canonical(a, i)
			for k, j := range idx {
				if val[k] != 0 {
					yield(int32(i), j)
				}
			}
		}
	}), nil
}

// FromGonum returns a copy of the undirected gonum graph g together with
// ids, the gonum IDs of its nodes: node k of the result is g's node ids[k],
// and ids is sorted ascending. Self-loops are dropped.
//
// FromGonum panics if g has more than MaxNodes nodes or if g.From returns a
// node that is not in g.Nodes.
func FromGonum(g gonum.Undirected) (dst *Graph, ids []int64) {
	nodes := gonum.NodesOf(g.Nodes())
	if len(nodes) > MaxNodes {
		panic("graph: too many nodes")
	}
	ids = make([]int64, len(nodes))
	for k, u := range nodes {
		ids[k] = u.ID()
	}
	slices.Sort(ids)
	index := make(map[int64]int32, len(ids))
	for k, id := range ids {
		index[id] = int32(k)
	}
	return build(len(ids), func(yield func(u, v int32)) {
		for k, id := range ids {
			to := g.From(id)
			for to.Next() {
				j, ok := index[to.Node().ID()]
				if !ok {
					panic("graph: gonum graph has an edge to a node not in its node set")
				}
				yield(int32(k), j)
			}
		}
	}), ids
}

// build returns the graph on n nodes with the undirected edges produced by
// edges, which build calls twice (to count, then to fill) and which must
// produce the same in-range pairs both times. Self-loops and repeats are
// dropped.
func build(n int, edges func(yield func(u, v int32))) *Graph {
	indptr := make([]int, n+1)
	edges(func(u, v int32) {
		if u != v {
			indptr[u+1]++
			indptr[v+1]++
		}
	})
	for i := range n {
		indptr[i+1] += indptr[i]
	}
	next := slices.Clone(indptr[:n])
	indices := make([]int32, indptr[n])
	edges(func(u, v int32) {
		if u != v {
			indices[next[u]] = v
			next[u]++
			indices[next[v]] = u
			next[v]++
		}
	})
	// Sort each row and drop repeats in place; row i's output never
	// overtakes its input, so compaction is safe.
	out := 0
	for i := range n {
		lo, hi := indptr[i], indptr[i+1]
		nbrs := indices[lo:hi]
		slices.Sort(nbrs)
		indptr[i] = out
		for k, v := range nbrs {
			if k == 0 || v != nbrs[k-1] {
				indices[out] = v
				out++
			}
		}
	}
	indptr[n] = out
	// Repeats leave a tail unused; a copy trimmed to size is worth its
	// transient cost only when the tail is large (loaders of big graphs
	// are bounded by their peak memory).
	if out < len(indices)-len(indices)/8 {
		indices = slices.Clone(indices[:out])
	} else {
		indices = indices[:out] // the room beyond stays counted in Bytes
	}
	if n == 0 {
		indptr = nil
	}
	return &Graph{n: n, indptr: indptr, indices: indices}
}

// row returns rows of a CSR matrix with sorted columns and summed
// duplicates, reusing its buffers for rows that are not already canonical.
type row struct {
	idx []int32
	val []float32
	ord []int
}

// canonical returns row i of a with columns sorted ascending and entries at
// the same column summed in storage order, as sparse.FromCOO does. The
// result aliases a when the row is already canonical, and r's buffers
// otherwise; it is valid until the next call.
func (r *row) canonical(a *sparse.CSR, i int) ([]int32, []float32) {
	lo, hi := a.Indptr[i], a.Indptr[i+1]
	idx, val := a.Indices[lo:hi], a.Data[lo:hi]
	if isStrictlySorted(idx) {
		return idx, val
	}
	r.ord = r.ord[:0]
	for k := range idx {
		r.ord = append(r.ord, k)
	}
	slices.SortStableFunc(r.ord, func(p, q int) int { return cmp.Compare(idx[p], idx[q]) })
	r.idx, r.val = r.idx[:0], r.val[:0]
	for _, k := range r.ord {
		if n := len(r.idx); n > 0 && r.idx[n-1] == idx[k] {
			r.val[n-1] += val[k]
			continue
		}
		r.idx = append(r.idx, idx[k])
		r.val = append(r.val, val[k])
	}
	return r.idx, r.val
}

func isStrictlySorted(s []int32) bool {
	for k := 1; k < len(s); k++ {
		if s[k] <= s[k-1] {
			return false
		}
	}
	return true
}
