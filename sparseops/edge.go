package sparseops

import (
	"fmt"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The edge ops compute with values on the edges (stored entries) of a
// sparse pattern, a sparse.Matrix whose own values they ignore: the
// machinery of attention. Unlike Mul, their edge values are nodes, and
// gradients reach them. An edge node is E×heads for a pattern of E
// entries; a node matrix is rows×(heads·width), head h of a row being its
// h-th block of width columns. See the kernels of package sparse.

// SDDMMKind says how SDDMM combines the two endpoints of an edge.
type SDDMMKind int

const (
	// SDDMMAdd is u[i,h] + v[j,h], for u and v of one column per head:
	// GAT's additive attention scores.
	SDDMMAdd SDDMMKind = iota
	// SDDMMDot is the dot product of head h's blocks of u[i] and v[j]:
	// dot-product attention.
	SDDMMDot
)

// SDDMM returns the E×heads edge node whose value on edge k = (i, j) of
// pattern p and head h combines the destination's u[i] and the source's
// v[j] as kind says (the sampled dense-dense product). u has p's rows and
// v its columns; with SDDMMAdd each has heads columns, with SDDMMDot heads
// blocks of equal width. Gradients reach u and v. It returns an error
// wrapping ErrShape if the shapes or dtypes do not fit.
func SDDMM(p *sparse.Matrix, u, v *G.Node, heads int, kind SDDMMKind) (*G.Node, error) {
	a := p.CSR()
	if err := checkNodes("SDDMM", u, v); err != nil {
		return nil, err
	}
	us, vs := u.Shape().Clone(), v.Shape().Clone()
	width := 1
	if kind == SDDMMDot && heads > 0 {
		width = us[1] / heads
	}
	if heads < 1 || us[0] != a.Rows || vs[0] != a.Cols || us[1] != vs[1] || us[1] != heads*width || (kind != SDDMMAdd && kind != SDDMMDot) {
		return nil, fmt.Errorf("%w: SDDMM (kind %d) of %v and %v on a %d×%d pattern with %d heads", ErrShape, kind, us, vs, a.Rows, a.Cols, heads)
	}
	dt, es := u.Dtype(), tensor.Shape{a.NNZ(), heads}
	spec := autograd.LayerSpec{Name: "sparseops.SDDMM", Dtype: dt, In: []tensor.Shape{us, vs}, Shape: es,
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			dst, _ := p.Restriction()
			switch o := out.Data().(type) {
			case []float32:
				sddmm(kind, a, dst, in[0].Data().([]float32), in[1].Data().([]float32), heads, width, o)
			case []float64:
				sddmm(kind, a, dst, in[0].Data().([]float64), in[1].Data().([]float64), heads, width, o)
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 u, 1 v, 2 out, 3 g; steps 4 du, 5 dv.
		if kind == SDDMMAdd {
			return []autograd.GradStep{
				{Op: edgeRowSumsOp("SDDMMGradU", dt, p, false, heads, es), Args: []int{3}},
				{Op: edgeRowSumsOp("SDDMMGradV", dt, p, true, heads, es), Args: []int{3}},
			}, []int{4, 5}
		}
		return []autograd.GradStep{
			{Op: edgeMulOp("SDDMMGradU", dt, p, false, heads, width, es, vs), Args: []int{3, 1}},
			{Op: edgeMulOp("SDDMMGradV", dt, p, true, heads, width, es, us), Args: []int{3, 0}},
		}, []int{4, 5}
	}
	return autograd.Apply(autograd.NewLayer(spec), "sparseops: SDDMM", u, v)
}

func sddmm[T float32 | float64](kind SDDMMKind, a *sparse.CSR, rows []int32, u, v []T, heads, width int, out []T) {
	if kind == SDDMMAdd {
		sparse.EdgeAdd(a, rows, u, v, heads, out)
		return
	}
	sparse.EdgeDot(a, rows, u, v, heads, width, out)
}

// EdgeSoftmax returns the softmax of the E×heads edge node e over the
// edges of each row of pattern p (each destination's incoming edges), per
// head. It returns an error wrapping ErrShape if e does not fit p.
func EdgeSoftmax(p *sparse.Matrix, e *G.Node) (*G.Node, error) {
	a := p.CSR()
	if err := checkNodes("EdgeSoftmax", e); err != nil {
		return nil, err
	}
	es := e.Shape().Clone()
	if es[0] != a.NNZ() || es[1] < 1 {
		return nil, fmt.Errorf("%w: EdgeSoftmax of %v on a pattern of %d entries", ErrShape, es, a.NNZ())
	}
	dt, heads := e.Dtype(), es[1]
	spec := autograd.LayerSpec{Name: "sparseops.EdgeSoftmax", Dtype: dt, In: []tensor.Shape{es}, Shape: es.Clone(),
		Fn: func(out *tensor.Dense, in []*tensor.Dense) error {
			dst, _ := p.Restriction()
			switch o := out.Data().(type) {
			case []float32:
				sparse.EdgeSoftmax(a, dst, in[0].Data().([]float32), heads, o)
			case []float64:
				sparse.EdgeSoftmax(a, dst, in[0].Data().([]float64), heads, o)
			}
			return nil
		},
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 e, 1 alpha, 2 g; step 3 de.
		grad := autograd.NewFn("sparseops.EdgeSoftmaxGrad", dt, es.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			dst, _ := p.Restriction()
			switch o := out.Data().(type) {
			case []float32:
				sparse.EdgeSoftmaxGrad(a, dst, in[0].Data().([]float32), in[1].Data().([]float32), heads, o)
			case []float64:
				sparse.EdgeSoftmaxGrad(a, dst, in[0].Data().([]float64), in[1].Data().([]float64), heads, o)
			}
			return nil
		}, es.Clone(), es.Clone())
		return []autograd.GradStep{{Op: grad, Args: []int{1, 2}}}, []int{3}
	}
	return autograd.Apply(autograd.NewLayer(spec), "sparseops: EdgeSoftmax", e)
}

// EdgeMul returns the product of pattern p, weighted per head by the E×heads
// edge node vals, with x: out[i, h, ·] = Σ_{k=(i,j)} vals[k,h]·x[j, h, ·],
// for x of p's columns and heads blocks of equal width. Gradients reach
// both vals (the SDDMM of the incoming gradient and x) and x (the
// transposed product). It returns an error wrapping ErrShape if the shapes
// or dtypes do not fit.
func EdgeMul(p *sparse.Matrix, vals, x *G.Node) (*G.Node, error) {
	a := p.CSR()
	if err := checkNodes("EdgeMul", vals, x); err != nil {
		return nil, err
	}
	es, xs := vals.Shape().Clone(), x.Shape().Clone()
	heads := es[1]
	if es[0] != a.NNZ() || heads < 1 || xs[0] != a.Cols || xs[1]%heads != 0 {
		return nil, fmt.Errorf("%w: EdgeMul of edge values %v and %v on a %d×%d pattern of %d entries", ErrShape, es, xs, a.Rows, a.Cols, a.NNZ())
	}
	dt, width := x.Dtype(), xs[1]/heads
	ys := tensor.Shape{a.Rows, xs[1]}
	spec := autograd.LayerSpec{Name: "sparseops.EdgeMul", Dtype: dt, In: []tensor.Shape{es, xs}, Shape: ys,
		Fn: edgeMulFn(p, false, heads, width),
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 vals, 1 x, 2 out, 3 g; steps 4 dvals, 5 dx.
		dvals := autograd.NewFn("sparseops.EdgeMulGradValues", dt, es.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			dst, _ := p.Restriction()
			switch o := out.Data().(type) {
			case []float32:
				sparse.EdgeDot(a, dst, in[0].Data().([]float32), in[1].Data().([]float32), heads, width, o)
			case []float64:
				sparse.EdgeDot(a, dst, in[0].Data().([]float64), in[1].Data().([]float64), heads, width, o)
			}
			return nil
		}, ys.Clone(), xs.Clone())
		return []autograd.GradStep{
			{Op: dvals, Args: []int{3, 1}},
			{Op: edgeMulOp("EdgeMulGradX", dt, p, true, heads, width, es, ys), Args: []int{0, 3}},
		}, []int{4, 5}
	}
	return autograd.Apply(autograd.NewLayer(spec), "sparseops: EdgeMul", vals, x)
}

// edgeMulFn computes EdgeMul of (vals, x) over pattern p, or with trans
// over its transpose (vals being p's edge values), into out: on the rows
// p's restriction computes.
func edgeMulFn(p *sparse.Matrix, trans bool, heads, width int) func(out *tensor.Dense, in []*tensor.Dense) error {
	a, perm := patternOf(p, trans)
	return func(out *tensor.Dense, in []*tensor.Dense) error {
		rows := restrictionOf(p, trans)
		switch o := out.Data().(type) {
		case []float32:
			sparse.EdgeMul(a, rows, in[0].Data().([]float32), perm, heads, in[1].Data().([]float32), width, o, false)
		case []float64:
			sparse.EdgeMul(a, rows, in[0].Data().([]float64), perm, heads, in[1].Data().([]float64), width, o, false)
		}
		return nil
	}
}

// patternOf returns p's pattern, or with trans its transpose and the
// positions of the transpose's entries among p's.
func patternOf(p *sparse.Matrix, trans bool) (*sparse.CSR, []int32) {
	if trans {
		return p.Transposed(), p.TransposeSources()
	}
	return p.CSR(), nil
}

// restrictionOf returns the rows p's restriction computes of p, or with
// trans of its transpose (nil: all).
func restrictionOf(p *sparse.Matrix, trans bool) []int32 {
	dst, src := p.Restriction()
	if trans {
		return src
	}
	return dst
}

// edgeMulOp is the op (vals of shape es, x of shape xs) ↦ EdgeMul over p
// or its transpose, for gradients.
func edgeMulOp(name string, dt tensor.Dtype, p *sparse.Matrix, trans bool, heads, width int, es, xs tensor.Shape) *autograd.Fn {
	rows, _ := p.Dims(trans)
	return autograd.NewFn("sparseops."+name, dt, tensor.Shape{rows, heads * width}, edgeMulFn(p, trans, heads, width), es.Clone(), xs.Clone())
}

// edgeRowSumsOp is the op g (shape es) ↦ EdgeRowSums over p or its
// transpose.
func edgeRowSumsOp(name string, dt tensor.Dtype, p *sparse.Matrix, trans bool, heads int, es tensor.Shape) *autograd.Fn {
	a, perm := patternOf(p, trans)
	return autograd.NewFn("sparseops."+name, dt, tensor.Shape{a.Rows, heads}, func(out *tensor.Dense, in []*tensor.Dense) error {
		rows := restrictionOf(p, trans)
		switch o := out.Data().(type) {
		case []float32:
			sparse.EdgeRowSums(a, rows, in[0].Data().([]float32), perm, heads, o)
		case []float64:
			sparse.EdgeRowSums(a, rows, in[0].Data().([]float64), perm, heads, o)
		}
		return nil
	}, es.Clone())
}

// checkNodes reports whether the nodes are float matrices of one dtype.
func checkNodes(name string, nodes ...*G.Node) error {
	for _, n := range nodes {
		if n == nil {
			return fmt.Errorf("sparseops: %s: nil operand", name)
		}
	}
	dims := make([]int, len(nodes))
	for i := range dims {
		dims[i] = 2
	}
	if err := autograd.CheckInputs("sparseops: "+name, nodes[0].Dtype(), nodes, dims...); err != nil {
		return fmt.Errorf("%w: %w", ErrShape, err)
	}
	return nil
}
