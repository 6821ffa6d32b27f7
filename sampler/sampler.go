package sampler

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

var (
	// ErrFanout is wrapped by errors reporting an empty fanout list or a
	// fanout that is neither positive nor -1.
	ErrFanout = errors.New("sampler: invalid fanout")

	// ErrSeedRange is wrapped by errors reporting a seed outside
	// [0, NumNodes).
	ErrSeedRange = errors.New("sampler: seed out of range")

	// ErrDuplicateSeed is wrapped by errors reporting a seed listed twice.
	ErrDuplicateSeed = errors.New("sampler: duplicate seed")
)

// Block is one hop of a sampled computation graph: a bipartite graph from
// the source nodes Src to the destination nodes Dst.
type Block struct {
	// Dst and Src are the global ids of the destination and source nodes
	// in local-id order. Dst is a prefix of Src; both share storage with
	// the other blocks of their Batch and must not be modified.
	Dst, Src []int

	// Adj is the len(Dst)×len(Src) row-mean operator of the sampled edges:
	// row i holds 1/k in the local columns of the k neighbours sampled for
	// Dst[i], with sorted columns. The rows of nodes without neighbours are
	// empty. There are no self-loops.
	Adj *sparse.CSR
}

// Batch is the sampled computation graph of a batch of seed nodes.
type Batch struct {
	// Seeds are the seed nodes, in the order given to Sample.
	Seeds []int

	// Blocks holds one Block per hop, input-most first: Blocks[0] is the
	// hop farthest from the seeds, Blocks[len(Blocks)-1].Dst equals Seeds,
	// and Blocks[k].Src equals Blocks[k-1].Dst.
	Blocks []Block

	// InputNodes are the global ids of all sampled nodes, in local-id
	// order; it equals Blocks[0].Src.
	InputNodes []int
}

// slot maps a global node to its local id in the current Sample call; it
// is valid when gen equals the Sampler's generation, which saves clearing
// the whole map for every batch. Keeping both in one struct puts them in
// one cache line.
type slot struct {
	gen uint32
	id  int32
}

// Sampler draws neighbourhood samples from a graph. Its methods must not be
// called concurrently; see the package documentation.
type Sampler struct {
	g       *graph.Graph
	fanouts []int

	// Scratch reused across calls.
	slots   []slot   // global node → local id, len NumNodes
	gen     uint32   // current generation of slots
	mark    []uint32 // Floyd's membership set over neighbour positions
	markGen uint32   // current generation of mark
}

// New returns a Sampler for g with the given fanouts, one per hop from the
// seeds outward: fanouts[0] applies to the hop nearest the seeds (PyG's
// convention) and -1 takes all neighbours. The fanouts are copied.
//
// New returns an error wrapping ErrFanout if fanouts is empty or holds a
// value that is neither positive nor -1. It panics if g is nil.
func New(g *graph.Graph, fanouts []int) (*Sampler, error) {
	if g == nil {
		panic("sampler: nil graph")
	}
	if len(fanouts) == 0 {
		return nil, fmt.Errorf("%w: no hops", ErrFanout)
	}
	for h, f := range fanouts {
		if f < 1 && f != -1 {
			return nil, fmt.Errorf("%w: fanout %d at hop %d, want a positive value or -1", ErrFanout, f, h)
		}
	}
	return &Sampler{
		g:       g,
		fanouts: slices.Clone(fanouts),
		slots:   make([]slot, g.NumNodes()),
	}, nil
}

// Sample returns the sampled computation graph of seeds, drawing from rng.
// For every hop it samples, for every destination node, min(degree, fanout)
// distinct neighbours uniformly at random (all of them when the fanout is
// -1 or at least the degree). seeds is copied; an empty seeds gives blocks
// with no nodes.
//
// Sample returns an error wrapping ErrSeedRange if a seed is outside
// [0, NumNodes) and one wrapping ErrDuplicateSeed if a seed is repeated,
// since the seeds must be distinct rows of the output. It panics if rng is
// nil.
func (s *Sampler) Sample(seeds []int, rng *rand.Rand) (*Batch, error) {
	if rng == nil {
		panic("sampler: nil rng")
	}
	s.nextGen()
	n := s.g.NumNodes()
	// nodes lists the global ids of the sampled nodes by local id.
	nodes := make([]int, 0, len(seeds))
	for k, v := range seeds {
		if v < 0 || v >= n {
			return nil, fmt.Errorf("%w: seed %d at position %d is outside [0, %d)", ErrSeedRange, v, k, n)
		}
		if s.slots[v].gen == s.gen {
			return nil, fmt.Errorf("%w: seed %d at position %d is also at position %d", ErrDuplicateSeed, v, k, s.slots[v].id)
		}
		s.slots[v] = slot{gen: s.gen, id: int32(len(nodes))}
		nodes = append(nodes, v)
	}

	L := len(s.fanouts)
	blocks := make([]Block, L)
	sizes := make([][2]int, L) // numDst, numSrc of each block
	numDst := len(seeds)
	for h, f := range s.fanouts {
		var adj *sparse.CSR
		var err error
		nodes, adj, err = s.hop(nodes, numDst, f, rng)
		if err != nil {
			return nil, err
		}
		b := L - 1 - h
		blocks[b].Adj = adj
		sizes[b] = [2]int{numDst, len(nodes)}
		numDst = len(nodes)
	}
	// Slice only now: nodes may have been reallocated by later hops.
	nodes = slices.Clip(nodes)
	for b := range blocks {
		blocks[b].Dst = nodes[:sizes[b][0]:sizes[b][0]]
		blocks[b].Src = nodes[:sizes[b][1]:sizes[b][1]]
	}
	return &Batch{
		Seeds:      slices.Clone(seeds),
		Blocks:     blocks,
		InputNodes: nodes,
	}, nil
}

// hop samples up to fanout neighbours of each of the destination nodes
// nodes[:numDst], appending newly reached nodes to nodes, and returns the
// extended nodes and the block's operator.
func (s *Sampler) hop(nodes []int, numDst, fanout int, rng *rand.Rand) ([]int, *sparse.CSR, error) {
	// Row sizes are known from the degrees, so size the arrays exactly.
	indptr := make([]int, numDst+1)
	for i, v := range nodes[:numDst] {
		k := len(s.g.Neighbors(v))
		if fanout >= 0 && k > fanout {
			k = fanout
		}
		indptr[i+1] = indptr[i] + k
	}
	nnz := indptr[numDst]
	// Each sampled edge adds at most one node: growing once avoids the
	// repeated copies of append, the largest cost after the sampling.
	nodes = slices.Grow(nodes, nnz)
	indices := make([]int32, nnz)
	data := make([]float32, nnz)
	for i := 0; i < numDst; i++ {
		nbrs := s.g.Neighbors(nodes[i])
		lo, hi := indptr[i], indptr[i+1]
		row := indices[lo:hi]
		if len(row) == len(nbrs) {
			for p, u := range nbrs {
				row[p], nodes = s.localID(int(u), nodes)
			}
		} else {
			nodes = s.floyd(row, nbrs, nodes, rng)
		}
		// Local ids are not monotone in global ids; sorted columns are
		// what package sparse builds and give a canonical, cache-friendly row.
		// Rows of new nodes are already sorted, so check first.
		if !isSorted(row) {
			slices.Sort(row)
		}
		if k := hi - lo; k > 0 {
			w := float32(1 / float64(k)) // as graph.NormalizeMean rounds
			for p := lo; p < hi; p++ {
				data[p] = w
			}
		}
	}
	adj, err := sparse.NewCSR(numDst, len(nodes), indptr, indices, data)
	if err != nil {
		return nil, nil, fmt.Errorf("sampler: internal error: %w", err)
	}
	return nodes, adj, nil
}

// floyd fills row with the local ids of len(row) distinct neighbours drawn
// uniformly from nbrs by Floyd's algorithm, which draws exactly len(row)
// numbers and needs no copy of nbrs: for j = d-k, ..., d-1 it adds a random
// t in [0, j], or j itself if t is already chosen. Membership is a
// generation-stamped array over neighbour positions, so no clearing and no
// allocation happen per node.
func (s *Sampler) floyd(row []int32, nbrs []int32, nodes []int, rng *rand.Rand) []int {
	d, k := len(nbrs), len(row)
	if len(s.mark) < d {
		s.mark = make([]uint32, d)
		s.markGen = 0
	}
	s.markGen++
	if s.markGen == 0 {
		clear(s.mark)
		s.markGen = 1
	}
	mark := s.mark[:d]
	for p, j := 0, d-k; j < d; p, j = p+1, j+1 {
		t := rng.IntN(j + 1)
		if mark[t] == s.markGen {
			t = j
		}
		mark[t] = s.markGen
		row[p], nodes = s.localID(int(nbrs[t]), nodes)
	}
	return nodes
}

func isSorted(s []int32) bool {
	for k := 1; k < len(s); k++ {
		if s[k] < s[k-1] {
			return false
		}
	}
	return true
}

// localID returns the local id of global node v, appending v to nodes if it
// has none yet.
func (s *Sampler) localID(v int, nodes []int) (int32, []int) {
	sl := &s.slots[v]
	if sl.gen != s.gen {
		*sl = slot{gen: s.gen, id: int32(len(nodes))}
		nodes = append(nodes, v)
	}
	return sl.id, nodes
}

// nextGen starts a new generation of the local-id map, clearing it only
// when the counter wraps.
func (s *Sampler) nextGen() {
	s.gen++
	if s.gen == 0 {
		clear(s.slots)
		s.gen = 1
	}
}

// Batches returns nodes split into consecutive batches of batchSize, the
// last one possibly smaller (PyG's drop_last=False), after shuffling a copy
// of nodes with rng; call it once per epoch. If rng is nil the order is
// kept, as for evaluation. nodes is not modified; the batches share one
// backing array. Batches returns nil if nodes is empty and panics if
// batchSize < 1.
func Batches(nodes []int, batchSize int, rng *rand.Rand) [][]int {
	if batchSize < 1 {
		panic("sampler: batch size < 1")
	}
	if len(nodes) == 0 {
		return nil
	}
	all := slices.Clone(nodes)
	if rng != nil {
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	}
	out := make([][]int, 0, (len(all)+batchSize-1)/batchSize)
	for lo := 0; lo < len(all); lo += batchSize {
		hi := min(lo+batchSize, len(all))
		out = append(out, all[lo:hi:hi])
	}
	return out
}
