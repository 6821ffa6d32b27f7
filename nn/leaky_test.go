package nn

import (
	"math"
	"testing"
)

// TestLeaky32 checks the masked float32 select against the branch it
// replaces on every class of sign: zeros of both signs, subnormals, Inf,
// NaN and ordinary values, bit for bit.
func TestLeaky32(t *testing.T) {
	nan := float32(math.NaN())
	signs := []float32{0, float32(math.Copysign(0, -1)), math.Float32frombits(1), -math.Float32frombits(1),
		1e-30, -1e-30, 1, -1, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), nan, -nan}
	for _, sg := range signs {
		for _, v := range []float32{2.5, -7, 0, nan} {
			var got [1]float32
			leaky32(got[:], []float32{sg}, []float32{v}, 0.2)
			want := 0.2 * v
			if sg > 0 {
				want = v
			}
			if math.Float32bits(got[0]) != math.Float32bits(want) {
				t.Errorf("sign %v (%#x), value %v: %v, want %v", sg, math.Float32bits(sg), v, got[0], want)
			}
		}
	}
}
