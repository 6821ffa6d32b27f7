package gnn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gorgonia.org/tensor"
)

// snapshot copies the values of ts into dst (reusing its tensors when the
// shapes agree) and returns it: the model's state at one epoch.
func snapshot(ts []NamedTensor, dst []NamedTensor) []NamedTensor {
	if len(dst) != len(ts) {
		dst = make([]NamedTensor, len(ts))
	}
	for i, t := range ts {
		d := dst[i].Value
		if d == nil || !d.Shape().Eq(t.Value.Shape()) || d.Dtype() != t.Value.Dtype() {
			d = t.Value.Clone().(*tensor.Dense)
		} else {
			copy(d.Data().([]float32), t.Value.Data().([]float32))
		}
		dst[i] = NamedTensor{Name: t.Name, Value: d}
	}
	return dst
}

// restore copies ts into the model's state in place (the networks share
// its tensors), after checking that names and shapes match.
func (m *Model) restore(ts []Tensor) error {
	state := m.State()
	if len(ts) != len(state) {
		return fmt.Errorf("%w: %d tensors, the model has %d (another architecture)", ErrCheckpoint, len(ts), len(state))
	}
	for i, t := range ts {
		shape := []int(state[i].Value.Shape())
		if t.Name != state[i].Name || !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("%w: tensor %d is %s%v, the model's is %s%v (another architecture or data)", ErrCheckpoint, i, t.Name, t.Shape, state[i].Name, shape)
		}
	}
	for i, t := range ts {
		copy(state[i].Value.Data().([]float32), t.Data)
	}
	return nil
}

// withState returns a new model of m's architecture holding the state ts
// (names and shapes as m.State()).
func (m *Model) withState(ts []NamedTensor) (*Model, error) {
	c, err := m.rebuild()
	if err != nil {
		return nil, err
	}
	if err := c.restore(tensorList(ts)); err != nil {
		return nil, err
	}
	return c, nil
}

// rebuild returns a new model of m's specification and layer constructor;
// its weights are arbitrary draws, to be replaced.
func (m *Model) rebuild() (*Model, error) {
	c, err := NewModelWith(m.Spec, m.newLayer, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	c.local = m.local
	return c, nil
}

// tensorList converts named tensors to checkpoint tensors (copies).
func tensorList(ts []NamedTensor) []Tensor {
	out := make([]Tensor, len(ts))
	for i, t := range ts {
		out[i] = Tensor{Name: t.Name, Shape: slices.Clone([]int(t.Value.Shape())), Data: slices.Clone(t.Value.Data().([]float32))}
	}
	return out
}

// tensorsOf converts checkpoint tensors to named tensors (copies).
func tensorsOf(ts []Tensor) []NamedTensor {
	out := make([]NamedTensor, len(ts))
	for i, t := range ts {
		out[i] = NamedTensor{Name: t.Name, Value: tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(slices.Clone(t.Data)))}
	}
	return out
}
