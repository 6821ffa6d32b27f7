package parallel

import (
	"fmt"
	"runtime"
	"sync"
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

// TestBlocksCoversEachIndexOnce checks that Blocks hands every block out
// once, on any number of goroutines, including empty blocks, and that with
// one goroutine it makes a single call over the whole range.
func TestBlocksCoversEachIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	bounds := []int{3, 10, 10, 11, 40, 41, 100}
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		var mu sync.Mutex
		hits := make([]int, 100)
		calls := 0
		Blocks(bounds, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			for i := lo; i < hi; i++ {
				hits[i]++
			}
		})
		for i, h := range hits {
			if want := btoi(i >= 3); h != want {
				t.Fatalf("procs %d: index %d visited %d times, want %d", procs, i, h, want)
			}
		}
		if procs == 1 && calls != 1 {
			t.Errorf("one goroutine: %d calls, want 1", calls)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Blocks with one bound did not panic")
		}
	}()
	Blocks([]int{0}, func(int, int) {})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRunsCoversEachRowOnce checks that Runs calls fn on ranges of rows
// only, covering each row once, on any number of goroutines.
func TestRunsCoversEachRowOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rows := []int32{0, 1, 2, 5, 9, 10, 11, 40, 41, 99}
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, minPer := range []int{1, 2, 100} {
			var mu sync.Mutex
			hits := make([]int, 100)
			Runs(rows, minPer, func(lo, hi int) {
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					hits[i]++
				}
			})
			for i, h := range hits {
				want := 0
				for _, r := range rows {
					if int(r) == i {
						want = 1
					}
				}
				if h != want {
					t.Fatalf("procs %d, minPer %d: row %d visited %d times, want %d", procs, minPer, i, h, want)
				}
			}
		}
	}
	Runs(nil, 1, func(int, int) { t.Error("fn called for no rows") })
}

// BenchmarkMachineCeiling measures what the machine gives two threads
// without gnsr's code in the way: the same loop over two float32 arrays of
// each size, on one goroutine ("one") or on two, one array each ("two"),
// plain goroutines started per iteration. one/two is the best speed-up
// to expect from two threads for work of that size.
func BenchmarkMachineCeiling(b *testing.B) {
	loop := func(x []float32) {
		for range 4 {
			for i := range x {
				x[i] = x[i]*1.0001 + 0.5
			}
		}
	}
	for _, kib := range []int{64, 1024} {
		x, y := make([]float32, kib<<8), make([]float32, kib<<8)
		b.Run(fmt.Sprintf("%dKiB/one", kib), func(b *testing.B) {
			for b.Loop() {
				loop(x)
				loop(y)
			}
		})
		b.Run(fmt.Sprintf("%dKiB/two", kib), func(b *testing.B) {
			for b.Loop() {
				var wg sync.WaitGroup
				wg.Go(func() { loop(y) })
				loop(x)
				wg.Wait()
			}
		})
	}
}
