package main

import (
	"fmt"
	"io"
	"time"

	"github.com/gnsr/gnsr/gnn"
)

// seedStream prints the results of gnsr train as each seed finishes, so that
// a run under nohup or CI shows them at once and an interrupted run keeps
// them: with --json, one object per seed; otherwise the table's header
// before the first row, then a row per seed. The summary, over the seeds
// that finished, comes last, also when the run stops early.
type seedStream struct {
	w       io.Writer
	f       *trainFlags
	prog    *progress // cleared before each line, so that the bar does not cut it
	start   time.Time
	results []*gnn.Result
}

// add records the finished seed r and prints its line, flushed.
func (s *seedStream) add(r *gnn.Result) error {
	s.results = append(s.results, r)
	s.prog.clear()
	var err error
	if s.f.jsonOut {
		err = writeJSON(s.w, seedRecord(s.f, r))
	} else {
		if len(s.results) == 1 {
			printHeader(s.w, s.f)
		}
		printRow(s.w, r)
	}
	if err != nil {
		return err
	}
	return flush(s.w)
}

// summary returns the summary over the finished seeds; stopped is the
// error that ended the run before its last seed, nil if every seed
// finished.
func (s *seedStream) summary(stopped error) summaryJSON {
	s.prog.finish()
	sum := summarize(s.f, s.results, time.Since(s.start))
	sum.Incomplete = stopped != nil
	return sum
}

// end prints sum, the summary, and returns stopped, the error that ended
// the run early (nil if it did not), saying how many seeds finished. A run
// that stopped before any seed finished prints nothing.
func (s *seedStream) end(sum summaryJSON, stopped error) error {
	if stopped != nil && len(s.results) == 0 {
		return stopped
	}
	var err error
	if s.f.jsonOut {
		err = writeJSON(s.w, sum)
	} else {
		printSummary(s.w, s.f, sum)
	}
	if err == nil {
		err = flush(s.w)
	}
	if stopped != nil {
		return fmt.Errorf("%s of %d finished (above): %w", plural(len(s.results), "seed"), s.f.seeds, stopped)
	}
	return err
}

// flush flushes w if it buffers (a *bufio.Writer); os.Stdout does not.
func flush(w io.Writer) error {
	if b, ok := w.(interface{ Flush() error }); ok {
		return b.Flush()
	}
	return nil
}

// printHeader prints the line that describes the run and the head of the
// table of seeds.
func printHeader(w io.Writer, f *trainFlags) {
	fmt.Fprintf(w, "%s %s, %s", f.dataset, f.cfg.Arch, plural(f.cfg.Epochs, "epoch"))
	if f.vision == nil { // an image model's architecture fixes its widths
		fmt.Fprintf(w, ", hidden %d", f.cfg.Hidden)
	}
	if f.cfg.NSR.Enabled() {
		fmt.Fprintf(w, ", NSR λ %v on layers %s", f.cfg.NSR.Lambdas, nsrLayersString(f))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%6s %9s %9s %6s %9s\n", "seed", "val acc", "test acc", "epoch", "ms/epoch")
}

// printRow prints the table's row of one seed, after the layer its auto
// choice took, if any.
func printRow(w io.Writer, r *gnn.Result) {
	if r.NSRChoice != "" {
		fmt.Fprintf(w, "seed %d: %s\n", r.Seed, r.NSRChoice)
	}
	fmt.Fprintf(w, "%6d %8.2f%% %8.2f%% %6d %9.2f\n", r.Seed, 100*r.ValAcc, 100*r.TestAcc, r.BestEpoch, r.EpochMsMedian)
}

// printSummary prints the last line: the test accuracy over the seeds of s.
func printSummary(w io.Writer, f *trainFlags, s summaryJSON) {
	// One seed has no spread to report.
	acc := fmt.Sprintf("%.2f %% with 1 seed", 100*s.TestAccMean)
	if s.Seeds > 1 {
		acc = fmt.Sprintf("%.2f ± %.2f %% over %d seeds", 100*s.TestAccMean, 100*s.TestAccStd, s.Seeds)
	}
	if s.Incomplete {
		acc += fmt.Sprintf(" (%d of %d finished)", s.Seeds, f.seeds)
	}
	// An epoch is one step of a full-batch graph run, many of an image or
	// mini-batch one: the median is of epochs, as the table's ms/epoch.
	fmt.Fprintf(w, "test accuracy %s; median epoch %.2f ms; %.1f s in all\n", acc, s.EpochMsMedian, s.WallS)
}
