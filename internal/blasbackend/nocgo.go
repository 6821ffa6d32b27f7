//go:build openblas && !cgo

package blasbackend

// The openblas build tag links OpenBLAS through cgo: build with
// CGO_ENABLED=1 and a C compiler, or without the tag. The undefined name
// below makes the build fail with that message rather than fall back to
// pure Go silently.
var _ = openblas_build_tag_needs_cgo__set_CGO_ENABLED_1_and_install_a_C_compiler
