package sparseops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDropoutValuesStatistics(t *testing.T) {
	const n = 1<<20 + 1 // odd, to cover the last single value
	src := make([]float32, n)
	for i := range src {
		src[i] = 1 + float32(i%3)
	}
	for _, p := range []float64{0.01, 0.1, 0.5, 0.9} {
		dst := make([]float32, n)
		DropoutValues(dst, src, p, rand.New(rand.NewPCG(1, 2)))
		scale := float32(1 / (1 - p))
		kept := 0
		var sum, want, sq float64
		for i, v := range dst {
			switch v {
			case 0:
			case src[i] * scale:
				kept++
			default:
				t.Fatalf("p=%v: value %d is %v, want 0 or %v", p, i, v, src[i]*scale)
			}
			sum += float64(v)
			want += float64(src[i])
			sq += float64(src[i]) * float64(src[i])
		}
		// The kept count is binomial(n, 1-p): allow 5 standard deviations.
		sd := math.Sqrt(n * p * (1 - p))
		if d := math.Abs(float64(kept) - n*(1-p)); d > 5*sd {
			t.Errorf("p=%v: kept %d of %d, want about %.0f", p, kept, n, n*(1-p))
		}
		// Inverted dropout keeps the expected sum; its variance is
		// Σ src² · p/(1-p).
		if d := math.Abs(sum - want); d > 5*math.Sqrt(sq*p/(1-p)) {
			t.Errorf("p=%v: sum %v, want about %v", p, sum, want)
		}
		// Both halves of each draw are used: even and odd positions keep
		// at the same rate.
		var even, odd int
		for i, v := range dst {
			if v != 0 {
				if i%2 == 0 {
					even++
				} else {
					odd++
				}
			}
		}
		if d := math.Abs(float64(even - odd)); d > 5*sd {
			t.Errorf("p=%v: %d kept at even positions, %d at odd", p, even, odd)
		}
	}
}

func TestDropoutValuesDeterministic(t *testing.T) {
	src := randomDense32(1001, 3)
	a := make([]float32, len(src))
	b := make([]float32, len(src))
	DropoutValues(a, src, 0.3, rand.New(rand.NewPCG(7, 8)))
	DropoutValues(b, src, 0.3, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(a, b) {
		t.Errorf("same seed gave different results")
	}
	DropoutValues(b, src, 0.3, rand.New(rand.NewPCG(7, 9)))
	if slices.Equal(a, b) {
		t.Errorf("different seeds gave the same result")
	}
	// In place.
	c := append([]float32(nil), src...)
	DropoutValues(c, c, 0.3, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(a, c) {
		t.Errorf("in-place result differs")
	}
}

func TestDropoutValuesZero(t *testing.T) {
	src := randomDense32(11, 3)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewPCG(1, 1))
	DropoutValues(dst, src, 0, rng)
	if !slices.Equal(dst, src) {
		t.Errorf("p=0 did not copy")
	}
	if rng.Uint64() != rand.New(rand.NewPCG(1, 1)).Uint64() {
		t.Errorf("p=0 drew from rng")
	}
	DropoutValues(nil, nil, 0.5, rng) // empty input is fine
}

func TestDropoutValuesPanics(t *testing.T) {
	for _, test := range []struct {
		name     string
		dst, src int
		p        float64
	}{
		{"negative p", 2, 2, -0.1},
		{"p = 1", 2, 2, 1},
		{"p > 1", 2, 2, 1.5},
		{"NaN p", 2, 2, math.NaN()},
		{"length mismatch", 2, 3, 0.5},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", test.name)
				}
			}()
			DropoutValues(make([]float32, test.dst), make([]float32, test.src), test.p, rand.New(rand.NewPCG(1, 1)))
		}()
	}
}

func BenchmarkDropoutValues(b *testing.B) {
	src := randomDense32(pubmedFeatNNZ, 1)
	dst := make([]float32, len(src))
	rng := rand.New(rand.NewPCG(1, 2))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		DropoutValues(dst, src, 0.5, rng)
	}
}
