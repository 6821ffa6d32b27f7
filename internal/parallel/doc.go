// Package parallel splits loops over contiguous index ranges across
// goroutines. It is for work whose result does not depend on the split
// (each range writes only its own data), so results stay bit-identical for
// any GOMAXPROCS.
//
// Built with -tags parstats, it also counts the parallel sections (the
// calls that start goroutines) and their wall time, for Stats: the time a
// step spends outside them is its serial part. The default build keeps no
// counters and pays nothing.
package parallel
