package sparse

import (
	"math"
	"math/rand/v2"
)

// DropoutValues sets dst[i] = src[i]/(1-p) with probability 1-p and
// dst[i] = 0 otherwise, independently for each i, drawing from rng. Applied
// to the values of a CSR matrix it is dropout on the stored entries that
// keeps the sparsity pattern (dropped entries become explicit zeros), so the
// result can go to (*Matrix).SetData.
//
// Each Uint64 drawn decides two values, one per 32-bit half compared with an
// integer threshold, so the keep probability is 1-p rounded to a multiple
// of 2⁻³². The result depends only on src, p and the state of rng.
// With p = 0 it copies src without drawing. dst and src may be the same
// slice. It panics if len(dst) != len(src), or p < 0, p >= 1 or p is NaN.
func DropoutValues(dst, src []float32, p float64, rng *rand.Rand) {
	if len(dst) != len(src) {
		panic("sparse: DropoutValues: len(dst) != len(src)")
	}
	if !(p >= 0 && p < 1) {
		panic("sparse: DropoutValues: p outside [0, 1)")
	}
	if p == 0 {
		copy(dst, src)
		return
	}
	keep := 1 - p
	// A 32-bit draw u keeps a value when u < thresh. thresh ≤ 2³² needs 64
	// bits: for p below 2⁻³³ it rounds to 2³², which keeps everything.
	thresh := uint64(math.Round(keep * (1 << 32)))
	scale := float32(1 / keep)
	t := int64(thresh)
	dst = dst[:len(src)]
	i := 0
	for ; i+2 <= len(src); i += 2 {
		u := rng.Uint64()
		dst[i] = keepOrDrop(src[i], scale, int64(u&0xffffffff)-t)
		dst[i+1] = keepOrDrop(src[i+1], scale, int64(u>>32)-t)
	}
	if i < len(src) {
		dst[i] = keepOrDrop(src[i], scale, int64(rng.Uint64()&0xffffffff)-t)
	}
}

// keepOrDrop returns v·scale if d < 0 and +0 otherwise. It masks bits
// instead of branching: the branch would be mispredicted half the time at
// p = 0.5.
func keepOrDrop(v, scale float32, d int64) float32 {
	return math.Float32frombits(math.Float32bits(v*scale) & uint32(d>>63))
}
