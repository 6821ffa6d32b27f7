//go:build !amd64 || purego

package sparse

// simdWidth is 0: there is no assembly kernel.
func simdWidth(k int) int { return 0 }

// stripsSIMD does nothing where there is no assembly kernel.
func stripsSIMD(lo, hi []int, a operand, dst, b []float32, k, r0 int, acc bool) int { return 0 }

// scatterStrips is never called where simdWidth is 0.
func scatterStrips(lo, hi []int, a operand, dst, g []float32, k, r0 int) {
	panic("sparse: no assembly kernel")
}
