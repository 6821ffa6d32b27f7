package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Table names, which are also the stores' file names.
const (
	TableGNN   = "gnn"
	TablePeers = "peers"
	TableMLP   = "mlp"
)

// Cell is what a Runner trains: one model on one dataset in one variant.
type Cell struct {
	Model   string
	Dataset string
	Variant string  // Vanilla or NSR
	Layer   int     // the regularised layer (NSR only)
	Lambda  float64 // NSR strength (NSR only)
	// Epochs is the training epochs where the table sets them per cell
	// (the MLP tables); 0 means the protocol's. It is part of the run's key.
	Epochs int
	// Depth (layers, 0: the protocol's 2), Sampled (neighbour-sampled
	// mini-batches, see SampledBatch) and Arm (how NSR's layer is picked:
	// ArmAuto, or ArmLast, or "" for Layer as given) are the NSR-on-GNNs
	// study's; they are part of the run's key.
	Depth   int
	Sampled bool
	Arm     string
	// Threads is the GOMAXPROCS of the run (the thread-scaling table's,
	// part of the run's key); 0 means the process's own.
	Threads int
}

// Runner trains c with seed and returns the run's measurements. The driver
// fills in the record's key, plan and metadata. A run that fails in a way
// that is a result (a diverging loss) is returned as a record with Error
// set and a nil error; an error stops the bench.
type Runner func(ctx context.Context, c Cell, seed uint64) (Record, error)

// Progress is what a driver reports after each run it finishes.
type Progress struct {
	Record  Record
	Done    int           // runs finished by this driver so far
	Total   int           // runs this driver has to do (an estimate until λ is chosen)
	Elapsed time.Duration // since the driver started
	ETA     time.Duration // estimated time still to go
}

// Options are the settings every driver shares.
type Options struct {
	Meta  Meta           // stamped on every record, with the time of writing
	Costs *Costs         // run-time estimates; nil uses NewCosts(nil)
	OnRun func(Progress) // called after each finished run; may be nil
	// OnStart, if not nil, is called before each run (a peer's: once for all
	// its seeds) with the runs done and to do so far.
	OnStart func(j Job, done, total int)
	// Shard and Phase restrict the driver to the runs of one shard of the
	// plan in one phase (see Sharding); the zero values run every run.
	// Done and Total count the shard's runs in the phase.
	Shard Shard
	Phase Phase
	// Now returns the current time; nil means time.Now (tests fix it).
	Now func() time.Time
}

// GNNPlan is the GNN table: every model on every dataset, vanilla on Seeds
// seeds, and NSR on Layer with λ chosen from Grid on the mean validation
// accuracy of seeds 0..TuneSeeds-1, then run on seeds 0..Seeds-1.
type GNNPlan struct {
	Models    []string
	Datasets  []string
	Seeds     int
	TuneSeeds int
	Grid      []float64
	Layer     int
	// Epochs replaces the protocol's epochs when > 0 (for quick checks);
	// it is then part of every run's key (Key.TrainEpochs), so that such
	// runs never stand in for the protocol's.
	Epochs int
}

// Validate reports the first setting of p that cannot be run.
func (p GNNPlan) Validate() error {
	switch {
	case len(p.Models) == 0 || len(p.Datasets) == 0:
		return fmt.Errorf("bench: the plan needs at least one model and one dataset")
	case p.Seeds < 1:
		return fmt.Errorf("bench: seeds = %d, need at least 1", p.Seeds)
	case p.TuneSeeds < 1 || p.TuneSeeds > p.Seeds:
		return fmt.Errorf("bench: tune seeds = %d, need 1 <= tune seeds <= seeds (%d)", p.TuneSeeds, p.Seeds)
	case len(p.Grid) == 0:
		return fmt.Errorf("bench: the λ grid is empty")
	case p.Epochs < 0:
		return fmt.Errorf("bench: epochs = %d, need 0 (the protocol's) or more", p.Epochs)
	}
	for i, l := range p.Grid {
		if !(l > 0) || math.IsInf(l, 0) {
			return fmt.Errorf("bench: λ grid value %v, need a finite value > 0", l)
		}
		if slices.Contains(p.Grid[:i], l) {
			return fmt.Errorf("bench: λ %v is in the grid twice", l)
		}
	}
	return nil
}

func (p GNNPlan) record() Plan {
	r := Plan{Models: p.Models, Datasets: p.Datasets, Seeds: p.Seeds, TuneSeeds: p.TuneSeeds, Grid: p.Grid, Layer: p.Layer}
	if p.Epochs > 0 {
		r.Epochs = map[string]int{}
		for _, m := range p.Models {
			r.Epochs[m] = p.Epochs
		}
	}
	return r
}

// gnnPlanOf returns the plan a GNN table's records name (see planOf).
func gnnPlanOf(p Plan) GNNPlan {
	g := GNNPlan{Models: p.Models, Datasets: p.Datasets, Seeds: p.Seeds, TuneSeeds: p.TuneSeeds, Grid: p.Grid, Layer: p.Layer}
	for _, m := range p.Models {
		g.Epochs = max(g.Epochs, p.Epochs[m])
	}
	return g
}

// cell returns the cell of model m on dataset ds in variant v with λ l.
func (p GNNPlan) cell(m, ds, v string, l float64) Cell {
	c := Cell{Model: m, Dataset: ds, Variant: v, Epochs: p.Epochs}
	if v == NSR {
		c.Layer, c.Lambda = p.Layer, l
	}
	return c
}

// runs returns the GNN records of model m on dataset ds at the plan's
// epochs.
func (p GNNPlan) runs(recs []Record, m, ds string) []Record {
	return slices.DeleteFunc(cellRecords(recs, TableGNN, ImplGNSR, m, ds), func(r Record) bool { return r.TrainEpochs != p.Epochs })
}

// Slot is a Planner's: a final run (the chosen λ beyond the tuning seeds)
// is in PhaseFinal, with the slot of its seed whatever λ is chosen; every
// other run is its own slot, in PhaseTune.
func (p GNNPlan) Slot(j Job) (Job, Phase) {
	if j.Cell.Variant == NSR && j.Seed >= uint64(p.TuneSeeds) {
		j.Cell.Lambda, j.Undecided = 0, true
		return j, PhaseFinal
	}
	return j, PhaseTune
}

// Job is one run of a plan still to do. Until λ is chosen, the final NSR
// runs are counted with Undecided set and Cell.Lambda 0.
type Job struct {
	Impl      string // ImplGNSR or a peer
	Cell      Cell
	Seed      uint64
	Undecided bool
}

// Todo lists the runs of p that recs do not hold yet, in the order RunGNN
// runs them. A cell whose λ is not chosen yet lists its final runs as
// Undecided; one where every λ failed has none.
func (p GNNPlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	missing := func(c Cell, from, to int) {
		for s := from; s < to; s++ {
			if !have[gnsrKey(TableGNN, c, uint64(s))] {
				jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: uint64(s)})
			}
		}
	}
	for _, ds := range p.Datasets {
		for _, m := range p.Models {
			missing(p.cell(m, ds, Vanilla, 0), 0, p.Seeds)
			for _, l := range p.Grid {
				missing(p.cell(m, ds, NSR, l), 0, p.TuneSeeds)
			}
			runs := p.runs(recs, m, ds)
			lambda, ok := ChooseLambda(runs, p.Layer, p.Grid, p.TuneSeeds)
			switch {
			case ok:
				missing(p.cell(m, ds, NSR, lambda), 0, p.Seeds)
			case !tuned(runs, p.Layer, p.Grid, p.TuneSeeds):
				for s := p.TuneSeeds; s < p.Seeds; s++ {
					jobs = append(jobs, Job{Impl: ImplGNSR, Cell: p.cell(m, ds, NSR, 0), Seed: uint64(s), Undecided: true})
				}
			}
		}
	}
	return jobs
}

// RunGNN runs the runs of p that s does not hold yet, appending each record
// to s as it finishes: per dataset and model, vanilla on every seed, each λ
// of the grid on the tuning seeds, then the chosen λ on the remaining seeds.
// It stops at the first error of run or of the store, and when ctx is done;
// what was recorded stays, and a later call carries on from there.
//
// With opt.Shard and opt.Phase it runs the shard's runs of that phase
// only. A sharded plan needs its phases run one after the other, the tune
// phase of every shard before the final phase of any (the final phase
// needs every tuning run to choose λ); without a phase it is an error.
// The final phase runs what it can, and then returns an error naming the
// cells whose tuning runs are missing.
func RunGNN(ctx context.Context, s *Store, p GNNPlan, run Runner, opt Options) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if opt.Shard.Sharded() && opt.Phase == PhaseAll && p.TuneSeeds < p.Seeds {
		return errPhaseNeeded
	}
	d := newDriver(s, TableGNN, p.record(), p, run, opt)
	var waiting []string
	for _, ds := range p.Datasets {
		for _, m := range p.Models {
			if err := d.seeds(ctx, p.cell(m, ds, Vanilla, 0), p.Seeds); err != nil {
				return err
			}
			for _, l := range p.Grid {
				if err := d.seeds(ctx, p.cell(m, ds, NSR, l), p.TuneSeeds); err != nil {
					return err
				}
			}
			if opt.Phase == PhaseTune {
				continue
			}
			runs := p.runs(s.Records(), m, ds)
			lambda, ok := ChooseLambda(runs, p.Layer, p.Grid, p.TuneSeeds)
			if !ok {
				final := 0
				for seed := p.TuneSeeds; seed < p.Seeds; seed++ {
					if d.keep.Keep(Job{Impl: ImplGNSR, Cell: p.cell(m, ds, NSR, 0), Seed: uint64(seed), Undecided: true}) {
						final++
					}
				}
				if tuned(runs, p.Layer, p.Grid, p.TuneSeeds) {
					// Every λ diverged on some tuning seed: there is no NSR
					// result to report, which the table says.
					d.total -= final
				} else if final > 0 {
					waiting = append(waiting, m+" "+ds)
				}
				continue
			}
			if err := d.seeds(ctx, p.cell(m, ds, NSR, lambda), p.Seeds); err != nil {
				return err
			}
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("bench: λ is not chosen yet for %s: tuning runs are missing; run the tune phase of every shard first", strings.Join(waiting, ", "))
	}
	return nil
}

// tuned reports whether recs hold a run of every λ of grid on layer on
// each of the seeds 0..tuneSeeds-1.
func tuned(recs []Record, layer int, grid []float64, tuneSeeds int) bool {
	n := map[float64]int{}
	for _, r := range recs {
		if r.Variant == NSR && r.Layer == layer && r.Seed < uint64(tuneSeeds) {
			n[r.Lambda]++
		}
	}
	for _, l := range grid {
		if n[l] < tuneSeeds {
			return false
		}
	}
	return true
}

// ChooseLambda returns the λ of grid whose NSR runs on layer and seeds
// 0..tuneSeeds-1 in recs have the largest mean validation accuracy, the
// smaller λ on ties. A λ with a failed run (Error set) cannot be chosen;
// ok is false while some λ lacks a tuning run, or when every λ failed.
// recs should hold one model and dataset only (see the drivers).
func ChooseLambda(recs []Record, layer int, grid []float64, tuneSeeds int) (lambda float64, ok bool) {
	return chooseLambda(recs, layer, grid, 0, tuneSeeds)
}

// chooseLambda is ChooseLambda on the seeds first..first+seeds-1.
func chooseLambda(recs []Record, layer int, grid []float64, first uint64, seeds int) (lambda float64, ok bool) {
	type acc struct {
		sum    float64
		n      int
		failed bool
	}
	by := map[float64]*acc{}
	for _, l := range grid {
		by[l] = &acc{}
	}
	for _, r := range recs {
		a := by[r.Lambda]
		if a == nil || r.Variant != NSR || r.Layer != layer || r.Seed < first || r.Seed-first >= uint64(seeds) {
			continue
		}
		a.n++
		a.sum += r.ValAcc
		a.failed = a.failed || r.Error != ""
	}
	best := math.Inf(-1)
	for _, l := range grid {
		a := by[l]
		if a.n < seeds {
			return 0, false
		}
		if a.failed {
			continue
		}
		if m := a.sum / float64(a.n); m > best || (m == best && l < lambda) {
			best, lambda, ok = m, l, true
		}
	}
	return lambda, ok
}

// cellRecords returns the records of one table, implementation, model and
// dataset.
func cellRecords(recs []Record, table, impl, model, dataset string) []Record {
	var out []Record
	for _, r := range recs {
		if r.Table == table && r.Impl == impl && r.Model == model && r.Dataset == dataset {
			out = append(out, r)
		}
	}
	return out
}

func gnsrKey(table string, c Cell, seed uint64) Key {
	return cellKey(table, ImplGNSR, c, seed)
}

func cellKey(table, impl string, c Cell, seed uint64) Key {
	k := Key{Table: table, Impl: impl, Model: c.Model, Dataset: c.Dataset, Variant: c.Variant, Seed: seed, TrainEpochs: c.Epochs,
		Depth: c.Depth, Sampled: c.Sampled, Threads: c.Threads}
	if c.Variant != Vanilla {
		k.Layer, k.Lambda, k.Arm = c.Layer, c.Lambda, c.Arm
	}
	return k
}

func keySet(recs []Record) map[Key]bool {
	m := make(map[Key]bool, len(recs))
	for _, r := range recs {
		m[r.Key] = true
	}
	return m
}

// driver runs the missing seeds of cells into a store, with progress.
type driver struct {
	s           *Store
	table       string
	plan        Plan
	run         Runner
	opt         Options
	keep        *Sharding // the shard's runs in the phase
	start       time.Time
	done, total int
	pending     func() []Job // what is left, for the ETA
}

func newDriver(s *Store, table string, plan Plan, p Planner, run Runner, opt Options) *driver {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Costs == nil {
		opt.Costs = NewCosts(nil)
	}
	for _, r := range s.Records() {
		opt.Costs.Observe(r)
	}
	keep := NewSharding(p, opt.Shard, opt.Phase)
	pending := func() []Job { return keep.Filter(p.Todo(s.Records())) }
	return &driver{s: s, table: table, plan: plan, run: run, opt: opt, keep: keep, start: opt.Now(), total: len(pending()), pending: pending}
}

// seeds runs c on seeds 0..n-1, skipping the recorded ones and those of
// other shards or phases.
func (d *driver) seeds(ctx context.Context, c Cell, n int) error {
	return d.seedsFrom(ctx, c, 0, n)
}

// seedsFrom runs c on seeds first..first+n-1, as seeds does.
func (d *driver) seedsFrom(ctx context.Context, c Cell, first uint64, n int) error {
	for seed := first; seed-first < uint64(n); seed++ {
		k := gnsrKey(d.table, c, seed)
		if _, ok := d.s.Get(k); ok {
			continue
		}
		if !d.keep.Keep(Job{Impl: ImplGNSR, Cell: c, Seed: seed}) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		d.starting(Job{Impl: ImplGNSR, Cell: c, Seed: seed})
		t0 := d.opt.Now()
		r, err := d.run(ctx, c, seed)
		if err != nil {
			return fmt.Errorf("bench: %s %s %s λ=%g seed %d: %w", c.Model, c.Dataset, c.Variant, c.Lambda, seed, err)
		}
		if r.WallS == 0 {
			r.WallS = d.opt.Now().Sub(t0).Seconds()
		}
		if err := d.append(k, r); err != nil {
			return err
		}
	}
	return nil
}

func (d *driver) starting(j Job) {
	if d.opt.OnStart != nil {
		d.opt.OnStart(j, d.done, d.total)
	}
}

// append stamps r with k, the plan and the metadata, stores it and reports
// progress.
func (d *driver) append(k Key, r Record) error {
	meta := d.opt.Meta
	meta.Time = d.opt.Now().UTC()
	if r.Meta.Peer != "" {
		meta.Peer = r.Meta.Peer // a peer runner says which peer ran
	}
	if r.Meta.GOMAXPROCS > 0 {
		meta.GOMAXPROCS = r.Meta.GOMAXPROCS // a runner of other processes says theirs
	}
	r.Key, r.Plan, r.Meta = k, d.plan, meta
	if err := d.s.Append(r); err != nil {
		return err
	}
	d.opt.Costs.Observe(r)
	d.done++
	d.total = max(d.total, d.done)
	if d.opt.OnRun != nil {
		d.opt.OnRun(Progress{Record: r, Done: d.done, Total: d.total, Elapsed: d.opt.Now().Sub(d.start), ETA: d.eta()})
	}
	return nil
}

// eta estimates the time left: the runs still to do at their estimated
// cost.
func (d *driver) eta() time.Duration {
	return d.opt.Costs.Total(d.pending())
}
