//go:build !amd64 || purego

package sparse

// edgeMulSIMD does nothing where there is no assembly kernel.
func edgeMulSIMD(p *CSR, vals []float32, perm []int32, heads int, x []float32, width int, out []float32, r0, r1 int) bool {
	return false
}

// edgeSoftmaxSIMD does nothing where there is no assembly kernel.
func edgeSoftmaxSIMD(p *CSR, e []float32, heads int, out []float32, r0, r1 int) bool {
	return false
}

// edgeAddSIMD does nothing where there is no assembly kernel.
func edgeAddSIMD(p *CSR, u, v []float32, heads int, out []float32, r0, r1 int) bool { return false }

// edgeRowSumsSIMD does nothing where there is no assembly kernel.
func edgeRowSumsSIMD(p *CSR, vals []float32, perm []int32, heads int, out []float32, r0, r1 int) bool {
	return false
}

// edgeDotSIMD does nothing where there is no assembly kernel.
func edgeDotSIMD(p *CSR, u, v []float32, heads, width int, out []float32, r0, r1 int) bool {
	return false
}
