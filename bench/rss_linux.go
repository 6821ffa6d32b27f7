package bench

import (
	"os"
	"syscall"
)

// peakRSSKiB returns the peak resident memory of a finished process, in
// KiB (Linux reports ru_maxrss in KiB), or 0 when unknown.
func peakRSSKiB(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
