package gnn_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// ExampleTrain trains a GCN with NSR on a small graph of two cliques joined
// by one edge, where only the graph tells the classes apart: every node has
// the same single feature.
func ExampleTrain() {
	const n = 12
	var edges [][2]int
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		labels[i] = i / 6
		for j := i + 1; j < n; j++ {
			if i/6 == j/6 {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	edges = append(edges, [2]int{5, 6})
	g, err := graph.FromEdges(n, edges)
	if err != nil {
		log.Fatal(err)
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	x, err := sparse.FromCOO(n, 2, rows, make([]int, n), make([]float32, n))
	if err != nil {
		log.Fatal(err)
	}
	// Give the training nodes a feature that marks their class.
	x.Data[0], x.Data[11] = 1, -1
	data := &gnn.Data{
		Features: x, Graph: g, Labels: labels, NumClasses: 2,
		Train: []int{0, 11}, Val: []int{1, 10}, Test: []int{2, 3, 4, 7, 8, 9},
	}
	cfg := gnn.DefaultConfig()
	cfg.Epochs, cfg.Dropout, cfg.Seed = 100, 0, 1
	cfg.NSR.Lambdas = []float64{0.1} // on layer 0, the hidden layer
	res, err := gnn.Train(context.Background(), data, cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy %.2f, NSR on layers %v\n", res.TestAcc, res.NSRLayers)
	// Output: test accuracy 1.00, NSR on layers [0]
}
