package sparseops_test

import (
	"fmt"
	"log"

	"github.com/gnsr/gnsr/sparse"
	"github.com/gnsr/gnsr/sparseops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func ExampleMul() {
	a, _ := sparse.FromCOO(2, 3, []int{0, 0, 1}, []int{0, 2, 1}, []float32{1, 2, 3})
	c := sparse.NewMatrix(a)

	g := gorgonia.NewGraph()
	h := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("h"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))))
	ah, err := sparseops.Mul(c, h)
	if err != nil {
		log.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(ah))
	if _, err := gorgonia.Grad(loss, h); err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	grad, _ := h.Grad()
	fmt.Println("A·H:", ah.Value().Data())
	fmt.Println("∂sum(A·H)/∂H = Aᵀ·1:", grad.Data())
	// Output:
	// A·H: [11 14 9 12]
	// ∂sum(A·H)/∂H = Aᵀ·1: [1 1 3 3 2 2]
}
