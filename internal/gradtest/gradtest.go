// Package gradtest holds the helpers that gnsr's gradient and golden tests
// share: comparisons of computed values with references within a
// tolerance.
package gradtest

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

// CloseTo returns an error naming the first element of got (a []float32,
// []float64 or gorgonia value) that differs from want by more than tol
// relative to max(|want_i|, 1% of want's largest magnitude).
func CloseTo(got any, want []float64, tol float64) error {
	g := AsF64(got)
	if len(g) != len(want) {
		return fmt.Errorf("%d values, want %d", len(g), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i, w := range want {
		if d := math.Abs(g[i] - w); !(d <= tol*max(math.Abs(w), 0.01*scale)) {
			return fmt.Errorf("element %d = %.12g, want %.12g (difference %.3g)", i, g[i], w, d)
		}
	}
	return nil
}

// AsF64 returns v (a []float32, []float64 or gorgonia value) as float64s.
// It panics for any other type.
func AsF64(v any) []float64 {
	switch d := v.(type) {
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case G.Value:
		return AsF64(d.Data())
	}
	panic(fmt.Sprintf("asF64 of %T", v))
}
