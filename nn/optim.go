package nn

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// param is a parameter's value and gradient data, both []float32 or both
// []float64 of the same length.
type param struct {
	w, g any
}

// params reads the value and gradient of every node, and fails, without
// changing anything, if one is missing, mistyped or not finite.
func params(nodes []*gorgonia.Node) ([]param, error) {
	ps := make([]param, len(nodes))
	for i, n := range nodes {
		w, err := paramDense(n.Value())
		if err != nil {
			return nil, fmt.Errorf("nn: parameter %d (%s): %w", i, n.Name(), err)
		}
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("nn: parameter %d (%s): %w", i, n.Name(), err)
		}
		g, err := paramDense(gv)
		if err != nil {
			return nil, fmt.Errorf("nn: gradient of parameter %d (%s): %w", i, n.Name(), err)
		}
		if g.Dtype() != w.Dtype() || g.Shape().TotalSize() != w.Shape().TotalSize() {
			return nil, fmt.Errorf("nn: gradient of parameter %d (%s) is %v%v, want %v%v", i, n.Name(), g.Dtype(), g.Shape(), w.Dtype(), w.Shape())
		}
		ps[i] = param{floatData(w), floatData(g)}
		if j := nonFinite(ps[i].g); j >= 0 {
			return nil, fmt.Errorf("nn: gradient of parameter %d (%s) is not finite at element %d", i, n.Name(), j)
		}
	}
	return ps, nil
}

// floatData returns d's data, a []float32 or []float64, without
// Dense.Data's reflection.
func floatData(d *tensor.Dense) any {
	if d.Dtype() == tensor.Float32 {
		return autograd.Floats[float32](d)
	}
	return autograd.Floats[float64](d)
}

// paramDense returns v as a float *tensor.Dense that can be updated in place.
func paramDense(v gorgonia.Value) (*tensor.Dense, error) {
	w, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("value is %T, want *tensor.Dense", v)
	}
	if dt := w.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("unsupported dtype %v", dt)
	}
	if w.RequiresIterator() {
		return nil, errors.New("value is a view")
	}
	return w, nil
}

// nonFinite returns the index of the first NaN or Inf in s, or -1. The
// slice is scanned in parallel, each range for its first such element.
func nonFinite(s any) int {
	switch s := s.(type) {
	case []float32:
		return firstNonFinite(s)
	case []float64:
		return firstNonFinite(s)
	}
	return -1
}

// firstNonFinite is nonFinite for one type: every range records its first
// non-finite element, and the least of them wins.
func firstNonFinite[T float32 | float64](s []T) int {
	var first atomic.Int64
	first.Store(math.MaxInt64)
	parallel.For(len(s), minParallelElems, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			// x-x is 0 for finite x, NaN for NaN and ±Inf.
			if v := s[i]; v-v != 0 {
				for old := first.Load(); int64(i) < old && !first.CompareAndSwap(old, int64(i)); old = first.Load() {
				}
				return
			}
		}
	})
	if j := first.Load(); j != math.MaxInt64 {
		return int(j)
	}
	return -1
}

func sizeOf(s any) int {
	switch s := s.(type) {
	case []float32:
		return len(s)
	case []float64:
		return len(s)
	}
	return 0
}

func zero(s any) {
	switch s := s.(type) {
	case []float32:
		clear(s)
	case []float64:
		clear(s)
	}
}

// newLike returns a zeroed slice of the type and length of s.
func newLike(s any) any {
	switch s := s.(type) {
	case []float32:
		return make([]float32, len(s))
	case []float64:
		return make([]float64, len(s))
	}
	return nil
}

func toFloat64(s any) []float64 {
	switch s := s.(type) {
	case []float32:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), s...)
	}
	return nil
}

// fromFloat64 copies src into dst, a []float32 or []float64 of the same length.
func fromFloat64(dst any, src []float64) {
	switch d := dst.(type) {
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, src)
	}
}

// Adam is the Adam optimizer with the semantics of PyTorch's torch.optim.Adam
// (amsgrad off): weight decay is L2, added to the gradient; the moments are
// kept in each parameter's dtype; and the update is
//
//	w -= LR/(1-β₁ᵗ) · m / (sqrt(v)/sqrt(1-β₂ᵗ) + Eps)
//
// which is LR·m̂/(sqrt(v̂)+Eps) computed in PyTorch's order.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64

	params []*gorgonia.Node
	step   int
	m, v   []any // per parameter, []float32 or []float64 like its value
}

// NewAdam returns an Adam optimizer for params with PyTorch's defaults
// (β₁ 0.9, β₂ 0.999, ε 1e-8). The fields may be changed between steps.
func NewAdam(params []*gorgonia.Node, lr, weightDecay float64) *Adam {
	return &Adam{
		LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay,
		params: append([]*gorgonia.Node(nil), params...),
	}
}

// Params returns the parameters the optimizer updates.
func (a *Adam) Params() []*gorgonia.Node { return append([]*gorgonia.Node(nil), a.params...) }

// Rebind makes a update params in place of the nodes it was made with,
// keeping its moments and step count: for trainers that build a new graph
// per mini-batch over the same parameter tensors. It returns an error if the
// count, a shape or a dtype differs.
func (a *Adam) Rebind(params []*gorgonia.Node) error {
	if err := checkRebind("Adam", a.params, params); err != nil {
		return err
	}
	a.params = append(a.params[:0:0], params...)
	return nil
}

// SetLR sets the learning rate of the next steps.
func (a *Adam) SetLR(lr float64) { a.LR = lr }

// checkRebind reports whether params can replace old: the same count, and
// each of the same shape and dtype.
func checkRebind(name string, old, params []*gorgonia.Node) error {
	if len(params) != len(old) {
		return fmt.Errorf("nn: %s.Rebind: %d parameters, have %d", name, len(params), len(old))
	}
	for i, p := range params {
		if !p.Shape().Eq(old[i].Shape()) || p.Dtype() != old[i].Dtype() {
			return fmt.Errorf("nn: %s.Rebind: %v is %v%v, was %v%v", name, p, p.Dtype(), p.Shape(), old[i].Dtype(), old[i].Shape())
		}
	}
	return nil
}

// Step updates every parameter's value in place from its gradient
// (Node.Grad) and then zeroes the gradient, since gorgonia's machines
// accumulate into it. Step returns an error, having changed nothing, if a
// gradient is missing or contains NaN or Inf.
func (a *Adam) Step() error {
	ps, err := params(a.params)
	if err != nil {
		return err
	}
	if a.m == nil {
		a.m = make([]any, len(ps))
		a.v = make([]any, len(ps))
	}
	for i, p := range ps {
		if a.m[i] == nil || sizeOf(a.m[i]) != sizeOf(p.w) {
			a.m[i], a.v[i] = newLike(p.w), newLike(p.w)
		}
	}
	a.step++
	t := float64(a.step)
	stepSize := a.LR / (1 - math.Pow(a.Beta1, t))
	bc2Sqrt := math.Sqrt(1 - math.Pow(a.Beta2, t))
	for i, p := range ps {
		switch w := p.w.(type) {
		case []float32:
			adamStep(w, p.g.([]float32), a.m[i].([]float32), a.v[i].([]float32), a, stepSize, bc2Sqrt)
		case []float64:
			adamStep(w, p.g.([]float64), a.m[i].([]float64), a.v[i].([]float64), a, stepSize, bc2Sqrt)
		}
	}
	return nil
}

// adamStep updates w, m and v from g and zeroes g, in ranges on up to
// GOMAXPROCS goroutines: every element is updated on its own.
func adamStep[T float32 | float64](w, g, m, v []T, a *Adam, stepSize, bc2Sqrt float64) {
	parallel.For(len(w), minParallelElems/4, func(lo, hi int) {
		adam(w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], a, stepSize, bc2Sqrt)
		clear(g[lo:hi])
	})
}

func adam[T float32 | float64](w, g, m, v []T, a *Adam, stepSize, bc2Sqrt float64) {
	var (
		wd    = T(a.WeightDecay)
		omb1  = T(1 - a.Beta1)
		b2    = T(a.Beta2)
		omb2  = T(1 - a.Beta2)
		eps   = T(a.Eps)
		ss    = T(stepSize)
		bc2   = T(bc2Sqrt)
		decay = a.WeightDecay != 0
	)
	for i := range w {
		gi := g[i]
		if decay {
			gi += wd * w[i]
		}
		m[i] += omb1 * (gi - m[i]) // torch's lerp, = β₁m + (1-β₁)g
		v[i] = b2*v[i] + omb2*gi*gi
		w[i] -= ss * m[i] / (T(math.Sqrt(float64(v[i])))/bc2 + eps)
	}
}

// State returns a copy of the optimizer's state: kind "adam", the step
// count and the buffers m and v. Before the first step there are no
// buffers.
func (a *Adam) State() OptimizerState {
	s := OptimizerState{Kind: OptimizerAdam, Step: a.step}
	if a.m != nil {
		s.Buffers = [][][]float64{make([][]float64, len(a.m)), make([][]float64, len(a.v))}
		for i := range a.m {
			s.Buffers[0][i], s.Buffers[1][i] = toFloat64(a.m[i]), toFloat64(a.v[i])
		}
	}
	return s
}

// SetState restores a state returned by State. It returns an error if the
// state is another optimizer's or does not fit the parameters.
func (a *Adam) SetState(s OptimizerState) error {
	if s.Kind != OptimizerAdam {
		return fmt.Errorf("nn: Adam given the state of optimizer %q", s.Kind)
	}
	if s.Step < 0 {
		return fmt.Errorf("nn: Adam state has negative step %d", s.Step)
	}
	if s.Buffers == nil {
		a.step, a.m, a.v = s.Step, nil, nil
		return nil
	}
	if len(s.Buffers) != 2 {
		return fmt.Errorf("nn: Adam state has %d buffers, want 2 (m and v)", len(s.Buffers))
	}
	m, err := restoreBuffers("Adam", a.params, s.Buffers[0], false)
	if err != nil {
		return err
	}
	v, err := restoreBuffers("Adam", a.params, s.Buffers[1], false)
	if err != nil {
		return err
	}
	a.step, a.m, a.v = s.Step, m, v
	return nil
}

// restoreBuffers converts one per-parameter buffer of a state to the
// parameters' element type, checking sizes. With optional, a nil entry
// stays nil (a buffer not yet allocated).
func restoreBuffers(name string, params []*gorgonia.Node, bufs [][]float64, optional bool) ([]any, error) {
	if len(bufs) != len(params) {
		return nil, fmt.Errorf("nn: %s state for %d parameters, have %d", name, len(bufs), len(params))
	}
	out := make([]any, len(params))
	for i, n := range params {
		if bufs[i] == nil && optional {
			continue
		}
		w, err := paramDense(n.Value())
		if err != nil {
			return nil, fmt.Errorf("nn: parameter %d (%s): %w", i, n.Name(), err)
		}
		if len(bufs[i]) != w.Size() {
			return nil, fmt.Errorf("nn: %s state for parameter %d (%s) has %d values, want %d", name, i, n.Name(), len(bufs[i]), w.Size())
		}
		out[i] = newLike(w.Data())
		fromFloat64(out[i], bufs[i])
	}
	return out, nil
}

// SGD is stochastic gradient descent with the semantics of PyTorch's
// torch.optim.SGD: with g = grad + WeightDecay·w, the momentum buffer is
// b = g on the first step and b = Momentum·b + (1-Dampening)·g after; the
// step direction is g + Momentum·b with Nesterov, else b (g if Momentum is 0);
// and w -= LR·direction.
type SGD struct {
	LR, Momentum, Dampening, WeightDecay float64
	Nesterov                             bool

	params []*gorgonia.Node
	buf    []any // momentum buffers, nil until a parameter's first step
}

// NewSGD returns plain SGD for params; set the fields for momentum, Nesterov
// and weight decay.
func NewSGD(params []*gorgonia.Node, lr float64) *SGD {
	return &SGD{LR: lr, params: append([]*gorgonia.Node(nil), params...)}
}

// Params returns the parameters the optimizer updates.
func (s *SGD) Params() []*gorgonia.Node { return append([]*gorgonia.Node(nil), s.params...) }

// Step updates every parameter's value in place from its gradient and then
// zeroes the gradient. Step returns an error, having changed nothing, if a
// gradient is missing or not finite, or if Nesterov is set without momentum
// or with dampening.
func (s *SGD) Step() error {
	if s.Nesterov && (s.Momentum <= 0 || s.Dampening != 0) {
		return errors.New("nn: SGD: Nesterov momentum requires a momentum and zero dampening")
	}
	ps, err := params(s.params)
	if err != nil {
		return err
	}
	if s.buf == nil {
		s.buf = make([]any, len(ps))
	}
	for i, p := range ps {
		first := false
		if s.Momentum != 0 && (s.buf[i] == nil || sizeOf(s.buf[i]) != sizeOf(p.w)) {
			s.buf[i], first = newLike(p.w), true
		}
		switch w := p.w.(type) {
		case []float32:
			b, _ := s.buf[i].([]float32)
			sgd(w, p.g.([]float32), b, s, first)
		case []float64:
			b, _ := s.buf[i].([]float64)
			sgd(w, p.g.([]float64), b, s, first)
		}
		zero(p.g)
	}
	return nil
}

func sgd[T float32 | float64](w, g, buf []T, s *SGD, first bool) {
	var (
		lr   = T(s.LR)
		wd   = T(s.WeightDecay)
		mom  = T(s.Momentum)
		damp = T(1 - s.Dampening)
	)
	if s.Momentum != 0 && !s.Nesterov && !first {
		// The common case (momentum, after the first step) without the
		// loop-invariant branches, the same operations in the same order.
		g, buf = g[:len(w)], buf[:len(w)]
		for i := range w {
			d := g[i]
			if s.WeightDecay != 0 {
				d += wd * w[i]
			}
			b := mom*buf[i] + damp*d
			buf[i] = b
			w[i] -= lr * b
		}
		return
	}
	for i := range w {
		d := g[i]
		if s.WeightDecay != 0 {
			d += wd * w[i]
		}
		if s.Momentum != 0 {
			if first {
				buf[i] = d
			} else {
				buf[i] = mom*buf[i] + damp*d
			}
			if s.Nesterov {
				d += mom * buf[i]
			} else {
				d = buf[i]
			}
		}
		w[i] -= lr * d
	}
}

// State returns a copy of the optimizer's state: kind "sgd" and one
// buffer, the momentum of each parameter (nil before its first step with
// momentum).
func (s *SGD) State() OptimizerState {
	buf := make([][]float64, len(s.params))
	for i := range s.buf {
		if s.buf[i] != nil {
			buf[i] = toFloat64(s.buf[i])
		}
	}
	return OptimizerState{Kind: OptimizerSGD, Buffers: [][][]float64{buf}}
}

// SetState restores a state returned by State. It returns an error if the
// state is another optimizer's or does not fit the parameters.
func (s *SGD) SetState(st OptimizerState) error {
	if st.Kind != OptimizerSGD {
		return fmt.Errorf("nn: SGD given the state of optimizer %q", st.Kind)
	}
	if len(st.Buffers) != 1 {
		return fmt.Errorf("nn: SGD state has %d buffers, want 1 (momentum)", len(st.Buffers))
	}
	buf, err := restoreBuffers("SGD", s.params, st.Buffers[0], true)
	if err != nil {
		return err
	}
	s.buf = buf
	return nil
}

// Rebind makes s update params in place of the nodes it was made with,
// keeping its momentum buffers (see Adam.Rebind).
func (s *SGD) Rebind(params []*gorgonia.Node) error {
	if err := checkRebind("SGD", s.params, params); err != nil {
		return err
	}
	s.params = append(s.params[:0:0], params...)
	return nil
}

// SetLR sets the learning rate of the next steps.
func (s *SGD) SetLR(lr float64) { s.LR = lr }
