// Package fastmath holds float32 versions of elementary functions that the
// kernels call millions of times a step, where math's float64 functions
// (with their special-case checks) dominate the cost.
package fastmath

import "math"

// Exp32 returns e^x for float32 x, within 2 ulp of the correctly rounded
// value over its range (Cephes' expf: reduction by ln 2 in two parts and a
// degree-6 polynomial). Results below the smallest normal float32 are 0,
// and x above 88.72 gives +Inf; NaN gives NaN.
func Exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	}
	z := float32(math.Floor(float64(x*1.442695041 + 0.5)))
	x -= z * 0.693359375
	x -= z * -2.12194440e-4
	p := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	p = p*x*x + x + 1
	// 2^z for z in [-126, 128]: 2^128 overflows p·2^z only when the result
	// does; build it as two factors to stay representable.
	n := int32(z)
	if n > 127 {
		return p * 2 * math.Float32frombits(uint32(n-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(n+127)<<23)
}
