package parallel

import "time"

// Site is what a -tags parstats build measured of the parallel sections
// one function started.
type Site struct {
	Caller   string        // the function that called For or Blocks ← its caller, with lines
	Sections int64         // how many sections it started
	Wall     time.Duration // their summed wall time
	Busy     time.Duration // the summed wall time of their goroutines' work
	Slots    time.Duration // Σ wall × goroutines: Busy/Slots is the balance
}
