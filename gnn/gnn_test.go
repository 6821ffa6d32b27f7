package gnn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// communities returns a stochastic-block-model graph of n nodes in c classes
// with noisy sparse features that hint at the class, and a split of 10
// training nodes a class, 50 validation and the rest test.
func communities(tb testing.TB, seed uint64, n, c int) *Data {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % c
	}
	var edges [][2]int
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			p := 0.004
			if labels[i] == labels[j] {
				p = 0.06
			}
			if rng.Float64() < p {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	g, err := graph.FromEdges(n, edges)
	if err != nil {
		tb.Fatal(err)
	}
	const perClass = 6
	f := perClass*c + 10
	var r, col []int
	var v []float32
	for i := 0; i < n; i++ {
		for j := 0; j < f; j++ {
			p := 0.04
			if j/perClass == labels[i] {
				p = 0.25
			}
			if rng.Float64() < p {
				r, col, v = append(r, i), append(col, j), append(v, 1)
			}
		}
	}
	x, err := sparse.FromCOO(n, f, r, col, v)
	if err != nil {
		tb.Fatal(err)
	}
	d := &Data{Features: x.RowNormalizeL1(), Graph: g, Labels: labels, NumClasses: c}
	seen := make([]int, c)
	for i := 0; i < n; i++ {
		switch {
		case seen[labels[i]] < 10:
			seen[labels[i]]++
			d.Train = append(d.Train, i)
		case len(d.Val) < 50:
			d.Val = append(d.Val, i)
		default:
			d.Test = append(d.Test, i)
		}
	}
	return d
}

func quickConfig(seed uint64) Config {
	cfg := DefaultConfig()
	cfg.Epochs, cfg.Seed = 60, seed
	return cfg
}

func TestTrainLearnsCommunities(t *testing.T) {
	d := communities(t, 1, 300, 3)
	for _, model := range Archs() {
		t.Run(model, func(t *testing.T) {
			cfg, err := ConfigFor(model, Protocol{})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Epochs = 60
			res, err := Train(context.Background(), d, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.TestAcc < 0.85 {
				t.Errorf("test accuracy %.3f on a 3-community graph, want >= 0.85", res.TestAcc)
			}
			if len(res.Epochs) != 60 || res.BestEpoch < 1 || res.BestEpoch > 60 {
				t.Errorf("%d epochs reported, best epoch %d", len(res.Epochs), res.BestEpoch)
			}
			if first, last := res.Epochs[0].Loss, res.Epochs[59].Loss; !(last < first) {
				t.Errorf("training loss went from %v to %v", first, last)
			}
		})
	}
}

// TestTrainDeterministic checks that a seed fixes every number of a run,
// whatever the thread count, and that another seed changes them.
func TestTrainDeterministic(t *testing.T) {
	d := communities(t, 2, 400, 4)
	train := func(seed uint64, procs int) *Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		cfg := quickConfig(seed)
		cfg.NSR.Lambdas = []float64{0.5}
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := train(3, 1), train(3, 2), train(4, 2)
	for i := range a.Epochs {
		if a.Epochs[i].Loss != b.Epochs[i].Loss || a.Epochs[i].NSRLoss != b.Epochs[i].NSRLoss {
			t.Fatalf("epoch %d: loss %v/%v with 1 thread, %v/%v with 2", i+1, a.Epochs[i].Loss, a.Epochs[i].NSRLoss, b.Epochs[i].Loss, b.Epochs[i].NSRLoss)
		}
	}
	for l := range a.Outputs {
		if !slices.Equal(a.Outputs[l], b.Outputs[l]) {
			t.Errorf("layer %d outputs differ between 1 and 2 threads", l)
		}
	}
	if a.Epochs[len(a.Epochs)-1].Loss == c.Epochs[len(c.Epochs)-1].Loss {
		t.Error("seeds 3 and 4 gave the same final loss")
	}
}

// TestNSRLowersIntraClassVariance is the mechanism of NSR: with the same
// seed, the regularised layer's intra-class variance on the training nodes
// ends lower than without it.
func TestNSRLowersIntraClassVariance(t *testing.T) {
	d := communities(t, 3, 300, 3)
	variance := func(lambda float64) float64 {
		cfg := quickConfig(5)
		cfg.NSR.Lambdas = []float64{lambda}
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Epochs[len(res.Epochs)-1].Variance[0]
	}
	vanilla, regularised := variance(0), variance(30)
	t.Logf("layer 0 intra-class variance: %.4g vanilla, %.4g with NSR", vanilla, regularised)
	if !(regularised < 0.7*vanilla) {
		t.Errorf("intra-class variance %.4g with NSR, %.4g without: want at least 30%% lower", regularised, vanilla)
	}
}

func TestNSRAutoChoosesALayer(t *testing.T) {
	d := communities(t, 4, 200, 2)
	cfg := quickConfig(1)
	cfg.NSR.Auto, cfg.NSR.Lambdas = true, []float64{1}
	res, err := Train(context.Background(), d, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NSRLayers) != 1 || !strings.Contains(res.NSRChoice, "layer") {
		t.Fatalf("auto chose %v (%q)", res.NSRLayers, res.NSRChoice)
	}
	v := res.Epochs[0].Variance
	if v[res.NSRLayers[0]] != slices.Max(v) {
		t.Errorf("auto chose layer %d, but the variances after the warm-up were %v", res.NSRLayers[0], v)
	}
	if res.Epochs[0].NSRLoss != 0 || res.Epochs[1].NSRLoss == 0 {
		t.Errorf("NSR loss %v in the warm-up epoch and %v after it", res.Epochs[0].NSRLoss, res.Epochs[1].NSRLoss)
	}
}

func TestTrainStopsOnNaNLoss(t *testing.T) {
	d := communities(t, 5, 100, 2)
	x := d.Features.Clone()
	x.Data[0] = float32(math.NaN())
	d.Features = x
	cfg := quickConfig(0)
	cfg.Dropout = 0 // dropout could zero the NaN for a few epochs
	_, err := Train(context.Background(), d, cfg, nil)
	if !errors.Is(err, ErrNaNLoss) || !strings.Contains(err.Error(), "epoch 1") {
		t.Fatalf("got %v, want an ErrNaNLoss naming epoch 1", err)
	}
}

func TestTrainHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, communities(t, 6, 100, 2), quickConfig(0), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown architecture", func(c *Config) { c.Arch = "gin" }, "unknown architecture"},
		{"no layers", func(c *Config) { c.Layers = 0 }, "layers"},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }, "dropout"},
		{"negative lr", func(c *Config) { c.LR = -1 }, "learning rate"},
		{"NaN weight decay", func(c *Config) { c.WeightDecay = math.NaN() }, "weight decay"},
		{"no epochs", func(c *Config) { c.Epochs = 0 }, "epochs"},
		{"negative lambda", func(c *Config) { c.NSR.Lambdas = []float64{-1} }, "lambda"},
		{"layer out of range", func(c *Config) { c.NSR.Lambdas, c.NSR.Layers = []float64{1}, []int{2} }, "out of range"},
		{"lambda count", func(c *Config) { c.NSR.Lambdas, c.NSR.Layers = []float64{1, 2}, []int{0} }, "2 lambdas for 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

func TestDataValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Data)
		want string
	}{
		{"label out of range", func(d *Data) { d.Labels[3] = 9 }, "label 9 of node 3"},
		{"unlabelled train node", func(d *Data) { d.Labels[d.Train[0]] = -1 }, "has no label"},
		{"empty validation", func(d *Data) { d.Val = nil }, "validation split is empty"},
		{"test node out of range", func(d *Data) { d.Test = append(d.Test, 1000) }, "test node 1000"},
		{"short labels", func(d *Data) { d.Labels = d.Labels[:5] }, "5 labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := communities(t, 7, 80, 2)
			tc.edit(d)
			err := d.Validate()
			if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrData containing %q", err, tc.want)
			}
		})
	}
}

// dataRoot returns $GNSR_DATA, skipping the test without it.
func dataRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets) to run the tests on real data")
	}
	if _, err := os.Stat(filepath.Join(root, "cora")); err != nil {
		t.Skipf("GNSR_DATA=%s has no cora: %v", root, err)
	}
	return root
}

// TestCoraGCN trains the protocol's GCN on the real Cora and checks the
// accuracy against the published 81.5 (with a margin for 3 seeds) and that
// the thread count changes no number.
func TestCoraGCN(t *testing.T) {
	d, err := Load(dataRoot(t), "cora")
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for seed := uint64(0); seed < 3; seed++ {
		cfg := DefaultConfig()
		cfg.Seed = seed
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		sum += res.TestAcc
		if seed == 0 {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			again, err := Train(context.Background(), d, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if again.TestAcc != res.TestAcc || again.Epochs[199].Loss != res.Epochs[199].Loss {
				t.Errorf("seed 0: test %v loss %v with GOMAXPROCS=1, %v %v before", again.TestAcc, again.Epochs[199].Loss, res.TestAcc, res.Epochs[199].Loss)
			}
			runtime.GOMAXPROCS(2)
		}
	}
	if mean := sum / 3; mean < 0.795 {
		t.Errorf("Cora GCN mean test accuracy %.4f over 3 seeds, want >= 0.795 (published 0.815)", mean)
	}
}

// TestMiniBatchSAGE trains GraphSAGE on neighbour-sampled mini-batches with
// NSR through the memory queue: it must learn, and repeat itself exactly for
// a seed whatever the thread count.
func TestMiniBatchSAGE(t *testing.T) {
	d := communities(t, 8, 300, 3)
	train := func(procs int) *Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		cfg := quickConfig(2)
		cfg.Arch, cfg.BatchSize, cfg.Fanouts = "sage", 8, []int{5, 3}
		cfg.NSR.Lambdas = []float64{1}
		res, err := Train(context.Background(), d, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := train(1), train(2)
	if a.TestAcc < 0.85 {
		t.Errorf("mini-batch SAGE test accuracy %.3f, want >= 0.85", a.TestAcc)
	}
	if a.TestAcc != b.TestAcc || a.Epochs[59].Loss != b.Epochs[59].Loss || a.Epochs[59].NSRLoss != b.Epochs[59].NSRLoss {
		t.Errorf("1 thread: test %v loss %v; 2 threads: test %v loss %v", a.TestAcc, a.Epochs[59].Loss, b.TestAcc, b.Epochs[59].Loss)
	}
	if a.Epochs[59].NSRLoss == 0 {
		t.Error("no NSR loss in mini-batch training")
	}
}

// TestMiniBatchEveryArch trains every architecture on sampled blocks: the
// same layers as full batch, fed bipartite blocks.
func TestMiniBatchEveryArch(t *testing.T) {
	d := communities(t, 8, 300, 3)
	for _, arch := range Archs() {
		t.Run(arch, func(t *testing.T) {
			cfg, err := ConfigFor(arch, Protocol{})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Epochs, cfg.BatchSize, cfg.Fanouts = 40, 16, []int{5, 3}
			res, err := Train(context.Background(), d, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.TestAcc < 0.85 {
				t.Errorf("mini-batch %s test accuracy %.3f, want >= 0.85", arch, res.TestAcc)
			}
		})
	}
}

func TestMiniBatchConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"fanout count", func(c *Config) { c.Arch, c.BatchSize, c.Fanouts = "sage", 8, []int{5} }, "1 fanouts for 2 layers"},
		{"zero fanout", func(c *Config) { c.Arch, c.BatchSize, c.Fanouts = "sage", 8, []int{5, 0} }, "fanouts"},
		{"fanouts without batch", func(c *Config) { c.Fanouts = []int{5, 5} }, "without a batch size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
