package bench

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/datasets"
)

// dataRoot returns $GNSR_DATA, skipping the test without it.
func dataRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv(datasets.EnvDataRoot)
	if root == "" {
		t.Skip("set GNSR_DATA to run on real data")
	}
	return root
}

func TestGNSRRunCora(t *testing.T) {
	g := NewGNSR(dataRoot(t), 5)
	for _, c := range []Cell{{Model: "gcn", Dataset: "cora", Variant: Vanilla}, {Model: "sage", Dataset: "cora", Variant: NSR, Lambda: 3}} {
		r, err := g.Run(context.Background(), c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Error != "" || r.TestAcc <= 0 || r.EpochMs <= 0 || r.WallS <= 0 || r.Hidden != 16 || r.Epochs != 5 {
			t.Errorf("%+v: %+v", c, r)
		}
	}
}

func TestGNSRAmazonSplitPerSeed(t *testing.T) {
	g := NewGNSR(dataRoot(t), 0)
	a, err := g.split("amazon-photo", 0)
	if err != nil {
		t.Skip(err) // the Amazon files are optional
	}
	b, err := g.split("amazon-photo", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Train) != 20*a.NumClasses || len(a.Val) != 30*a.NumClasses {
		t.Errorf("split sizes %d/%d for %d classes, want 20 and 30 a class", len(a.Train), len(a.Val), a.NumClasses)
	}
	if slices.Equal(a.Train, b.Train) {
		t.Error("seeds 0 and 1 have the same training nodes")
	}
	if a.Graph != b.Graph || a.Features != b.Features {
		t.Error("the per-seed data does not share the graph and features")
	}
	if c := g.Config(Cell{Model: "gcn", Dataset: "amazon-photo"}, 1); c.Hidden != 64 || c.Epochs != 200 {
		t.Errorf("amazon config %+v, want hidden 64 and 200 epochs", c)
	}
}
