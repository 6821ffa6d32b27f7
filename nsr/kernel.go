package nsr

import "math"

// ZeroThreshold is the magnitude at or below which a response counts as "not
// firing" when zero responses are masked (the spec's |H| > 1e-5).
const ZeroThreshold = 1e-5

// Float is the element type of a layer output.
type Float interface{ ~float32 | ~float64 }

func fires[T Float](v T) bool { return math.Abs(float64(v)) > ZeroThreshold }

// dense is a row-major n×d view of a layer output. The kernels below visit
// only the selected rows: on a full-batch GNN the layer has every node of the
// graph but only the training nodes enter the penalty.
type dense[T Float] struct {
	h    []T
	n, d int
}

// row returns the index in h of the k-th selected row (rows nil selects all).
func row(rows []int, k int) int {
	if rows == nil {
		return k
	}
	return rows[k]
}

// accumulate adds the selected rows (or only their firing entries, with mask)
// to the class sums and element counts, both numClasses×d.
func (m dense[T]) accumulate(rows, labels []int, mask bool, sums, counts []float64) {
	d := m.d
	for k, c := range labels {
		i := row(rows, k)
		hr := m.h[i*d : i*d+d]
		s, cn := sums[c*d:c*d+d], counts[c*d:c*d+d]
		for j, v := range hr {
			if mask && !fires(v) {
				continue
			}
			s[j] += float64(v)
			cn[j]++
		}
	}
}

// keep reports whether element v of a sample, whose class mean has count
// elements behind it, enters the penalty: the mean exists and, with mask, v fires.
func keep[T Float](v T, count float64, mask bool) bool {
	return count > 0 && (!mask || fires(v))
}

// deviation returns Σ (h−μ_y)² over the kept elements of the selected rows,
// and how many elements were kept.
func (m dense[T]) deviation(rows, labels []int, means, counts []float64, mask bool) (sum float64, kept int) {
	d := m.d
	for k, c := range labels {
		i := row(rows, k)
		hr := m.h[i*d : i*d+d]
		mu, cn := means[c*d:c*d+d], counts[c*d:c*d+d]
		for j, v := range hr {
			if !keep(v, cn[j], mask) {
				continue
			}
			e := float64(v) - mu[j]
			sum += e * e
			kept++
		}
	}
	return sum, kept
}

// columnDeviation is deviation per column (neuron), for the statistics.
func (m dense[T]) columnDeviation(rows, labels []int, means, counts []float64, mask bool, sums, n []float64) {
	d := m.d
	for k, c := range labels {
		i := row(rows, k)
		hr := m.h[i*d : i*d+d]
		mu, cn := means[c*d:c*d+d], counts[c*d:c*d+d]
		for j, v := range hr {
			if !keep(v, cn[j], mask) {
				continue
			}
			e := float64(v) - mu[j]
			sums[j] += e * e
			n[j]++
		}
	}
}

// addGrad adds scale·∂P/∂h = scale·2(h−μ_y)/kept to dst on the kept elements
// of the selected rows, with the means held constant. That is the exact
// gradient of the full-batch penalty too, masked or not: within a class c and
// neuron n, Σ_i m_in (h_in − μ_cn) = 0, so the terms through μ vanish.
func (m dense[T]) addGrad(dst []T, rows, labels []int, means, counts []float64, mask bool, scale float64, kept int) {
	if kept == 0 {
		return
	}
	f := 2 * scale / float64(kept)
	d := m.d
	for k, c := range labels {
		i := row(rows, k)
		hr, gr := m.h[i*d:i*d+d], dst[i*d:i*d+d]
		mu, cn := means[c*d:c*d+d], counts[c*d:c*d+d]
		for j, v := range hr {
			if !keep(v, cn[j], mask) {
				continue
			}
			gr[j] += T(f * (float64(v) - mu[j]))
		}
	}
}

// meansOf turns class sums into means in place (0 where the count is 0).
func meansOf(sums, counts []float64) []float64 {
	for i, c := range counts {
		if c > 0 {
			sums[i] /= c
		} else {
			sums[i] = 0
		}
	}
	return sums
}
