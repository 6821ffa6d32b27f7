package nn

import (
	"github.com/gnsr/gnsr/internal/autograd"
	"gorgonia.org/gorgonia"
)

// Scalar returns the value of a float scalar gorgonia value (*F32, *F64 or
// a one-element tensor), or NaN if v is nil or not one: for reading a loss
// after a run, where NaN then stops training as any non-finite loss does.
func Scalar(v gorgonia.Value) float64 { return autograd.Scalar(v) }
