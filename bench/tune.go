package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/report"
)

// TableTune is the table of gnsr tune: one model on one dataset, vanilla
// and each λ of a grid on every seed.
const TableTune = "tune"

// TunePlan is gnsr tune as a table: Model on Dataset, vanilla and NSR on
// Layer with each λ of Grid, on the seeds FirstSeed..FirstSeed+Seeds-1,
// for Epochs epochs; λ is then chosen on the mean validation accuracy over
// all the seeds. Config is every other training setting, shared by every
// run: a store holds the runs of one Config only.
type TunePlan struct {
	Model, Dataset string
	FirstSeed      uint64
	Seeds          int
	Grid           []float64
	Layer          int // the regularised layer of the key: the first where NSR applies to several
	Epochs         int
	Config         string
}

// Validate reports the first setting of p that cannot be run.
func (p TunePlan) Validate() error {
	switch {
	case p.Model == "" || p.Dataset == "":
		return errors.New("bench: the tune plan needs a model and a dataset")
	case p.Seeds < 1:
		return fmt.Errorf("bench: seeds = %d, need at least 1", p.Seeds)
	case p.FirstSeed+uint64(p.Seeds) < p.FirstSeed:
		return fmt.Errorf("bench: seeds %d from %d run past the largest seed", p.Seeds, p.FirstSeed)
	case p.Epochs < 1:
		return fmt.Errorf("bench: epochs = %d, need at least 1", p.Epochs)
	}
	return GNNPlan{Models: []string{p.Model}, Datasets: []string{p.Dataset}, Seeds: 1, TuneSeeds: 1, Grid: p.Grid}.Validate()
}

func (p TunePlan) record() Plan {
	return Plan{Models: []string{p.Model}, Datasets: []string{p.Dataset}, Seeds: p.Seeds, Grid: p.Grid, Layer: p.Layer,
		Epochs: map[string]int{p.Model: p.Epochs}, FirstSeed: p.FirstSeed, Config: p.Config}
}

// tunePlanOf returns the plan a tune table's records name (see planOf).
func tunePlanOf(p Plan) TunePlan {
	t := TunePlan{FirstSeed: p.FirstSeed, Seeds: p.Seeds, Grid: p.Grid, Layer: p.Layer, Config: p.Config}
	if len(p.Models) > 0 && len(p.Datasets) > 0 {
		t.Model, t.Dataset = p.Models[0], p.Datasets[0]
		t.Epochs = p.Epochs[t.Model]
	}
	return t
}

// cells returns vanilla, then NSR with each λ of the grid.
func (p TunePlan) cells() []Cell {
	cells := []Cell{{Model: p.Model, Dataset: p.Dataset, Variant: Vanilla, Epochs: p.Epochs}}
	for _, l := range p.Grid {
		cells = append(cells, Cell{Model: p.Model, Dataset: p.Dataset, Variant: NSR, Layer: p.Layer, Lambda: l, Epochs: p.Epochs})
	}
	return cells
}

// Todo lists the runs of p that recs do not hold yet, in the order RunTune
// runs them: vanilla on every seed, then each λ.
func (p TunePlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	for _, c := range p.cells() {
		for i := range p.Seeds {
			seed := p.FirstSeed + uint64(i)
			if !have[gnsrKey(TableTune, c, seed)] {
				jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: seed})
			}
		}
	}
	return jobs
}

// Slot is a Planner's: every run is its own slot, in PhaseTune (λ is
// chosen once every run is recorded).
func (p TunePlan) Slot(j Job) (Job, Phase) { return j, PhaseTune }

// RunTune runs the runs of p that s does not hold yet (with opt.Shard,
// the shard's only), appending each record to s as it finishes. A run
// that diverges is recorded as failed, and its λ cannot be chosen. A
// store that holds tune runs of another model, dataset or Config is an
// error: their table would mix two settings.
func RunTune(ctx context.Context, s *Store, p TunePlan, run Runner, opt Options) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for _, r := range s.Records() {
		if r.Table == TableTune && (r.Model != p.Model || r.Dataset != p.Dataset || r.Plan.Config != p.Config) {
			return fmt.Errorf("bench: %s holds tune runs of %s on %s with other settings (%s; now %s on %s with %s): keep each tune in its own directory",
				s.Path(), r.Model, r.Dataset, r.Plan.Config, p.Model, p.Dataset, p.Config)
		}
	}
	d := newDriver(s, TableTune, p.record(), p, run, opt)
	for _, c := range p.cells() {
		if err := d.seedsFrom(ctx, c, p.FirstSeed, p.Seeds); err != nil {
			return err
		}
	}
	return nil
}

// TuneRow is one row of the tune table: vanilla (Lambda 0) or NSR with one
// λ, over the plan's seeds.
type TuneRow struct {
	Lambda float64
	Summary
}

// TuneTable computes the tune table from records alone: the plan they were
// run under, a row for vanilla and one per λ of the grid, and the λ chosen
// on validation (chosen is false while some run is missing, or when every
// λ diverged).
func TuneTable(recs []Record) (p TunePlan, rows []TuneRow, lambda float64, chosen bool) {
	plan, _ := planOf(recs, TableTune)
	p = tunePlanOf(plan)
	var runs []Record
	for _, r := range cellRecords(recs, TableTune, ImplGNSR, p.Model, p.Dataset) {
		if r.TrainEpochs == p.Epochs && r.Seed >= p.FirstSeed && r.Seed-p.FirstSeed < uint64(p.Seeds) {
			runs = append(runs, r)
		}
	}
	for _, c := range p.cells() {
		var sel []Record
		for _, r := range runs {
			if r.Variant == c.Variant && (c.Variant == Vanilla || r.Layer == c.Layer && r.Lambda == c.Lambda) {
				sel = append(sel, r)
			}
		}
		rows = append(rows, TuneRow{Lambda: c.Lambda, Summary: summarize(sel)})
	}
	lambda, chosen = chooseLambda(runs, p.Layer, p.Grid, p.FirstSeed, p.Seeds)
	return p, rows, lambda, chosen
}

// TuneMarkdown renders the tune table of recs as markdown, from the records
// alone.
func TuneMarkdown(recs []Record) []byte {
	var b strings.Builder
	tuneRecs := markdownStart(&b, "gnsr tune: vanilla against NSR, λ chosen on validation", TableTune, "tune.jsonl and its shards' files", "gnsr tune --out DIR", recs)
	if tuneRecs == nil {
		return []byte(b.String())
	}
	p, rows, lambda, chosen := TuneTable(recs)
	b.WriteString("## Protocol\n\n")
	fmt.Fprintf(&b, "- **Runs**: %s on %s, %s, seeds %d–%d; vanilla, and NSR on layer %d with each λ of {%s}.\n",
		p.Model, p.Dataset, epochsPhrase(fmt.Sprint(p.Epochs)), p.FirstSeed, p.FirstSeed+uint64(p.Seeds)-1, p.Layer, joinFloats(p.Grid))
	fmt.Fprintf(&b, "- **Settings**: %s.\n", p.Config)
	b.WriteString("- **Choice**: the λ with the best mean validation accuracy over the seeds (the smaller λ on ties; a λ with a diverged run is out); test labels play no part.\n")
	b.WriteString("- **Reported**: test accuracy at the epoch of best validation accuracy, mean ± sample std (n−1) over the seeds, in %; epoch ms: median over seeds of each run's median training step.\n")
	writeMachines(&b, tuneRecs)
	b.WriteString("\n## Results\n\n| λ | val acc (%) | test acc (%) | epoch ms |\n|---:|---:|---:|---:|\n")
	for _, r := range rows {
		name := "vanilla"
		if r.Lambda > 0 {
			name = fmt.Sprintf("%g", r.Lambda)
		}
		val := valPct(r.Summary, p.Seeds, chosen && r.Lambda == lambda && r.Lambda > 0)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, val, pct(r.Summary, p.Seeds), ms(r.Summary))
	}
	switch {
	case chosen:
		van, nsr := rows[0].Summary, rows[1+slices.Index(p.Grid, lambda)].Summary
		gain := math.NaN()
		if van.N > 0 && nsr.N > 0 {
			gain = 100 * (nsr.Mean - van.Mean)
		}
		fmt.Fprintf(&b, "\nBold: the chosen λ = %g. Vanilla %s, NSR %s: %s points.\n", lambda, pct(van, p.Seeds), pct(nsr, p.Seeds), signed(gain, ".2f"))
	case p.tuned(recs):
		b.WriteString("\nNo λ chosen: every λ diverged on some seed.\n")
	default:
		b.WriteString("\nNo λ chosen yet: some runs are missing (n below the seeds).\n")
	}
	return []byte(b.String())
}

// tuned reports whether recs hold a run of every λ of p on every seed.
func (p TunePlan) tuned(recs []Record) bool {
	for _, j := range p.Todo(recs) {
		if j.Cell.Variant == NSR {
			return false
		}
	}
	return true
}

// WriteTuneReport writes tune.md into dir from recs alone, atomically.
func WriteTuneReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TableTune+".md"), TuneMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
