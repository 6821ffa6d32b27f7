package datasets_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/datasets"
	"github.com/parquet-go/parquet-go"
)

// Node and Edge are rows of the Parquet tables of a user's graph.
type Node struct {
	ID       int64     `parquet:"id"`
	Label    int64     `parquet:"label"` // -1: no label
	Split    string    `parquet:"split"` // train, val, test, or empty
	Features []float32 `parquet:"features,list"`
}

type Edge struct {
	Src int64 `parquet:"src"`
	Dst int64 `parquet:"dst"`
}

// ExampleLoadDir writes a tiny graph as Parquet tables, with ids that are
// not 0..N-1, and reads it back as gnsr train --graph does.
func ExampleLoadDir() {
	dir, err := os.MkdirTemp("", "mygraph")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	nodes := []Node{
		{ID: 101, Label: 0, Split: "train", Features: []float32{1, 0}},
		{ID: 205, Label: 1, Split: "train", Features: []float32{0, 1}},
		{ID: 307, Label: 0, Split: "val", Features: []float32{1, 0.5}},
		{ID: 409, Label: 1, Split: "test", Features: []float32{0.2, 1}},
		{ID: 511, Label: -1, Features: []float32{0, 0}},
	}
	edges := []Edge{{101, 307}, {205, 409}, {307, 101}, {409, 511}}
	if err := parquet.WriteFile(filepath.Join(dir, "nodes.parquet"), nodes); err != nil {
		log.Fatal(err)
	}
	if err := parquet.WriteFile(filepath.Join(dir, "edges.parquet"), edges); err != nil {
		log.Fatal(err)
	}

	ds, err := datasets.LoadDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ds.Labels), "nodes,", ds.Graph.NumEdges(), "edges,", ds.Dense.Cols, "dense features,", ds.NumClasses, "classes")
	fmt.Println("node 2 is id", ds.NodeIDs[2], "with neighbours", ds.Graph.Neighbors(2))
	fmt.Println("split", ds.Split.Train, ds.Split.Val, ds.Split.Test)
	// Output:
	// 5 nodes, 3 edges, 2 dense features, 2 classes
	// node 2 is id 307 with neighbours [0]
	// split [0 1] [2] [3]
}
