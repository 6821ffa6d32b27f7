//go:build !linux

package bench

import "os"

// peakRSSKiB returns 0: the peak resident memory of a process is read on
// Linux only (elsewhere ru_maxrss has other units, or is missing).
func peakRSSKiB(*os.ProcessState) int64 { return 0 }
