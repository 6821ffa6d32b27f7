//go:build !openblas || !cgo

package blasbackend

// Backend names the BLAS backend this binary was built with, as the bench
// records and the JSON summaries report it: gonum's pure-Go BLAS (and the
// AVX2 kernel of package vision).
const Backend = "gonum pure Go"

// Install makes gorgonia use this build's BLAS. The pure-Go build needs
// nothing: gorgonia uses gonum's Go BLAS by default, so Install does
// nothing. It never panics.
func Install() {}
