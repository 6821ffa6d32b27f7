package randmat

import (
	"slices"
	"testing"
)

func TestDeterministic(t *testing.T) {
	r1, c1, v1 := COO(5, 7, 20, 3)
	r2, c2, v2 := COO(5, 7, 20, 3)
	if !slices.Equal(r1, r2) || !slices.Equal(c1, c2) || !slices.Equal(v1, v2) {
		t.Error("COO is not deterministic")
	}
	for i := range r1 {
		if r1[i] < 0 || r1[i] >= 5 || c1[i] < 0 || c1[i] >= 7 || v1[i] < 0 || v1[i] >= 1 {
			t.Fatalf("triplet %d = (%d, %d, %v) out of range", i, r1[i], c1[i], v1[i])
		}
	}
	if a, b := Uniform32(9, 1), Uniform32(9, 2); slices.Equal(a, b) {
		t.Error("Uniform32 ignores its seed")
	}
	if a, b := Normal64(9, 1), Normal64(9, 1); !slices.Equal(a, b) {
		t.Error("Normal64 is not deterministic")
	}
}
