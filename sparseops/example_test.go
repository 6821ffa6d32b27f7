package sparseops_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gnsr/gnsr/sparseops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func ExampleFromCOO() {
	// The duplicate entry at (0, 2) is summed; columns come out sorted.
	m, err := sparseops.FromCOO(2, 3,
		[]int{0, 1, 0, 0},
		[]int{2, 1, 0, 2},
		[]float32{1, 3, 4, 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Indptr, m.Indices, m.Data)
	fmt.Println(m.ToDense())
	// Output:
	// [0 2 3] [0 2 1] [4 2 3]
	// [4 0 2 0 3 0]
}

func ExampleCSR_MulDense32() {
	m, _ := sparseops.FromCOO(2, 3, []int{0, 0, 1}, []int{0, 2, 1}, []float32{1, 2, 3})
	b := []float32{ // 3×2
		1, 2,
		3, 4,
		5, 6,
	}
	dst := make([]float32, 2*2)
	m.MulDense32(dst, b, 2)
	fmt.Println(dst)
	// Output:
	// [11 14 9 12]
}

func ExampleMul() {
	a, _ := sparseops.FromCOO(2, 3, []int{0, 0, 1}, []int{0, 2, 1}, []float32{1, 2, 3})
	c := sparseops.NewConstant(a)

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

func ExampleConstant_SetData() {
	x, _ := sparseops.FromCOO(2, 2, []int{0, 1, 1}, []int{1, 0, 1}, []float32{1, 2, 3})
	c := sparseops.NewConstant(x)
	// Sparse dropout of the feature values for one training step.
	vals := make([]float32, x.NNZ())
	sparseops.DropoutValues(vals, x.Data, 0.5, rand.New(rand.NewPCG(1, 2)))
	if err := c.SetData(vals); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Matrix().Data, x.Data)
	// Output:
	// [2 0 6] [1 2 3]
}
