package parallel

import (
	"runtime"
	"sync"
)

// For calls fn on contiguous ranges [lo, hi) that cover [0, n), on up to
// GOMAXPROCS goroutines, each range with at least minPer items (minPer < 1
// counts as 1). With one range it calls fn(0, n) on the calling goroutine,
// so small loops pay nothing. fn must write only its own range's data.
func For(n, minPer int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minPer, 1))
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	// Boundaries n·w/workers make every range at least n/workers ≥ minPer.
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { fn(n*w/workers, n*(w+1)/workers) })
	}
	fn(0, n/workers)
	wg.Wait()
}
