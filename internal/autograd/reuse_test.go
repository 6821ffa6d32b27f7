package autograd

import (
	"testing"

	"gorgonia.org/tensor"
)

func TestReuse(t *testing.T) {
	var p *tensor.Dense
	a := Reuse(&p, tensor.Float32, 3, 4)
	if p != a || !a.Shape().Eq(tensor.Shape{3, 4}) || a.Dtype() != tensor.Float32 {
		t.Fatalf("first call: got %v%v, stored %p, want a new 3×4 float32 stored", a.Dtype(), a.Shape(), p)
	}
	a.Data().([]float32)[5] = 7
	if b := Reuse(&p, tensor.Float32, 3, 4); b != a || b.Data().([]float32)[5] != 7 {
		t.Errorf("same shape and dtype: a new tensor, want the stored one")
	}
	for _, c := range []struct {
		dt    tensor.Dtype
		shape []int
	}{{tensor.Float32, []int{4, 3}}, {tensor.Float64, []int{4, 3}}, {tensor.Float64, []int{12}}} {
		old := p
		b := Reuse(&p, c.dt, c.shape...)
		if b == old || p != b || b.Dtype() != c.dt || !b.Shape().Eq(tensor.Shape(c.shape)) {
			t.Errorf("%v%v: got %v%v (reused: %v)", c.dt, c.shape, b.Dtype(), b.Shape(), b == old)
		}
	}
}
