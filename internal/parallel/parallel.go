package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// piecesPerWorker is how many ranges a goroutine takes on average: more
// than one, so that a goroutine that finishes early (its share was cheaper,
// or its CPU was busy with something else) takes the next range instead of
// waiting for the others.
const piecesPerWorker = 4

// Pieces returns how many ranges to cut a loop into for workers
// goroutines: piecesPerWorker each, or 1 for one.
func Pieces(workers int) int {
	if workers <= 1 {
		return 1
	}
	return workers * piecesPerWorker
}

// For calls fn on contiguous ranges [lo, hi) that cover [0, n), on up to
// GOMAXPROCS goroutines, each range with at least minPer items (minPer < 1
// counts as 1). With one range it calls fn(0, n) on the calling goroutine,
// so small loops pay nothing. fn must write only its own range's data,
// and its results must not depend on where the ranges are cut.
func For(n, minPer int, fn func(lo, hi int)) {
	// GOMAXPROCS takes the scheduler's lock: read once a section.
	procs := runtime.GOMAXPROCS(0)
	pieces := min(Pieces(procs), n/max(minPer, 1))
	if pieces <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	// Boundaries n·p/pieces make every range at least n/pieces ≥ minPer.
	bounds := make([]int, pieces+1)
	for p := range bounds {
		bounds[p] = n * p / pieces
	}
	run(bounds, fn, procs)
}

// Runs calls fn on the runs of consecutive integers of rows, which must be
// increasing, as ranges [lo, hi): For over the positions of rows, with at
// least minPer positions a goroutine, a run being cut where a range of
// positions ends. fn must write only its own range's data, and its results
// must not depend on where the runs are cut.
func Runs(rows []int32, minPer int, fn func(lo, hi int)) {
	For(len(rows), minPer, func(t0, t1 int) {
		for t := t0; t < t1; {
			lo := int(rows[t])
			hi := lo + 1
			for t++; t < t1 && int(rows[t]) == hi; t++ {
				hi++
			}
			fn(lo, hi)
		}
	})
}

// ClearOutside zeroes the rows of dst, a row-major matrix cols wide, that
// are not in rows (increasing); none if rows is nil. The gaps between rows
// are cleared on up to GOMAXPROCS goroutines.
func ClearOutside[T float32 | float64](dst []T, cols int, rows []int32) {
	if rows == nil || cols == 0 {
		return
	}
	n := len(dst) / cols
	// Gap t is the rows between rows[t-1] and rows[t], the first and the
	// last reaching the ends.
	For(len(rows)+1, max(1, len(rows)*(1<<13)/max(len(dst), 1)), func(t0, t1 int) {
		for t := t0; t < t1; t++ {
			lo, hi := 0, n
			if t > 0 {
				lo = int(rows[t-1]) + 1
			}
			if t < len(rows) {
				hi = int(rows[t])
			}
			clear(dst[lo*cols : hi*cols])
		}
	})
}

// Blocks calls fn(bounds[b], bounds[b+1]) for each b < len(bounds)−1, on
// up to GOMAXPROCS goroutines (the calling one among them) that take the
// next block as they finish one: for splits into blocks of about equal
// cost (rows by their entries), Pieces(workers) of them. With one
// goroutine it calls fn(bounds[0], bounds[len(bounds)−1]) once. fn must
// write only its own range's data, and its results must not depend on
// where the ranges are cut. It panics if bounds has fewer than 2 entries.
func Blocks(bounds []int, fn func(lo, hi int)) {
	if len(bounds) < 2 {
		panic("parallel: Blocks needs at least 2 bounds")
	}
	run(bounds, fn, runtime.GOMAXPROCS(0))
}

// run is Blocks for bounds of at least 2 entries on up to procs
// goroutines, called by For and Blocks (so that a parstats build finds
// their caller at the same depth).
func run(bounds []int, fn func(lo, hi int), procs int) {
	nb := len(bounds) - 1
	workers := min(procs, nb)
	if workers <= 1 {
		fn(bounds[0], bounds[nb])
		return
	}
	s := begin(workers)
	fn = s.timed(fn)
	if theCrew.tryRun(bounds, fn, workers) {
		s.end()
		return
	}
	var next atomic.Int64
	work := func() {
		for b := int(next.Add(1)) - 1; b < nb; b = int(next.Add(1)) - 1 {
			fn(bounds[b], bounds[b+1])
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	s.end()
}
