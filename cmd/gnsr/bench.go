package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gnsr/gnsr/bench"
	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// The bench's defaults: the GNN table of the issue, sized for the 2-core
// machine (see the plan the command prints before it starts).
const (
	benchDefaultGrid   = "0.3,3,30,100"
	benchDefaultBudget = 45 * time.Minute
	// benchDefaultTuneSeeds is the committed table's (bench/results), so
	// that a plain 'gnsr bench gnn' in the repository adds no runs to it.
	benchDefaultTuneSeeds = 2
)

type benchFlags struct {
	out       string
	dataDir   string
	models    []string
	datasets  []string
	alsoTakes []string // --dataset beside the node-classification ones (bench peers: mnist)
	seeds     int
	quiet     bool
	dryRun    bool
	budget    time.Duration
	tuneSeeds int
	grid      string
	layer     int
	peers     string
	python    string
	threads   int
	// bench mlp
	epochs      int
	modelEpochs map[string]int
	// bench peers: the MLP-4 row's epochs (0: no MLP-4 row)
	mlpEpochs int
	// --shard and --phase, as given and resolved (see resolveShard)
	shardFlag, phaseFlag string
	shard                bench.Shard
	phase                bench.Phase
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench gnn|nsr-gnn|mlp|peers|threads|report",
		Short: "Run the paper-style benchmark tables reproducibly, resuming where a run stopped",
		Long: `Run the benchmark tables into a results directory (--out, default bench/results
at the repository root). Every training run is appended as one JSON line to
<out>/<table>.jsonl and synced before the next starts, with the commit, Go
version, GOMAXPROCS, BLAS backend, machine and time. Rerunning a command skips
every run already recorded, so a bench killed at any point (Ctrl-C, a crash, a
reboot) resumes where it stopped; a last line cut short by the kill is dropped.

The markdown tables and the chart are made from the JSONL files alone, at the
end of each command and by 'gnsr bench report'.

--shard i/n runs part i of n of a table (counted from 0), for the tasks of a
Slurm job array or a Kubernetes Indexed Job; --shard auto reads the part from
SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, or from JOB_COMPLETION_INDEX
and GNSR_SHARD_COUNT. The parts are fixed by the plan and n alone, balanced by
the estimated cost of each run; each shard writes its own file,
<table>.shard-<i>-of-<n>.jsonl, resumes like a whole table, and skips runs
recorded in the table's other files. 'gnsr bench report' joins the files,
reports runs recorded twice and runs still missing, and writes the tables;
'gnsr bench compare A B' checks two results directories record for record.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBenchGNNCmd(), newBenchNSRGNNCmd(), newBenchMLPCmd(), newBenchPeersCmd(), newBenchThreadsCmd(), newBenchReportCmd(), newBenchCompareCmd())
	return cmd
}

// addBenchFlags adds the flags of the graph tables (gnn, peers).
func addBenchFlags(cmd *cobra.Command, f *benchFlags) {
	addCommonBenchFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringSliceVar(&f.models, "model", []string{"gcn", "sage"}, fmt.Sprintf("models of the table, of %v", gnn.Archs()))
	fl.StringSliceVar(&f.datasets, "dataset", nil, fmt.Sprintf("datasets of the table, of %v (default %v, and wikics when its file is there)", datasets.KnownOf(datasets.NodeClassification), datasets.BenchDefaults("")))
	addAlias(fl, "models", "model")
	addAlias(fl, "datasets", "dataset")
	fl.IntVar(&f.seeds, "seeds", 10, "seeds 0..N-1 per cell")
}

// addCommonBenchFlags adds the flags every table's command has but the
// thread table, whose timings compare only when one machine makes them all:
// addTableFlags' and --shard.
func addCommonBenchFlags(cmd *cobra.Command, f *benchFlags) {
	addTableFlags(cmd, f)
	addShardFlag(cmd.Flags(), &f.shardFlag, "<out>/<table>.shard-<i>-of-<n>.jsonl")
}

// addTableFlags adds the flags of every table's command: where the results
// and the data are, quiet, the dry run and the budget.
func addTableFlags(cmd *cobra.Command, f *benchFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "results directory (default bench/results at the repository root)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data root holding <dataset>/raw/ (default $GNSR_DATA, else the user cache directory)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress on stderr")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan and its estimated cost, and stop (each line says what its estimate rests on: measured, the same runs already recorded on this dataset; scaled, recorded on another dataset and scaled by the built-in times; prior, the built-in times)")
	fl.DurationVar(&f.budget, "budget", benchDefaultBudget, "time the plan should fit in: an estimate above it is reported before starting (0: no check)")
}

func newBenchGNNCmd() *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "gnn [flags]",
		Short: "Vanilla against NSR (λ chosen on validation) for each model and dataset",
		Long: `For each dataset and model: vanilla training on --seeds seeds; NSR on
--nsr-layers with each λ of --nsr-lambda-grid on the first --tune-seeds seeds; the λ
with the best mean validation accuracy (the smaller on ties; a λ whose loss
diverged is out); then that λ on all seeds. The protocol is the project's:
public Planetoid splits, per-seed gnn-benchmark splits on Amazon, hidden 16 on
Planetoid and 64 otherwise, Adam 0.01 with weight decay 5e-4, 200 epochs.

Writes <out>/gnn.jsonl (the runs), and from it gnn.md and gnn.png.

On a cluster, --shard splits the table among the tasks of a job array (see
'gnsr bench' and the README): each runs a fixed part of it in two phases,
--phase tune (vanilla, and the λ grid on the tuning seeds) in one array, then
--phase final (the chosen λ on the other seeds) in a second array that starts
when the first has finished; 'gnsr bench report' joins the shards' files.`,
		Example: `  gnsr bench gnn --dry-run                       # the plan and its estimated cost
  GNSR_DATA=../shared/datasets gnsr bench gnn    # the whole table; rerun to resume
  gnsr bench gnn --dataset cora --seeds 2 --tune-seeds 1 --epochs 20 --out /tmp/b
  gnsr bench gnn --shard 1/4 --phase tune --out /shared/b   # one task of 4; then --phase final`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchGNN(cmd, f) },
	}
	addBenchFlags(cmd, f)
	fl := cmd.Flags()
	fl.IntVar(&f.tuneSeeds, "tune-seeds", benchDefaultTuneSeeds, "seeds 0..K-1 on which λ is chosen")
	fl.StringVar(&f.grid, "nsr-lambda-grid", benchDefaultGrid, "comma-separated candidate λ values (each > 0)")
	fl.IntVar(&f.layer, "nsr-layers", 0, "the layer NSR regularises (0: the hidden layer, after ReLU; negative from the end)")
	addAlias(fl, "lambda-grid", "nsr-lambda-grid")
	addAlias(fl, "nsr-layer", "nsr-layers")
	fl.IntVar(&f.epochs, "epochs", 0, "training epochs of every run (0: the protocol's 200); other than 200, part of each run's key, so quick runs never stand in for the protocol's")
	fl.StringVar(&f.phaseFlag, "phase", "all", "with --shard: tune (vanilla, and the λ grid on the tuning seeds) or final (the chosen λ on the other seeds, once every shard's tune phase has finished); all: both, one after the other")
	return cmd
}

func newBenchPeersCmd() *cobra.Command {
	f := &benchFlags{alsoTakes: []string{bench.MLPDataset}}
	cmd := &cobra.Command{
		Use:   "peers [flags]",
		Short: "gnsr against the PyTorch peers on each cell of the GNN table and on MLP-4",
		Long: `For each dataset and model: vanilla, and NSR with the λ the GNN table chose
(read from <out>/gnn.jsonl; run 'gnsr bench gnn' first), run by gnsr and by the
PyTorch peer (<peers>/gnn_torch.py) on --seeds seeds, one after the other in
this invocation so that the epoch times compare. Then MLP-4 on MNIST, vanilla
and NSR with the published λ on the logits, by gnsr and by <peers>/mlp_torch.py,
on the same seeds for --mlp-epochs epochs each (default 3 for a quick
comparison; 100 is the published protocol; 0 leaves MLP-4 out). The MLP-4 row
comes with the default datasets, or when --dataset names mnist; '--dataset
mnist' alone runs only it. Skipped, with a message, when --python cannot import
torch.

Writes <out>/peers.jsonl (the runs), and from it peers.md.`,
		Example: `  GNSR_DATA=../shared/datasets gnsr bench peers --seeds 5
  GNSR_DATA=../shared/datasets gnsr bench peers --dataset mnist --seeds 3   # the MLP-4 row alone, 3 epochs
  GNSR_DATA=../shared/datasets gnsr bench peers --seeds 3 --mlp-epochs 100   # MLP-4 under the published protocol`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBenchPeers(cmd, f) },
	}
	addBenchFlags(cmd, f)
	fl := cmd.Flags()
	fl.StringVar(&f.peers, "peers", "../shared/peers", "folder of the peer scripts (relative paths from the repository root)")
	fl.StringVar(&f.python, "python", "/usr/bin/python3", "Python interpreter with torch")
	fl.IntVar(&f.threads, "peer-threads", 1, "torch threads of the peer (its own default is 1)")
	fl.Lookup("dataset").Usage = fmt.Sprintf("datasets of the table, of %v and %s (the MLP-4 row) (default %v, mnist, and wikics when its file is there)",
		datasets.KnownOf(datasets.NodeClassification), bench.MLPDataset, datasets.BenchDefaults(""))
	fl.IntVar(&f.mlpEpochs, "mlp-epochs", 3, "epochs of the MLP-4 row, for gnsr and the peer alike (0: no MLP-4 row)")
	return cmd
}

func newBenchReportCmd() *cobra.Command {
	var out string
	var complete bool
	cmd := &cobra.Command{
		Use:   "report [--out DIR]",
		Short: "Join the shards' files and regenerate the tables and the charts from the JSONL results alone",
		Long: `Join the files of each table in the results directory (<table>.jsonl and the
shards' <table>.shard-<i>-of-<n>.jsonl), say what the join found (runs recorded
twice, shards that never started, runs of the plan still missing), and write
the tables and the charts from the joined records. Runs recorded twice with
the same results are reported and counted once; with different results the
table cannot be trusted, and nothing is written.`,
		Example: `  gnsr bench report                                  # bench/results
  gnsr bench report --out /shared/b --require-complete   # after a job array: fail if anything is missing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := benchOut(out)
			if err != nil {
				return err
			}
			return writeReports(cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, complete)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "results directory (default bench/results at the repository root)")
	cmd.Flags().BoolVar(&complete, "require-complete", false, "exit with an error when a table has runs recorded twice, shards without a file, or runs of its plan missing")
	return cmd
}

// repoRoot returns the directory of the gnsr module holding the working
// directory, or "" outside it.
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/gnsr/gnsr\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// fromRoot resolves a relative default path against the repository root,
// so the command behaves the same from any directory of the checkout.
func fromRoot(p string) string {
	if root := repoRoot(); root != "" && !filepath.IsAbs(p) {
		return filepath.Join(root, p)
	}
	return p
}

func benchOut(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if repoRoot() == "" {
		return "", errors.New("bench: not inside the gnsr repository: give the results directory with --out")
	}
	return fromRoot(filepath.Join("bench", "results")), nil
}

// resolve checks the shared flags, of the command line fs, and returns the
// data root, the results directory and the datasets.
func (f *benchFlags) resolve(fs *pflag.FlagSet) (root, out string, err error) {
	if f.seeds < 1 {
		return "", "", fmt.Errorf("--seeds = %d, need at least 1", f.seeds)
	}
	for _, m := range f.models {
		if _, err := gnn.LookupArch(m); err != nil {
			return "", "", fmt.Errorf("%s: %w", spelling(fs, "model"), err)
		}
	}
	if root, err = datasets.Root(f.dataDir); err != nil {
		return "", "", err
	}
	if out, err = benchOut(f.out); err != nil {
		return "", "", err
	}
	if len(f.datasets) == 0 {
		f.datasets = datasets.BenchDefaults(root)
	}
	for _, d := range f.datasets {
		if _, err := lookupNodeSet(spelling(fs, "dataset"), d, f.alsoTakes...); err != nil {
			return "", "", err
		}
	}
	return root, out, nil
}

func runBenchGNN(cmd *cobra.Command, f *benchFlags) error {
	root, out, err := f.resolve(cmd.Flags())
	if err != nil {
		return err
	}
	if f.epochs < 0 {
		return fmt.Errorf("--epochs = %d, need 0 (the protocol's) or more", f.epochs)
	}
	if f.epochs == gnn.DefaultConfig().Epochs {
		f.epochs = 0 // the protocol's: the same runs as without --epochs
	}
	grid, err := parseGrid(f.grid)
	if err != nil { // named as the command line spelt it
		return errors.New(strings.Replace(err.Error(), "--nsr-lambda-grid", spelling(cmd.Flags(), "nsr-lambda-grid"), 1))
	}
	plan := bench.GNNPlan{Models: f.models, Datasets: f.datasets, Seeds: f.seeds, TuneSeeds: f.tuneSeeds, Grid: grid, Layer: f.layer, Epochs: f.epochs}
	if err := plan.Validate(); err != nil {
		return err
	}
	if f.layer < -2 || f.layer > 1 {
		return fmt.Errorf("%s = %d, need 0 or 1 (or -2, -1 from the end) for the 2-layer models", spelling(cmd.Flags(), "nsr-layers"), f.layer)
	}
	if err := f.resolveShard(plan.TuneSeeds < plan.Seeds); err != nil {
		return err
	}
	if f.dryRun {
		return dryRun(cmd, f, out, bench.TableGNN, plan)
	}
	g := bench.NewGNSR(root, 0)
	return runBenchTable(cmd, f, out, bench.TableGNN, plan, loadGraphs(cmd, root, f.quiet, g), func(s *bench.Store, opt bench.Options) error {
		return bench.RunGNN(cmd.Context(), s, plan, g.Run, opt)
	})
}

// loadGraphs returns a runBenchTable loader that fetches what is missing
// of the datasets of the jobs to do and loads them into g: a missing file
// is reported now, not an hour into the bench.
func loadGraphs(cmd *cobra.Command, root string, quiet bool, g *bench.GNSR) func([]bench.Job) error {
	return func(todo []bench.Job) error {
		for _, d := range jobDatasets(todo) {
			if err := fetchMissing(cmd, root, d, quiet); err != nil {
				return err
			}
			if err := g.Load(d); err != nil {
				return err
			}
		}
		return nil
	}
}

// runBenchTable runs the plan of table (the runs of f's shard and phase)
// in the shard's store under out with run, after printing what it will do
// and its cost and calling load with it (to read the data it needs), with
// a progress display. Then it writes the reports of every table from what
// is recorded, also after an interruption; a shard, which holds part of
// its table only, says how to join the parts instead.
func runBenchTable(cmd *cobra.Command, f *benchFlags, out, table string, p bench.Planner, load func([]bench.Job) error, run func(*bench.Store, bench.Options) error) error {
	stdout := cmd.OutOrStdout()
	s, err := openStore(cmd, out, table, f.shard)
	if err != nil {
		return err
	}
	defer s.Close()
	costs := observed(s.Records())
	keep := bench.NewSharding(p, f.shard, f.phase)
	todo := keep.Filter(p.Todo(s.Records()))
	printPlan(stdout, table, keep, todo, len(s.Records()), costs, f.budget)
	if err := load(todo); err != nil {
		return err
	}
	prog := newBenchProgress(cmd.ErrOrStderr(), f.quiet)
	runErr := run(s, bench.Options{
		Meta: bench.CollectMeta(), Costs: costs, OnStart: prog.start, OnRun: prog.run, Shard: f.shard, Phase: f.phase,
	})
	prog.finish()
	if f.shard.Sharded() {
		shardDone(stdout, s, keep, out)
		return interrupted(cmd, runErr, table)
	}
	if err := writeReports(stdout, cmd.ErrOrStderr(), out, false); err != nil {
		return errors.Join(runErr, err)
	}
	return interrupted(cmd, runErr, table)
}

func runBenchPeers(cmd *cobra.Command, f *benchFlags) error {
	if f.mlpEpochs < 0 {
		return fmt.Errorf("--mlp-epochs = %d, need 0 (no MLP-4 row) or more", f.mlpEpochs)
	}
	// The MLP-4 row comes with the default datasets, or when --dataset
	// names mnist (alone, it is the quick MLP-only comparison).
	given := cmd.Flags().Changed("dataset")
	withMLP := f.mlpEpochs > 0 && (!given || slices.Contains(f.datasets, bench.MLPDataset))
	f.datasets = slices.DeleteFunc(f.datasets, func(d string) bool { return d == bench.MLPDataset })
	graphs := !given || len(f.datasets) > 0
	if !graphs && !withMLP {
		return fmt.Errorf("%s: nothing to run (mnist needs --mlp-epochs of 1 or more)", spelling(cmd.Flags(), "dataset"))
	}
	root, out, err := f.resolve(cmd.Flags())
	if err != nil {
		return err
	}
	if !graphs {
		f.datasets = nil // resolve filled in the default graphs
	}
	stderr := cmd.ErrOrStderr()
	peer := &bench.TorchPeer{Python: f.python, Dir: fromRoot(f.peers), Root: root, Threads: f.threads}
	if err := peer.Check(cmd.Context()); err != nil {
		fmt.Fprintf(stderr, "skipping the peer table: %v\n", err)
		return nil
	}
	var scripts []string
	if len(f.datasets) > 0 {
		scripts = append(scripts, "gnn_torch.py")
	}
	if withMLP {
		scripts = append(scripts, "mlp_torch.py")
	}
	for _, sc := range scripts {
		if _, err := os.Stat(filepath.Join(peer.Dir, sc)); err != nil {
			return fmt.Errorf("--peers: %w", err)
		}
	}
	if err := f.resolveShard(false); err != nil {
		return err
	}
	gnnRecs, err := joinedRecords(out, bench.TableGNN)
	if err != nil {
		return err
	}
	var ds []string
	for _, d := range f.datasets {
		if !bench.PeerReads(d) {
			fmt.Fprintf(stderr, "%s: the peer does not read it; left out of the peer table\n", d)
			continue
		}
		ds = append(ds, d)
	}
	cells, skipped := bench.PeerCells(gnnRecs, f.models, ds)
	for _, s := range skipped {
		fmt.Fprintln(stderr, s)
	}
	models := slices.Clone(f.models)
	if withMLP {
		// MLP-4 on MNIST, vanilla and NSR with the published λ on the logits.
		van, nsr := bench.MLPCells(peerMLP, f.mlpEpochs)
		cells = append(cells, van, nsr)
		models, ds = append(models, peerMLP), append(ds, bench.MLPDataset)
	}
	plan := bench.PeersPlan{Models: models, Datasets: ds, Seeds: f.seeds, Cells: cells}
	if f.dryRun {
		return dryRun(cmd, f, out, bench.TablePeers, plan)
	}
	g, m := bench.NewGNSR(root, 0), bench.NewMLP(root)
	// gnsr's side of each cell: the graph trainer, or the MLP one on MNIST.
	run := func(ctx context.Context, c bench.Cell, seed uint64) (bench.Record, error) {
		if c.Dataset == bench.MLPDataset {
			return m.Run(ctx, c, seed)
		}
		return g.Run(ctx, c, seed)
	}
	return runBenchTable(cmd, f, out, bench.TablePeers, plan, func(todo []bench.Job) error {
		for _, d := range jobDatasets(todo) {
			if err := fetchMissing(cmd, root, d, f.quiet); err != nil {
				return err
			}
			load := func() error { return g.Load(d) }
			if d == bench.MLPDataset {
				load = m.Load
			}
			if err := load(); err != nil {
				return err
			}
		}
		return nil
	}, func(s *bench.Store, opt bench.Options) error {
		return bench.RunPeers(cmd.Context(), s, plan, run, peer.Run, opt)
	})
}

// observed returns the default cost estimates with recs measured.
func observed(recs []bench.Record) *bench.Costs {
	c := bench.NewCosts(nil)
	for _, r := range recs {
		c.Observe(r)
	}
	return c
}

// openStore opens the store of a shard of a table (see bench.OpenShard),
// saying so when a cut-short line from a killed run was dropped.
func openStore(cmd *cobra.Command, out, table string, sh bench.Shard) (*bench.Store, error) {
	s, err := bench.OpenShard(out, table, sh)
	if err != nil {
		return nil, err
	}
	if n := s.Dropped(); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: dropped a last line of %d bytes cut short by a killed run\n", s.Path(), n)
	}
	return s, nil
}

// interrupted turns a cancelled bench into an error that says how to
// resume.
func interrupted(cmd *cobra.Command, err error, table string) error {
	if err != nil && cmd.Context().Err() != nil {
		return fmt.Errorf("interrupted; what finished is recorded: rerun the same 'gnsr bench %s' to resume: %w", table, err)
	}
	return err
}

// printPlan prints what is left to run (of keep's shard and phase), its
// estimated cost by model and dataset, and how that compares with the
// budget.
func printPlan(w io.Writer, table string, keep *bench.Sharding, todo []bench.Job, recorded int, costs *bench.Costs, budget time.Duration) {
	lines := costs.Breakdown(todo)
	total := costs.Total(todo)
	label := table
	if keep.Shard.Sharded() {
		label += ", shard " + keep.Shard.String()
	}
	if keep.Phase != bench.PhaseAll {
		label += ", phase " + string(keep.Phase)
	}
	fmt.Fprintf(w, "plan (%s): %d runs to do, %d already recorded; estimated %s\n", label, len(todo), recorded, bench.FormatDuration(total))
	if len(lines) > 0 {
		fmt.Fprintf(w, "  %-6s %-6s %-17s %5s %9s %9s\n", "impl", "model", "dataset", "runs", "s/run", "total")
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %-6s %-6s %-17s %5d %9.1f %9s  (%s)\n", l.Impl, l.Model, l.Dataset, l.Runs, l.PerRun.Seconds(), bench.FormatDuration(l.Total), l.Basis)
	}
	if budget > 0 && total > budget {
		slices.SortFunc(lines, func(a, b bench.CostLine) int { return int(b.Total - a.Total) })
		var top []string
		for _, l := range lines[:min(3, len(lines))] {
			top = append(top, fmt.Sprintf("%s %s %s", l.Model, l.Dataset, bench.FormatDuration(l.Total)))
		}
		narrow := "--dataset or --seeds"
		if table == bench.TableMLP {
			narrow = "--model, --seeds or --epochs"
		}
		fmt.Fprintf(w, "  over the %s budget by %s; the largest parts: %s. Narrow %s to fit, or run the rest later: it resumes.\n",
			bench.FormatDuration(budget), bench.FormatDuration(total-budget), strings.Join(top, ", "), narrow)
	}
}

// benchProgress shows the bench's progress on stderr: a bar when stderr is
// a terminal, else one line per finished run, so logs stay readable.
type benchProgress struct {
	w     io.Writer
	quiet bool
	bar   *progressbar.ProgressBar
	tty   bool
}

func newBenchProgress(w io.Writer, quiet bool) *benchProgress {
	f, ok := w.(*os.File)
	return &benchProgress{w: w, quiet: quiet, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// describe names a run: "gnsr gcn cora nsr λ=3 seed 1", with the epochs
// where the cell sets them: "gnsr mlp4 mnist vanilla 100 epochs seed 0".
func describe(impl string, c bench.Cell, seed uint64) string {
	return cellName(impl, c) + fmt.Sprintf(" seed %d", seed)
}

func cellName(impl string, c bench.Cell) string {
	model := c.Model
	if c.Depth > 0 {
		model = bench.NSRGNNModel{Arch: c.Model, Depth: c.Depth, Sampled: c.Sampled}.String()
	}
	what := fmt.Sprintf("%s %s %s %s", impl, model, c.Dataset, c.Variant)
	if c.Arm != "" {
		what += " " + c.Arm
	}
	if c.Variant == bench.NSR {
		what += fmt.Sprintf(" λ=%g", c.Lambda)
	}
	switch {
	case c.Epochs == 1:
		what += " 1 epoch"
	case c.Epochs > 1:
		what += fmt.Sprintf(" %d epochs", c.Epochs)
	}
	return what
}

// start shows on the bar which run is going, as an Amazon run takes a
// minute or more.
func (p *benchProgress) start(j bench.Job, done, total int) {
	if p.quiet || !p.tty {
		return
	}
	p.ensureBar(total)
	p.bar.ChangeMax(total)
	what := describe(j.Impl, j.Cell, j.Seed)
	if j.Impl != bench.ImplGNSR {
		what = cellName(j.Impl, j.Cell) + ", all seeds"
	}
	p.bar.Describe("running " + what)
	_ = p.bar.Set(done)
}

func (p *benchProgress) ensureBar(total int) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
}

func (p *benchProgress) run(e bench.Progress) {
	if p.quiet {
		return
	}
	r := e.Record
	what := describe(r.Impl, bench.Cell{Model: r.Model, Dataset: r.Dataset, Variant: r.Variant, Layer: r.Layer, Lambda: r.Lambda, Epochs: r.TrainEpochs,
		Depth: r.Depth, Sampled: r.Sampled, Arm: r.Arm}, r.Seed)
	result := fmt.Sprintf("test %.2f%% val %.2f%%, %.1f ms/epoch, %.1fs", 100*r.TestAcc, 100*r.ValAcc, r.EpochMs, r.WallS)
	if r.Error != "" {
		result = "diverged"
	}
	if !p.tty {
		fmt.Fprintf(p.w, "[%d/%d] %s: %s; ETA %s\n", e.Done, e.Total, what, result, bench.FormatDuration(e.ETA))
		return
	}
	p.ensureBar(e.Total)
	p.bar.ChangeMax(e.Total)
	// The bar's own prediction assumes equal runs; the ETA here weighs each
	// remaining run by its measured cost.
	p.bar.Describe(fmt.Sprintf("%s: %s | ETA %s", what, result, bench.FormatDuration(e.ETA)))
	_ = p.bar.Set(e.Done)
}

func (p *benchProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
