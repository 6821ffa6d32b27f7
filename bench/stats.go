package bench

import "github.com/gnsr/gnsr/internal/stats"

// MeanStd returns the mean and the sample standard deviation (n−1 in the
// denominator, as Python's statistics.stdev, which the peers report) of xs.
// The deviation of fewer than two values is 0, and the mean of none is NaN.
func MeanStd(xs []float64) (mean, std float64) { return stats.MeanStd(xs) }

// Median returns the median of xs (the mean of the middle two for an even
// count, as Python's statistics.median), or NaN for none.
func Median(xs []float64) float64 { return stats.Median(xs) }
