package nn

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// denseOf returns v as a contiguous float32 or float64 *tensor.Dense.
// Views are materialized, since Data of a view is its whole backing array.
func denseOf(v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: want *tensor.Dense, got %T", v)
	}
	if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: unsupported dtype %v", dt)
	}
	if d.RequiresIterator() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: cannot materialize view")
		}
		d = m
	}
	return d, nil
}

// scalarOf returns the value of a scalar gorgonia value: *F32, *F64 or a
// one-element tensor (gorgonia passes gradients of scalars as either).
func scalarOf(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F64:
		return float64(*s), nil
	case *gorgonia.F32:
		return float64(*s), nil
	case tensor.Tensor:
		if s.Shape().TotalSize() != 1 {
			return 0, fmt.Errorf("nn: want a scalar, got shape %v", s.Shape())
		}
		switch x := s.Data().(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case []float64:
			return x[0], nil
		case []float32:
			return float64(x[0]), nil
		}
	}
	return 0, fmt.Errorf("nn: want a float scalar, got %T", v)
}

// gradOf returns the gradient of n that a LispMachine accumulates into
// during DoDiff. Node.Grad returns the dual value's derivative itself, not a
// copy, which is what lets DoDiff work from outside package gorgonia.
func gradOf(n *gorgonia.Node) (*tensor.Dense, error) {
	g, err := n.Grad()
	if err != nil {
		return nil, fmt.Errorf("nn: gradient of %v: %w", n, err)
	}
	d, ok := g.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: gradient of %v is %T, want *tensor.Dense", n, g)
	}
	if d.RequiresIterator() {
		return nil, fmt.Errorf("nn: gradient of %v is a view", n)
	}
	return d, nil
}

// reusable reports whether prealloc can receive an output of the given shape
// and dtype without aliasing any of the inputs.
func reusable(prealloc gorgonia.Value, shape tensor.Shape, dt tensor.Dtype, inputs ...*tensor.Dense) (*tensor.Dense, bool) {
	p, ok := prealloc.(*tensor.Dense)
	if !ok || p.Dtype() != dt || !p.Shape().Eq(shape) || p.RequiresIterator() {
		return nil, false
	}
	for _, in := range inputs {
		if in.Uintptr() == p.Uintptr() {
			return nil, false
		}
	}
	return p, true
}

// Scalar returns the value of a float scalar gorgonia value (*F32, *F64 or
// a one-element tensor), or NaN if v is nil or not one: for reading a loss
// after a run, where NaN then stops training as any non-finite loss does.
func Scalar(v gorgonia.Value) float64 {
	if v == nil {
		return math.NaN()
	}
	x, err := scalarOf(v)
	if err != nil {
		return math.NaN()
	}
	return x
}
