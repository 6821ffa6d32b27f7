package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GlorotUniform returns fanIn·fanOut values drawn from rng uniformly in
// [-a, a] with a = sqrt(6/(fanIn+fanOut)), as PyTorch's xavier_uniform_ with
// gain 1, for a (fanIn, fanOut) weight matrix in row-major order.
//
// GlorotUniform panics if fanIn or fanOut is not positive.
func GlorotUniform(rng *rand.Rand, fanIn, fanOut int) []float32 {
	s := make([]float32, fans(fanIn, fanOut))
	fill(s, rng, glorotUniform(fanIn, fanOut))
	return s
}

// GlorotNormal returns fanIn·fanOut values drawn from rng from a normal
// distribution with mean 0 and standard deviation sqrt(2/(fanIn+fanOut)),
// as PyTorch's xavier_normal_ with gain 1.
//
// GlorotNormal panics if fanIn or fanOut is not positive.
func GlorotNormal(rng *rand.Rand, fanIn, fanOut int) []float32 {
	s := make([]float32, fans(fanIn, fanOut))
	fill(s, rng, glorotNormal(fanIn, fanOut))
	return s
}

// Zeros returns n zeros.
func Zeros(n int) []float32 { return make([]float32, n) }

func fans(fanIn, fanOut int) int {
	if fanIn <= 0 || fanOut <= 0 {
		panic(fmt.Sprintf("nn: bad fans %d, %d", fanIn, fanOut))
	}
	return fanIn * fanOut
}

func glorotUniform(fanIn, fanOut int) func(*rand.Rand) float64 {
	a := math.Sqrt(6 / float64(fanIn+fanOut))
	return func(rng *rand.Rand) float64 { return a * (2*rng.Float64() - 1) }
}

func glorotNormal(fanIn, fanOut int) func(*rand.Rand) float64 {
	sd := math.Sqrt(2 / float64(fanIn+fanOut))
	return func(rng *rand.Rand) float64 { return sd * rng.NormFloat64() }
}

func fill[T float32 | float64](s []T, rng *rand.Rand, draw func(*rand.Rand) float64) {
	for i := range s {
		s[i] = T(draw(rng))
	}
}

// FillGlorotUniform fills the float32 or float64 matrix t as GlorotUniform,
// with fanIn and fanOut its numbers of rows and columns (the layout of W in
// x·W). Values are drawn in t's precision.
func FillGlorotUniform(rng *rand.Rand, t *tensor.Dense) error {
	return fillMatrix(rng, t, glorotUniform)
}

// FillGlorotNormal fills the float32 or float64 matrix t as GlorotNormal,
// with fanIn and fanOut its numbers of rows and columns.
func FillGlorotNormal(rng *rand.Rand, t *tensor.Dense) error {
	return fillMatrix(rng, t, glorotNormal)
}

func fillMatrix(rng *rand.Rand, t *tensor.Dense, dist func(int, int) func(*rand.Rand) float64) error {
	s := t.Shape()
	if s.Dims() != 2 || s[0] <= 0 || s[1] <= 0 || t.RequiresIterator() {
		return fmt.Errorf("nn: cannot initialise a tensor of shape %v (view %v)", s, t.RequiresIterator())
	}
	draw := dist(s[0], s[1])
	switch d := t.Data().(type) {
	case []float32:
		fill(d, rng, draw)
	case []float64:
		fill(d, rng, draw)
	default:
		return fmt.Errorf("nn: cannot initialise a tensor of dtype %v", t.Dtype())
	}
	return nil
}

// NewParam returns a float32 parameter node of g with the given name and
// shape whose value is backed by init, or by zeros if init is nil. The node's
// value shares init's memory, so an optimizer's in-place updates are seen
// through init and by any other graph built on the same tensor (see
// Node.Value).
//
// NewParam panics if shape is empty or len(init) is not the shape's size.
func NewParam(g *gorgonia.ExprGraph, name string, shape []int, init []float32) *gorgonia.Node {
	if len(shape) == 0 {
		panic("nn: NewParam: empty shape")
	}
	size := 1
	for _, d := range shape {
		if d <= 0 {
			panic(fmt.Sprintf("nn: NewParam %s: bad shape %v", name, shape))
		}
		size *= d
	}
	if init == nil {
		init = make([]float32, size)
	}
	if len(init) != size {
		panic(fmt.Sprintf("nn: NewParam %s: %d values for shape %v", name, len(init), shape))
	}
	t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(init))
	return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name), gorgonia.WithValue(t))
}
