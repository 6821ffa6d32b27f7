package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gnsr/gnsr/vision"
)

// Costs estimates how long runs take: the mean measured wall time of the
// recorded runs of the same implementation, model, dataset and variant
// (else of the other variant, as NSR costs little extra); else the same
// kind of run measured on another dataset, scaled by the two datasets'
// priors; else a prior.
// Runs whose epochs are set per cell (Cell.Epochs > 0) are measured and
// estimated per epoch, so that a quick run's time scales to a full one.
// The zero Costs uses DefaultPrior. It is not safe for concurrent use.
type Costs struct {
	prior func(impl string, c Cell) time.Duration
	sum   map[costKey]float64
	n     map[costKey]int
}

// costKey groups measurements; perEpoch ones hold seconds per epoch.
type costKey struct {
	impl, model, dataset, variant string
	perEpoch                      bool
	depth                         int
	sampled                       bool
}

// NewCosts returns estimates that fall back on prior for what has not been
// measured; a nil prior is DefaultPrior.
func NewCosts(prior func(impl string, c Cell) time.Duration) *Costs {
	if prior == nil {
		prior = DefaultPrior
	}
	return &Costs{prior: prior, sum: map[costKey]float64{}, n: map[costKey]int{}}
}

// Observe adds a finished run to the measurements.
func (c *Costs) Observe(r Record) {
	if r.WallS <= 0 {
		return
	}
	if c.sum == nil {
		c.sum, c.n = map[costKey]float64{}, map[costKey]int{}
	}
	k := costKey{r.Impl, r.Model, r.Dataset, r.Variant, r.TrainEpochs > 0, r.Depth, r.Sampled}
	if k.perEpoch {
		c.sum[k] += r.WallS / float64(r.TrainEpochs)
	} else {
		c.sum[k] += r.WallS
	}
	c.n[k]++
}

// Basis says what an estimate rests on; a CostLine may hold several.
type Basis uint8

// The bases of an estimate, from the firmest.
const (
	// BasisMeasured: recorded runs of the same kind on the same dataset.
	BasisMeasured Basis = 1 << iota
	// BasisScaled: recorded runs of the same kind on another dataset,
	// scaled by the ratio of the two datasets' priors.
	BasisScaled
	// BasisPrior: the prior alone.
	BasisPrior
)

// String returns the bases in b joined by "+", e.g. "measured+scaled".
func (b Basis) String() string {
	var names []string
	for _, n := range []struct {
		b    Basis
		name string
	}{{BasisMeasured, "measured"}, {BasisScaled, "scaled"}, {BasisPrior, "prior"}} {
		if b&n.b != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, "+")
}

// Estimate returns the expected wall time of one run of c by impl, and
// what the estimate rests on.
func (c *Costs) Estimate(impl string, cell Cell) (time.Duration, Basis) {
	variants := []string{cell.Variant, Vanilla, NSR}
	for _, v := range variants {
		k := costKey{impl, cell.Model, cell.Dataset, v, cell.Epochs > 0, cell.Depth, cell.Sampled}
		if n := c.n[k]; n > 0 {
			return c.perRun(k, cell.Epochs, 1), BasisMeasured
		}
	}
	prior := c.prior
	if prior == nil {
		prior = DefaultPrior
	}
	own := prior(impl, cell)
	// The same kind of run on the dataset whose prior is nearest this one's
	// (by ratio; ties to the first name, as map order is random), so that a
	// study's measured cells correct the priors of the cells still to run.
	for _, v := range variants {
		var best costKey
		bestDist := math.Inf(1)
		var bestPrior time.Duration
		for k := range c.n {
			if k.impl != impl || k.model != cell.Model || k.variant != v || k.perEpoch != (cell.Epochs > 0) ||
				k.depth != cell.Depth || k.sampled != cell.Sampled || k.dataset == cell.Dataset {
				continue
			}
			ref := cell
			ref.Dataset = k.dataset
			p := prior(impl, ref)
			if p <= 0 || own <= 0 {
				continue
			}
			d := math.Abs(math.Log(float64(own) / float64(p)))
			if d < bestDist || (d == bestDist && k.dataset < best.dataset) {
				best, bestDist, bestPrior = k, d, p
			}
		}
		if bestPrior > 0 {
			return c.perRun(best, cell.Epochs, float64(own)/float64(bestPrior)), BasisScaled
		}
	}
	return own, BasisPrior
}

// perRun returns the mean measured wall time under k times scale, for a run
// of epochs epochs where k is measured per epoch.
func (c *Costs) perRun(k costKey, epochs int, scale float64) time.Duration {
	s := c.sum[k] / float64(c.n[k]) * scale
	if k.perEpoch {
		s *= float64(epochs)
	}
	return time.Duration(s * float64(time.Second))
}

// Total returns the expected wall time of jobs.
func (c *Costs) Total(jobs []Job) time.Duration {
	var t time.Duration
	for _, j := range jobs {
		d, _ := c.Estimate(j.Impl, j.Cell)
		t += d
	}
	return t
}

// priorSeconds is the wall time of one 200-epoch run (evaluation after every
// epoch included) measured on the project's 2-core AMD EPYC machine while it
// was shared with other jobs (load average 4 to 7), so an idle machine runs
// faster. WikiCS is a guess from its size. Estimates from these give way to
// measurements as soon as a run of the same kind is recorded.
var priorSeconds = map[[3]string]float64{
	// impl, model, dataset
	{ImplGNSR, "gcn", "cora"}:              1.5,
	{ImplGNSR, "sage", "cora"}:             1.8,
	{ImplGNSR, "gcn", "citeseer"}:          1.9,
	{ImplGNSR, "sage", "citeseer"}:         2.3,
	{ImplGNSR, "gcn", "pubmed"}:            7.6,
	{ImplGNSR, "sage", "pubmed"}:           11.3,
	{ImplGNSR, "gcn", "amazon-photo"}:      24,
	{ImplGNSR, "sage", "amazon-photo"}:     39,
	{ImplGNSR, "gcn", "amazon-computers"}:  54,
	{ImplGNSR, "sage", "amazon-computers"}: 82,
	{ImplGNSR, "gat", "cora"}:              6,
	{ImplGNSR, "gat", "citeseer"}:          9,
	{ImplGNSR, "gat", "pubmed"}:            40,
	{ImplGNSR, "gat", "amazon-photo"}:      70,
	{ImplGNSR, "gat", "amazon-computers"}:  140,
	{ImplGNSR, "gcn", "wikics"}:            40,
	{ImplGNSR, "sage", "wikics"}:           60,
	// The peer, per seed, on the same machine: measured on cora (30 s),
	// scaled by the step times of ../shared/peers/RESULTS.md elsewhere.
	{ImplTorch, "gcn", "cora"}:              30,
	{ImplTorch, "sage", "cora"}:             31,
	{ImplTorch, "gcn", "citeseer"}:          90,
	{ImplTorch, "sage", "citeseer"}:         95,
	{ImplTorch, "gcn", "pubmed"}:            80,
	{ImplTorch, "sage", "pubmed"}:           85,
	{ImplTorch, "gcn", "amazon-photo"}:      55,
	{ImplTorch, "sage", "amazon-photo"}:     60,
	{ImplTorch, "gcn", "amazon-computers"}:  115,
	{ImplTorch, "sage", "amazon-computers"}: 120,
	{ImplTorch, "gat", "cora"}:              25,
	{ImplTorch, "gat", "citeseer"}:          65,
	{ImplTorch, "gat", "pubmed"}:            85,
	{ImplTorch, "gat", "amazon-photo"}:      95,
	{ImplTorch, "gat", "amazon-computers"}:  190,
}

// MLP priors, for mlp4 on mnist on the same machine: gnsr 1.3 to 2 s an
// epoch with 2 threads (3.2 s with the machine loaded 4×), evaluation of the
// 10,000 validation and 10,000 test images included; the peer about 1 s
// with one thread, plus some 2.5 s to start and load MNIST. Other MLPs are
// scaled by mlpWork.
const (
	mlp4GNSREpochS   = 2.0
	mlp4TorchEpochS  = 1.0
	torchMNISTStartS = 2.5
)

// DefaultPrior is the prior of NewCosts(nil): the measured wall time of one
// run of c on the project's 2-core machine, or a minute for a run it does
// not know. A graph run with c.Epochs set is scaled from the protocol's
// 200 epochs, and one with more than 2 layers (c.Depth) by the layers; an
// MLP run (mlp* on mnist) is its epochs (100 if c.Epochs is
// 0) at the measured time of one.
func DefaultPrior(impl string, c Cell) time.Duration {
	if strings.HasPrefix(c.Model, "mlp") && c.Dataset == MLPDataset {
		epochs := c.Epochs
		if epochs <= 0 {
			epochs = vision.DefaultConfig().Epochs
		}
		scale := mlpWork(c.Model) / mlpWork("mlp4")
		if scale <= 0 {
			scale = 1 // an unknown architecture: as mlp4
		}
		s := mlp4GNSREpochS * scale * float64(epochs)
		if impl == ImplTorch {
			s = mlp4TorchEpochS*scale*float64(epochs) + torchMNISTStartS
		}
		return time.Duration(s * float64(time.Second))
	}
	s, ok := priorSeconds[[3]string{impl, c.Model, c.Dataset}]
	if !ok {
		s = 60
	} else if c.Epochs > 0 {
		s *= float64(c.Epochs) / 200
	}
	if c.Depth > 2 {
		s *= float64(c.Depth) / 2 // a step's cost grows with the layers
	}
	if c.Sampled {
		s *= 1.5 // a guess: several small steps an epoch, full-batch evaluation
	}
	return time.Duration(s * float64(time.Second))
}

// mlpWork returns the relative cost of an epoch of an MLP on MNIST's 784
// pixels and 10 classes, or 0 for an unknown architecture: its weights and
// biases, plus 45,000 for each linear layer. The parameter count alone
// misjudges the deep narrow models: measured epochs of mlp3, mlp4 and mlp10
// (1.5, 3.2, 5.4 s under load) fit the per-layer term, a fixed cost of a
// layer's graph nodes, whereas parameters alone put mlp10 at 1.1× mlp4.
func mlpWork(arch string) float64 {
	hidden, err := vision.HiddenSizes(arch)
	if err != nil {
		return 0
	}
	n, in := 0, 28*28
	for _, h := range append(hidden, 10) {
		n += in*h + h + 45000
		in = h
	}
	return float64(n)
}

// CostLine is one line of an estimate: the runs of one implementation,
// model and dataset still to do.
type CostLine struct {
	Impl, Model, Dataset string
	Runs                 int
	PerRun               time.Duration
	Basis                Basis // what the estimates of its runs rest on
	Total                time.Duration
}

// Breakdown groups jobs by implementation, model and dataset, in the order
// they first appear, with their expected cost.
func (c *Costs) Breakdown(jobs []Job) []CostLine {
	var lines []CostLine
	for _, j := range jobs {
		i := slices.IndexFunc(lines, func(l CostLine) bool {
			return l.Impl == j.Impl && l.Model == j.Cell.Model && l.Dataset == j.Cell.Dataset
		})
		if i < 0 {
			lines = append(lines, CostLine{Impl: j.Impl, Model: j.Cell.Model, Dataset: j.Cell.Dataset})
			i = len(lines) - 1
		}
		d, basis := c.Estimate(j.Impl, j.Cell)
		l := &lines[i]
		l.Runs++
		l.Total += d
		l.Basis |= basis
	}
	for i := range lines {
		lines[i].PerRun = lines[i].Total / time.Duration(lines[i].Runs)
	}
	return lines
}

// FormatDuration prints d for people, to the second: 42s, 3m05s, 1h02m.
func FormatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	m := (s + 30) / 60
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}
