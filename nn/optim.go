package nn

import (
	"errors"
	"fmt"
	"math"

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
		ps[i] = param{w.Data(), g.Data()}
		if j := nonFinite(ps[i].g); j >= 0 {
			return nil, fmt.Errorf("nn: gradient of parameter %d (%s) is not finite at element %d", i, n.Name(), j)
		}
	}
	return ps, nil
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

// nonFinite returns the index of the first NaN or Inf in s, or -1.
func nonFinite(s any) int {
	switch s := s.(type) {
	case []float32:
		for i, v := range s {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return i
			}
		}
	case []float64:
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i
			}
		}
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
	if len(params) != len(a.params) {
		return fmt.Errorf("nn: Adam.Rebind: %d parameters, have %d", len(params), len(a.params))
	}
	for i, p := range params {
		if !p.Shape().Eq(a.params[i].Shape()) || p.Dtype() != a.params[i].Dtype() {
			return fmt.Errorf("nn: Adam.Rebind: %v is %v%v, was %v%v", p, p.Dtype(), p.Shape(), a.params[i].Dtype(), a.params[i].Shape())
		}
	}
	a.params = append(a.params[:0:0], params...)
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
			adam(w, p.g.([]float32), a.m[i].([]float32), a.v[i].([]float32), a, stepSize, bc2Sqrt)
		case []float64:
			adam(w, p.g.([]float64), a.m[i].([]float64), a.v[i].([]float64), a, stepSize, bc2Sqrt)
		}
		zero(p.g)
	}
	return nil
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

// AdamState is a copy of Adam's state for checkpointing: the step count and
// the first and second moments of each parameter, in float64.
type AdamState struct {
	Step int
	M, V [][]float64
}

// State returns a copy of the optimizer's state. Before the first step, M and
// V are nil.
func (a *Adam) State() AdamState {
	s := AdamState{Step: a.step}
	if a.m != nil {
		s.M = make([][]float64, len(a.m))
		s.V = make([][]float64, len(a.v))
		for i := range a.m {
			s.M[i], s.V[i] = toFloat64(a.m[i]), toFloat64(a.v[i])
		}
	}
	return s
}

// SetState restores a state returned by State. It returns an error if the
// state does not fit the parameters.
func (a *Adam) SetState(s AdamState) error {
	if s.Step < 0 {
		return fmt.Errorf("nn: Adam state has negative step %d", s.Step)
	}
	if s.M == nil && s.V == nil {
		a.step, a.m, a.v = s.Step, nil, nil
		return nil
	}
	if len(s.M) != len(a.params) || len(s.V) != len(a.params) {
		return fmt.Errorf("nn: Adam state for %d/%d parameters, have %d", len(s.M), len(s.V), len(a.params))
	}
	m := make([]any, len(a.params))
	v := make([]any, len(a.params))
	for i, n := range a.params {
		w, err := paramDense(n.Value())
		if err != nil {
			return fmt.Errorf("nn: parameter %d (%s): %w", i, n.Name(), err)
		}
		if len(s.M[i]) != w.Size() || len(s.V[i]) != w.Size() {
			return fmt.Errorf("nn: Adam state for parameter %d (%s) has %d/%d values, want %d", i, n.Name(), len(s.M[i]), len(s.V[i]), w.Size())
		}
		m[i], v[i] = newLike(w.Data()), newLike(w.Data())
		fromFloat64(m[i], s.M[i])
		fromFloat64(v[i], s.V[i])
	}
	a.step, a.m, a.v = s.Step, m, v
	return nil
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

// SGDState is a copy of SGD's momentum buffers, in float64, for
// checkpointing; a nil buffer means the parameter has not yet taken a step
// with momentum.
type SGDState struct {
	Buf [][]float64
}

// State returns a copy of the optimizer's state.
func (s *SGD) State() SGDState {
	st := SGDState{Buf: make([][]float64, len(s.params))}
	for i := range s.buf {
		if s.buf[i] != nil {
			st.Buf[i] = toFloat64(s.buf[i])
		}
	}
	return st
}

// SetState restores a state returned by State. It returns an error if the
// state does not fit the parameters.
func (s *SGD) SetState(st SGDState) error {
	if len(st.Buf) != len(s.params) {
		return fmt.Errorf("nn: SGD state for %d parameters, have %d", len(st.Buf), len(s.params))
	}
	buf := make([]any, len(s.params))
	for i, n := range s.params {
		if st.Buf[i] == nil {
			continue
		}
		w, err := paramDense(n.Value())
		if err != nil {
			return fmt.Errorf("nn: parameter %d (%s): %w", i, n.Name(), err)
		}
		if len(st.Buf[i]) != w.Size() {
			return fmt.Errorf("nn: SGD state for parameter %d (%s) has %d values, want %d", i, n.Name(), len(st.Buf[i]), w.Size())
		}
		buf[i] = newLike(w.Data())
		fromFloat64(buf[i], st.Buf[i])
	}
	s.buf = buf
	return nil
}
