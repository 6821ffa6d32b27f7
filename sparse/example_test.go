package sparse_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gnsr/gnsr/sparse"
)

func ExampleFromCOO() {
	// The duplicate entry at (0, 2) is summed; columns come out sorted.
	m, err := sparse.FromCOO(2, 3,
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
	m, _ := sparse.FromCOO(2, 3, []int{0, 0, 1}, []int{0, 2, 1}, []float32{1, 2, 3})
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

func ExampleMatrix_SetData() {
	x, _ := sparse.FromCOO(2, 2, []int{0, 1, 1}, []int{1, 0, 1}, []float32{1, 2, 3})
	c := sparse.NewMatrix(x)
	// Sparse dropout of the feature values for one training step.
	vals := make([]float32, x.NNZ())
	sparse.DropoutValues(vals, x.Data, 0.5, rand.New(rand.NewPCG(1, 2)))
	if err := c.SetData(vals); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.CSR().Data, x.Data)
	// Output:
	// [2 0 6] [1 2 3]
}
