package stats

import (
	"math"
	"testing"
)

func TestMeanStdMedian(t *testing.T) {
	for _, tc := range []struct {
		xs             []float64
		mean, std, med float64
	}{
		// Values from Python's statistics.fmean, stdev and median.
		{[]float64{1, 2, 3, 4}, 2.5, 1.2909944487358056, 2.5},
		{[]float64{0.815, 0.82, 0.81}, 0.815, 0.0050000000000000044, 0.815},
		{[]float64{7}, 7, 0, 7},
	} {
		m, s := MeanStd(tc.xs)
		if math.Abs(m-tc.mean) > 1e-15 || math.Abs(s-tc.std) > 1e-15 || Median(tc.xs) != tc.med {
			t.Errorf("%v: mean %v std %v median %v, want %v %v %v", tc.xs, m, s, Median(tc.xs), tc.mean, tc.std, tc.med)
		}
	}
	if m, _ := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(Median(nil)) {
		t.Error("statistics of no values should be NaN")
	}
}
