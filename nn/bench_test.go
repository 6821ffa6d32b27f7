package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PubMed's shapes: 19717 nodes, 16 hidden units, 3 classes, 60 training nodes.
const benchNodes, benchHidden, benchClasses = 19717, 16, 3

func BenchmarkDropoutResample(b *testing.B) {
	m := NewDropoutMask(0.5, benchNodes, benchHidden)
	src := rand.NewPCG(1, 1)
	for b.Loop() {
		m.Resample(src)
	}
}

// BenchmarkDropoutLoss is one forward/backward of the loss on 60 rows of
// dropped-out logits through a TapeMachine.
func BenchmarkDropoutLoss(b *testing.B) {
	src := rand.NewPCG(1, 1)
	rng := rand.New(src)
	g := gorgonia.NewGraph()
	xs := make([]float32, benchNodes*benchClasses)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(benchNodes, benchClasses), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(benchNodes, benchClasses), tensor.WithBacking(xs))))
	m := NewDropoutMask(0.5, benchNodes, benchClasses)
	d, err := Dropout(x, m)
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]int, 60)
	labels := make([]int, 60)
	for i := range rows {
		rows[i], labels[i] = rng.IntN(benchNodes), rng.IntN(benchClasses)
	}
	loss, err := SoftmaxCrossEntropy(d, rows, labels)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gorgonia.Grad(loss, x); err != nil {
		b.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(x))
	defer vm.Close()
	for b.Loop() {
		m.Resample(src)
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
