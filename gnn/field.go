package gnn

import "github.com/gnsr/gnsr/graph"

// Receptive fields.
//
// A model of L local layers (Arch.Local) computes its output at a node from
// the inputs of the nodes within L hops of it. Training needs the output
// at the training nodes only, and a prediction for some nodes at those
// nodes: layer l (input-most first) then needs its output at the nodes
// within L-1-l hops of them, and its input, and its input's gradient, at
// those within L-l hops. Restricted to those rows (sparse.Matrix.
// RestrictRows, nn.AddBiasRows, nn.DropoutMask.RestrictRows), every row
// computed is the whole graph's, bit for bit.

// receptiveFields returns, for h = 0..layers, the nodes within h hops of
// seeds in g, in increasing order; nil when the widest is every node, and
// a restriction would save nothing.
func receptiveFields(g *graph.Graph, seeds []int, layers int) [][]int32 {
	if len(graph.Within(g, seeds, layers)) == g.NumNodes() {
		return nil
	}
	fields := make([][]int32, layers+1)
	for h := range fields {
		fields[h] = graph.Within(g, seeds, h)
	}
	return fields
}

// restrictedBlocks returns the blocks of a model of len(fields)-1 layers on
// the whole-graph block b, restricted to fields (receptiveFields): layer l
// computes rows fields[L-1-l] of its output and, backwards, rows
// fields[L-l] of its input's gradient.
func restrictedBlocks(b *Block, fields [][]int32) []*Block {
	n := len(fields) - 1
	out := make([]*Block, n)
	for l := range out {
		out[l] = b.restrict(fields[n-1-l], fields[n-l])
	}
	return out
}
