package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/internal/filelock"
	"github.com/gnsr/gnsr/report"
	"github.com/gnsr/gnsr/vision"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A run directory (gnsr train --out DIR) holds run.json, the settings of
// the run; seed-N.ckpt, the latest checkpoint of seed N (gnn's checkpoint
// format for graphs, vision's for images); seed-N.model, the saved model of
// seed N's best validation epoch, once the seed is done; and results.json,
// the results so far.
const (
	manifestFile = "run.json"
	resultsFile  = "results.json"
	// lockFile is locked (internal/filelock, as bench's tables) by the
	// process writing the run, so that a second --out or --resume on the
	// directory is refused rather than training the same seeds beside it.
	lockFile = ".gnsr-train.lock"
)

// lockRunDir locks the run directory of f for this process, until
// f.lock.Release.
func lockRunDir(f *trainFlags, flag string) error {
	l, err := filelock.Acquire(filepath.Join(f.outDir, lockFile))
	if errors.Is(err, filelock.ErrLocked) {
		return fmt.Errorf("%s %s: another gnsr train is writing this run directory; wait for it to finish (or stop it), then continue with --resume %s", flag, f.outDir, f.outDir)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, f.outDir, err)
	}
	f.lock = l
	return nil
}

// runManifest is run.json: what --resume needs to continue the run.
type runManifest struct {
	Dataset         string      `json:"dataset"`
	Graph           string      `json:"graph,omitempty"` // --graph DIR; Dataset is DIR then
	Split           int         `json:"split"`
	DataDir         string      `json:"data_dir,omitempty"`
	Seeds           int         `json:"seeds"`
	Seed            uint64      `json:"seed"`
	CheckpointEvery int         `json:"checkpoint_every"`
	Config          *gnn.Config `json:"config,omitempty"` // graph runs
	// Vision is the configuration of an image run (then Config is absent).
	Vision *vision.Config `json:"vision,omitempty"`
}

func manifestOf(f *trainFlags) runManifest {
	m := runManifest{Dataset: f.dataset, Graph: f.graph, Split: f.split, DataDir: f.dataDir, Seeds: f.seeds, Seed: f.seed,
		CheckpointEvery: f.ckptEvery, Vision: f.vision}
	if f.vision == nil {
		m.Config = &f.cfg
	}
	return m
}

// newRunDir creates the run directory of f and writes its run.json,
// refusing a directory that already holds a run.
func newRunDir(f *trainFlags) error {
	if f.ckptEvery < 0 {
		return fmt.Errorf("--checkpoint-every = %d, need >= 0", f.ckptEvery)
	}
	if err := os.MkdirAll(f.outDir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := lockRunDir(f, "--out"); err != nil {
		return err
	}
	path := filepath.Join(f.outDir, manifestFile)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("--out %s already holds a run (%s): continue it with --resume %s, or choose another directory", f.outDir, manifestFile, f.outDir)
	}
	b, err := json.MarshalIndent(manifestOf(f), "", "  ")
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(path, append(b, '\n'))
}

// resumeFlags may be given with --resume: they do not change the numbers.
var resumeFlags = []string{"resume", "data-dir", "quiet", "json", "checkpoint-every", "cpuprofile"}

// adoptRun sets f to continue the run in dir. Flags that describe the run
// may be repeated but must describe the same run.
func adoptRun(cmd *cobra.Command, f *trainFlags, v *visionFlags, dir string) error {
	if cmd.Flags().Changed("out") {
		return errors.New("--resume DIR continues the run in DIR; drop --out")
	}
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return fmt.Errorf("--resume %s: not a run directory of gnsr train --out: %w", dir, err)
	}
	var m runManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("--resume: %s: %w", filepath.Join(dir, manifestFile), err)
	}
	f.outDir = dir
	if err := lockRunDir(f, "--resume"); err != nil {
		return err
	}
	if (m.Config == nil) == (m.Vision == nil) {
		return fmt.Errorf("--resume: %s holds no configuration, or two", filepath.Join(dir, manifestFile))
	}
	var given []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if !slices.Contains(resumeFlags, fl.Name) {
			given = append(given, "--"+fl.Name)
		}
	})
	if len(given) > 0 {
		var err error
		if m.Vision != nil {
			var c vision.Config
			c, err = visionConfig(cmd, f, v)
			f.vision = &c
		} else {
			err = resolveFlags(cmd, f)
		}
		now, then := manifestOf(f), m
		now.DataDir, now.CheckpointEvery, then.DataDir, then.CheckpointEvery = "", 0, "", 0
		a, _ := json.Marshal(now)
		b, _ := json.Marshal(then)
		if err != nil || !bytes.Equal(a, b) {
			return fmt.Errorf("--resume %s: flags %v describe another run than %s; give --resume alone (with --data-dir, -q, --json if needed)",
				dir, given, filepath.Join(dir, manifestFile))
		}
	}
	f.dataset, f.graph, f.split, f.seeds, f.seed, f.vision = m.Dataset, m.Graph, m.Split, m.Seeds, m.Seed, m.Vision
	if !cmd.Flags().Changed("data-dir") {
		f.dataDir = m.DataDir
	}
	if !cmd.Flags().Changed("checkpoint-every") {
		f.ckptEvery = m.CheckpointEvery
	}
	f.outDir, f.resume = dir, true
	if f.vision != nil {
		return f.vision.Validate()
	}
	f.cfg = *m.Config
	return f.cfg.Validate()
}

// seedOptions returns the training options for one seed: with a run
// directory, its checkpoint, resumed from when --resume finds one.
func seedOptions(f *trainFlags, cfg gnn.Config) (gnn.Options, error) {
	if f.outDir == "" {
		return gnn.Options{}, nil
	}
	opts := gnn.Options{
		Checkpoint:      filepath.Join(f.outDir, fmt.Sprintf("seed-%d.ckpt", cfg.Seed)),
		Model:           filepath.Join(f.outDir, fmt.Sprintf("seed-%d.model", cfg.Seed)),
		CheckpointEvery: f.ckptEvery,
		Meta:            map[string]string{"dataset": f.dataset, "split": strconv.Itoa(f.split)},
	}
	if f.graph != "" {
		opts.Meta["graph"] = f.graph
	}
	if !f.resume {
		return opts, nil
	}
	var err error
	opts.Resume, err = resumeFrom(opts.Checkpoint, gnn.ReadCheckpoint)
	return opts, err
}

// resumeFrom reads, with read, the checkpoint at path that --resume
// continues a seed from: nil if there is none, the seed not having started.
func resumeFrom[C any](path string, read func(string) (*C, error)) (*C, error) {
	ck, err := read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("--resume: %w", err)
	}
	return ck, nil
}

// interruptedJSON says where an interrupted run stopped.
type interruptedJSON struct {
	Seed       uint64    `json:"seed"`
	EpochsDone int       `json:"epochs_done"`
	Checkpoint string    `json:"checkpoint"`
	Partial    *seedJSON `json:"partial,omitempty"` // the seed's results so far
}

// resultsJSON is results.json.
type resultsJSON struct {
	Complete    bool             `json:"complete"`
	Seeds       []seedJSON       `json:"seeds"`
	Interrupted *interruptedJSON `json:"interrupted,omitempty"`
	Summary     *summaryJSON     `json:"summary,omitempty"`
}

// writeResults writes results.json: the finished seeds, and the summary if
// the run is complete or where it stopped if it was interrupted.
func writeResults(f *trainFlags, rs []*gnn.Result, sum *summaryJSON, stop *interruptedJSON) error {
	out := resultsJSON{Complete: sum != nil, Seeds: []seedJSON{}, Interrupted: stop, Summary: sum}
	for _, r := range rs {
		out.Seeds = append(out.Seeds, seedRecord(f, r))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(f.outDir, resultsFile), append(b, '\n'))
}

// graphPartial returns the results so far in the graph checkpoint at path.
func graphPartial(path string) (*gnn.Result, error) {
	ck, err := gnn.ReadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	return ck.Result(), nil
}

// interruptedRun writes the partial results of a run stopped by err and
// returns the one-line message to exit with; partial reads the results so
// far from the seed's checkpoint.
func interruptedRun(f *trainFlags, rs []*gnn.Result, seed uint64, err error, partial func(path string) (*gnn.Result, error)) error {
	var ie *gnn.InterruptedError
	if !errors.As(err, &ie) || ie.Checkpoint == "" {
		return fmt.Errorf("%s, seed %d: %w", f.dataset, seed, err)
	}
	stop := &interruptedJSON{Seed: ie.Seed, EpochsDone: ie.Epoch, Checkpoint: ie.Checkpoint}
	// A seed stopped before its first epoch has no results (its
	// accuracies are NaN, which JSON cannot hold).
	if r, err := partial(ie.Checkpoint); err == nil && ie.Epoch > 0 {
		rec := seedRecord(f, r)
		stop.Partial = &rec
	}
	if err := writeResults(f, rs, nil, stop); err != nil {
		return fmt.Errorf("interrupted at epoch %d of seed %d; checkpoint in %s, but writing the results failed: %w", ie.Epoch, ie.Seed, f.outDir, err)
	}
	if ie.Resumable != nil {
		return fmt.Errorf("interrupted at epoch %d of seed %d; checkpoint in %s, which cannot be resumed: %w", ie.Epoch, ie.Seed, f.outDir, ie.Resumable)
	}
	return fmt.Errorf("interrupted at epoch %d of seed %d; checkpoint in %s (resume with --resume %s)", ie.Epoch, ie.Seed, f.outDir, f.outDir)
}
