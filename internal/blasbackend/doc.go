// Package blasbackend chooses the BLAS that gorgonia's dense products run
// on, and names the backend a binary was built with.
//
// The default build is pure Go and free of cgo: gorgonia keeps gonum's Go
// BLAS, and internal/matmul its own AVX2 matrix kernel. Built with
// `-tags openblas` (which needs cgo and OpenBLAS, Debian's libopenblas-dev),
// Install makes gorgonia call OpenBLAS's sgemm, dgemm, sgemv and dgemv, and
// internal/matmul calls cblas_sgemm directly.
//
// # Global state
//
// gorgonia keeps its BLAS in a package variable (gorgonia.Use), and
// OpenBLAS its thread count in the C library; neither can be scoped to a
// graph or a run. So Install is an explicit call that the command's main
// makes once at start-up, before any graph runs, rather than an init
// function: importing this package changes nothing, libraries and tests
// keep gorgonia's default unless they choose otherwise, and the one place
// that changes process-wide state is visible in main.
//
// # Numbers
//
// OpenBLAS results are deterministic for a fixed thread count, but its
// kernels sum in another order than the pure-Go build, so results may
// differ from it in the last bits (and training runs, after many steps, a
// little more). Install sets the OpenBLAS thread count to GOMAXPROCS, so a
// run is reproducible for a fixed GOMAXPROCS; the pure-Go build gives the
// same numbers for any GOMAXPROCS.
package blasbackend
