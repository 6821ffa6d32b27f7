package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
)

// Summary is the runs of one cell: test accuracy over the seeds that count.
type Summary struct {
	N       int     // runs counted (failed ones excluded)
	Failed  int     // runs with Error set
	Mean    float64 // test accuracy, a fraction; NaN without runs
	Std     float64 // sample standard deviation (n−1)
	ValMean float64 // mean validation accuracy
	EpochMs float64 // median over the runs of each run's median step; NaN without runs
	WallS   float64 // mean wall time of a run
}

// summarize summarizes the records of one cell.
func summarize(recs []Record) Summary {
	var test, val, ms, wall []float64
	s := Summary{}
	for _, r := range recs {
		if r.Error != "" {
			s.Failed++
			continue
		}
		test, val, ms, wall = append(test, r.TestAcc), append(val, r.ValAcc), append(ms, r.EpochMs), append(wall, r.WallS)
	}
	s.N = len(test)
	s.Mean, s.Std = MeanStd(test)
	s.ValMean, _ = MeanStd(val)
	s.EpochMs = Median(ms)
	s.WallS, _ = MeanStd(wall)
	return s
}

// GNNRow is one row of the GNN table.
type GNNRow struct {
	Model, Dataset string
	Vanilla        Summary
	NSR            Summary // at the chosen λ (N is 0 until λ is chosen)
	Lambda         float64 // the chosen λ
	Chosen         bool    // whether λ is chosen: every grid λ has its tuning runs
	Layer          int
	Tuning         []Summary // per grid λ, over the tuning seeds
}

// Gain returns NSR's mean test accuracy minus vanilla's, in points (a
// fraction), and that relative to vanilla's; NaN when either is missing.
func (r GNNRow) Gain() (abs, rel float64) {
	if r.Vanilla.N == 0 || r.NSR.N == 0 {
		return math.NaN(), math.NaN()
	}
	abs = r.NSR.Mean - r.Vanilla.Mean
	return abs, abs / r.Vanilla.Mean
}

// planOf returns the plan the records of table were run under: the seeds,
// tuning seeds, grid and layer of the last record, the models and datasets
// of every record's plan, in the order they first appear, so that tables
// built by several partial runs (say one dataset at a time) show all of
// them, and each model's epochs as the last plan naming it set them.
func planOf(recs []Record, table string) (Plan, bool) {
	var p Plan
	found := false
	for _, r := range recs {
		if r.Table != table {
			continue
		}
		models, datasets, epochs := p.Models, p.Datasets, p.Epochs
		p = r.Plan
		p.Models, p.Datasets, p.Epochs = models, datasets, epochs
		for _, m := range r.Plan.Models {
			if !slices.Contains(p.Models, m) {
				p.Models = append(p.Models, m)
			}
		}
		for _, d := range r.Plan.Datasets {
			if !slices.Contains(p.Datasets, d) {
				p.Datasets = append(p.Datasets, d)
			}
		}
		for m, e := range r.Plan.Epochs {
			if p.Epochs == nil {
				p.Epochs = map[string]int{}
			}
			p.Epochs[m] = e
		}
		found = true
	}
	return p, found
}

// selectRuns keeps the records of c's variant, layer and λ (ignored for
// vanilla) and epochs with a seed below seeds.
func selectRuns(recs []Record, c Cell, seeds int) []Record {
	var out []Record
	for _, r := range recs {
		if r.Variant == c.Variant && r.Seed < uint64(seeds) && r.TrainEpochs == c.Epochs &&
			(c.Variant == Vanilla || r.Layer == c.Layer && r.Lambda == c.Lambda) {
			out = append(out, r)
		}
	}
	return out
}

// GNNTable computes the GNN table from records alone: the plan they were
// run under (see Plan) and one row per dataset and model of it, in the
// plan's order, with whatever runs are recorded (a row of an unfinished
// table has fewer runs than seeds, or none).
func GNNTable(recs []Record) (Plan, []GNNRow) {
	p, _ := planOf(recs, TableGNN)
	gp := gnnPlanOf(p)
	var rows []GNNRow
	for _, ds := range p.Datasets {
		for _, m := range p.Models {
			cell := gp.runs(recs, m, ds)
			row := GNNRow{Model: m, Dataset: ds, Layer: p.Layer, Vanilla: summarize(selectRuns(cell, gp.cell(m, ds, Vanilla, 0), p.Seeds))}
			for _, l := range p.Grid {
				row.Tuning = append(row.Tuning, summarize(selectRuns(cell, gp.cell(m, ds, NSR, l), p.TuneSeeds)))
			}
			row.Lambda, row.Chosen = ChooseLambda(cell, p.Layer, p.Grid, p.TuneSeeds)
			if row.Chosen {
				row.NSR = summarize(selectRuns(cell, gp.cell(m, ds, NSR, row.Lambda), p.Seeds))
			}
			rows = append(rows, row)
		}
	}
	return p, rows
}

// pct prints a summary's accuracy as "81.50 ± 0.52" percent (one run has no
// spread, so no "±"), noting how many runs count when that is not seeds, and
// "—" without runs.
func pct(s Summary, seeds int) string {
	if s.N == 0 {
		if s.Failed > 0 {
			return fmt.Sprintf("diverged (%d)", s.Failed)
		}
		return "—"
	}
	out := fmt.Sprintf("%.2f", 100*s.Mean)
	if s.N > 1 {
		out += fmt.Sprintf(" ± %.2f", 100*s.Std)
	}
	if s.N != seeds {
		out += fmt.Sprintf(" (n=%d)", s.N)
	}
	if s.Failed > 0 {
		out += fmt.Sprintf(", %d diverged", s.Failed)
	}
	return out
}

func ms(s Summary) string {
	if s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", s.EpochMs)
}

func signed(x float64, format string) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%+"+format, x)
}

// seedRange prints seeds 0..n-1.
func seedRange(n int) string {
	if n == 1 {
		return "seed 0"
	}
	return fmt.Sprintf("seeds 0–%d", n-1)
}

// GNNMarkdown renders the GNN table of recs as markdown: the protocol and
// the machine first, then the table, then the λ selection. It uses the
// records alone.
func GNNMarkdown(recs []Record) []byte {
	p, rows := GNNTable(recs)
	var b strings.Builder
	gnnRecs := markdownStart(&b, "GNN node classification: vanilla against NSR", TableGNN, "gnn.jsonl", "gnsr bench gnn", recs)
	if gnnRecs == nil {
		return []byte(b.String())
	}
	fmt.Fprintf(&b, "## Protocol\n\n")
	writeProtocol(&b, gnnRecs, p.Datasets)
	fmt.Fprintf(&b, "- **NSR**: on layer %d (the hidden layer, after ReLU), zero ReLU responses masked; λ chosen from {%s} by the mean validation accuracy over %s (the smaller λ on ties; test labels play no part), then run on all seeds.\n",
		p.Layer, joinFloats(p.Grid), seedRange(p.TuneSeeds))
	fmt.Fprintf(&b, "- **Reported**: test accuracy at the epoch of best validation accuracy, mean ± sample std (n−1) over %s, in %%. Gain: +NSR minus vanilla, in points and relative to vanilla.\n", seedRange(p.Seeds))
	b.WriteString("- **Epoch ms**: median over seeds of each run's median training step (forward, loss, backward, update; evaluation excluded).\n")
	writeMachines(&b, gnnRecs)

	b.WriteString("\n## Results\n\n")
	b.WriteString("| model | dataset | vanilla test acc (%) | +NSR test acc (%) | gain (points) | gain (%) | λ | layer | epoch ms vanilla | epoch ms NSR |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		abs, rel := r.Gain()
		lambda := "—"
		if r.Chosen {
			lambda = fmt.Sprintf("%g", r.Lambda)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n",
			r.Model, r.Dataset, pct(r.Vanilla, p.Seeds), pct(r.NSR, p.Seeds), signed(100*abs, ".2f"), signed(100*rel, ".2f"),
			lambda, r.Layer, ms(r.Vanilla), ms(r.NSR))
	}
	fmt.Fprintf(&b, "\nA cell with fewer runs than seeds shows their count n: the bench has not finished it. λ —: not chosen yet, or every λ diverged.\n")

	fmt.Fprintf(&b, "\n## λ selection: mean validation accuracy (%%) over %s\n\n", seedRange(p.TuneSeeds))
	b.WriteString("| model | dataset | vanilla |")
	for _, l := range p.Grid {
		fmt.Fprintf(&b, " λ=%g |", l)
	}
	b.WriteString("\n|---|---|---:|" + strings.Repeat("---:|", len(p.Grid)) + "\n")
	for _, r := range rows {
		gp := gnnPlanOf(p)
		van := summarize(selectRuns(gp.runs(gnnRecs, r.Model, r.Dataset), gp.cell(r.Model, r.Dataset, Vanilla, 0), p.TuneSeeds))
		fmt.Fprintf(&b, "| %s | %s | %s |", r.Model, r.Dataset, valPct(van, p.TuneSeeds, false))
		for i, s := range r.Tuning {
			fmt.Fprintf(&b, " %s |", valPct(s, p.TuneSeeds, r.Chosen && p.Grid[i] == r.Lambda))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nBold: the chosen λ.\n")
	return []byte(b.String())
}

func valPct(s Summary, seeds int, bold bool) string {
	switch {
	case s.N == 0 && s.Failed > 0:
		return "diverged"
	case s.N == 0:
		return "—"
	}
	out := fmt.Sprintf("%.2f", 100*s.ValMean)
	if s.Failed > 0 {
		out += " (diverged)"
	} else if s.N != seeds {
		out += fmt.Sprintf(" (n=%d)", s.N)
	}
	if bold {
		out = "**" + out + "**"
	}
	return out
}

func tableRecords(recs []Record, table string) []Record {
	var out []Record
	for _, r := range recs {
		if r.Table == table {
			out = append(out, r)
		}
	}
	return out
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%g", x)
	}
	return strings.Join(s, ", ")
}

// writeProtocol writes the data and training bullets: each dataset's
// protocol from its registry entry (../shared/docs/protocol.md describes
// them), with the sizes the records say were used.
func writeProtocol(b *strings.Builder, recs []Record, names []string) {
	layers := writeDataProtocol(b, names)
	writeModelProtocol(b, recs, names, strings.Join(layers, " / ")+" layers", "full batch")
}

// writeDataProtocol writes the splits and features bullets of the datasets
// names, and returns the layers their protocols set.
func writeDataProtocol(b *strings.Builder, names []string) (layers []string) {
	// Datasets sharing a protocol (a family) are listed together.
	type group struct {
		names []string
		p     datasets.Protocol
	}
	var groups []*group
	byFamily := map[datasets.Family]*group{}
	for _, d := range names {
		e, err := datasets.Lookup(d)
		if err != nil || e.Kind != datasets.NodeClassification {
			continue
		}
		g := byFamily[e.Family]
		if g == nil {
			g = &group{p: e.Protocol}
			byFamily[e.Family] = g
			groups = append(groups, g)
		}
		g.names = append(g.names, d)
	}
	b.WriteString("The evaluation protocol of the project (`docs/protocol.md` of the shared folder), from each dataset's registry entry:\n\n")
	b.WriteString("- **Splits**:")
	for _, g := range groups {
		fmt.Fprintf(b, " %s: %s;", strings.Join(g.names, ", "), g.p.Split)
	}
	b.WriteString(" test accuracy at the epoch of best validation accuracy.\n")
	b.WriteString("- **Features**:")
	for _, g := range groups {
		fmt.Fprintf(b, " %s %s;", strings.Join(g.names, ", "), g.p.Features)
	}
	b.WriteString(" graphs symmetrised without self-loops (GCN adds them back in D^-1/2 (A+I) D^-1/2; GraphSAGE averages neighbours, D^-1 A, beside a root weight).\n")
	for _, g := range groups {
		if l := fmt.Sprint(g.p.Hyper.Layers); !slices.Contains(layers, l) {
			layers = append(layers, l)
		}
	}
	return layers
}

// writeModelProtocol writes the model and training bullets with the
// architectures, sizes and optimiser settings the records say were used;
// depth and batching say how many layers and which batches.
func writeModelProtocol(b *strings.Builder, recs []Record, names []string, depth, batching string) {
	var hidden []string
	for _, d := range names {
		if h := distinct(recs, func(r Record) string {
			if r.Dataset != d || r.Hidden == 0 {
				return ""
			}
			return fmt.Sprint(r.Hidden)
		}); h != "" {
			hidden = append(hidden, d+" "+h)
		}
	}
	// Each architecture's own activation and heads, from its registry entry.
	var archs []string
	for _, r := range recs {
		cfg, err := gnn.ConfigFor(r.Model, gnn.Protocol{})
		if err != nil {
			continue
		}
		a := r.Model + " " + cfg.Activation
		if cfg.Heads > 1 {
			a += fmt.Sprintf(" with %d attention heads", cfg.Heads)
		}
		if !slices.Contains(archs, a) {
			archs = append(archs, a)
		}
	}
	fmt.Fprintf(b, "- **Model**: %s (%s), dropout %s on the input and hidden layers; hidden units: %s.\n",
		depth, strings.Join(archs, ", "), distinct(recs, func(r Record) string { return fmt.Sprint(r.Dropout) }), strings.Join(hidden, ", "))
	fmt.Fprintf(b, "- **Training**: %s, Adam (learning rate %s, weight decay %s on every parameter), %s epochs.\n",
		batching, distinct(recs, func(r Record) string { return fmt.Sprint(r.LR) }),
		distinct(recs, func(r Record) string { return fmt.Sprint(r.WeightDecay) }),
		distinct(recs, func(r Record) string { return fmt.Sprint(r.Epochs) }))
}

// distinct returns the distinct non-empty values of f over recs, joined by
// " / " in the order they first appear.
func distinct(recs []Record, f func(Record) string) string {
	var vals []string
	for _, r := range recs {
		if v := f(r); v != "" && !slices.Contains(vals, v) {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, " / ")
}

// markdownStart writes a table's title and the notice that the file is
// generated from sources alone to b, and returns the records of table
// among recs; where there are none, it writes that command makes them and
// returns nil.
func markdownStart(b *strings.Builder, title, table, sources, command string, recs []Record) []Record {
	fmt.Fprintf(b, "# %s\n\n", title)
	fmt.Fprintf(b, "<!-- Generated by `gnsr bench report` from %s alone; edits are overwritten. -->\n\n", sources)
	own := tableRecords(recs, table)
	if len(own) == 0 {
		fmt.Fprintf(b, "No records yet: run `%s`.\n", command)
		return nil
	}
	return own
}

// writeMachines writes where and when the records were produced; more than
// one machine or commit is listed as such, as their times do not compare.
func writeMachines(b *strings.Builder, recs []Record) {
	machines := distinct(recs, func(r Record) string {
		m := r.Meta
		cpu := m.CPU
		if cpu == "" {
			cpu = "unknown CPU"
		}
		procs := fmt.Sprintf("GOMAXPROCS %d", m.GOMAXPROCS)
		if r.Threads > 0 {
			procs = "GOMAXPROCS the run's thread count" // the thread table's variable
		}
		return fmt.Sprintf("%s, %d CPUs, %s/%s, %s, %s, BLAS: %s", cpu, m.NumCPU, m.OS, m.Arch, procs, m.GoVersion, m.BLAS)
	})
	commits := distinct(recs, func(r Record) string {
		c := r.Meta.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if c == "unknown" && r.Meta.Version != "" {
			c += " (module version " + r.Meta.Version + ")"
		}
		if r.Meta.Dirty {
			c += " (with uncommitted changes)"
		}
		return c
	})
	first, last := recs[0].Meta.Time, recs[0].Meta.Time
	for _, r := range recs {
		if r.Meta.Time.Before(first) {
			first = r.Meta.Time
		}
		if r.Meta.Time.After(last) {
			last = r.Meta.Time
		}
	}
	fmt.Fprintf(b, "- **Machine**: %s.\n", machines)
	fmt.Fprintf(b, "- **Commit**: %s; %d runs recorded between %s and %s.\n", commits, len(recs), first.Format(time.DateTime), last.Format(time.DateTime+" MST"))
}
