package sampler_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sampler"
)

func Example() {
	// The path 0-1-2-3-4. Degrees are at most 2, so fanouts of 2 keep every
	// neighbour and the output does not depend on the generator.
	g, err := graph.FromEdges(5, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}})
	if err != nil {
		log.Fatal(err)
	}
	s, err := sampler.New(g, []int{2, 2}) // fanouts[0]: hop nearest the seeds
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b, err := s.Sample([]int{2}, rng)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input nodes:", b.InputNodes)
	for k, blk := range b.Blocks {
		fmt.Printf("block %d: dst %v src %v\n", k, blk.Dst, blk.Src)
		a := blk.Adj
		for i := range a.Rows {
			lo, hi := a.Indptr[i], a.Indptr[i+1]
			fmt.Printf("  row %d: local columns %v values %v\n", i, a.Indices[lo:hi], a.Data[lo:hi])
		}
	}
	// Output:
	// input nodes: [2 1 3 0 4]
	// block 0: dst [2 1 3] src [2 1 3 0 4]
	//   row 0: local columns [1 2] values [0.5 0.5]
	//   row 1: local columns [0 3] values [0.5 0.5]
	//   row 2: local columns [0 4] values [0.5 0.5]
	// block 1: dst [2] src [2 1 3]
	//   row 0: local columns [1 2] values [0.5 0.5]
}

func ExampleBatches() {
	nodes := []int{10, 11, 12, 13, 14, 15, 16}
	// A nil generator keeps the order, as for evaluation.
	fmt.Println(sampler.Batches(nodes, 3, nil))
	// Output:
	// [[10 11 12] [13 14 15] [16]]
}
