package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// covers runs For over n indices with ranges of one, so that every
// section has as many blocks as it can, and reports whether each index was
// visited once. inner, if not nil, runs inside every range.
func covers(n int, inner func()) bool {
	hits := make([]atomic.Int32, n)
	For(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
		if inner != nil {
			inner()
		}
	})
	for i := range hits {
		if hits[i].Load() != 1 {
			return false
		}
	}
	return true
}

// TestCrewSections checks the crew's ways of running a section: polling
// workers, parked ones woken after spinFor, sections started from inside
// a section and from several goroutines at once (which start goroutines of
// their own), for GOMAXPROCS under, at and over the CPUs.
func TestCrewSections(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for range 100 {
			if !covers(64, nil) {
				t.Fatalf("procs %d: back-to-back sections missed or repeated an index", procs)
			}
		}
		time.Sleep(3 * spinFor) // every worker parked
		if !covers(64, nil) {
			t.Fatalf("procs %d: a section after the workers parked missed or repeated an index", procs)
		}
		var nested atomic.Bool
		nested.Store(true)
		if !covers(16, func() {
			if !covers(8, nil) {
				nested.Store(false)
			}
		}) || !nested.Load() {
			t.Fatalf("procs %d: nested sections missed or repeated an index", procs)
		}
		var wg sync.WaitGroup
		var failed atomic.Bool
		for range 4 {
			wg.Go(func() {
				for range 50 {
					if !covers(32, nil) {
						failed.Store(true)
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() {
			t.Fatalf("procs %d: concurrent sections missed or repeated an index", procs)
		}
	}
}
