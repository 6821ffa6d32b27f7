package graph_test

import (
	"fmt"
	"log"

	"github.com/gnsr/gnsr/graph"
)

func ExampleNormalizeSymmetric() {
	// The path 0-1-2, with a repeated edge and a self-loop that are dropped.
	g, err := graph.FromEdges(3, [][2]int{{0, 1}, {1, 2}, {2, 1}, {2, 2}})
	if err != nil {
		log.Fatal(err)
	}
	s := graph.NormalizeSymmetric(g)
	for i := range s.Rows {
		lo, hi := s.Indptr[i], s.Indptr[i+1]
		fmt.Printf("row %d: columns %v values %.4f\n", i, s.Indices[lo:hi], s.Data[lo:hi])
	}
	// Output:
	// row 0: columns [0 1] values [0.5000 0.4082]
	// row 1: columns [0 1 2] values [0.4082 0.3333 0.4082]
	// row 2: columns [1 2] values [0.4082 0.5000]
}
