// Package parallel splits loops over contiguous index ranges across
// goroutines. It is for work whose result does not depend on the split
// (each range writes only its own data), so results stay bit-identical for
// any GOMAXPROCS.
package parallel
