package nsr_test

import (
	"fmt"

	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The penalty of a 4×2 layer with two classes, and its gradient through a
// TapeMachine. Each sample is compared with its own class mean: neuron 0 has
// class means 2 and 11, so every sample deviates by 1; neuron 1 is constant
// within each class.
func ExamplePenalty() {
	g := G.NewGraph()
	hv := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{
		1, 0,
		3, 0,
		10, 1,
		12, 1,
	}))
	h := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithValue(hv), G.WithName("h"))
	est := &nsr.FullBatch{Labels: []int{0, 0, 1, 1}, NumClasses: 2}
	p, err := nsr.Penalty(h, est)
	if err != nil {
		panic(err)
	}
	if _, err := G.Grad(p, h); err != nil {
		panic(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(h))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	grad, _ := h.Grad()
	fmt.Println("P =", p.Value())
	fmt.Println("dP/dh =", grad.Data())
	// Output:
	// P = 0.5
	// dP/dh = [-0.25 0 0.25 0 -0.25 0 0.25 0]
}

// Choosing the layer for NSR from the flags.
func ExampleParseLayers() {
	layers, auto, err := nsr.ParseLayers("-1", 2)
	fmt.Println(layers, auto, err)
	_, _, err = nsr.ParseLayers("2", 2)
	fmt.Println(err)
	lambdas, err := nsr.ParseLambdas("0.5", len(layers))
	fmt.Println(lambdas, err)
	// Output:
	// [1] false <nil>
	// nsr: --nsr-layers: layer 2 out of range for a model with 2 layers (valid: 0..1, or -2..-1 from the end)
	// [0.5] <nil>
}

// The auto criterion: the layer with the largest aggregated intra-class
// variance, measured on the training rows.
func ExampleChooseLayer() {
	labels := []int{0, 0, 1, 1}
	hidden := []float32{1, 0, 3, 0, 10, 1, 12, 1} // 4×2
	logits := []float32{1, 2, 1, 2, 5, 0, 5, 0}   // 4×2, steady
	v := []float64{
		nsr.Aggregate(nsr.IntraClassVariance(hidden, 2, nil, labels, 2, false)),
		nsr.Aggregate(nsr.IntraClassVariance(logits, 2, nil, labels, 2, false)),
	}
	i, reason := nsr.ChooseLayer(v)
	fmt.Println(i)
	fmt.Println(reason)
	// Output:
	// 0
	// layer 0 has the largest aggregated intra-class variance Σ_n σ_n (layer 0: 1, layer 1: 0)
}
