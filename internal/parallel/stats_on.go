//go:build parstats

package parallel

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The counters of a -tags parstats build: kept process-wide, as a
// profiler's are, and only in binaries built to measure.
var (
	sectionCount, sectionNanos atomic.Int64
	// overheadNanos is the time the counting itself took outside the
	// sections, which a default build does not spend; active counts the
	// sections running, so that the counting of a section inside another
	// is not taken out of the outer one's time.
	overheadNanos, active atomic.Int64
	sitesMu               sync.Mutex
	sites                 = map[[2]uintptr]*Site{}
)

// epoch anchors the monotonic clock readings.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

type section struct {
	start   int64
	outer   bool // no other section ran when it began
	busy    atomic.Int64
	workers int
}

// begin starts a section of workers goroutines.
func begin(workers int) *section {
	t := now()
	s := &section{workers: workers, outer: active.Add(1) == 1}
	s.start = now()
	if s.outer {
		overheadNanos.Add(s.start - t)
	}
	return s
}

// timed returns fn, adding its wall time to s's busy time.
func (s *section) timed(fn func(lo, hi int)) func(lo, hi int) {
	return func(lo, hi int) {
		t := now()
		fn(lo, hi)
		s.busy.Add(now() - t)
	}
}

// end closes s, charging it to the caller of For or Blocks.
func (s *section) end() {
	t := now()
	active.Add(-1)
	if s.outer {
		defer func() { overheadNanos.Add(now() - t) }()
	}
	wall := t - s.start
	if s.outer {
		sectionNanos.Add(wall)
	}
	sectionCount.Add(1)
	// The caller of For or Blocks and its caller: forRows alone says little.
	var pcs [2]uintptr
	runtime.Callers(4, pcs[:]) // Callers, end, run, For or Blocks
	sitesMu.Lock()
	defer sitesMu.Unlock()
	st := sites[pcs]
	if st == nil {
		st = &Site{Caller: callers(pcs[:])}
		sites[pcs] = st
	}
	st.Sections++
	st.Wall += time.Duration(wall)
	st.Busy += time.Duration(s.busy.Load())
	st.Slots += time.Duration(wall) * time.Duration(s.workers)
}

// callers names the frames of pcs, innermost first.
func callers(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	var s string
	for {
		f, more := frames.Next()
		if f.Function != "" {
			if s != "" {
				s += " ← "
			}
			s += fmt.Sprintf("%s:%d", f.Function, f.Line)
		}
		if !more {
			return s
		}
	}
}

// Stats returns how many parallel sections have run in this process, the
// wall time during which one ran, each section from its first goroutine's
// start to the last one's end (a section begun while another ran counts
// as inside that one), and the time their counting took outside them
// (which a default build does not spend), with ok = true: this binary was
// built with -tags parstats.
func Stats() (sections int64, wall, overhead time.Duration, ok bool) {
	return sectionCount.Load(), time.Duration(sectionNanos.Load()), time.Duration(overheadNanos.Load()), true
}

// Sites returns the parallel sections so far by the function that started
// them, longest wall time first.
func Sites() []Site {
	sitesMu.Lock()
	defer sitesMu.Unlock()
	out := make([]Site, 0, len(sites))
	for _, s := range sites {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Wall > out[j].Wall })
	return out
}
