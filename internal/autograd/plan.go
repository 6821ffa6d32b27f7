package autograd

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/internal/matmul"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Buffered is an op that writes its output into a buffer it keeps between
// runs (Reuse on the pointer OutputBuffer returns), and never into a
// buffer the machine offers (no UsePreallocDo). Plan may set that buffer
// to memory shared with ops whose outputs are not alive at the same time.
type Buffered interface {
	G.Op
	OutputBuffer() **tensor.Dense
}

// InPlace is a Buffered op that can write its output over one of its
// inputs: it reads each element of that input before writing the same
// element of the output, or copies the input into the output first.
// InPlaceInput returns the input's index, or -1 for none.
type InPlace interface {
	Buffered
	InPlaceInput() int
}

// ScratchUser is an op that takes scratch memory of the matrix kernels
// from a Scratch it is given, for the duration of each of its runs; Plan
// gives every such op of the graphs of a Pool the pool's one Scratch.
type ScratchUser interface {
	UseScratch(*matmul.Scratch)
}

// Pool holds the float buffers that the ops of the graphs planned with it
// share (Plan). Graphs planned with one Pool must not run at the same time,
// and no value of one may be needed while another runs: a training graph
// and the evaluation graph run after its step, say. The zero value is an
// empty pool.
type Pool struct {
	bufs    []*poolBuf
	scratch matmul.Scratch
}

// poolBuf is a buffer of a Pool: a []float32 or []float64.
type poolBuf struct {
	dt   tensor.Dtype
	data any
	n    int
}

// Bytes returns the memory the pool's buffers take.
func (p *Pool) Bytes() int64 {
	var b int64
	for _, buf := range p.bufs {
		b += int64(buf.n) * int64(buf.dt.Size())
	}
	return b
}

// forever is the last use of a value needed after a run.
const forever = math.MaxInt

// Plan gives the Buffered ops of g output buffers from pool, sharing one
// buffer between ops whose outputs are never alive at the same time in a
// run of g by a TapeMachine, which runs the nodes in the order of
// G.Sort reversed. A value is alive from its op's run to the run of its
// last consumer; values of nodes in keep, and of nodes that nothing in g
// consumes, stay alive after the run (their buffers are not shared within
// g). Ops that are not Buffered may return a view of an input or write
// into the value their machine register held before (gorgonia's register
// reuse): their value is taken to alias all of those, which stay alive as
// long as it. Plan must be called before g first runs and after it is
// complete (gradients included). Ops that take scratch memory
// (ScratchUser) get the pool's. Plan returns an error if g cannot be
// sorted or compiled.
func Plan(g *G.ExprGraph, pool *Pool, keep ...*G.Node) error {
	sorted, err := G.Sort(g)
	if err != nil {
		return fmt.Errorf("autograd: Plan: %w", err)
	}
	_, locMap, err := G.Compile(g)
	if err != nil {
		return fmt.Errorf("autograd: Plan: %w", err)
	}
	n := len(sorted)
	order := make([]*G.Node, n)
	pos := make(map[int64]int, n)
	for i, nd := range sorted {
		order[n-1-i] = nd
		pos[nd.ID()] = n - 1 - i
	}
	kept := make(map[*G.Node]bool, len(keep))
	for _, k := range keep {
		kept[k] = true
	}
	// lastUse[i]: the position of the last consumer of node i.
	lastUse := make([]int, n)
	for i, nd := range order {
		consumers := g.To(nd.ID())
		if kept[nd] || consumers.Len() == 0 {
			lastUse[i] = forever
			continue
		}
		for consumers.Next() {
			lastUse[i] = max(lastUse[i], pos[consumers.Node().ID()])
		}
	}
	// owners[i]: the positions of the Buffered nodes whose buffers node i's
	// value may be (its own for a Buffered node).
	owners := make([][]int, n)
	lastWriter := map[any]int{}
	for i, nd := range order {
		_, buffered := nd.Op().(Buffered)
		switch {
		case buffered:
			owners[i] = []int{i}
		case nd.Op() != nil:
			seen := map[int]bool{}
			add := func(src int) {
				for _, o := range owners[src] {
					if !seen[o] {
						seen[o] = true
						owners[i] = append(owners[i], o)
					}
				}
			}
			children := g.From(nd.ID())
			for children.Next() {
				add(pos[children.Node().ID()])
			}
			if reg, ok := locMap[nd]; ok {
				if w, ok := lastWriter[reg]; ok {
					add(w)
				}
			}
		}
		if reg, ok := locMap[nd]; ok {
			lastWriter[reg] = i
		}
	}
	end := make([]int, n)
	for i := range order {
		for _, o := range owners[i] {
			end[o] = max(end[o], lastUse[i])
		}
	}
	// An op object applied in several nodes has one buffer for all: it
	// keeps its own.
	uses := map[Buffered]int{}
	for _, nd := range order {
		if op, ok := nd.Op().(Buffered); ok {
			uses[op]++
		}
	}
	busy := make([]int, len(pool.bufs)) // position up to which each buffer is taken; -1: free
	bufOf := make([]int, n)             // the pool buffer of each planned node; -1: none
	for i := range bufOf {
		bufOf[i] = -1
	}
	for i := range busy {
		busy[i] = -1
	}
	for i, nd := range order {
		if op, ok := nd.Op().(ScratchUser); ok {
			op.UseScratch(&pool.scratch)
		}
		op, ok := nd.Op().(Buffered)
		if !ok || uses[op] > 1 {
			continue
		}
		dt, shape := nd.Dtype(), nd.Shape()
		if dt != tensor.Float32 && dt != tensor.Float64 || len(shape) == 0 {
			continue
		}
		need := shape.TotalSize()
		best := inPlace(g, nd, pos, owners, end, bufOf, i)
		if best >= 0 && (pool.bufs[best].dt != dt || pool.bufs[best].n < need) {
			best = -1
		}
		for b, buf := range pool.bufs {
			if best >= 0 {
				break
			}
			if busy[b] < i && buf.dt == dt && buf.n >= need && (best < 0 || buf.n < pool.bufs[best].n) {
				best = b
			}
		}
		if best < 0 {
			// None fits: grow the largest free one (graphs planned before
			// keep its old storage), or add one. Growth leaves an eighth
			// of room, for graphs of varying size (sampled batches).
			for b, buf := range pool.bufs {
				if busy[b] < i && buf.dt == dt && (best < 0 || buf.n > pool.bufs[best].n) {
					best = b
				}
			}
			size := need
			if best < 0 {
				pool.bufs = append(pool.bufs, &poolBuf{dt: dt})
				busy = append(busy, -1)
				best = len(pool.bufs) - 1
			} else {
				size += need / 8
			}
			buf := pool.bufs[best]
			buf.n = size
			if dt == tensor.Float32 {
				buf.data = make([]float32, size)
			} else {
				buf.data = make([]float64, size)
			}
		}
		busy[best], bufOf[i] = end[i], best
		var backing any
		switch d := pool.bufs[best].data.(type) {
		case []float32:
			backing = d[:need:need]
		case []float64:
			backing = d[:need:need]
		}
		*op.OutputBuffer() = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(backing))
	}
	return nil
}

// inPlace returns the pool buffer that node nd (at position i) may write
// its output over, or -1: that of its InPlace input, if the input is a
// planned node whose value (aliases included) is last used by nd, and nd
// does not read the input twice.
func inPlace(g *G.ExprGraph, nd *G.Node, pos map[int64]int, owners [][]int, end, bufOf []int, i int) int {
	op, ok := nd.Op().(InPlace)
	if !ok {
		return -1
	}
	k := op.InPlaceInput()
	var children []int
	it := g.From(nd.ID())
	for it.Next() {
		children = append(children, pos[it.Node().ID()])
	}
	if k < 0 || k >= len(children) || len(children) != op.Arity() {
		return -1
	}
	c := children[k]
	for j, o := range children {
		if j != k && o == c {
			return -1
		}
	}
	// The input must be a planned node's own value, not a view of one
	// (whose elements sit elsewhere in the buffer).
	if len(owners[c]) != 1 || owners[c][0] != c || end[c] != i || bufOf[c] < 0 {
		return -1
	}
	return bufOf[c]
}
