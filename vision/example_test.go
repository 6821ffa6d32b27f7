package vision_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/vision"
)

// blobs makes n 4×4 images of two classes: bright top or bright bottom.
func blobs(rng *rand.Rand, n int) datasets.Images {
	im := datasets.Images{N: n, C: 1, H: 4, W: 4, Pixels: make([]uint8, n*16), Labels: make([]uint8, n), NumClasses: 2}
	for i := range n {
		c := rng.IntN(2)
		im.Labels[i] = uint8(c)
		for j := range 16 {
			v := rng.IntN(100)
			if (j < 8) == (c == 0) {
				v += 150
			}
			im.Pixels[i*16+j] = uint8(v)
		}
	}
	return im
}

func ExampleTrain() {
	rng := rand.New(rand.NewPCG(1, 2))
	data := &datasets.ImageDataset{Train: blobs(rng, 600), Test: blobs(rng, 200)}
	// With MNIST: data, err := datasets.LoadMNIST(root)

	cfg := vision.DefaultConfig() // the paper's MLP-4 protocol
	cfg.Epochs, cfg.ValSize, cfg.BatchSize = 3, 100, 50
	cfg.NSR.Layers, cfg.NSR.Lambdas = []int{-1}, []float64{0.5} // NSR on the logits
	res, err := vision.Train(context.Background(), data, cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("test accuracy %.2f at epoch %d\n", res.TestAcc, res.BestEpoch)
	// Output: test accuracy 1.00 at epoch 3
}

func ExampleLoadModel() {
	rng := rand.New(rand.NewPCG(1, 2))
	data := &datasets.ImageDataset{Train: blobs(rng, 600), Test: blobs(rng, 200)}
	cfg := vision.DefaultConfig()
	cfg.Arch, cfg.Epochs, cfg.ValSize, cfg.BatchSize = "mlp3", 2, 100, 50
	path := filepath.Join(os.TempDir(), "vision-example.model")
	defer os.Remove(path)
	// Training saves the model of the best validation epoch.
	res, err := vision.TrainWith(context.Background(), data, cfg, vision.Options{Model: path, Dataset: "blobs"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := vision.LoadModel(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	acc, err := m.Evaluate(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s on %s, epoch %d: test accuracy as training reported: %v\n", m.Spec.Arch, m.Info.Dataset, m.Info.BestEpoch, acc.Test == res.TestAcc)
	// Output: mlp3 on blobs, epoch 2: test accuracy as training reported: true
}
