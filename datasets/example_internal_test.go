package datasets

import (
	"fmt"
	"os"
)

// ExampleLoad loads a small synthetic dataset in the Planetoid format,
// written to a temporary data root the way `gnsr data download` lays out
// the real files.
func ExampleLoad() {
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

	ds, err := Load(root, "citeseer")
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
