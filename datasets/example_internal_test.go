package datasets

import (
	"fmt"
	"os"
)

// ExampleLoadPlanetoid loads a small synthetic dataset in the Planetoid
// format, written to a temporary data root the way `gnsr data download`
// lays out the real files.
func ExampleLoadPlanetoid() {
	root, err := os.MkdirTemp("", "gnsr-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	if err := newSynthPlanetoid(1).write(root, "citeseer"); err != nil {
		fmt.Println(err)
		return
	}

	ds, err := LoadPlanetoid(root, "citeseer")
	if err != nil {
		fmt.Println(err)
		return
	}
	unlabeled := 0
	for _, l := range ds.Labels {
		if l < 0 {
			unlabeled++
		}
	}
	fmt.Printf("%d nodes, %d features, %d classes, %d unlabeled\n", len(ds.Labels), ds.Features.Cols, ds.NumClasses, unlabeled)
	fmt.Printf("split %d/%d/%d, %d files read\n", len(ds.Split.Train), len(ds.Split.Val), len(ds.Split.Test), len(ds.Files))
	// Output:
	// 522 nodes, 7 features, 3 classes, 2 unlabeled
	// split 6/500/10, 8 files read
}

// ExampleLoad loads Cora from an empty data root: the binary's copy of the
// Planetoid files stands in, without network.
func ExampleLoad() {
	root, err := os.MkdirTemp("", "gnsr-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	ds, err := Load(root, "cora")
	if err != nil {
		fmt.Println(err)
		return
	}
	h := ds.Protocol.Hyper
	fmt.Printf("%d nodes, %d edges, %d features, split %d/%d/%d\n", len(ds.Labels), ds.Graph.NumEdges(), ds.Features.Cols,
		len(ds.Split.Train), len(ds.Split.Val), len(ds.Split.Test))
	fmt.Printf("%s features, %d layers of %d, %s\n", ds.Protocol.Features, h.Layers, h.Hidden, ds.Files[0])
	// Output:
	// 2708 nodes, 5278 edges, 1433 features, split 140/500/1000
	// L1 row-normalised features, 2 layers of 16, embedded:ind.cora.x
}
