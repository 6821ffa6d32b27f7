package bench

import (
	"fmt"
	"slices"
	"time"
)

// Costs estimates how long runs take: the mean measured wall time of the
// recorded runs of the same implementation, model, dataset and variant
// (else of the other variant, as NSR costs little extra), else a prior.
// The zero Costs uses DefaultPrior. It is not safe for concurrent use.
type Costs struct {
	prior func(impl, model, dataset string) time.Duration
	sum   map[costKey]float64
	n     map[costKey]int
}

type costKey struct{ impl, model, dataset, variant string }

// NewCosts returns estimates that fall back on prior for what has not been
// measured; a nil prior is DefaultPrior.
func NewCosts(prior func(impl, model, dataset string) time.Duration) *Costs {
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
	k := costKey{r.Impl, r.Model, r.Dataset, r.Variant}
	c.sum[k] += r.WallS
	c.n[k]++
}

// Estimate returns the expected wall time of one run of c by impl, and
// whether it comes from measurements rather than the prior.
func (c *Costs) Estimate(impl string, cell Cell) (time.Duration, bool) {
	for _, v := range []string{cell.Variant, Vanilla, NSR} {
		k := costKey{impl, cell.Model, cell.Dataset, v}
		if n := c.n[k]; n > 0 {
			return time.Duration(c.sum[k] / float64(n) * float64(time.Second)), true
		}
	}
	if c.prior == nil {
		return DefaultPrior(impl, cell.Model, cell.Dataset), false
	}
	return c.prior(impl, cell.Model, cell.Dataset), false
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
}

// DefaultPrior is the prior of NewCosts(nil): the measured wall time of one
// run on the project's 2-core machine, or a minute for a run it does not
// know.
func DefaultPrior(impl, model, dataset string) time.Duration {
	s, ok := priorSeconds[[3]string{impl, model, dataset}]
	if !ok {
		s = 60
	}
	return time.Duration(s * float64(time.Second))
}

// CostLine is one line of an estimate: the runs of one implementation,
// model and dataset still to do.
type CostLine struct {
	Impl, Model, Dataset string
	Runs                 int
	PerRun               time.Duration
	Measured             bool // PerRun comes from recorded runs, not the prior
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
		d, measured := c.Estimate(j.Impl, j.Cell)
		l := &lines[i]
		l.Runs++
		l.Total += d
		l.Measured = l.Measured || measured
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
