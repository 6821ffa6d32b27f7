package parallel

import (
	"runtime"
	"sync/atomic"
	"time"
)

// spinFor is how long a crew worker keeps polling for the next section
// after its last one before it parks. A training step starts a section
// every few tens of microseconds; waking a parked goroutine on an idle CPU
// costs the futex and the OS's thread wake-up, 5-10 µs on the machines
// measured, as much as a small section's work. OpenMP runtimes spin for
// the same reason (GOMP_SPINCOUNT, KMP_BLOCKTIME), for far longer.
const spinFor = 100 * time.Microsecond

// crew is the set of worker goroutines that run the parallel sections:
// started once, when a section first needs them, and kept for the life of
// the process, polling for spinFor after each section and then parked.
// It is this package's one piece of process-wide state, as the runtime's
// own idle threads are: results never depend on it, since each range of
// a section is computed by one goroutine whichever it is.
//
// One section at a time runs on the crew; a section started while another
// runs (from inside one, or from another goroutine) starts goroutines of
// its own instead.
type crew struct {
	busy    atomic.Bool         // held by the goroutine whose section is on the crew
	gen     atomic.Uint64       // counts the sections published
	current atomic.Pointer[job] // the last section published
	workers []*crewWorker       // read and grown only by the holder of busy
}

// crewWorker is one goroutine of the crew.
type crewWorker struct {
	parked atomic.Bool
	wake   chan struct{} // a token wakes the worker when parked
}

// job is one section as the crew runs it.
type job struct {
	bounds  []int
	fn      func(lo, hi int)
	helpers int          // workers 0..helpers-1 take part
	next    atomic.Int64 // the next block to claim
	done    atomic.Int64 // the blocks finished
}

// theCrew runs the sections of this process.
var theCrew crew

// claim runs blocks of j until none is left to claim.
func (j *job) claim() {
	nb := int64(len(j.bounds) - 1)
	for b := j.next.Add(1) - 1; b < nb; b = j.next.Add(1) - 1 {
		j.fn(j.bounds[b], j.bounds[b+1])
		j.done.Add(1)
	}
}

// tryRun runs the section (bounds, fn) on the calling goroutine and
// workers−1 crew workers, and reports true; or reports false at once,
// running nothing, when the crew is running another section.
func (c *crew) tryRun(bounds []int, fn func(lo, hi int), workers int) bool {
	if !c.busy.CompareAndSwap(false, true) {
		return false
	}
	defer c.busy.Store(false)
	helpers := workers - 1
	c.grow(helpers)
	j := &job{bounds: bounds, fn: fn, helpers: helpers}
	c.current.Store(j)
	c.gen.Add(1)
	// A worker parks only after it set parked and saw no new section
	// (both atomic, so sequentially consistent): either it sees this
	// generation or this loop sees it parked.
	for _, w := range c.workers[:helpers] {
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default: // a token is already waiting
			}
		}
	}
	j.claim()
	// The blocks left are running on workers: short, by construction.
	for nb, n := int64(len(bounds)-1), 0; j.done.Load() < nb; n++ {
		if n%1024 == 1023 {
			runtime.Gosched() // in case a worker waits for this P
		}
	}
	return true
}

// grow starts workers until the crew has n. Only the goroutine holding
// busy calls it.
func (c *crew) grow(n int) {
	for id := len(c.workers); id < n; id++ {
		w := &crewWorker{wake: make(chan struct{}, 1)}
		c.workers = append(c.workers, w)
		go c.work(id, w, c.gen.Load())
	}
}

// work is worker id's loop: wait for a section newer than seen, take part
// if the section wants it, repeat. Workers beyond the machine's CPUs
// (GOMAXPROCS above NumCPU) park at once instead of spinning, so that they
// do not take CPU time from the goroutines that do the work.
func (c *crew) work(id int, w *crewWorker, seen uint64) {
	spins := id < runtime.NumCPU()-1
	for {
		g := c.gen.Load()
		if g == seen && spins {
			g = c.poll(seen)
		}
		for g == seen {
			w.parked.Store(true)
			if g = c.gen.Load(); g == seen {
				<-w.wake
				g = c.gen.Load()
			}
			w.parked.Store(false)
		}
		seen = g
		if j := c.current.Load(); id < j.helpers {
			j.claim()
		}
	}
}

// poll returns the generation once it differs from seen, or seen after
// spinFor.
func (c *crew) poll(seen uint64) uint64 {
	deadline := time.Now().Add(spinFor)
	for {
		// Loads alone: a runtime.Gosched here would take the scheduler's
		// lock each time, which the goroutine publishing sections needs.
		for range 1024 {
			if g := c.gen.Load(); g != seen {
				return g
			}
		}
		if time.Now().After(deadline) {
			return c.gen.Load()
		}
	}
}
