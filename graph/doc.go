// Package graph provides gnsr's compact undirected graph and the sparse
// adjacency matrices that graph neural networks consume.
//
// A Graph is a simple undirected graph on the nodes 0..n-1 whose sorted
// neighbour lists are stored in one CSR-like int32 array. It is immutable
// once built: the builders FromEdges, FromPairs (two int32 slices, the
// compact form loaders use), FromDirectedCSR and FromGonum
// symmetrise their input and drop self-loops and repeated edges, and
// Subgraph and LargestConnectedComponent return new graphs.
//
// Graph implements gonum's graph.Undirected, so the algorithms of
// gonum.org/v1/gonum/graph and its sub-packages (topo, path, traverse, ...)
// work on it directly. Node IDs are the node indices.
//
// Adjacency, NormalizeSymmetric and NormalizeMean turn a Graph into the
// float32 sparse.CSR operators of GCN (Kipf & Welling) and GraphSAGE
// mean aggregation; their entries are computed in float64 and rounded once
// to float32 so they match the usual NumPy/SciPy preprocessing.
package graph
