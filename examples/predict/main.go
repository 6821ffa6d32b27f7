// Command predict trains a GCN on Cora, saves the model of its best
// validation epoch, loads it back and predicts the classes of a graph it
// never saw: the subgraph of Cora's test nodes, without their labels.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/graph"
)

func main() {
	root, err := datasets.Root("") // $GNSR_DATA, else the user cache directory
	if err != nil {
		log.Fatal(err)
	}
	ds, err := datasets.Load(root, "cora") // the original files, features as stored
	if err != nil {
		log.Fatal(err)
	}
	data, err := gnn.FromDataset(ds) // the protocol's graph, preprocessing and split
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gnsr")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cora.model")
	res, err := gnn.TrainWith(context.Background(), data, gnn.DefaultConfig(), gnn.Options{Model: path})
	if err != nil {
		log.Fatal(err)
	}
	m, err := gnn.LoadModel(path)
	if err != nil {
		log.Fatal(err)
	}
	// A new graph: the test nodes and the edges among them, with their raw
	// features (Predict applies the preprocessing the model was trained with).
	nodes := ds.Split.Test
	sub, err := graph.Subgraph(data.Graph, nodes)
	if err != nil {
		log.Fatal(err)
	}
	pred, err := m.Predict(sub, ds.Features.SelectRows(nodes), nil)
	if err != nil {
		log.Fatal(err)
	}
	correct := 0
	for i, v := range nodes {
		if pred.Class(i) == ds.Labels[v] {
			correct++
		}
	}
	fmt.Printf("trained: test accuracy %.3f at epoch %d\n", res.TestAcc, res.BestEpoch)
	fmt.Printf("on the test nodes' own subgraph: %d of %d correct, embeddings %d wide\n", correct, len(nodes), pred.EmbeddingWidth)
}
