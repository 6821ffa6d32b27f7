package blasbackend

// Name returns the name of the BLAS backend this binary was built with:
// Backend, "gonum pure Go" or "openblas".
func Name() string { return Backend }
