package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/bench"
	"github.com/gnsr/gnsr/gnn"
	"github.com/spf13/cobra"
)

func newBenchThreadsCmd() *cobra.Command {
	f := &benchFlags{}
	var threads []int
	var graphs []string
	cmd := &cobra.Command{
		Use:   "threads [flags]",
		Short: "How a training epoch scales with threads, and what each run's process holds at its peak",
		Long: `Train each model of --model on each dataset of --dataset (and each graph
directory of --graph) with gnsr train's defaults, once per thread count of
--threads and seed 0..--seeds−1: every run a gnsr train process of its own with
GOMAXPROCS set to the count. The runs of one seed at every count come one
after the other, so that each seed is a set of back-to-back measurements.

Writes <out>/threads.jsonl (the runs) and from it threads.md: per cell and
thread count, the median epoch time, the speed-up over the fewest threads and
the efficiency (speed-up over the thread ratio), the process's peak resident
memory (Linux), the test accuracy, and whether each seed computed exactly the
numbers it computed at the fewest threads (every count must). threads.png
draws the speed-ups beside linear speed-up.

Compare times from one run of this command on one machine only; rerunning it
resumes, skipping the runs recorded.`,
		Example: `  GNSR_DATA=../shared/datasets gnsr bench threads                      # PubMed GCN at 1, 2, 4, … threads up to the CPUs
  GNSR_DATA=../shared/datasets gnsr bench threads --model gcn,sage --threads 1,2,4,8,16 --out /tmp/t
  gnsr data synth --nodes 1000000 --avg-degree 20 --classes 10 --features 500 --nnz-per-row 20 --out /tmp/g1m
  gnsr bench threads --graph /tmp/g1m --epochs 10 --seeds 1 --out /tmp/t   # the big graph: epoch time and peak memory`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchThreads(cmd, f, threads, graphs)
		},
	}
	addTableFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.models, "model", []string{"gcn"}, fmt.Sprintf("models, of %v", gnn.Archs()))
	fl.StringSliceVar(&f.datasets, "dataset", []string{"pubmed"}, "registry datasets (left out when only --graph is given)")
	fl.StringSliceVar(&graphs, "graph", nil, "directories of your own graphs (as gnsr train --graph reads them)")
	fl.IntSliceVar(&threads, "threads", bench.DefaultThreads(runtime.NumCPU()), "thread counts (GOMAXPROCS), increasing; default the powers of two below the CPUs, and the CPUs")
	fl.IntVar(&f.seeds, "seeds", 2, "seeds 0..N-1 at each thread count")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs of every run (0: gnsr train's default for the dataset)")
	addAlias(fl, "models", "model")
	addAlias(fl, "datasets", "dataset")
	return cmd
}

func runBenchThreads(cmd *cobra.Command, f *benchFlags, threads []int, graphs []string) error {
	fl := cmd.Flags()
	for i, t := range threads {
		if t < 1 || t > bench.MaxThreads || i > 0 && t <= threads[i-1] {
			return fmt.Errorf("%s = %v: need increasing counts, each once, from 1 to %d", spelling(fl, "threads"), threads, bench.MaxThreads)
		}
	}
	if f.epochs < 0 {
		return fmt.Errorf("--epochs = %d, need 0 (gnsr train's default) or more", f.epochs)
	}
	root, out, err := f.resolve(fl)
	if err != nil {
		return err
	}
	if len(graphs) > 0 && !fl.Changed("dataset") {
		f.datasets = nil // --graph alone: the user's graphs only
	}
	sets := slices.Clone(f.datasets)
	for _, g := range graphs {
		st, err := os.Stat(g)
		if err != nil {
			return fmt.Errorf("--graph: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("--graph %s: not a directory (gnsr train --graph reads a graph directory; gnsr data synth writes one)", g)
		}
		abs, err := filepath.Abs(g)
		if err != nil {
			return fmt.Errorf("--graph %s: %w", g, err)
		}
		sets = append(sets, bench.GraphPrefix+abs)
	}
	plan := bench.ThreadsPlan{Models: f.models, Datasets: sets, Threads: threads, Seeds: f.seeds, Epochs: f.epochs}
	if err := plan.Validate(); err != nil {
		return err
	}
	if f.dryRun {
		return dryRun(cmd, f, out, bench.TableThreads, plan)
	}
	load := func(todo []bench.Job) error {
		for _, d := range jobDatasets(todo) {
			if strings.HasPrefix(d, bench.GraphPrefix) {
				continue
			}
			if err := fetchMissing(cmd, root, d, f.quiet); err != nil {
				return err
			}
		}
		return nil
	}
	runner := &bench.ProcessRunner{Root: root}
	return runBenchTable(cmd, f, out, bench.TableThreads, plan, load, func(s *bench.Store, opt bench.Options) error {
		return bench.RunThreads(cmd.Context(), s, plan, runner.Run, opt)
	})
}
