package nsr

import (
	"math"
	"slices"
	"testing"
)

func TestSpecResolve(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		n    int
		want []int
		bad  bool
	}{
		{Spec{}, 3, nil, false},
		{Spec{Lambdas: []float64{0}, Layers: []int{7}}, 3, nil, false}, // off: layers not checked
		{Spec{Lambdas: []float64{1}, Layers: []int{0}}, 3, []int{0}, false},
		{Spec{Lambdas: []float64{1, 2}, Layers: []int{-1, 0}}, 3, []int{2, 0}, false},
		{Spec{Lambdas: []float64{1}, Auto: true}, 3, nil, false},
		{Spec{Lambdas: []float64{1, 2}, Auto: true}, 3, nil, true},
		{Spec{Lambdas: []float64{1}, Layers: []int{3}}, 3, nil, true},
		{Spec{Lambdas: []float64{1}, Layers: []int{-4}}, 3, nil, true},
		{Spec{Lambdas: []float64{1, 1}, Layers: []int{1, -2}}, 3, nil, true},
		{Spec{Lambdas: []float64{1}, Layers: []int{0, 1}}, 3, nil, true},
		{Spec{Lambdas: []float64{-1}, Layers: []int{0}}, 3, nil, true},
		{Spec{Lambdas: []float64{math.NaN()}, Layers: []int{0}}, 3, nil, true},
		{Spec{Lambdas: []float64{math.Inf(1)}, Layers: []int{0}}, 3, nil, true},
		{Spec{Queue: -1}, 3, nil, true},
		{Spec{Warmup: -1}, 3, nil, true},
	} {
		got, err := c.spec.Resolve(c.n)
		if (err != nil) != c.bad || !slices.Equal(got, c.want) {
			t.Errorf("%+v.Resolve(%d) = %v, %v; want %v, error %v", c.spec, c.n, got, err, c.want, c.bad)
		}
	}
	if (Spec{}).QueueLen() != DefaultQueue || (Spec{Queue: 3}).QueueLen() != 3 {
		t.Error("QueueLen")
	}
	if (Spec{}).WarmupEpochs() != 1 || (Spec{Warmup: 4}).WarmupEpochs() != 4 {
		t.Error("WarmupEpochs")
	}
}
