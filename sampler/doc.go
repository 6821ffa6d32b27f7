// Package sampler provides GraphSAGE-style neighbour sampling (Hamilton et
// al., 2017) for mini-batch training of graph neural networks, in the manner
// of PyG's NeighborLoader and DGL's MultiLayerNeighborSampler.
//
// For a batch of seed nodes, a Sampler draws up to fanouts[0] neighbours of
// every seed, then up to fanouts[1] neighbours of every node reached so far,
// and so on outward: fanouts[0] applies to the hop nearest the seeds, as in
// PyG's num_neighbors. A fanout of -1 takes all neighbours. Neighbours are
// drawn uniformly without replacement, so a node of degree at most the
// fanout keeps all its neighbours.
//
// Each hop becomes a Block, a bipartite operator from its source nodes to
// its destination nodes. A Batch lists the blocks input-most first, like
// DGL: an L-layer model reads the features of Batch.InputNodes, applies
// layer k to Blocks[k], and the last block's destinations are the seeds.
// Blocks[k].Src equals Blocks[k-1].Dst.
//
// # Local ids
//
// Sampled nodes are relabelled to local ids in order of discovery: the
// seeds first, in the given order, then the nodes each hop adds. So every
// block's Dst is a prefix of its Src (as in DGL), every Src is a prefix of
// InputNodes, and local id j denotes the same node in every block. All these
// slices share one backing array and must not be modified.
//
// # Aggregation
//
// A block's Adj is the row-mean operator of the sampled edges: row i holds
// 1/k in the columns of the k neighbours sampled for destination i, so Adj
// times the source features is GraphSAGE's mean aggregation. With all
// fanouts -1 the rows equal those of graph.NormalizeMean. Blocks have no
// self-loops: GraphSAGE adds the root term W_root·h_i separately, and the
// destination features h_i are the first len(Dst) rows of the source
// features because Dst is a prefix of Src.
//
// # Randomness and concurrency
//
// All randomness comes from the *rand.Rand (math/rand/v2) passed to each
// call, drawn sequentially, so a batch depends only on the graph, the
// fanouts, the seeds and the generator's state, whatever GOMAXPROCS is. The
// package has no global mutable state. A Sampler holds scratch buffers that
// Sample reuses, so it must not be used by several goroutines at once; for
// parallel loading create one Sampler per goroutine (the immutable graph is
// shared) with its own generator.
package sampler
