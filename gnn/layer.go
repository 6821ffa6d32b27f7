package gnn

import (
	"fmt"
	"math"
	"sync"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sampler"
	"github.com/gnsr/gnsr/sparse"
	"github.com/gnsr/gnsr/sparseops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Layer is one graph convolution of a model. One implementation serves
// full-batch training on a whole graph and training on sampled bipartite
// blocks, as PyTorch Geometric's convolutions take x or a (x_src, x_dst)
// pair: Forward maps the features of a Block's source nodes to outputs for
// its destination nodes, which are the first NumDst source nodes.
//
// Forward must end with ctx.Output(z, bias), which adds the bias (if any)
// and whatever the model puts after the layer (its activation), fused into
// one op. A Layer must not keep graph nodes between calls: a model's
// layers are built into several graphs (training, evaluation, one per
// mini-batch) over the same parameter tensors.
type Layer interface {
	// Params returns the layer's parameters, in a fixed order.
	Params() []*Param
	// Width returns the width of the layer's output.
	Width() int
	// Forward builds the layer's output for blk's destination nodes into
	// ctx's graph from x, the features of blk's source and destination
	// nodes.
	Forward(ctx *Context, x Features, blk *Block) (*G.Node, error)
}

// Param is a named parameter tensor of a layer. Its Value is updated in
// place by the optimizer, so every graph built on it sees the current
// weights.
type Param struct {
	Name  string        // unique within its layer, e.g. "weight"
	Value *tensor.Dense // a matrix; float32 in training, float64 in gradient checks
}

// NewParam returns a rows×cols float32 parameter holding init (or zeros if
// init is nil). It panics if init has another length.
func NewParam(name string, rows, cols int, init []float32) *Param {
	if init == nil {
		init = make([]float32, rows*cols)
	}
	if len(init) != rows*cols {
		panic(fmt.Sprintf("gnn: NewParam %s: %d values for %d×%d", name, len(init), rows, cols))
	}
	return &Param{Name: name, Value: tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(init))}
}

// Input is a feature matrix that a layer multiplies by its weights: a
// dense node (the output of an earlier layer), or for a model's first
// layer the input features as a sparse matrix that is a constant of the
// step (the trainer applies input dropout to its entries).
type Input struct {
	Dense  *G.Node
	Sparse *sparse.Matrix
	// memo, if not nil, holds products of this input computed in an
	// earlier graph, which Mul reuses (layer-wise inference).
	memo *productMemo
}

// Rows returns the number of rows of x.
func (x Input) Rows() int {
	if x.Sparse != nil {
		return x.Sparse.CSR().Rows
	}
	return x.Dense.Shape()[0]
}

// Cols returns the number of columns of x.
func (x Input) Cols() int {
	if x.Sparse != nil {
		return x.Sparse.CSR().Cols
	}
	return x.Dense.Shape()[1]
}

// Mul returns the node x·w.
func (x Input) Mul(w *G.Node) (*G.Node, error) {
	if x.memo != nil {
		return x.memo.mul(x, w)
	}
	if x.Sparse != nil {
		return sparseops.Mul(x.Sparse, w)
	}
	return nn.MatMul(x.Dense, w)
}

// Features are a layer's input on a block: Src holds the features of the
// block's source nodes and Dst those of its destination nodes, NumDst rows
// of Src from DstOffset (the same Input on a whole graph).
type Features struct {
	Src, Dst Input
}

// Normalization names a propagation matrix of a block's edges.
type Normalization int

// The normalizations of Block.Adjacency. For a block of a sampled
// computation graph, degrees are those within the block (see
// SampledBlock).
const (
	// SymmetricNorm is GCN's D^-1/2 (A+I) D^-1/2 (Kipf & Welling).
	SymmetricNorm Normalization = iota
	// MeanNorm is D^-1 A, the mean over neighbours (GraphSAGE); the rows
	// of nodes without neighbours are empty.
	MeanNorm
	// SelfLoops is the pattern of A+I with every value 1: the edges that
	// attention weighs (GAT), a node's own among them.
	SelfLoops
	// SumNorm is A with every value 1: the sum over neighbours (GIN).
	SumNorm
)

func (n Normalization) String() string {
	switch n {
	case SymmetricNorm:
		return "symmetric"
	case MeanNorm:
		return "mean"
	case SelfLoops:
		return "self-loops"
	case SumNorm:
		return "sum"
	}
	return fmt.Sprintf("Normalization(%d)", int(n))
}

// Block is the adjacency a layer aggregates over: NumDst destination nodes,
// each with edges from some of NumSrc source nodes, the destinations being
// the first NumDst source nodes. On a whole graph both are the graph's
// nodes; in a sampled computation graph a block is one hop.
//
// Its propagation matrices are made on first use and kept; a Block may be
// shared by several graphs and goroutines.
type Block struct {
	NumDst, NumSrc int
	// DstOffset is the position of the first destination among the
	// sources: the destinations are sources DstOffset to
	// DstOffset+NumDst−1. It is 0 but in the row blocks of layer-wise
	// inference, whose sources are all nodes.
	DstOffset int

	build func(Normalization) *sparse.CSR
	// parent, if not nil, is the block whose matrices this one's are
	// restricted views of (restrict), computing rows dst of products and
	// rows src of transposed products.
	parent   *Block
	dst, src []int32
	// whole, if not nil, is the block whose matrices' rows DstOffset to
	// DstOffset+NumDst−1 this one's are (rowRange).
	whole *Block
	mu    sync.Mutex
	mats  map[Normalization]*sparse.Matrix
}

// dstRows returns the slice of the destinations' rows among the sources'.
func (b *Block) dstRows() tensor.Slice { return G.S(b.DstOffset, b.DstOffset+b.NumDst) }

// Adjacency returns the NumDst×NumSrc propagation matrix of b under
// normalization n. It panics for an unknown normalization.
func (b *Block) Adjacency(n Normalization) *sparse.Matrix {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.mats[n]; m != nil {
		return m
	}
	if n < SymmetricNorm || n > SumNorm {
		panic("gnn: Block.Adjacency: unknown " + n.String())
	}
	var m *sparse.Matrix
	if b.whole != nil {
		m = b.whole.Adjacency(n).RowRange(b.DstOffset, b.DstOffset+b.NumDst)
	} else if b.parent != nil {
		m = b.parent.Adjacency(n).View()
		m.RestrictRows(b.dst, b.src)
	} else {
		m = sparse.NewMatrix(b.build(n))
	}
	if b.mats == nil {
		b.mats = map[Normalization]*sparse.Matrix{}
	}
	b.mats[n] = m
	return m
}

// restrict returns a block of b's nodes whose propagation matrices are
// views of b's that compute only the rows dst of products (the
// destinations a layer's output is needed at) and the rows src of
// transposed products (the sources its gradient is needed at): see
// sparse.Matrix.RestrictRows.
func (b *Block) restrict(dst, src []int32) *Block {
	return &Block{NumDst: b.NumDst, NumSrc: b.NumSrc, parent: b, dst: dst, src: src}
}

// rowRange returns the block of b's destinations [r0, r1) with all b's
// sources: its matrices are those rows of b's, which products compute as
// they do in b's (sparse.Matrix.RowRange).
func (b *Block) rowRange(r0, r1 int) *Block {
	return &Block{NumDst: r1 - r0, NumSrc: b.NumSrc, DstOffset: r0, whole: b}
}

// FullBlock returns the block of a whole graph: every node is a source and
// a destination, and the propagation matrices are graph's.
func FullBlock(g *graph.Graph) *Block {
	n := g.NumNodes()
	return &Block{NumDst: n, NumSrc: n, build: func(norm Normalization) *sparse.CSR {
		switch norm {
		case SymmetricNorm:
			return graph.NormalizeSymmetric(g)
		case MeanNorm:
			return graph.NormalizeMeanShared(g)
		case SelfLoops:
			return graph.AddSelfLoops(graph.Adjacency(g))
		}
		return graph.Adjacency(g)
	}}
}

// SampledBlock returns the block of one hop of a sampled computation
// graph. Its edges are the sampled ones (sb.Adj's pattern); MeanNorm is
// sb.Adj itself, and SymmetricNorm is D_dst^-1/2 (A+I) D_src^-1/2 with the
// row and column sums of A+I within the block, I linking each destination
// to itself as a source. It panics if sb.Adj is nil.
func SampledBlock(sb *sampler.Block) *Block {
	adj := sb.Adj
	if adj == nil {
		panic("gnn: SampledBlock of a block without adjacency")
	}
	return &Block{NumDst: adj.Rows, NumSrc: adj.Cols, build: func(norm Normalization) *sparse.CSR {
		switch norm {
		case MeanNorm:
			return adj
		case SumNorm:
			return withValues(adj, false, func(int, int) float32 { return 1 })
		case SelfLoops:
			return withValues(adj, true, func(int, int) float32 { return 1 })
		}
		a := withValues(adj, true, func(int, int) float32 { return 1 })
		colDeg := make([]float32, a.Cols)
		for _, j := range a.Indices {
			colDeg[j]++
		}
		return withValues(adj, true, func(i, j int) float32 {
			rowDeg := float64(a.Indptr[i+1] - a.Indptr[i])
			return float32(1 / math.Sqrt(rowDeg*float64(colDeg[j])))
		})
	}}
}

// withValues returns a copy of a's pattern, with (i, i) added to every row
// i if loops is set (a must have at least as many columns as rows), whose
// entry (i, j) is value(i, j). Columns stay sorted.
func withValues(a *sparse.CSR, loops bool, value func(i, j int) float32) *sparse.CSR {
	extra := 0
	if loops {
		extra = a.Rows
	}
	out := &sparse.CSR{Rows: a.Rows, Cols: a.Cols, Indptr: make([]int, a.Rows+1),
		Indices: make([]int32, 0, a.NNZ()+extra), Data: make([]float32, 0, a.NNZ()+extra)}
	for i := range a.Rows {
		add := func(j int32) {
			out.Indices = append(out.Indices, j)
			out.Data = append(out.Data, value(i, int(j)))
		}
		self := !loops
		for _, j := range a.Indices[a.Indptr[i]:a.Indptr[i+1]] {
			if !self && int(j) >= i {
				if int(j) > i {
					add(int32(i))
				}
				self = true
			}
			add(j)
		}
		if !self {
			add(int32(i))
		}
		out.Indptr[i+1] = len(out.Indices)
	}
	return out
}

// Context is what a layer's Forward builds into: one gorgonia graph, the
// nodes of the parameters in it, whether it is a training graph, and the
// dropout masks its training draws anew every step.
type Context struct {
	g        *G.ExprGraph
	training bool
	nodes    map[*Param]*G.Node
	masks    []*nn.DropoutMask
	// output is what Output applies after the bias, set by the model
	// for the layer being built, and rows, if not nil, the rows of the
	// layer's output it needs (the block's restriction); called records
	// that Output was called.
	output activation
	rows   []int32
	called bool
}

// newContext returns a context for building into g.
func newContext(g *G.ExprGraph, training bool) *Context {
	return &Context{g: g, training: training, nodes: map[*Param]*G.Node{}}
}

// Graph returns the graph being built.
func (c *Context) Graph() *G.ExprGraph { return c.g }

// Training reports whether the graph is a training graph (dropout on).
func (c *Context) Training() bool { return c.training }

// Node returns p's node in the graph, made on first use with p's tensor as
// its value, so that the optimizer's updates reach every graph.
func (c *Context) Node(p *Param) *G.Node {
	if n := c.nodes[p]; n != nil {
		return n
	}
	// gorgonia merges input nodes of equal name, type and shape: two
	// layers' biases of one width must not share "bias".
	return c.node(p, fmt.Sprintf("%s@%p", p.Name, p))
}

// node makes p's node, named name.
func (c *Context) node(p *Param, name string) *G.Node {
	s := p.Value.Shape()
	n := G.NewTensor(c.g, p.Value.Dtype(), s.Dims(), G.WithShape(s...), G.WithName(name), G.WithValue(p.Value))
	c.nodes[p] = n
	return n
}

// Dropout returns x with each element dropped with probability p and the
// others scaled by 1/(1-p), a fresh draw every training step; outside
// training, or with p = 0, it returns x.
func (c *Context) Dropout(x *G.Node, p float64) (*G.Node, error) {
	if !c.training || p == 0 {
		return x, nil
	}
	m := nn.NewDropoutMask(p, x.Shape()...)
	c.masks = append(c.masks, m)
	return nn.Dropout(x, m)
}

// dropout is Dropout of a layer's input x of which the rows rows only
// (nil: all) are needed, the others being zero (nn.DropoutMask.RestrictRows).
func (c *Context) dropout(x *G.Node, p float64, rows []int32) (*G.Node, error) {
	out, err := c.Dropout(x, p)
	if err != nil || out == x || rows == nil {
		return out, err
	}
	c.masks[len(c.masks)-1].RestrictRows(rows)
	return out, nil
}

// Output returns z plus the bias b (nil: none) followed by what the model
// puts after the layer (its activation), as one fused op. A layer's
// Forward returns what Output returns.
func (c *Context) Output(z *G.Node, b *Param) (*G.Node, error) {
	c.called = true
	var bn *G.Node
	if b != nil {
		bn = c.Node(b)
	}
	return c.output.apply(z, bn, c.rows)
}
