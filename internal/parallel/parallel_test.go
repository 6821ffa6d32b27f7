package parallel

import (
	"runtime"
	"testing"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, tc := range []struct{ n, minPer int }{
			{0, 1}, {1, 1}, {7, 1}, {7, 0}, {100, 10}, {100, 200}, {1001, 3},
		} {
			hits := make([]int, tc.n)
			For(tc.n, tc.minPer, func(lo, hi int) {
				if hi-lo < max(tc.minPer, 1) && hi-lo != tc.n {
					t.Errorf("procs %d, n %d: range [%d, %d) shorter than %d", procs, tc.n, lo, hi, tc.minPer)
				}
				for i := lo; i < hi; i++ {
					hits[i]++ // ranges are disjoint, so no race
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("procs %d, n %d, minPer %d: index %d visited %d times", procs, tc.n, tc.minPer, i, h)
				}
			}
		}
	}
}
