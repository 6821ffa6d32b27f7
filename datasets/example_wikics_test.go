package datasets_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/datasets"
)

// ExampleLoadWikiCS writes a tiny file in the schema of WikiCS's data.json
// (two splits instead of twenty) and prints its statistics as
// `gnsr data info` does.
func ExampleLoadWikiCS() {
	root, err := os.MkdirTemp("", "gnsr-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	dir := filepath.Join(root, "wikics", "raw")
	data := `{"features": [[0.5, 0], [0, -1], [0.25, 2], [0, 0]],
		"labels": [0, 1, 1, 0],
		"links": [[1, 2], [0], [1, 2], []],
		"train_masks": [[true, true, false, false], [false, true, true, false]],
		"val_masks": [[false, false, true, false], [true, false, false, false]],
		"stopping_masks": [[false, false, false, true], [false, false, false, true]],
		"test_mask": [false, false, false, true]}`
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Println(err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "data.json"), []byte(data), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	ds, err := datasets.LoadWikiCS(root, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Split.Train, ds.Split.Val, ds.Split.Test)
	fmt.Print(datasets.Stats(ds))
	// Output:
	// [1 2] [0] [3]
	// dataset         wikics
	// nodes           4
	// edges           3 undirected (6 directed)
	// isolated nodes  1
	// features        2 (4 non-zeros, 50.00% dense; stored sparse)
	// classes         2
	// split           2 train / 1 val / 1 test
	// memory          0.0 MB (graph, features, labels, splits)
	// protocol        raw features; split seed mod 20 of the file's 20 training/validation splits, its test mask for testing
	//                 2 layers, hidden 64, dropout 0.5, lr 0.01, weight decay 0.0005, 200 epochs (Mernyei & Cangea, Wiki-CS, 2020)
	// class  nodes  name
	//     0      2
	//     1      2
}

// ExampleRandomSplit draws the gnn-benchmark split (20 training and 30
// validation nodes a class, the rest for testing) for two seeds, as a
// trainer does for the Amazon datasets.
func ExampleRandomSplit() {
	labels := make([]int, 300)
	for i := range labels {
		labels[i] = i % 3 // 3 classes of 100 nodes
	}
	for seed := uint64(0); seed < 2; seed++ {
		s, err := datasets.RandomSplit(labels, 3, datasets.BenchmarkTrainPerClass, datasets.BenchmarkValPerClass, seed)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("seed %d: %d train, %d val, %d test, first training nodes %v\n", seed, len(s.Train), len(s.Val), len(s.Test), s.Train[:3])
	}
	_, err := datasets.RandomSplit(labels, 3, 60, 50, 0)
	fmt.Println(err)
	// Output:
	// seed 0: 60 train, 90 val, 150 test, first training nodes [2 8 10]
	// seed 1: 60 train, 90 val, 150 test, first training nodes [0 14 20]
	// datasets: RandomSplit: class 0 has 100 nodes, fewer than the 60 training and 50 validation nodes asked for
}
