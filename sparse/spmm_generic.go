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

// keepSIMD takes nothing where there is no assembly kernel.
func keepSIMD(keptIdx []int32, keptData []float32, n int, idx []int32, data []float32, z uint64, thresh int64, scale float32, uniform bool) (int, uint64, int) {
	return n, z, 0
}

// scatterRowSIMD does nothing where there is no assembly kernel.
func scatterRowSIMD(idx []int32, data []float32, g, dst []float32, k int) bool { return false }
