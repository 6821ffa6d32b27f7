package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// MeanStd returns the mean and the sample standard deviation (n−1 in the
// denominator, as Python's statistics.stdev) of xs. The deviation of fewer
// than two values is 0, and the mean of none is NaN.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

// Median returns the median of xs (the mean of the middle two for an even
// count, as Python's statistics.median), or NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Paired is a paired comparison of two samples: the differences b−a of
// matched values, their mean, the two-sided 95 % confidence interval of the
// mean difference from Student's t with n−1 degrees of freedom, and the
// two-sided p-value of the paired t-test of a zero mean difference (as
// scipy.stats.ttest_rel(b, a)). With fewer than two pairs the interval and
// p are NaN; with differences that are all equal, the interval is that
// value and p is 1 for zero and 0 otherwise.
type Paired struct {
	N            int
	Mean, Std    float64 // of the differences (sample std, n−1)
	Lo, Hi       float64 // 95 % confidence interval of Mean
	P            float64
	Wins, Losses int // pairs where b > a, and b < a
}

// PairedT compares a and b pair by pair. It panics if their lengths differ.
func PairedT(a, b []float64) Paired {
	if len(a) != len(b) {
		panic("stats: PairedT of samples of different lengths")
	}
	d := make([]float64, len(a))
	r := Paired{N: len(a)}
	for i := range a {
		d[i] = b[i] - a[i]
		switch {
		case d[i] > 0:
			r.Wins++
		case d[i] < 0:
			r.Losses++
		}
	}
	r.Mean, r.Std = MeanStd(d)
	if r.N < 2 {
		r.Lo, r.Hi, r.P = math.NaN(), math.NaN(), math.NaN()
		return r
	}
	if r.Std == 0 {
		r.Lo, r.Hi, r.P = r.Mean, r.Mean, 0
		if r.Mean == 0 {
			r.P = 1
		}
		return r
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(r.N - 1)}
	se := r.Std / math.Sqrt(float64(r.N))
	half := t.Quantile(0.975) * se
	r.Lo, r.Hi = r.Mean-half, r.Mean+half
	r.P = 2 * t.Survival(math.Abs(r.Mean)/se)
	return r
}
