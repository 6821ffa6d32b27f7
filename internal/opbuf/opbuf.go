package opbuf

import "gorgonia.org/tensor"

// Reuse returns *p if it is a tensor of dtype dt and the given shape, else
// a new one, which it stores in *p. Its contents are whatever the last run
// left: callers overwrite every element.
func Reuse(p **tensor.Dense, dt tensor.Dtype, shape ...int) *tensor.Dense {
	if *p == nil || !(*p).Shape().Eq(tensor.Shape(shape)) || (*p).Dtype() != dt {
		*p = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	}
	return *p
}
