package nn

import (
	"fmt"
	"math"
	"testing"

	mm "github.com/gnsr/gnsr/internal/matmul"
	"github.com/gnsr/gnsr/internal/randmat"
)

// TestConvPackedSameBits checks that the convolution's forward pass
// with col in panels of 16 columns (GemmPacked), and its input gradient
// with dy gathered so (GemmTAPacked), give the bits of the row-major ones, for shapes whose output positions do and do not fill panels,
// one image or a group, with stride and padding, with and without bias.
func TestConvPackedSameBits(t *testing.T) {
	if !mm.HasPacked() {
		t.Skip("no packed product in this build")
	}
	for _, g := range []convGeom{
		{n: 3, cin: 5, h: 8, w: 8, cout: 7, kh: 3, kw: 3, stride: 1, pad: 1},
		{n: 1, cin: 4, h: 11, w: 9, cout: 6, kh: 3, kw: 3, stride: 2, pad: 1, hasBias: true},
		{n: 5, cin: 3, h: 7, w: 5, cout: 9, kh: 1, kw: 1, stride: 1, pad: 0, hasBias: true},
		{n: 2, cin: 16, h: 32, w: 32, cout: 16, kh: 3, kw: 3, stride: 1, pad: 1},
	} {
		g.ho = (g.h+2*g.pad-g.kh)/g.stride + 1
		g.wo = (g.w+2*g.pad-g.kw)/g.stride + 1
		x := randmat.Uniform32(g.n*g.cin*g.h*g.w, 1)
		w := randmat.Uniform32(g.cout*g.k(), 2)
		for i := range w {
			w[i] -= 0.5
		}
		var b []float32
		if g.hasBias {
			b = randmat.Uniform32(g.cout, 3)
		}
		want := make([]float32, g.n*g.cout*g.hw())
		got := make([]float32, len(want))
		convForwardLayout(&Workspace{}, &g, want, x, w, b, false)
		convForwardLayout(&Workspace{}, &g, got, x, w, b, true)
		sameBits(t, fmt.Sprintf("%+v: forward", g), got, want)
		dy := randmat.Uniform32(len(want), 4)
		wantDX := make([]float32, len(x))
		gotDX := make([]float32, len(x))
		convBackXLayout(&Workspace{}, &g, wantDX, w, dy, false)
		convBackXLayout(&Workspace{}, &g, gotDX, w, dy, true)
		sameBits(t, fmt.Sprintf("%+v: input gradient", g), gotDX, wantDX)
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, row-major %v", what, i, got[i], want[i])
		}
	}
}
