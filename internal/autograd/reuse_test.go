package autograd

import (
	"runtime"
	"slices"
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

// TestZero checks that Zero zeroes every element of float tensors, small
// and large enough to be split between goroutines.
func TestZero(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, n := range []int{1, 5, 1<<13 - 1, 3<<13 + 17} {
		f32 := make([]float32, n)
		f64 := make([]float64, n)
		for i := range f32 {
			f32[i], f64[i] = float32(i+1), float64(i+1)
		}
		Zero(tensor.New(tensor.WithShape(n), tensor.WithBacking(f32)))
		Zero(tensor.New(tensor.WithShape(n), tensor.WithBacking(f64)))
		if i := slices.IndexFunc(f32, func(v float32) bool { return v != 0 }); i >= 0 {
			t.Errorf("float32, %d elements: element %d is %v", n, i, f32[i])
		}
		if i := slices.IndexFunc(f64, func(v float64) bool { return v != 0 }); i >= 0 {
			t.Errorf("float64, %d elements: element %d is %v", n, i, f64[i])
		}
	}
}

// TestFloats checks that Floats returns the slice Data does, and panics
// on a dtype that is not the one asked for.
func TestFloats(t *testing.T) {
	f32 := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	f64 := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 2, 3, 4}))
	if got, want := Floats[float32](f32), f32.Data().([]float32); !slices.Equal(got, want) || &got[0] != &want[0] || cap(got) != cap(want) {
		t.Errorf("float32: %v (cap %d), want %v (cap %d), the same memory", got, cap(got), want, cap(want))
	}
	if got, want := Floats[float64](f64), f64.Data().([]float64); !slices.Equal(got, want) || &got[0] != &want[0] {
		t.Errorf("float64: %v, want %v, the same memory", got, want)
	}
	for name, fn := range map[string]func(){
		"float64 as float32": func() { Floats[float32](f64) },
		"float32 as float64": func() { Floats[float64](f32) },
		"scalar":             func() { Floats[float32](tensor.New(tensor.FromScalar(float32(1)))) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			fn()
		}()
	}
}
