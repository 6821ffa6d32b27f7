package nsr

import (
	"fmt"
	"math"
	"strings"
)

// checkSelection validates rows and labels against an n×d layer output with
// numClasses classes. rows nil selects all n rows, in order; otherwise
// labels[k] is the label of row rows[k].
func checkSelection(n, d int, rows, labels []int, numClasses int) error {
	if d < 1 {
		return fmt.Errorf("nsr: layer width %d, need at least 1", d)
	}
	if numClasses < 1 {
		return fmt.Errorf("nsr: %d classes, need at least 1", numClasses)
	}
	if rows == nil {
		if len(labels) != n {
			return fmt.Errorf("nsr: %d labels for a layer output of %d rows (Rows is nil, so one label per row)", len(labels), n)
		}
	} else {
		if len(labels) != len(rows) {
			return fmt.Errorf("nsr: %d labels for %d rows, need one label per selected row", len(labels), len(rows))
		}
		for k, i := range rows {
			if i < 0 || i >= n {
				return fmt.Errorf("nsr: row %d (position %d) out of range [0, %d)", i, k, n)
			}
		}
	}
	for k, c := range labels {
		if c < 0 || c >= numClasses {
			return fmt.Errorf("nsr: label %d (position %d) out of range [0, %d)", c, k, numClasses)
		}
	}
	return nil
}

func matrixOf[T Float](h []T, d int, rows, labels []int, numClasses int) dense[T] {
	if d < 1 || len(h)%d != 0 {
		panic(fmt.Sprintf("nsr: %d values do not make rows of width %d", len(h), d))
	}
	m := dense[T]{h: h, n: len(h) / d, d: d}
	if err := checkSelection(m.n, d, rows, labels, numClasses); err != nil {
		panic(err.Error())
	}
	return m
}

// ClassMeans returns the class means μ_c of a layer output over the selected
// rows, as a numClasses×d row-major slice, and the number of elements that
// entered each mean (numClasses×d; without mask every column of a class has
// the class's row count). h is row-major with d columns. rows nil selects
// every row and then labels has one entry per row; otherwise labels[k] is the
// label of row rows[k]. With mask, responses with |h| <= ZeroThreshold are
// left out. A class without elements has mean 0 and count 0.
//
// ClassMeans panics if d < 1, len(h) is not a multiple of d, numClasses < 1,
// the lengths of rows and labels disagree, or a row or label is out of range.
func ClassMeans[T Float](h []T, d int, rows, labels []int, numClasses int, mask bool) (means, counts []float64) {
	m := matrixOf(h, d, rows, labels, numClasses)
	return m.classMeans(rows, labels, numClasses, mask)
}

func (m dense[T]) classMeans(rows, labels []int, numClasses int, mask bool) (means, counts []float64) {
	sums := make([]float64, numClasses*m.d)
	counts = make([]float64, numClasses*m.d)
	m.accumulate(rows, labels, mask, sums, counts)
	return meansOf(sums, counts), counts
}

// IntraClassVariance returns the pooled intra-class variance of each neuron
// (column) over the selected rows, σ_n = (1/B) Σ_i (h[i,n] − μ_{y_i}[n])²,
// with the class means of ClassMeans over the same rows. With mask, both the
// means and σ_n use only the responses with |h| > ZeroThreshold: σ_n is the
// mean over the neuron's firing responses, and 0 for a neuron that never
// fires. (Without mask, the penalty P of the spec is the mean of σ_n; with
// mask P weights neurons by how often they fire, so it is not.)
//
// IntraClassVariance panics under the conditions of ClassMeans.
func IntraClassVariance[T Float](h []T, d int, rows, labels []int, numClasses int, mask bool) []float64 {
	m := matrixOf(h, d, rows, labels, numClasses)
	means, counts := m.classMeans(rows, labels, numClasses, mask)
	return m.varianceAround(rows, labels, means, counts, mask)
}

// VarianceAround is IntraClassVariance about given class means
// (numClasses×d, row-major, numClasses = len(means)/d), for example the
// means of all training samples while rows holds only the misclassified
// ones. Each sample is compared with the mean of its own class.
//
// VarianceAround panics under the conditions of ClassMeans, or if len(means)
// is not a positive multiple of d.
func VarianceAround[T Float](h []T, d int, rows, labels []int, means []float64, mask bool) []float64 {
	if d < 1 || len(means) == 0 || len(means)%d != 0 {
		panic(fmt.Sprintf("nsr: %d class means do not make rows of width %d", len(means), d))
	}
	m := matrixOf(h, d, rows, labels, len(means)/d)
	counts := make([]float64, len(means))
	for i := range counts {
		counts[i] = 1 // every given mean exists
	}
	return m.varianceAround(rows, labels, means, counts, mask)
}

func (m dense[T]) varianceAround(rows, labels []int, means, counts []float64, mask bool) []float64 {
	sums := make([]float64, m.d)
	n := make([]float64, m.d)
	m.columnDeviation(rows, labels, means, counts, mask, sums, n)
	return meansOf(sums, n)
}

// PerClassVariance returns, for each class c, the aggregated intra-class
// variance of its samples Σ_n σ_{c,n}, where σ_{c,n} is the mean of
// (h[i,n] − μ_c[n])² over the selected samples of class c (with mask, over
// their firing responses). A class without samples gets 0.
//
// PerClassVariance panics under the conditions of ClassMeans.
func PerClassVariance[T Float](h []T, d int, rows, labels []int, numClasses int, mask bool) []float64 {
	m := matrixOf(h, d, rows, labels, numClasses)
	means, counts := m.classMeans(rows, labels, numClasses, mask)
	sq := make([]float64, numClasses*d)
	for k, c := range labels {
		i := row(rows, k)
		for j, v := range m.h[i*d : i*d+d] {
			if mask && !fires(v) {
				continue
			}
			e := float64(v) - means[c*d+j]
			sq[c*d+j] += e * e
		}
	}
	out := make([]float64, numClasses)
	for c := range out {
		for j := 0; j < d; j++ {
			if n := counts[c*d+j]; n > 0 {
				out[c] += sq[c*d+j] / n
			}
		}
	}
	return out
}

// Aggregate returns Σ_n σ_n, the aggregated intra-class variance of a layer
// that the auto layer choice compares.
func Aggregate(sigma []float64) float64 {
	var s float64
	for _, v := range sigma {
		s += v
	}
	return s
}

// ChooseLayer returns the index of the layer with the largest aggregated
// intra-class variance (the paper's criterion for where to apply NSR) and a
// human-readable reason that lists every layer's value. NaN values are never
// chosen; ties go to the earliest layer.
//
// ChooseLayer panics if variances is empty or holds only NaN.
func ChooseLayer(variances []float64) (index int, reason string) {
	index = -1
	for i, v := range variances {
		if !math.IsNaN(v) && (index < 0 || v > variances[index]) {
			index = i
		}
	}
	if index < 0 {
		panic("nsr: ChooseLayer needs at least one layer variance that is not NaN")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "layer %d has the largest aggregated intra-class variance Σ_n σ_n (", index)
	for i, v := range variances {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "layer %d: %.6g", i, v)
	}
	b.WriteString(")")
	return index, b.String()
}
