package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/internal/stats"
)

// TableNSRGNN is the NSR-on-GNNs study (NSRGNNPlan).
const TableNSRGNN = "nsr-gnn"

// Arms of the NSR-on-GNNs study: how the regularised layer is picked.
const (
	// ArmAuto is the paper's rule: after NSRGNNWarmup vanilla epochs, the
	// layer output with the largest aggregated intra-class variance on the
	// training nodes (nsr.ChooseLayer), chosen by each run.
	ArmAuto = "auto"
	// ArmLast is the last hidden layer (after its activation).
	ArmLast = "last"
)

// NSRGNNWarmup is the vanilla epochs before the auto arm picks its layer:
// a full-batch epoch is a single step, so one epoch (the CLI's default)
// would measure an almost untrained network; ten is 5 % of training.
const NSRGNNWarmup = 10

// SampledBatch is the mini-batch size of the study's sampled cells: the
// public splits have 60 to 200 training nodes, so every epoch makes 2 to 7
// batches, each of which sees only part of each class, the case the NSR
// memory queue is for.
const SampledBatch = 32

// SampledFanouts returns the neighbours sampled at each hop for a sampled
// model of depth layers: GraphSAGE's 25, 10 for two; 10, 10, then 5 for
// each further hop of deeper models, which keeps a 4-layer block within
// 2,500 sources a batch node. It panics if depth < 1.
func SampledFanouts(depth int) []int {
	if depth < 1 {
		panic(fmt.Sprintf("bench: SampledFanouts(%d): need at least one layer", depth))
	}
	if depth == 2 {
		return []int{25, 10}
	}
	f := make([]int, depth)
	for i := range f {
		f[i] = 5
		if i < 2 {
			f[i] = 10
		}
	}
	return f
}

// SampledModel is the architecture of the sampled cells: GraphSAGE, whose
// mean aggregation is what neighbour sampling estimates.
const SampledModel = "sage"

// NSRGNNPlan is the pre-registered study of NSR on graph networks: for
// each dataset, each model at each depth trained full batch (and, with
// Sampled, GraphSAGE on neighbour-sampled mini-batches of SampledBatch
// nodes with the NSR memory queue), and each arm: vanilla on the held-out
// seeds TuneSeeds..TuneSeeds+TestSeeds-1; NSR on the arm's layer with
// each λ of Grid on seeds 0..TuneSeeds-1; the λ with the best mean
// validation accuracy on those seeds; then that λ on the held-out seeds,
// which played no part in the choice. Each cell's vanilla and NSR runs on
// the same seed share the split, the initial weights and the dropout
// draws up to the first NSR step, so they are compared pair by pair.
type NSRGNNPlan struct {
	Models    []string // full-batch architectures
	Datasets  []string
	Depths    []int
	Sampled   bool     // also SampledModel on sampled mini-batches, at each depth
	Arms      []string // ArmAuto, ArmLast
	Grid      []float64
	TuneSeeds int
	TestSeeds int
	// Epochs replaces the protocol's epochs when > 0 (quick checks); it is
	// then part of every run's key.
	Epochs int
}

// NSRGNNModel is one model of the study: an architecture at a depth,
// trained full batch or on sampled mini-batches.
type NSRGNNModel struct {
	Arch    string
	Depth   int
	Sampled bool
}

// String names m as the tables do: "gcn-4", "sage-2 sampled".
func (m NSRGNNModel) String() string {
	s := fmt.Sprintf("%s-%d", m.Arch, m.Depth)
	if m.Sampled {
		s += " sampled"
	}
	return s
}

// LastHidden returns the layer output index of m's last hidden layer.
func (m NSRGNNModel) LastHidden() int { return m.Depth - 2 }

// Validate reports the first setting of p that cannot be run.
func (p NSRGNNPlan) Validate() error {
	switch {
	case len(p.Models) == 0 && !p.Sampled || len(p.Datasets) == 0:
		return fmt.Errorf("bench: the plan needs at least one model and one dataset")
	case len(p.Depths) == 0:
		return fmt.Errorf("bench: the plan needs at least one depth")
	case len(p.Arms) == 0:
		return fmt.Errorf("bench: the plan needs at least one NSR arm")
	case p.TuneSeeds < 1:
		return fmt.Errorf("bench: tune seeds = %d, need at least 1", p.TuneSeeds)
	case p.TestSeeds < 1:
		return fmt.Errorf("bench: held-out seeds = %d, need at least 1", p.TestSeeds)
	}
	for i, d := range p.Depths {
		if d < 2 {
			return fmt.Errorf("bench: depth %d, need at least 2 (a hidden layer for NSR)", d)
		}
		if slices.Contains(p.Depths[:i], d) {
			return fmt.Errorf("bench: depth %d is listed twice", d)
		}
	}
	for i, a := range p.Arms {
		if a != ArmAuto && a != ArmLast {
			return fmt.Errorf("bench: NSR arm %q, want %s or %s", a, ArmAuto, ArmLast)
		}
		if slices.Contains(p.Arms[:i], a) {
			return fmt.Errorf("bench: NSR arm %s is listed twice", a)
		}
	}
	return GNNPlan{Models: []string{"-"}, Datasets: p.Datasets, Seeds: 1, TuneSeeds: 1, Grid: p.Grid, Epochs: p.Epochs}.Validate()
}

// ModelsOf returns the models of p in run order: each architecture at each
// depth, then the sampled ones.
func (p NSRGNNPlan) ModelsOf() []NSRGNNModel {
	var ms []NSRGNNModel
	for _, a := range p.Models {
		for _, d := range p.Depths {
			ms = append(ms, NSRGNNModel{Arch: a, Depth: d})
		}
	}
	if p.Sampled {
		for _, d := range p.Depths {
			ms = append(ms, NSRGNNModel{Arch: SampledModel, Depth: d, Sampled: true})
		}
	}
	return ms
}

func (p NSRGNNPlan) record() Plan {
	r := Plan{Models: p.Models, Datasets: p.Datasets, Seeds: p.TuneSeeds + p.TestSeeds, TuneSeeds: p.TuneSeeds, Grid: p.Grid,
		Depths: p.Depths, Sampled: p.Sampled, Arms: p.Arms, TestSeeds: p.TestSeeds}
	if p.Epochs > 0 {
		r.Epochs = map[string]int{}
		for _, m := range p.ModelsOf() {
			r.Epochs[m.Arch] = p.Epochs
		}
	}
	return r
}

// nsrGNNPlanOf returns the plan a study's records name (see planOf).
func nsrGNNPlanOf(p Plan) NSRGNNPlan {
	n := NSRGNNPlan{Models: p.Models, Datasets: p.Datasets, Depths: p.Depths, Sampled: p.Sampled, Arms: p.Arms, Grid: p.Grid,
		TuneSeeds: p.TuneSeeds, TestSeeds: p.TestSeeds}
	for _, e := range p.Epochs {
		n.Epochs = max(n.Epochs, e)
	}
	return n
}

// vanilla returns m's vanilla cell on ds.
func (p NSRGNNPlan) vanilla(m NSRGNNModel, ds string) Cell {
	return Cell{Model: m.Arch, Dataset: ds, Variant: Vanilla, Epochs: p.Epochs, Depth: m.Depth, Sampled: m.Sampled}
}

// nsr returns m's NSR cell on ds in arm with λ l.
func (p NSRGNNPlan) nsr(m NSRGNNModel, ds, arm string, l float64) Cell {
	c := p.vanilla(m, ds)
	c.Variant, c.Arm, c.Lambda = NSR, arm, l
	if arm == ArmLast {
		c.Layer = m.LastHidden()
	}
	return c
}

// testSeeds are the held-out seeds, as first and count.
func (p NSRGNNPlan) testSeeds() (uint64, int) { return uint64(p.TuneSeeds), p.TestSeeds }

// armRuns returns the records of m on ds in arm (NSR only).
func (p NSRGNNPlan) armRuns(recs []Record, m NSRGNNModel, ds, arm string) []Record {
	c := p.nsr(m, ds, arm, 0)
	var out []Record
	for _, r := range recs {
		if r.Table == TableNSRGNN && r.Impl == ImplGNSR && r.Variant == NSR && r.Model == m.Arch && r.Dataset == ds && r.Depth == m.Depth &&
			r.Sampled == m.Sampled && r.Arm == arm && r.TrainEpochs == p.Epochs && r.Layer == c.Layer {
			out = append(out, r)
		}
	}
	return out
}

// choose returns the λ chosen for m on ds in arm (see ChooseLambda), and
// whether every λ has its tuning runs.
func (p NSRGNNPlan) choose(recs []Record, m NSRGNNModel, ds, arm string) (lambda float64, ok, tunedAll bool) {
	runs := p.armRuns(recs, m, ds, arm)
	layer := p.nsr(m, ds, arm, 0).Layer
	lambda, ok = ChooseLambda(runs, layer, p.Grid, p.TuneSeeds)
	return lambda, ok, tuned(runs, layer, p.Grid, p.TuneSeeds)
}

// Slot is a Planner's: the NSR runs on the held-out seeds are in
// PhaseFinal, with the slot of their seed whatever λ is chosen; every
// other run is its own slot, in PhaseTune.
func (p NSRGNNPlan) Slot(j Job) (Job, Phase) {
	if j.Cell.Variant == NSR && j.Seed >= uint64(p.TuneSeeds) {
		j.Cell.Lambda, j.Undecided = 0, true
		return j, PhaseFinal
	}
	return j, PhaseTune
}

// Todo lists the runs of p that recs do not hold yet, in the order
// RunNSRGNN runs them; a cell and arm whose λ is not chosen yet lists its
// held-out runs as Undecided, and one where every λ failed has none.
func (p NSRGNNPlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	missing := func(c Cell, from uint64, n int, undecided bool) {
		for s := from; s-from < uint64(n); s++ {
			if undecided || !have[gnsrKey(TableNSRGNN, c, s)] {
				jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: s, Undecided: undecided})
			}
		}
	}
	first, n := p.testSeeds()
	for _, ds := range p.Datasets {
		for _, m := range p.ModelsOf() {
			missing(p.vanilla(m, ds), first, n, false)
			for _, arm := range p.Arms {
				for _, l := range p.Grid {
					missing(p.nsr(m, ds, arm, l), 0, p.TuneSeeds, false)
				}
				lambda, ok, tunedAll := p.choose(recs, m, ds, arm)
				switch {
				case ok:
					missing(p.nsr(m, ds, arm, lambda), first, n, false)
				case !tunedAll:
					missing(p.nsr(m, ds, arm, 0), first, n, true)
				}
			}
		}
	}
	return jobs
}

// RunNSRGNN runs the runs of p that s does not hold yet, appending each
// record to s as it finishes, in the order of Todo: per dataset and model,
// vanilla on the held-out seeds, then per arm each λ on the tuning seeds
// and the chosen λ on the held-out seeds. It stops at the first error of
// run or of the store, and when ctx is done; what was recorded stays. With
// opt.Shard and opt.Phase it runs one shard's runs of one phase, as
// RunGNN does.
func RunNSRGNN(ctx context.Context, s *Store, p NSRGNNPlan, run Runner, opt Options) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if opt.Shard.Sharded() && opt.Phase == PhaseAll {
		return errPhaseNeeded
	}
	d := newDriver(s, TableNSRGNN, p.record(), p, run, opt)
	first, n := p.testSeeds()
	var waiting []string
	for _, ds := range p.Datasets {
		for _, m := range p.ModelsOf() {
			if err := d.seedsFrom(ctx, p.vanilla(m, ds), first, n); err != nil {
				return err
			}
			for _, arm := range p.Arms {
				for _, l := range p.Grid {
					if err := d.seeds(ctx, p.nsr(m, ds, arm, l), p.TuneSeeds); err != nil {
						return err
					}
				}
				if opt.Phase == PhaseTune {
					continue
				}
				lambda, ok, tunedAll := p.choose(s.Records(), m, ds, arm)
				if !ok {
					if !tunedAll {
						waiting = append(waiting, fmt.Sprintf("%s %s %s", m, ds, arm))
					}
					continue
				}
				if err := d.seedsFrom(ctx, p.nsr(m, ds, arm, lambda), first, n); err != nil {
					return err
				}
			}
		}
	}
	if len(waiting) > 0 {
		return fmt.Errorf("bench: λ is not chosen yet for %s: tuning runs are missing; run the tune phase of every shard first", strings.Join(waiting, ", "))
	}
	return nil
}

// NSRGNNArm is one arm of a row of the study.
type NSRGNNArm struct {
	Arm     string
	Lambda  float64 // the chosen λ
	Chosen  bool
	Layers  map[int]int // the regularised layer output of each held-out run, counted
	NSR     Summary     // the chosen λ on the held-out seeds
	Paired  stats.Paired
	Tuning  []Summary // per grid λ, on the tuning seeds
	Missing int       // held-out seeds without both a vanilla and an NSR result
}

// NSRGNNRow is one model on one dataset: vanilla on the held-out seeds,
// and each arm.
type NSRGNNRow struct {
	Dataset string
	Model   NSRGNNModel
	Vanilla Summary
	Arms    []NSRGNNArm
}

// NSRGNNTable computes the study's table from records alone: the plan
// they were run under and one row per dataset and model, with whatever
// runs are recorded.
func NSRGNNTable(recs []Record) (NSRGNNPlan, []NSRGNNRow) {
	plan, _ := planOf(recs, TableNSRGNN)
	p := nsrGNNPlanOf(plan)
	plan.Depths, plan.Arms = nsrPlanLists(recs)
	p.Depths, p.Arms = plan.Depths, plan.Arms
	first, n := p.testSeeds()
	inTest := func(r Record) bool { return r.Seed >= first && r.Seed-first < uint64(n) }
	var rows []NSRGNNRow
	for _, ds := range p.Datasets {
		for _, m := range p.ModelsOf() {
			van := map[uint64]Record{}
			var vanRuns []Record
			vc := p.vanilla(m, ds)
			for _, r := range recs {
				if r.Table == TableNSRGNN && r.Key == gnsrKey(TableNSRGNN, vc, r.Seed) && inTest(r) {
					van[r.Seed] = r
					vanRuns = append(vanRuns, r)
				}
			}
			row := NSRGNNRow{Dataset: ds, Model: m, Vanilla: summarize(vanRuns)}
			for _, arm := range p.Arms {
				a := NSRGNNArm{Arm: arm, Layers: map[int]int{}}
				runs := p.armRuns(recs, m, ds, arm)
				for _, l := range p.Grid {
					var tune []Record
					for _, r := range runs {
						if r.Lambda == l && r.Seed < uint64(p.TuneSeeds) {
							tune = append(tune, r)
						}
					}
					a.Tuning = append(a.Tuning, summarize(tune))
				}
				a.Lambda, a.Chosen, _ = p.choose(recs, m, ds, arm)
				if a.Chosen {
					var final []Record
					var x, y []float64
					for _, r := range runs {
						if r.Lambda != a.Lambda || !inTest(r) {
							continue
						}
						final = append(final, r)
						layer := r.Layer
						if arm == ArmAuto && len(r.NSRLayers) == 1 {
							layer = r.NSRLayers[0]
						}
						a.Layers[layer]++
						if v, ok := van[r.Seed]; ok && v.Error == "" && r.Error == "" {
							x, y = append(x, v.TestAcc), append(y, r.TestAcc)
						}
					}
					a.NSR = summarize(final)
					a.Paired = stats.PairedT(x, y)
					a.Missing = n - len(x)
				}
				row.Arms = append(row.Arms, a)
			}
			rows = append(rows, row)
		}
	}
	return p, rows
}

// nsrPlanLists returns the depths and arms of every record's plan of the
// study, in the order they first appear, as planOf does for models and
// datasets.
func nsrPlanLists(recs []Record) (depths []int, arms []string) {
	for _, r := range recs {
		if r.Table != TableNSRGNN {
			continue
		}
		for _, d := range r.Plan.Depths {
			if !slices.Contains(depths, d) {
				depths = append(depths, d)
			}
		}
		for _, a := range r.Plan.Arms {
			if !slices.Contains(arms, a) {
				arms = append(arms, a)
			}
		}
	}
	return depths, arms
}
