package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/vision"
	"github.com/spf13/cobra"
)

// isImageDataset reports whether the registry lists name as an image
// dataset, which gnsr train sends to the vision trainer.
func isImageDataset(name string) bool {
	e, err := datasets.Lookup(name)
	return err == nil && e.Kind == datasets.ImageClassification
}

// loadImages reads the image dataset name from root, downloading missing
// files first. A decoded-image cache (cifar10-jpeg) goes to the user cache
// directory, since the data root may be read-only.
func loadImages(cmd *cobra.Command, name, root string, quiet bool) (*datasets.ImageDataset, error) {
	if err := fetchMissing(cmd, root, name, quiet); err != nil {
		return nil, err
	}
	return datasets.LoadImages(root, name, imageOptions(name))
}

// isImageModel reports whether the file at path is a saved image model
// (an MLP or CNN of package vision); a file that cannot be read is left
// to the graph models' reader to report.
func isImageModel(path string) bool { return fileKind(path) == "vision" }

// isImageCheckpoint reports whether the file at path is the checkpoint of
// an image run.
func isImageCheckpoint(path string) bool { return fileKind(path) == "vision-checkpoint" }

// fileKind returns the kind of the model file at path, "" if it is not
// one.
func fileKind(path string) string {
	f, err := modelfile.Read(path)
	if err != nil {
		return ""
	}
	return f.Kind
}

// evalImageModel reports the accuracies of the saved image model at path
// on its dataset (or dataset, if given).
func evalImageModel(cmd *cobra.Command, path, dataDir, dataset string, jsonOut bool) error {
	m, err := vision.LoadModel(path)
	if err != nil {
		return err
	}
	if dataset == "" {
		dataset = m.Info.Dataset
	}
	if !isImageDataset(dataset) {
		return fmt.Errorf("%s: an image model needs an image dataset (%v); give --dataset", path, datasets.KnownOf(datasets.ImageClassification))
	}
	root, err := datasets.Root(dataDir)
	if err != nil {
		return err
	}
	data, err := loadImages(cmd, dataset, root, true)
	if err != nil {
		return err
	}
	acc, err := m.Evaluate(data)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", path, dataset, err)
	}
	rec := evalJSON{ModelFile: path, Dataset: dataset, Model: m.Spec.Arch, Seed: m.Info.Seed, EpochsDone: m.Info.BestEpoch}
	if c := m.Info.Config; c != nil {
		rec.Epochs = c.Epochs
	}
	return printEval(cmd, rec, acc.Train, acc.Val, acc.Test, jsonOut)
}

// visionFlags are the flags only image models use.
type visionFlags struct {
	width     int
	augment   bool
	optimizer string
	momentum  float64
	nesterov  bool
	valSize   int
	lrStep    int
	lrGamma   float64
}

func addVisionFlags(cmd *cobra.Command, v *visionFlags) {
	fl := cmd.Flags()
	d := vision.DefaultConfig()
	fl.IntVar(&v.width, "width", 1, fmt.Sprintf("convolutional models %v: channel multiplier", vision.CNNArchs()))
	fl.BoolVar(&v.augment, "augment", false, "convolutional models: random 32×32 crops of the 4-pixel zero-padded image and horizontal flips")
	fl.StringVar(&v.optimizer, "optimizer", "", `image models: "sgd" or "adam" (default sgd, the published MNIST protocol; graphs always use Adam)`)
	fl.Float64Var(&v.momentum, "momentum", 0, "image models: SGD momentum")
	fl.BoolVar(&v.nesterov, "nesterov", false, "image models: Nesterov momentum")
	fl.IntVar(&v.valSize, "val-size", d.ValSize, "image models: training images held out for validation")
	fl.IntVar(&v.lrStep, "lr-step", 0, "image models: multiply the learning rate by --lr-gamma every this many epochs (0: constant)")
	fl.Float64Var(&v.lrGamma, "lr-gamma", d.LRGamma, "image models: learning-rate decay factor of --lr-step")
}

// visionConfig maps the shared flags onto the vision trainer's settings,
// taking the published MNIST protocol's values for flags the user did not
// set: MLP-4, 100 epochs, batch 100, plain SGD at 0.01 without weight decay,
// NSR on the logits.
func visionConfig(cmd *cobra.Command, f *trainFlags, v *visionFlags) (vision.Config, error) {
	c := vision.DefaultConfig()
	set := cmd.Flags().Changed
	if e, err := datasets.Lookup(f.dataset); err == nil {
		c.Arch = imageDefaultModel(e.Family)
	}
	if set("model") {
		c.Arch = f.cfg.Arch
	}
	if set("epochs") {
		c.Epochs = f.cfg.Epochs
	}
	if set("lr") {
		c.Optimizer.LR = f.cfg.LR
	}
	if set("weight-decay") {
		c.Optimizer.WeightDecay = f.cfg.WeightDecay
	}
	if set("batch-size") {
		c.BatchSize = f.cfg.BatchSize
	}
	if v.optimizer != "" {
		c.Optimizer.Kind = v.optimizer
	}
	c.Optimizer.Momentum, c.Optimizer.Nesterov = v.momentum, v.nesterov
	c.ValSize, c.LRStep, c.LRGamma = v.valSize, v.lrStep, v.lrGamma
	c.Augment = v.augment
	if set("width") {
		c.Width = v.width
	}
	if f.graph != "" {
		return c, fmt.Errorf("--graph %s and --dataset %s: give one of them", f.graph, f.dataset)
	}
	for _, name := range graphOnlyFlags() {
		if set(name) {
			return c, fmt.Errorf("--%s does not apply to image models (the architecture fixes it)", name)
		}
	}
	cnn := slices.Contains(vision.CNNArchs(), c.Arch)
	for _, name := range []string{"width", "augment"} {
		if set(name) && !cnn {
			return c, fmt.Errorf("--%s applies to convolutional models %v, not --model %s", name, vision.CNNArchs(), c.Arch)
		}
	}
	numLayers, err := c.LayerCount()
	if err != nil {
		return c, fmt.Errorf("--model: %w", err)
	}
	layersFlag := f.nsrLayers
	if !set("nsr-layers") {
		layersFlag = "-1" // the logits, as the published MLP runs
	}
	layers, auto, err := nsr.ParseLayers(layersFlag, numLayers)
	if err != nil {
		return c, err
	}
	if auto {
		return c, fmt.Errorf("--nsr-layers auto is for graph models; give the layer of an image model")
	}
	lambdas, err := nsr.ParseLambdas(f.nsrLambda, len(layers))
	if err != nil {
		return c, err
	}
	c.NSR.Layers, c.NSR.Lambdas, c.NSR.Queue, c.NSR.MaskZeros = layers, lambdas, f.cfg.NSR.Queue, f.cfg.NSR.MaskZeros
	if !(nsr.Spec{Lambdas: lambdas}).Enabled() {
		c.NSR.Layers, c.NSR.Lambdas = nil, nil
	}
	if f.seeds < 1 {
		return c, fmt.Errorf("--seeds = %d, need at least 1", f.seeds)
	}
	return c, c.Validate()
}

// runVision trains an image model once per seed and reports as runTrain
// does, with the same JSON fields; with a run directory (--out, --resume)
// it checkpoints each seed there and saves its model, as for graphs.
func runVision(cmd *cobra.Command, f *trainFlags, v *visionFlags) error {
	if f.vision == nil {
		cfg, err := visionConfig(cmd, f, v)
		if err != nil {
			return err
		}
		f.vision = &cfg
	}
	cfg := *f.vision
	root, err := datasets.Root(f.dataDir)
	if err != nil {
		return err
	}
	start := time.Now()
	data, err := loadImages(cmd, f.dataset, root, f.quiet)
	if err != nil {
		return err
	}
	if f.outDir != "" && !f.resume {
		if err := newRunDir(f); err != nil {
			return err
		}
	}
	// The report is shared with the graph models: it reads these.
	f.cfg.Arch, f.cfg.Epochs, f.cfg.Hidden = cfg.Arch, cfg.Epochs, 0
	f.cfg.NSR.Lambdas, f.cfg.NSR.Layers, f.cfg.NSR.Auto = cfg.NSR.Lambdas, cfg.NSR.Layers, false
	prog := newProgress(cmd.ErrOrStderr(), f.quiet, f.seeds*cfg.Epochs)
	defer prog.finish()
	stream := &seedStream{w: cmd.OutOrStdout(), f: f, prog: prog, start: start}
	if err := visionSeeds(cmd, f, cfg, data, prog, stream); err != nil {
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

// visionSeeds trains cfg on data once per seed of f, showing progress,
// and adds each result to stream as it arrives.
func visionSeeds(cmd *cobra.Command, f *trainFlags, cfg vision.Config, data *datasets.ImageDataset, prog *progress, stream *seedStream) error {
	for s := 0; s < f.seeds; s++ {
		cfg.Seed = f.seed + uint64(s)
		prog.describe(runLabel(f.dataset, cfg.Arch, cfg.NSR.Lambdas, cfg.Seed))
		opts, err := visionSeedOptions(f, cfg.Seed)
		if err != nil {
			return err
		}
		opts.OnEpoch = func(e vision.Epoch) { prog.step(gnn.Epoch{Epoch: e.Epoch, Loss: e.Loss, ValAcc: e.ValAcc}) }
		res, err := vision.TrainWith(cmd.Context(), data, cfg, opts)
		if err != nil {
			if f.outDir != "" {
				return interruptedRun(f, stream.results, cfg.Seed, err, visionPartial)
			}
			return fmt.Errorf("%s, seed %d: %w", f.dataset, cfg.Seed, err)
		}
		r := visionResult(res)
		r.EpochMsMedian, r.NSRLayers, r.NSRLambdas = res.EpochMsMedian, res.NSRLayers, res.NSRLambdas
		if f.outDir != "" {
			if err := writeResults(f, append(slices.Clone(stream.results), r), nil, nil); err != nil {
				return err
			}
		}
		if err := stream.add(r); err != nil {
			return err
		}
	}
	return nil
}

// visionResult returns the accuracies and history of an image run in the
// graph models' result type, which the report shares.
func visionResult(res *vision.Result) *gnn.Result {
	r := &gnn.Result{Seed: res.Seed, BestEpoch: res.BestEpoch, ValAcc: res.ValAcc, TestAcc: res.TestAcc}
	for _, e := range res.Epochs {
		r.Epochs = append(r.Epochs, gnn.Epoch{Epoch: e.Epoch, Loss: e.Loss, NSRLoss: e.NSRLoss, TrainMs: e.TrainMs, ValAcc: e.ValAcc, TestAcc: e.TestAcc})
	}
	return r
}

// visionPartial returns the results so far in the image checkpoint at
// path.
func visionPartial(path string) (*gnn.Result, error) {
	ck, err := vision.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return visionResult(ck.Result()), nil
}

// visionSeedOptions returns the training options of one seed of an image
// run: with a run directory, its checkpoint and model files, and the
// checkpoint to resume from when --resume finds one.
func visionSeedOptions(f *trainFlags, seed uint64) (vision.Options, error) {
	opts := vision.Options{Dataset: f.dataset}
	if f.outDir == "" {
		return opts, nil
	}
	opts.Checkpoint = filepath.Join(f.outDir, fmt.Sprintf("seed-%d.ckpt", seed))
	opts.Model = filepath.Join(f.outDir, fmt.Sprintf("seed-%d.model", seed))
	opts.CheckpointEvery, opts.Meta = f.ckptEvery, map[string]string{"dataset": f.dataset}
	if !f.resume {
		return opts, nil
	}
	var err error
	opts.Resume, err = resumeFrom(opts.Checkpoint, vision.ReadCheckpoint)
	return opts, err
}
