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
	sitesMu                    sync.Mutex
	sites                      = map[[2]uintptr]*Site{}
)

// epoch anchors the monotonic clock readings.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

type section struct {
	start   int64
	busy    atomic.Int64
	workers int
}

// begin starts a section of workers goroutines.
func begin(workers int) *section { return &section{start: now(), workers: workers} }

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
	wall := now() - s.start
	sectionNanos.Add(wall)
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

// Stats returns how many parallel sections have run in this process and
// their summed wall time, each from its first goroutine's start to the
// last one's end, with ok = true: this binary was built with -tags
// parstats. Sections started from inside another are counted twice.
func Stats() (sections int64, wall time.Duration, ok bool) {
	return sectionCount.Load(), time.Duration(sectionNanos.Load()), true
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
