// Package parallel splits loops over contiguous index ranges across
// goroutines. It is for work whose result does not depend on the split
// (each range writes only its own data), so results stay bit-identical for
// any GOMAXPROCS.
//
// The sections run on a crew of worker goroutines started once and kept:
// after a section a worker polls for the next one for a while (spinFor)
// before it parks, so that handing over a range costs under a microsecond
// instead of a thread's wake-up. Polling shows as CPU time; a process's
// CPU time over its wall time therefore overstates the work done in
// parallel by up to the polling, which the parstats counters do not.
//
// Built with -tags parstats, it also counts the parallel sections (the
// calls that run a loop on several goroutines) and their wall time, for Stats: the time a
// step spends outside them is its serial part. The default build keeps no
// counters and pays nothing.
package parallel
