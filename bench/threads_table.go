package bench

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/report"
)

// ThreadsRow is one thread count of a cell of the thread-scaling table.
type ThreadsRow struct {
	Model, Dataset string
	Threads        int
	N              int     // runs (seeds) recorded
	EpochMs        float64 // median over the seeds of each run's median step
	// SpeedUp is the epoch time at the cell's fewest threads over this
	// one's, and Efficiency that over the thread ratio (1: linear).
	SpeedUp, Efficiency float64
	PeakRSSKiB          int64   // the largest over the seeds; 0 if unknown
	TestAcc             float64 // mean over the seeds
	// Same is whether every seed computed the numbers it computed at the
	// cell's fewest threads; Compared counts the seeds checked (both
	// recorded), Differ lists those whose numbers differ.
	Same     bool
	Compared int
	Differ   []uint64
}

// ThreadsTable returns the plan of the thread-scaling records among recs
// and its rows: per dataset and model of the plan, each thread count with
// runs, by increasing count.
func ThreadsTable(recs []Record) (Plan, []ThreadsRow) {
	recs = tableRecords(recs, TableThreads)
	p, _ := planOf(recs, TableThreads)
	var rows []ThreadsRow
	for _, ds := range p.Datasets {
		for _, m := range p.Models {
			rows = append(rows, threadsCell(recs, m, ds, p.Seeds)...)
		}
	}
	return p, rows
}

// threadsCell returns the rows of model on dataset, from the runs of seeds
// below seeds that did not fail.
func threadsCell(recs []Record, model, dataset string, seeds int) []ThreadsRow {
	byThreads := map[int][]Record{}
	for _, r := range recs {
		if r.Model == model && r.Dataset == dataset && r.Seed < uint64(seeds) && r.Error == "" {
			byThreads[r.Threads] = append(byThreads[r.Threads], r)
		}
	}
	var counts []int
	for t := range byThreads {
		counts = append(counts, t)
	}
	slices.Sort(counts)
	var rows []ThreadsRow
	var base map[uint64]string // fingerprints at the fewest threads, by seed
	var baseMs float64
	for i, t := range counts {
		runs := byThreads[t]
		slices.SortFunc(runs, func(a, b Record) int { return cmp.Compare(a.Seed, b.Seed) })
		row := ThreadsRow{Model: model, Dataset: dataset, Threads: t, N: len(runs), Same: true}
		var ms, test []float64
		prints := map[uint64]string{}
		for _, r := range runs {
			ms, test = append(ms, r.EpochMs), append(test, r.TestAcc)
			row.PeakRSSKiB = max(row.PeakRSSKiB, r.PeakRSSKiB)
			prints[r.Seed] = r.Fingerprint
		}
		row.EpochMs = Median(ms)
		row.TestAcc, _ = MeanStd(test)
		if i == 0 {
			base, baseMs = prints, row.EpochMs
		}
		row.SpeedUp = baseMs / row.EpochMs
		row.Efficiency = row.SpeedUp * float64(counts[0]) / float64(t)
		for _, r := range runs {
			b, ok := base[r.Seed]
			if !ok {
				continue
			}
			row.Compared++
			if b == "" || b != r.Fingerprint {
				row.Same = false
				row.Differ = append(row.Differ, r.Seed)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// ThreadsMarkdown renders the thread-scaling table from recs alone.
func ThreadsMarkdown(recs []Record) []byte {
	p, rows := ThreadsTable(recs)
	var b strings.Builder
	tr := markdownStart(&b, "Thread scaling", TableThreads, "threads.jsonl", "gnsr bench threads", recs)
	if tr == nil {
		return []byte(b.String())
	}
	b.WriteString("## Protocol\n\n")
	fmt.Fprintf(&b, "- **Runs**: `gnsr train` with its defaults for each model and dataset (%s), one process a run with GOMAXPROCS set to the thread count, on %s; the runs of one seed at every thread count one after the other.\n",
		epochsPhrase(distinct(tr, func(r Record) string { return fmt.Sprint(r.Epochs) })), seedRange(p.Seeds))
	b.WriteString("- **Reported**: epoch ms, the median over the seeds of each run's median training step (evaluation excluded); speed-up, the epoch time at the fewest threads over this one's; efficiency, the speed-up over the ratio of the thread counts (1: linear); peak RSS, the process's peak resident memory, the largest over the seeds; test accuracy at the epoch of best validation accuracy, mean over the seeds; same numbers, whether each seed reported exactly what it reported at the fewest threads (accuracies, losses, everything but timings).\n")
	writeMachines(&b, tr)
	b.WriteString("\n## Results\n")
	for i, r := range rows {
		if i == 0 || r.Model != rows[i-1].Model || r.Dataset != rows[i-1].Dataset {
			fmt.Fprintf(&b, "\n### %s on %s\n\n", r.Model, datasetLabel(r.Dataset))
			b.WriteString("| threads | runs | epoch ms | speed-up | efficiency | peak RSS (MiB) | test acc (%) | same numbers |\n")
			b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---|\n")
		}
		rss := "—"
		if r.PeakRSSKiB > 0 {
			rss = fmt.Sprintf("%.0f", float64(r.PeakRSSKiB)/1024)
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %.2f | %.2f | %s | %.2f | %s |\n",
			r.Threads, r.N, msText(r.EpochMs), r.SpeedUp, r.Efficiency, rss, 100*r.TestAcc, sameText(r))
	}
	return []byte(b.String())
}

// msText formats an epoch time with three significant digits or more.
func msText(ms float64) string {
	switch {
	case math.IsNaN(ms):
		return "—"
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 10:
		return fmt.Sprintf("%.1f", ms)
	default:
		return fmt.Sprintf("%.2f", ms)
	}
}

func sameText(r ThreadsRow) string {
	switch {
	case r.Compared == 0:
		return "— (no seed in common)"
	case r.Same:
		return "yes"
	}
	seeds := make([]string, len(r.Differ))
	for i, s := range r.Differ {
		seeds[i] = fmt.Sprint(s)
	}
	return "**no**: seed " + strings.Join(seeds, ", ")
}

// WriteThreadsReport writes threads.md into dir from recs alone, and
// threads.png, the speed-up of each cell against its thread counts beside
// linear speed-up, where a cell has two counts or more; each atomically.
func WriteThreadsReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TableThreads+".md"), ThreadsMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, rows := ThreadsTable(recs)
	var series []report.Series
	lo, hi := math.Inf(1), 0.0
	for i, r := range rows {
		if i == 0 || r.Model != rows[i-1].Model || r.Dataset != rows[i-1].Dataset {
			series = append(series, report.Series{Name: r.Model + " on " + datasetLabel(r.Dataset)})
		}
		s := &series[len(series)-1]
		s.X, s.Y = append(s.X, float64(r.Threads)), append(s.Y, r.SpeedUp)
		lo, hi = math.Min(lo, float64(r.Threads)), math.Max(hi, float64(r.Threads))
	}
	series = slices.DeleteFunc(series, func(s report.Series) bool { return len(s.X) < 2 })
	if len(series) == 0 {
		return nil
	}
	// Linear speed-up from the fewest threads of all the cells.
	series = append(series, report.Series{Name: "linear", X: []float64{lo, hi}, Y: []float64{1, hi / lo}})
	c := report.Chart{Title: "Speed-up of a training epoch against threads (GOMAXPROCS)", XLabel: "threads", YLabel: "speed-up over the fewest threads"}
	if err := report.LinePlot(filepath.Join(dir, TableThreads+".png"), c, series...); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
