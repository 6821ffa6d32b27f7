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

func TestPairedT(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, tc := range []struct {
		a, b                []float64
		mean, lo, hi, p     float64
		wins, losses, pairs int
	}{
		// Values from scipy 1.10: stats.ttest_rel(b, a).pvalue, and the mean
		// of b−a ± stats.t.ppf(0.975, n−1) times its standard error.
		{[]float64{0.80, 0.81, 0.79, 0.82, 0.805, 0.815, 0.79, 0.80, 0.81, 0.80},
			[]float64{0.81, 0.815, 0.80, 0.82, 0.81, 0.82, 0.80, 0.79, 0.82, 0.81},
			0.005499999999999982, 0.0008978087969119392, 0.010102191203088026, 0.024255656153544858, 8, 1, 10},
		{[]float64{1, 2, 3}, []float64{1.5, 2.1, 3.9}, 0.5, -0.49365508473750086, 1.493655084737501, 0.16278164172107853, 3, 0, 3},
	} {
		r := PairedT(tc.a, tc.b)
		if !near(r.Mean, tc.mean) || !near(r.Lo, tc.lo) || !near(r.Hi, tc.hi) || !near(r.P, tc.p) || r.Wins != tc.wins || r.Losses != tc.losses || r.N != tc.pairs {
			t.Errorf("PairedT(%v, %v) = %+v, want mean %v CI [%v, %v] p %v, %d wins %d losses", tc.a, tc.b, r, tc.mean, tc.lo, tc.hi, tc.p, tc.wins, tc.losses)
		}
	}
	if r := PairedT([]float64{1, 2}, []float64{1, 2}); r.P != 1 || r.Lo != 0 || r.Hi != 0 {
		t.Errorf("PairedT of equal samples = %+v, want p 1 and the interval [0, 0]", r)
	}
	if r := PairedT([]float64{1}, []float64{2}); !math.IsNaN(r.P) || r.Mean != 1 {
		t.Errorf("PairedT of one pair = %+v, want mean 1 and p NaN", r)
	}
}
