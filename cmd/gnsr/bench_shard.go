package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/bench"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// addShardFlag adds --shard, whose shard writes file.
func addShardFlag(fl *pflag.FlagSet, v *string, file string) {
	fl.StringVar(v, "shard", "", fmt.Sprintf(
		"run part i of n of the plan (i/n, counted from 0), writing %s; auto: from %s and %s (Slurm job array) or %s and %s (Kubernetes Indexed Job)",
		file, bench.EnvSlurmTaskID, bench.EnvSlurmTaskCount, bench.EnvJobCompletionIndex, bench.EnvShardCount))
}

// parseShard reads --shard, with the process's environment for auto.
func parseShard(s string) (bench.Shard, error) {
	return bench.ParseShard(s, os.Getenv)
}

// resolveShard reads --shard and --phase into f. A table in two phases
// (twoPhases) needs its phase named when it is sharded.
func (f *benchFlags) resolveShard(twoPhases bool) error {
	var err error
	if f.shard, err = parseShard(f.shardFlag); err != nil {
		return err
	}
	if f.phase, err = bench.ParsePhase(f.phaseFlag); err != nil {
		return fmt.Errorf("--phase: %w", err)
	}
	if f.shard.Sharded() && f.phase == bench.PhaseAll && twoPhases {
		return fmt.Errorf("--shard %s needs --phase tune or final: a sharded GNN table runs in two job arrays, --phase tune on every shard, then --phase final (the chosen λ on the other seeds) once all of them have finished (sbatch --dependency=afterok:<first array>)", f.shardFlag)
	}
	return nil
}

// jobDatasets returns the datasets of jobs, in the order they first appear.
func jobDatasets(jobs []bench.Job) []string {
	var ds []string
	for _, j := range jobs {
		if !slices.Contains(ds, j.Cell.Dataset) {
			ds = append(ds, j.Cell.Dataset)
		}
	}
	return ds
}

// joinedRecords returns the records of every file of table in out (see
// bench.Merge).
func joinedRecords(out, table string) ([]bench.Record, error) {
	m, err := bench.Merge(out, table)
	if err != nil {
		return nil, err
	}
	return m.Records, nil
}

// dryRun prints the runs of p that f's shard and phase would make now.
func dryRun(cmd *cobra.Command, f *benchFlags, out, table string, p bench.Planner) error {
	recs, err := joinedRecords(out, table)
	if err != nil {
		return err
	}
	keep := bench.NewSharding(p, f.shard, f.phase)
	printPlan(cmd.OutOrStdout(), table, keep, keep.Filter(p.Todo(recs)), len(recs), observed(recs), f.budget)
	return nil
}

// shardDone says what a shard recorded and how to join the shards.
func shardDone(w io.Writer, s *bench.Store, keep *bench.Sharding, out string) {
	phase := ""
	if keep.Phase != bench.PhaseAll {
		phase = ", phase " + string(keep.Phase)
	}
	fmt.Fprintf(w, "shard %s%s: %s holds its runs; once every shard has finished, 'gnsr bench report --out %s' joins them\n",
		keep.Shard, phase, s.Path(), out)
}

// jobName names a run of a plan for people.
func jobName(j bench.Job) string {
	if j.Undecided {
		return cellName(j.Impl, j.Cell) + fmt.Sprintf(" (λ not chosen yet) seed %d", j.Seed)
	}
	return describe(j.Impl, j.Cell, j.Seed)
}

// listed writes at most 10 lines of items, then how many more there are.
func listed(w io.Writer, items []string) {
	for i, it := range items {
		if i == 10 {
			fmt.Fprintf(w, "  … and %d more\n", len(items)-i)
			return
		}
		fmt.Fprintf(w, "  %s\n", it)
	}
}

// reportTables are the tables and their reports, the GNN table first: the
// peer table's plan is derived from it.
var reportTables = []struct {
	table string
	write func(string, []bench.Record) error
	files []string
}{
	{bench.TableGNN, bench.WriteGNNReport, []string{"gnn.md", "gnn.png"}},
	{bench.TableMLP, bench.WriteMLPReport, []string{"mlp.md", "mlp.png"}},
	{bench.TablePeers, bench.WritePeersReport, []string{"peers.md"}},
	{bench.TableTune, bench.WriteTuneReport, []string{"tune.md"}},
	{bench.TableNSRGNN, bench.WriteNSRGNNReport, []string{"nsr-gnn.md", "nsr-gnn.png"}},
	{bench.TableThreads, bench.WriteThreadsReport, []string{"threads.md", "threads.png"}},
}

// writeReports joins the files of every table in out (its own and its
// shards'), says on stdout what each join holds and on stderr what it
// found wrong (runs recorded twice, shards without a file, runs of the plan
// missing), and regenerates the reports of every table that has records.
// Runs recorded twice with different results are an error, and that
// table's report is not written; with requireComplete, so is anything
// else found wrong.
func writeReports(stdout, stderr io.Writer, out string, requireComplete bool) error {
	var gnnRecs []bench.Record
	var incomplete, errs []error
	wrote := false
	for _, t := range reportTables {
		m, err := bench.Merge(out, t.table)
		if err != nil {
			return err
		}
		for _, msg := range m.Ignored {
			fmt.Fprintln(stderr, msg)
		}
		if len(m.Records) == 0 {
			continue
		}
		if t.table == bench.TableGNN {
			gnnRecs = m.Records
		}
		var dups, conflicts []string
		for _, d := range m.Duplicates {
			line := fmt.Sprintf("%s: in %s", d.Key, strings.Join(d.Files, ", "))
			if d.Conflict {
				conflicts = append(conflicts, line)
			} else {
				dups = append(dups, line)
			}
		}
		if len(conflicts) > 0 {
			fmt.Fprintf(stderr, "%s: %d runs recorded more than once with different results:\n", t.table, len(conflicts))
			listed(stderr, conflicts)
			errs = append(errs, fmt.Errorf("bench report: %s: %d runs recorded more than once with different results; keep one record of each (the right binary's) and rerun", t.table, len(conflicts)))
			continue
		}
		if len(dups) > 0 {
			fmt.Fprintf(stderr, "%s: %d runs recorded more than once, with the same results (counted once):\n", t.table, len(dups))
			listed(stderr, dups)
			incomplete = append(incomplete, fmt.Errorf("%s: %d runs recorded more than once", t.table, len(dups)))
		}
		var noFile []string
		for _, sh := range m.MissingShards() {
			noFile = append(noFile, fmt.Sprintf("shard %s: no file %s", sh, bench.Path(out, sh.Name(t.table))))
		}
		if len(noFile) > 0 {
			fmt.Fprintf(stderr, "%s: %d shards never started:\n", t.table, len(noFile))
			listed(stderr, noFile)
			incomplete = append(incomplete, fmt.Errorf("%s: %d shards never started", t.table, len(noFile)))
		}
		var missing []string
		for _, j := range bench.Unfinished(t.table, m.Records, gnnRecs) {
			missing = append(missing, jobName(j))
		}
		if len(missing) > 0 {
			fmt.Fprintf(stderr, "%s: %d runs of the plan are not recorded yet:\n", t.table, len(missing))
			listed(stderr, missing)
			incomplete = append(incomplete, fmt.Errorf("%s: %d runs missing", t.table, len(missing)))
		}
		status := "complete"
		if len(missing) > 0 {
			status = fmt.Sprintf("%d runs missing", len(missing))
		}
		fmt.Fprintf(stdout, "%s: %d runs from %s, %d recorded twice; %s\n", t.table, len(m.Records), filesPhrase(m.Files), len(dups), status)
		if err := t.write(out, m.Records); err != nil {
			return err
		}
		for _, f := range t.files {
			if _, err := os.Stat(filepath.Join(out, f)); err == nil {
				fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(out, f))
			}
		}
		wrote = true
	}
	if !wrote && len(errs) == 0 {
		fmt.Fprintf(stderr, "no results in %s yet\n", out)
	}
	if requireComplete && len(incomplete) > 0 {
		errs = append(errs, fmt.Errorf("bench report --require-complete: %w", errors.Join(incomplete...)))
	}
	return errors.Join(errs...)
}

// filesPhrase says which files a table was joined from: "gnn.jsonl",
// "4 shard files (of 4)", or both.
func filesPhrase(files []bench.TableFile) string {
	var parts []string
	shards := 0
	var counts []string
	for _, f := range files {
		if !f.Shard.Sharded() {
			parts = append(parts, filepath.Base(f.Path))
			continue
		}
		shards++
		if c := fmt.Sprint(f.Shard.Count); !slices.Contains(counts, c) {
			counts = append(counts, c)
		}
	}
	if shards > 0 {
		parts = append(parts, fmt.Sprintf("%d shard files (of %s)", shards, strings.Join(counts, ", ")))
	}
	return strings.Join(parts, " and ")
}

func newBenchCompareCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compare DIR1 DIR2",
		Short: "Check that two results directories hold the same runs, record for record, timings and machines aside",
		Long: `Join the files of each table in the two results directories (as 'gnsr bench
report' does) and compare them run by run: the same keys, and for each the
same results, settings and plan; timings (wall time, epoch ms) and metadata
(time, machine, build) aside. It exits with an error when any table differs:
use it to check that a table made by a job array equals the one a single
process makes, or that two machines give the same numbers.`,
		Example: `  gnsr bench compare /shared/b-slurm /tmp/b-one-process`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return compareDirs(cmd.OutOrStdout(), args[0], args[1])
		},
	}
	return cmd
}

// compareDirs compares the tables of two results directories.
func compareDirs(w io.Writer, a, b string) error {
	var differ []string
	found := false
	for _, t := range reportTables {
		ma, err := bench.Merge(a, t.table)
		if err != nil {
			return err
		}
		mb, err := bench.Merge(b, t.table)
		if err != nil {
			return err
		}
		if len(ma.Records)+len(mb.Records) == 0 {
			continue
		}
		found = true
		for _, m := range []*bench.Merged{ma, mb} {
			if c := m.Conflicts(); len(c) > 0 {
				return fmt.Errorf("bench compare: %s: %s is recorded more than once with different results (run gnsr bench report --out on it)", t.table, c[0].Key)
			}
		}
		d := bench.Compare(ma.Records, mb.Records)
		if d.Equal() {
			fmt.Fprintf(w, "%s: the same %d runs in both\n", t.table, d.Same)
			continue
		}
		differ = append(differ, t.table)
		fmt.Fprintf(w, "%s: %d runs the same, %d differ, %d only in %s, %d only in %s\n", t.table, d.Same, len(d.Differ), len(d.OnlyA), a, len(d.OnlyB), b)
		for _, part := range []struct {
			what string
			keys []bench.Key
		}{{"differ", d.Differ}, {"only in " + a, d.OnlyA}, {"only in " + b, d.OnlyB}} {
			var lines []string
			for _, k := range part.keys {
				lines = append(lines, k.String())
			}
			if len(lines) > 0 {
				fmt.Fprintf(w, " %s:\n", part.what)
				listed(w, lines)
			}
		}
	}
	if !found {
		return fmt.Errorf("bench compare: no results in %s or %s", a, b)
	}
	if len(differ) > 0 {
		return fmt.Errorf("bench compare: %s differ", strings.Join(differ, ", "))
	}
	return nil
}
