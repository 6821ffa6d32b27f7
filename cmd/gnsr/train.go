package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gnsr/gnsr/internal/stats"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/internal/blasbackend"
	"github.com/gnsr/gnsr/internal/filelock"
	"github.com/gnsr/gnsr/internal/sysmem"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/vision"
	"github.com/spf13/cobra"
)

type trainFlags struct {
	dataset   string
	graph     string // --graph DIR: a user's graph (LoadDir); dataset then holds DIR
	dataDir   string
	seeds     int
	seed      uint64
	jsonOut   bool
	quiet     bool
	nsrLambda string
	nsrLayers string
	hidden    string // --hidden, one width or one per hidden layer
	split     int
	cfg       gnn.Config
	// vision is the configuration of an image run, once resolved (or read
	// from a run directory's run.json); nil for graph runs.
	vision *vision.Config
	// gnsr train only: the run directory (--out, or --resume's), whether
	// the run resumes, and the checkpoint interval.
	outDir    string
	resume    bool
	ckptEvery int
	lock      *filelock.Lock // of outDir, held while the run writes it
}

func newTrainCmd() *cobra.Command {
	f := &trainFlags{cfg: gnn.DefaultConfig()}
	v := &visionFlags{}
	var resumeDir string
	cmd := &cobra.Command{
		Use:   "train --dataset NAME [flags]",
		Short: "Train a model on a dataset and report test accuracy",
		Long: `Train a model on a node-classification dataset (or an image one: mnist,
cifar10-jpeg, cifar10), once per seed, and report the test accuracy at the
epoch of best validation accuracy (mean ± std over seeds). Each seed's line
is printed as the seed finishes; a Ctrl-C prints the summary over the seeds
that finished.

Seeds are consecutive from --seed; the same seed and flags give the same
numbers, whatever the thread count (GOMAXPROCS); a build with -tags
openblas, for a fixed one.

` + familyDefaults() + `

Flags that the chosen dataset's family does not take (--optimizer on a
graph, --hidden on images) are refused, naming the flag.`,
		Example: `  gnsr train --dataset pubmed
  gnsr train --dataset cora --seeds 10 --json > cora.jsonl
  gnsr train --dataset pubmed --model sage --batch-size 512 --fanouts 25,10
  gnsr train --dataset mnist --model mlp4 --nsr-lambda 7.4865 --nsr-layers -1 --seeds 3
  gnsr train --dataset cifar10-jpeg --model cnn --epochs 5 --batch-size 128 --optimizer sgd --momentum 0.9 --lr 0.05 --val-size 5000
  GNSR_DATA=/data gnsr train --dataset citeseer --hidden 64 --epochs 300
  gnsr train --dataset pubmed --seeds 10 --epochs 2000 --out runs/pubmed --checkpoint-every 50
  gnsr train --resume runs/pubmed      # after a crash or Ctrl-C: continue, same numbers
  gnsr train --dataset mnist --model mlp4 --seeds 3 --out runs/mnist --checkpoint-every 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defer func() { f.lock.Release() }() // f.lock is set below
			if resumeDir != "" {
				if err := adoptRun(cmd, f, v, resumeDir); err != nil {
					return err
				}
			}
			if isImageDataset(f.dataset) {
				if err := checkSeeds(f); err != nil {
					return err
				}
				return runVision(cmd, f, v)
			}
			if err := checkImageOnly(cmd, f); err != nil {
				return err
			}
			return runTrain(cmd, f)
		},
	}
	addRunFlags(cmd, f)
	addVisionFlags(cmd, v)
	perFamilyHelp(cmd.Flags())
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "print JSON Lines on stdout: one object per seed, then a summary object")
	cmd.Flags().StringVar(&f.outDir, "out", "", "run directory: one checkpoint per seed (seed-N.ckpt), run.json and results.json; a Ctrl-C or SIGTERM checkpoints there before exiting")
	cmd.Flags().IntVar(&f.ckptEvery, "checkpoint-every", 10, "with --out: checkpoint every N epochs (0: only at the end of a seed and on interruption)")
	cmd.Flags().StringVar(&resumeDir, "resume", "", "continue the run in this directory (written by --out) from its checkpoints; finished seeds are kept")
	return cmd
}

// addRunFlags adds the flags that choose the data, the model, its training
// and NSR, shared by every command that trains.
func addRunFlags(cmd *cobra.Command, f *trainFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.dataset, "dataset", "", fmt.Sprintf("dataset to train on (required), one of %v", datasets.Known()))
	fl.StringVar(&f.graph, "graph", "", "train on your own graph instead of --dataset: a directory in OGB's raw layout or of Parquet tables (see the README; gnsr data synth writes both)")
	fl.StringVar(&f.dataDir, "data-dir", "", "data root holding <dataset>/raw/ (default $GNSR_DATA, else the user cache directory)")
	fl.StringVar(&f.cfg.Arch, "model", f.cfg.Arch, fmt.Sprintf("architecture: graphs %v, images %v and %v", gnn.Archs(), vision.Archs(), vision.CNNArchs()))
	fl.IntVar(&f.cfg.Layers, "layers", f.cfg.Layers, "number of graph convolution layers (any depth >= 1)")
	fl.StringVar(&f.hidden, "hidden", "", "hidden units per layer, one value or one per hidden layer (e.g. 64,32); per head for gat (default: the protocol's, 16 for Planetoid, 64 for Amazon and WikiCS; gat 8)")
	fl.IntVar(&f.cfg.Heads, "heads", 0, "gat: attention heads of the hidden layers, concatenated (default 8)")
	fl.IntVar(&f.cfg.OutHeads, "out-heads", 0, "gat: attention heads of the output layer, averaged (default 1; PubMed 8)")
	fl.StringVar(&f.cfg.Activation, "activation", f.cfg.Activation, fmt.Sprintf("activation after each hidden layer, one of %v (default relu; gat elu)", gnn.Activations()))
	fl.BoolVar(&f.cfg.Residual, "residual", false, "residual connections: add each hidden layer's input to its output where the widths agree")
	fl.BoolVar(&f.cfg.BatchNorm, "batch-norm", false, "batch norm before the activation of each hidden layer")
	fl.IntVar(&f.split, "split", 0, "WikiCS: which of its 20 train/validation splits to use")
	fl.Float64Var(&f.cfg.Dropout, "dropout", f.cfg.Dropout, "dropout probability on the input and hidden layers")
	fl.Float64Var(&f.cfg.LR, "lr", f.cfg.LR, "Adam learning rate")
	fl.Float64Var(&f.cfg.WeightDecay, "weight-decay", f.cfg.WeightDecay, "L2 weight decay (added to the gradients, as torch's Adam)")
	fl.IntVar(&f.cfg.Epochs, "epochs", f.cfg.Epochs, "training epochs per seed")
	fl.BoolVar(&f.cfg.NoBias, "no-bias", false, "leave the bias out of every layer")
	fl.IntVar(&f.seeds, "seeds", 1, "number of runs, with seeds --seed, --seed+1, ...")
	fl.Uint64Var(&f.seed, "seed", 0, "first seed")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display on stderr")
	fl.IntVar(&f.cfg.BatchSize, "batch-size", 0, "train on neighbour-sampled mini-batches of this many training nodes (sage; 0: full batch)")
	fl.IntSliceVar(&f.cfg.Fanouts, "fanouts", nil, "with --batch-size: neighbours sampled per node at each hop from the batch, one per layer, e.g. 25,10 (-1: all)")
	addNSRFlags(cmd, f)
}

// addNSRFlags adds the flags that set Neuron Steadiness Regularization.
func addNSRFlags(cmd *cobra.Command, f *trainFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.nsrLambda, "nsr-lambda", "0", "NSR strength λ: one value, or one per --nsr-layers entry; 0 turns NSR off")
	fl.StringVar(&f.nsrLayers, "nsr-layers", "0", `layers to regularise: indices of layer outputs (0 = first layer, after ReLU; negative from the end, -1 = logits), or "auto" (the layer with the largest intra-class variance after --nsr-warmup epochs)`)
	fl.IntVar(&f.cfg.NSR.Queue, "nsr-queue", f.cfg.NSR.Queue, "memory-queue length K for mini-batch NSR (full-batch training uses the step's own class means)")
	fl.BoolVar(&f.cfg.NSR.MaskZeros, "nsr-mask-zeros", f.cfg.NSR.MaskZeros, "leave zero ReLU responses out of the NSR class means and penalty")
	fl.IntVar(&f.cfg.NSR.Warmup, "nsr-warmup", 1, "vanilla epochs before the auto layer choice")
}

// resolveNSR reads the NSR flags into f.cfg.NSR, checking them before any
// training starts. --nsr-warmup is checked only where it applies (the auto
// layer choice), so that no error blames a flag the user did not set.
func resolveNSR(cmd *cobra.Command, f *trainFlags) error {
	layers, auto, err := nsr.ParseLayers(f.nsrLayers, f.cfg.Layers)
	if err != nil {
		return err
	}
	n := len(layers)
	if auto {
		n = 1
	}
	lambdas, err := nsr.ParseLambdas(f.nsrLambda, n)
	if err != nil {
		return err
	}
	if f.cfg.NSR.Queue < 1 {
		return fmt.Errorf("--nsr-queue = %d, need at least 1", f.cfg.NSR.Queue)
	}
	warmupSet := cmd.Flags().Changed("nsr-warmup")
	switch w := f.cfg.NSR.Warmup; {
	case !auto || !nsr.Active(lambdas):
		if warmupSet {
			return fmt.Errorf("--nsr-warmup applies to --nsr-layers auto with --nsr-lambda > 0 (the vanilla epochs before the layer is chosen); this run chooses no layer")
		}
	case w < 1:
		return fmt.Errorf("--nsr-warmup = %d, need at least 1 vanilla epoch before the auto layer choice", w)
	case w >= f.cfg.Epochs && warmupSet:
		return fmt.Errorf("--nsr-warmup = %d, need fewer than --epochs (%d)", w, f.cfg.Epochs)
	case w >= f.cfg.Epochs:
		return fmt.Errorf("--nsr-layers auto chooses its layer after --nsr-warmup (%d) vanilla epochs: need --epochs of at least %d, not %d", w, w+1, f.cfg.Epochs)
	}
	f.cfg.NSR.Layers, f.cfg.NSR.Auto, f.cfg.NSR.Lambdas = layers, auto, lambdas
	return nil
}

func runTrain(cmd *cobra.Command, f *trainFlags) error {
	start := time.Now()
	var data *gnn.Data
	var err error
	if f.resume {
		data, err = loadData(cmd, f)
	} else {
		data, err = prepare(cmd, f)
	}
	if err != nil {
		return err
	}
	if err := checkMemory(f.cfg, data); err != nil {
		return err
	}
	if f.outDir != "" && !f.resume {
		if err := newRunDir(f); err != nil {
			return err
		}
	}
	prog := newProgress(cmd.ErrOrStderr(), f.quiet, f.seeds*f.cfg.Epochs)
	defer prog.finish()
	stream := &seedStream{w: cmd.OutOrStdout(), f: f, prog: prog, start: start}
	if _, err := trainSeeds(cmd, f, f.cfg, data, prog, stream.add); err != nil {
		return stream.end(stream.summary(err), err)
	}
	sum := stream.summary(nil)
	if f.outDir != "" {
		if err := writeResults(f, stream.results, &sum, nil); err != nil {
			return err
		}
	}
	return stream.end(sum, nil)
}

// checkMemory refuses, before anything of the run is allocated, a run
// whose estimated peak (gnn.EstimateMemory) exceeds the memory this
// process may still take (sysmem.Available; where that is unknown, the
// run goes). Unless GOMEMLIMIT is set, it then makes the estimate the
// runtime's soft memory limit: the collector runs as the heap nears it,
// rather than letting garbage (sampled batches, loading) grow to the size
// of the live heap first (GOGC=100), which doubled the peak.
func checkMemory(cfg gnn.Config, data *gnn.Data) error {
	if avail, err := sysmem.Available(); err == nil {
		if err := gnn.CheckMemory(data, cfg, avail); err != nil {
			return fmt.Errorf("%w: lower --hidden, --heads, --layers or --batch-size", err)
		}
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(gnn.EstimateMemory(data, cfg))
	}
	return nil
}

// prepare checks every flag, then loads the dataset: bad flags are reported
// before any data is read or training starts.
func prepare(cmd *cobra.Command, f *trainFlags) (*gnn.Data, error) {
	if err := resolveFlags(cmd, f); err != nil {
		return nil, err
	}
	return loadData(cmd, f)
}

// applyProtocol sets the settings of f.cfg that no flag set from the
// dataset's protocol p and the architecture's reference setup
// (gnn.ConfigFor), and parses --hidden.
func applyProtocol(cmd *cobra.Command, f *trainFlags, p gnn.Protocol) error {
	base, err := gnn.ConfigFor(f.cfg.Arch, p)
	if err != nil {
		return flagError(fmt.Errorf("--model: %w", err))
	}
	changed := cmd.Flags().Changed
	for _, c := range []struct {
		flag string
		v    int
	}{{"layers", f.cfg.Layers}, {"heads", f.cfg.Heads}, {"out-heads", f.cfg.OutHeads}} {
		if changed(c.flag) && c.v < 1 {
			return fmt.Errorf("--%s = %d, need at least 1", c.flag, c.v)
		}
	}
	arch, _ := gnn.LookupArch(f.cfg.Arch)
	for _, flag := range []string{"heads", "out-heads"} {
		if changed(flag) && !arch.Attention {
			return fmt.Errorf("--%s applies to attention architectures (gat), not --model %s", flag, f.cfg.Arch)
		}
	}
	for _, s := range []struct {
		flag string
		dst  *int
		v    int
	}{{"layers", &f.cfg.Layers, base.Layers}, {"heads", &f.cfg.Heads, base.Heads}, {"out-heads", &f.cfg.OutHeads, base.OutHeads}, {"epochs", &f.cfg.Epochs, base.Epochs}} {
		if !changed(s.flag) {
			*s.dst = s.v
		}
	}
	for _, s := range []struct {
		flag string
		dst  *float64
		v    float64
	}{{"dropout", &f.cfg.Dropout, base.Dropout}, {"lr", &f.cfg.LR, base.LR}, {"weight-decay", &f.cfg.WeightDecay, base.WeightDecay}} {
		if !changed(s.flag) {
			*s.dst = s.v
		}
	}
	if !changed("activation") {
		f.cfg.Activation = base.Activation
	}
	f.cfg.Hidden, f.cfg.HiddenSizes = base.Hidden, nil
	if f.hidden != "" {
		var sizes []int
		for _, field := range strings.Split(f.hidden, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(field))
			if err != nil || v < 1 {
				return fmt.Errorf("--hidden %q: want a positive width, or one per hidden layer separated by commas", f.hidden)
			}
			sizes = append(sizes, v)
		}
		if len(sizes) == 1 {
			f.cfg.Hidden = sizes[0]
		} else if len(sizes) != f.cfg.Layers-1 {
			return fmt.Errorf("--hidden %q: %d widths for %d hidden layers (--layers %d)", f.hidden, len(sizes), f.cfg.Layers-1, f.cfg.Layers)
		} else {
			f.cfg.HiddenSizes, f.cfg.Hidden = sizes, sizes[0]
		}
	}
	return nil
}

// resolveFlags checks the flags that describe a run and resolves them into f:
// the settings the user did not give come from the dataset's protocol.
func resolveFlags(cmd *cobra.Command, f *trainFlags) error {
	protocol, err := runProtocol(f)
	if err != nil {
		return err
	}
	if err := applyProtocol(cmd, f, gnn.ProtocolOf(protocol)); err != nil {
		return err
	}
	if f.split != 0 && protocol.Split.Kind != datasets.FileSplits {
		return fmt.Errorf("--split picks one of the splits of a dataset whose files hold several (WikiCS); %s has one split", f.dataset)
	}
	if err := checkSeeds(f); err != nil {
		return err
	}
	if err := checkTraining(f.cfg); err != nil {
		return err
	}
	if err := resolveNSR(cmd, f); err != nil {
		return err
	}
	if err := f.cfg.Validate(); err != nil {
		return flagError(err)
	}
	return nil
}

// checkTraining checks the training settings of cfg that gnn.Config.Validate
// checks too, with errors that name their flag.
func checkTraining(cfg gnn.Config) error {
	switch {
	case cfg.Epochs < 1:
		return fmt.Errorf("--epochs = %d, need at least 1", cfg.Epochs)
	case !(cfg.Dropout >= 0 && cfg.Dropout < 1):
		return fmt.Errorf("--dropout = %v, need 0 <= dropout < 1", cfg.Dropout)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return fmt.Errorf("--lr = %v, need a finite value > 0", cfg.LR)
	case !(cfg.WeightDecay >= 0) || math.IsInf(cfg.WeightDecay, 0):
		return fmt.Errorf("--weight-decay = %v, need a finite value >= 0", cfg.WeightDecay)
	case cfg.BatchSize < 0:
		return fmt.Errorf("--batch-size = %d, need > 0 (or 0 for full batch)", cfg.BatchSize)
	case cfg.BatchSize == 0 && len(cfg.Fanouts) > 0:
		return fmt.Errorf("--fanouts applies to mini-batch training: give --batch-size too")
	case cfg.BatchSize > 0 && len(cfg.Fanouts) != cfg.Layers:
		return fmt.Errorf("--batch-size needs --fanouts with one value per layer: %d given for --layers %d", len(cfg.Fanouts), cfg.Layers)
	}
	return nil
}

// runProtocol checks --dataset and --graph and returns the protocol of the
// data they name; with --graph, f.dataset becomes the directory.
func runProtocol(f *trainFlags) (datasets.Protocol, error) {
	nodeSets := datasets.KnownOf(datasets.NodeClassification)
	switch {
	case f.graph != "" && f.dataset != "" && f.dataset != f.graph:
		return datasets.Protocol{}, fmt.Errorf("--graph %s and --dataset %s: give one of them", f.graph, f.dataset)
	case f.graph != "":
		f.dataset = f.graph
		return datasets.UserProtocol(), nil
	case f.dataset == "":
		return datasets.Protocol{}, fmt.Errorf("--dataset is required, one of %v (or --graph DIR for your own graph)", nodeSets)
	}
	e, err := datasets.Lookup(f.dataset)
	if err != nil {
		return datasets.Protocol{}, fmt.Errorf("--dataset: %w", err)
	}
	if e.Kind != datasets.NodeClassification {
		return datasets.Protocol{}, fmt.Errorf("--dataset %s is an %s dataset; this command takes node-classification datasets: %v", f.dataset, e.Kind, nodeSets)
	}
	return e.Protocol, nil
}

// loadData loads the data of f (a registry dataset, with WikiCS's split, or
// the graph of --graph) under its evaluation protocol, downloading a
// registry dataset's missing files first.
func loadData(cmd *cobra.Command, f *trainFlags) (*gnn.Data, error) {
	ds, err := loadDataset(cmd, f)
	if err != nil {
		return nil, err
	}
	return gnn.FromDataset(ds)
}

// loadDataset reads --graph, or --dataset from the data root (fetching
// what is missing), as stored: FromDataset or Model.DataFor prepares it.
func loadDataset(cmd *cobra.Command, f *trainFlags) (*datasets.NodeDataset, error) {
	if f.graph != "" {
		ds, err := datasets.LoadDir(f.graph)
		if err != nil {
			return nil, fmt.Errorf("--graph: %w", err)
		}
		// Saved models record the directory, for eval and predict.
		ds.Name = f.graph
		return ds, nil
	}
	root, err := datasets.Root(f.dataDir)
	if err != nil {
		return nil, err
	}
	if err := fetchMissing(cmd, root, f.dataset, f.quiet); err != nil {
		return nil, err
	}
	ds, err := datasets.Load(root, f.dataset)
	if err != nil {
		return nil, err
	}
	if ds.Protocol.Split.Kind == datasets.FileSplits {
		// --split pins one of the file's splits for every seed.
		if err := ds.PinSplit(f.split); err != nil {
			return nil, fmt.Errorf("--split %d: %w", f.split, err)
		}
	}
	return ds, nil
}

// trainSeeds trains cfg once per seed of f, showing progress, and calls
// done (if not nil) with each result as it arrives. On an error it returns
// the results of the seeds that finished before it.
func trainSeeds(cmd *cobra.Command, f *trainFlags, cfg gnn.Config, data *gnn.Data, prog *progress, done func(*gnn.Result) error) ([]*gnn.Result, error) {
	var results []*gnn.Result
	for s := 0; s < f.seeds; s++ {
		cfg.Seed = f.seed + uint64(s)
		prog.describe(runLabel(f.dataset, cfg.Arch, cfg.NSR.Lambdas, cfg.Seed))
		opts, err := seedOptions(f, cfg)
		if err != nil {
			return results, err
		}
		opts.OnEpoch = prog.step
		res, err := gnn.TrainWith(cmd.Context(), data, cfg, opts)
		if err != nil {
			if f.outDir != "" {
				return results, interruptedRun(f, results, cfg.Seed, err, graphPartial)
			}
			return results, fmt.Errorf("%s, seed %d: %w", f.dataset, cfg.Seed, err)
		}
		results = append(results, res)
		if f.outDir != "" {
			if err := writeResults(f, results, nil, nil); err != nil {
				return results, err
			}
		}
		if done != nil {
			if err := done(res); err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

// flagError rewrites a configuration error so that it names the flag.
func flagError(err error) error { return fmt.Errorf("invalid flag: %w", err) }

type seedJSON struct {
	Dataset       string    `json:"dataset"`
	Model         string    `json:"model"`
	Seed          uint64    `json:"seed"`
	ValAcc        float64   `json:"val_acc"`
	TestAcc       float64   `json:"test_acc"`
	BestEpoch     int       `json:"best_epoch"`
	EpochMsMedian float64   `json:"epoch_ms_median"`
	NSRLambda     []float64 `json:"nsr_lambda"`
	NSRLayers     []int     `json:"nsr_layers"`
	NSRChoice     string    `json:"nsr_choice,omitempty"`
	Loss          []float64 `json:"loss"`     // cross-entropy per epoch
	NSRLoss       []float64 `json:"nsr_loss"` // Σ λ·P per epoch
}

func seedRecord(f *trainFlags, r *gnn.Result) seedJSON {
	rec := seedJSON{
		Dataset: f.dataset, Model: f.cfg.Arch, Seed: r.Seed, ValAcc: r.ValAcc, TestAcc: r.TestAcc,
		BestEpoch: r.BestEpoch, EpochMsMedian: r.EpochMsMedian,
		NSRLambda: nonNil(r.NSRLambdas), NSRLayers: nonNil(r.NSRLayers), NSRChoice: r.NSRChoice,
	}
	for _, e := range r.Epochs {
		rec.Loss = append(rec.Loss, e.Loss)
		rec.NSRLoss = append(rec.NSRLoss, e.NSRLoss)
	}
	return rec
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type summaryJSON struct {
	Summary       bool      `json:"summary"`
	Dataset       string    `json:"dataset"`
	Model         string    `json:"model"`
	Seeds         int       `json:"seeds"`
	NSRLambda     float64   `json:"nsr_lambda"` // the first λ (0 without NSR)
	NSRLambdas    []float64 `json:"nsr_lambdas"`
	NSRLayers     string    `json:"nsr_layers"`
	TestAccMean   float64   `json:"test_acc_mean"`
	TestAccStd    float64   `json:"test_acc_std"`
	ValAccMean    float64   `json:"val_acc_mean"`
	EpochMsMedian float64   `json:"epoch_ms_median"`
	WallS         float64   `json:"wall_s"`
	Epochs        int       `json:"epochs"`
	Hidden        int       `json:"hidden"`
	BLAS          string    `json:"blas"` // the backend the binary was built with (blasbackend.Name)
	// Incomplete is set when the run stopped (interrupted, or failed)
	// before its last seed: the summary is over the Seeds that finished.
	Incomplete bool `json:"incomplete,omitempty"`
}

func summarize(f *trainFlags, rs []*gnn.Result, wall time.Duration) summaryJSON {
	var test, val, ms []float64
	for _, r := range rs {
		test = append(test, r.TestAcc)
		val = append(val, r.ValAcc)
		ms = append(ms, r.EpochMsMedian)
	}
	tm, ts := stats.MeanStd(test)
	vm, _ := stats.MeanStd(val)
	s := summaryJSON{
		Summary: true, Dataset: f.dataset, Model: f.cfg.Arch, Seeds: len(rs),
		TestAccMean: tm, TestAccStd: ts, ValAccMean: vm, EpochMsMedian: stats.Median(ms),
		WallS: wall.Seconds(), Epochs: f.cfg.Epochs, Hidden: f.cfg.Hidden, BLAS: blasbackend.Name(),
		NSRLambdas: nonNil(f.cfg.NSR.Lambdas), NSRLayers: nsrLayersString(f),
	}
	if f.cfg.NSR.Enabled() {
		s.NSRLambda = f.cfg.NSR.Lambdas[0]
	}
	return s
}

// nsrLayersString is the --nsr-layers setting as resolved: "" without NSR,
// "auto", or the layer indices.
func nsrLayersString(f *trainFlags) string {
	switch {
	case !f.cfg.NSR.Enabled():
		return ""
	case f.cfg.NSR.Auto:
		return "auto"
	}
	return strings.Trim(strings.ReplaceAll(fmt.Sprint(f.cfg.NSR.Layers), " ", ","), "[]")
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// modelData loads the data a saved model is evaluated or run on: the graph
// directory graph if given, else the registry dataset (the model's own if
// empty); a model trained on a graph directory records its path as its
// dataset, which is read again as a graph.
func modelData(cmd *cobra.Command, m *gnn.Model, dataDir, dataset, graph string) (*gnn.Data, string, error) {
	if graph == "" && dataset == "" {
		dataset = m.Info.Dataset
		if _, err := datasets.Lookup(dataset); err != nil {
			if st, serr := os.Stat(dataset); serr == nil && st.IsDir() {
				graph = dataset
			}
		}
	}
	f := &trainFlags{graph: graph, dataset: graph}
	if graph == "" {
		if dataset == "" {
			return nil, "", fmt.Errorf("the model does not name its dataset; give --dataset or --graph")
		}
		f = &trainFlags{dataDir: dataDir, dataset: dataset}
	}
	ds, err := loadDataset(cmd, f)
	if err != nil {
		return nil, "", err
	}
	// The model's preprocessing, not the data's protocol: a Cora model
	// takes a user's graph, whose protocol keeps the features raw.
	data, err := m.DataFor(ds)
	return data, f.dataset, err
}
