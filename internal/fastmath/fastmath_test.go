package fastmath

import (
	"math"
	"testing"
)

// TestExp32 compares Exp32 with math.Exp rounded to float32 over the
// range, in ulps.
func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87.3); x < 88.7; x += 0.0137 {
		want := float32(math.Exp(float64(x)))
		got := Exp32(x)
		ulp := float64(math.Float32frombits(math.Float32bits(want)+1) - want)
		if d := math.Abs(float64(got-want)) / ulp; d > worst {
			worst = d
			if d > 2 {
				t.Fatalf("Exp32(%v) = %v, want %v (%.1f ulp)", x, got, want, d)
			}
		}
	}
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {-100, 0}, {float32(math.Inf(-1)), 0}, {100, float32(math.Inf(1))},
	} {
		if got := Exp32(c.x); got != c.want {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if nan := float32(math.NaN()); !math.IsNaN(float64(Exp32(nan))) {
		t.Error("Exp32(NaN) is not NaN")
	}
	t.Logf("worst error %.2f ulp", worst)
}

func BenchmarkExp32(b *testing.B) {
	var s float32
	for i := 0; b.Loop(); i++ {
		s += Exp32(float32(i%1000) * -0.01)
	}
	_ = s
}
