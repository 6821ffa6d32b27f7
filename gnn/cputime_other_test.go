//go:build !unix

package gnn

import "time"

// cpuTime reports false: there is no getrusage here.
func cpuTime() (time.Duration, bool) { return 0, false }
