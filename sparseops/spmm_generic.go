//go:build !amd64 || purego

package sparseops

// spmmRowsSIMD does nothing where there is no assembly kernel.
func spmmRowsSIMD(m *CSR, dst, b []float32, k, r0, r1 int, acc bool) int { return 0 }
