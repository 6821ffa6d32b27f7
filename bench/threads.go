package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnsr/gnsr/gnn"
)

// TableThreads is the thread-scaling table.
const TableThreads = "threads"

// GraphPrefix marks a dataset of the thread-scaling table that is a
// directory of the user's own graph (gnsr train --graph) rather than a
// registry name: "graph:" followed by the directory as given.
const GraphPrefix = "graph:"

// MaxThreads bounds a thread count of ThreadsPlan (Go's GOMAXPROCS has no
// bound, but a run at a count far above the cores measures nothing).
const MaxThreads = 4096

// ThreadsPlan is the thread-scaling table: each model trained on each
// dataset with gnsr train's defaults at each thread count (GOMAXPROCS) of
// Threads, on seeds 0..Seeds-1. The runs of one seed at every thread count
// come one after the other, so that each seed is a set of back-to-back
// measurements under the same conditions. Every run is a process of its
// own (see ProcessRunner): its peak memory is its own, and the seed's
// numbers must be the same at every count.
type ThreadsPlan struct {
	Models   []string
	Datasets []string // registry names, or GraphPrefix and a directory
	Threads  []int    // increasing, from 1 to MaxThreads
	Seeds    int
	Epochs   int // training epochs of every run; 0 means gnsr train's default
}

// Validate checks the plan's models against the registry, its thread
// counts and its seeds. Datasets are checked when their data is read.
func (p ThreadsPlan) Validate() error {
	if len(p.Models) == 0 || len(p.Datasets) == 0 {
		return errors.New("bench: the thread table needs a model and a dataset")
	}
	for _, m := range p.Models {
		if _, err := gnn.LookupArch(m); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if len(p.Threads) == 0 {
		return errors.New("bench: the thread table needs a thread count")
	}
	for i, t := range p.Threads {
		if t < 1 || t > MaxThreads {
			return fmt.Errorf("bench: thread count %d: need 1 to %d", t, MaxThreads)
		}
		if i > 0 && t <= p.Threads[i-1] {
			return fmt.Errorf("bench: thread counts %v: need them increasing, each once", p.Threads)
		}
	}
	if p.Seeds < 1 {
		return fmt.Errorf("bench: seeds = %d, need at least 1", p.Seeds)
	}
	if p.Epochs < 0 {
		return fmt.Errorf("bench: epochs = %d, need 0 (gnsr train's default) or more", p.Epochs)
	}
	return nil
}

// DefaultThreads returns the thread counts of a scaling table on n CPUs:
// the powers of two below n, and n.
func DefaultThreads(n int) []int {
	var ts []int
	for t := 1; t < n; t *= 2 {
		ts = append(ts, t)
	}
	return append(ts, max(n, 1))
}

// record returns p as its records keep it.
func (p ThreadsPlan) record() Plan {
	return Plan{Models: p.Models, Datasets: p.Datasets, Seeds: p.Seeds, Threads: p.Threads, Epochs: p.epochs()}
}

// epochs is the plan's epochs as Plan keeps them: per model, where given.
func (p ThreadsPlan) epochs() map[string]int {
	if p.Epochs == 0 {
		return nil
	}
	e := map[string]int{}
	for _, m := range p.Models {
		e[m] = p.Epochs
	}
	return e
}

// threadsPlanOf returns the thread plan that records keep as p (record's
// inverse).
func threadsPlanOf(p Plan) ThreadsPlan {
	tp := ThreadsPlan{Models: p.Models, Datasets: p.Datasets, Threads: p.Threads, Seeds: p.Seeds}
	for _, e := range p.Epochs {
		tp.Epochs = e
	}
	return tp
}

// cell is the run of model on dataset at t threads.
func (p ThreadsPlan) cell(model, dataset string, t int) Cell {
	return Cell{Model: model, Dataset: dataset, Variant: Vanilla, Epochs: p.Epochs, Threads: t}
}

// order calls fn on the runs of p in run order: per seed, dataset and
// model, every thread count.
func (p ThreadsPlan) order(fn func(c Cell, seed uint64) error) error {
	for s := range p.Seeds {
		for _, ds := range p.Datasets {
			for _, m := range p.Models {
				for _, t := range p.Threads {
					if err := fn(p.cell(m, ds, t), uint64(s)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// Todo lists the runs of p that recs do not hold yet, in the order
// RunThreads runs them.
func (p ThreadsPlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	_ = p.order(func(c Cell, seed uint64) error {
		if !have[gnsrKey(TableThreads, c, seed)] {
			jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: seed})
		}
		return nil
	})
	return jobs
}

// Slot is a Planner's: the whole table is one slot, in PhaseTune, as its
// timings compare only when one machine makes them all.
func (p ThreadsPlan) Slot(Job) (Job, Phase) { return Job{}, PhaseTune }

// RunThreads runs the runs of p that s does not hold yet through run,
// which must honour Cell.Threads, appending each record as it finishes. It
// stops at the first error and when ctx is done; a later call carries on
// from there.
func RunThreads(ctx context.Context, s *Store, p ThreadsPlan, run Runner, opt Options) error {
	if err := p.Validate(); err != nil {
		return err
	}
	d := newDriver(s, TableThreads, p.record(), p, run, opt)
	return p.order(func(c Cell, seed uint64) error { return d.seedsFrom(ctx, c, seed, 1) })
}

// ProcessRunner is a Runner that trains each run in a gnsr train process
// of its own with GOMAXPROCS set to the cell's Threads (the process's
// default where 0), and records its peak resident memory and the
// fingerprint of its results.
type ProcessRunner struct {
	// Command returns the command that runs gnsr with args; nil runs this
	// executable (os.Executable).
	Command func(ctx context.Context, args []string) (*exec.Cmd, error)
	Root    string // data root, passed as --data-dir
}

// Args returns the gnsr train command line of c with seed.
func (r *ProcessRunner) Args(c Cell, seed uint64) []string {
	args := []string{"train", "--model", c.Model}
	if dir, ok := strings.CutPrefix(c.Dataset, GraphPrefix); ok {
		args = append(args, "--graph", dir)
	} else {
		args = append(args, "--dataset", c.Dataset)
	}
	args = append(args, "--seed", strconv.FormatUint(seed, 10), "--seeds", "1", "--json", "--quiet")
	if c.Epochs > 0 {
		args = append(args, "--epochs", strconv.Itoa(c.Epochs))
	}
	if r.Root != "" {
		args = append(args, "--data-dir", r.Root)
	}
	return args
}

// Run is a Runner: it runs gnsr train for c with seed and parses the
// seed's JSON line.
func (r *ProcessRunner) Run(ctx context.Context, c Cell, seed uint64) (Record, error) {
	args := r.Args(c, seed)
	command := r.Command
	if command == nil {
		command = selfCommand
	}
	cmd, err := command(ctx, args)
	if err != nil {
		return Record{}, fmt.Errorf("bench: %w", err)
	}
	if c.Threads > 0 {
		cmd.Env = append(envWithout(cmd.Env, "GOMAXPROCS"), "GOMAXPROCS="+strconv.Itoa(c.Threads))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Record{}, ctx.Err()
		}
		return Record{}, fmt.Errorf("bench: %s: %w: %s", commandLine(c, args), err, lastLines(stderr.Bytes(), 5))
	}
	rec, err := parseSeedLine(stdout.Bytes(), seed)
	if err != nil {
		return Record{}, fmt.Errorf("bench: %s: %w", commandLine(c, args), err)
	}
	rec.WallS = time.Since(start).Seconds()
	rec.PeakRSSKiB = peakRSSKiB(cmd.ProcessState)
	rec.Meta.GOMAXPROCS = c.Threads
	return rec, nil
}

// commandLine is the command that ran c with args, for error messages.
func commandLine(c Cell, args []string) string {
	line := "gnsr " + strings.Join(args, " ")
	if c.Threads > 0 {
		line = fmt.Sprintf("GOMAXPROCS=%d %s", c.Threads, line)
	}
	return line
}

// selfCommand runs this executable with args.
func selfCommand(ctx context.Context, args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = os.Environ()
	return cmd, nil
}

// envWithout returns env (os.Environ where nil) without the entries of
// name.
func envWithout(env []string, name string) []string {
	if env == nil {
		env = os.Environ()
	}
	return slices.DeleteFunc(slices.Clone(env), func(e string) bool { return strings.HasPrefix(e, name+"=") })
}

// parseSeedLine finds the JSON line of seed in gnsr train's --json output
// and returns its measurements, with the fingerprint of everything it
// reports but its timings, and the hidden width and epochs of the summary
// line.
func parseSeedLine(out []byte, seed uint64) (Record, error) {
	var rec Record
	found := false
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var fields map[string]any
		var l struct {
			Summary   bool     `json:"summary"`
			Seed      *uint64  `json:"seed"`
			ValAcc    *float64 `json:"val_acc"`
			TestAcc   *float64 `json:"test_acc"`
			BestEpoch int      `json:"best_epoch"`
			EpochMs   float64  `json:"epoch_ms_median"`
			Hidden    int      `json:"hidden"`
			Epochs    int      `json:"epochs"`
		}
		if err := json.Unmarshal(line, &fields); err != nil {
			return Record{}, fmt.Errorf("output line %q: %w", clip(line), err)
		}
		if err := json.Unmarshal(line, &l); err != nil {
			return Record{}, fmt.Errorf("output line %q: %w", clip(line), err)
		}
		switch {
		case l.Summary:
			rec.Hidden, rec.Epochs = l.Hidden, l.Epochs
		case l.Seed != nil && *l.Seed == seed:
			if l.ValAcc == nil || l.TestAcc == nil {
				return Record{}, fmt.Errorf("the line of seed %d has no val_acc or test_acc: %q", seed, clip(line))
			}
			rec.ValAcc, rec.TestAcc, rec.BestEpoch, rec.EpochMs = *l.ValAcc, *l.TestAcc, l.BestEpoch, l.EpochMs
			rec.Fingerprint = fingerprint(fields)
			found = true
		}
	}
	if !found {
		return Record{}, fmt.Errorf("no JSON line for seed %d in the output", seed)
	}
	return rec, nil
}

// fingerprint hashes a seed's JSON fields but its timings (those ending in
// _ms, _ms_median or _s): runs that computed the same numbers have the
// same fingerprint.
func fingerprint(fields map[string]any) string {
	kept := map[string]any{}
	for k, v := range fields {
		if !strings.HasSuffix(k, "_ms") && !strings.HasSuffix(k, "_ms_median") && !strings.HasSuffix(k, "_s") {
			kept[k] = v
		}
	}
	b, err := json.Marshal(kept) // maps marshal with sorted keys
	if err != nil {
		panic(err) // values decoded from JSON always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// clip shortens a line for an error message.
func clip(line []byte) string {
	if len(line) > 120 {
		return string(line[:120]) + "…"
	}
	return string(line)
}

// datasetLabel names a dataset of the thread table for people.
func datasetLabel(ds string) string {
	if dir, ok := strings.CutPrefix(ds, GraphPrefix); ok {
		return "graph " + dir
	}
	return ds
}
