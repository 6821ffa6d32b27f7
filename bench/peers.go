package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
)

// PeerRunner runs a peer implementation on c for seeds 0..seeds-1, in one
// go (a peer process cannot start at a later seed), and returns one record
// per seed with the measurements filled in.
type PeerRunner func(ctx context.Context, c Cell, seeds int) ([]Record, error)

// PeersPlan is the peer table: each cell run by gnsr (through a Runner) and
// by the peer on Seeds seeds, in the same invocation so that their epoch
// times are measured under the same conditions. Models and Datasets name
// the table's rows; an MLP pairs with MNIST only and a graph model with the
// graphs only (see PeerCells and MLPCells).
type PeersPlan struct {
	Models   []string
	Datasets []string
	Seeds    int
	Cells    []Cell // the cells, in order; see PeerCells and MLPCells
}

func (p PeersPlan) record() Plan {
	var epochs map[string]int
	for _, c := range p.Cells {
		if c.Epochs > 0 {
			if epochs == nil {
				epochs = map[string]int{}
			}
			epochs[c.Model] = c.Epochs
		}
	}
	return Plan{Models: p.Models, Datasets: p.Datasets, Seeds: p.Seeds, Epochs: epochs}
}

// pairs reports whether model runs on dataset in the peer table: MLPs on
// MNIST, graph models on the graphs.
func pairs(model, dataset string) bool {
	return strings.HasPrefix(model, "mlp") == (dataset == MLPDataset)
}

// PeerCells returns the cells of the peer table for the GNN table in
// gnnRecs: per dataset and model of models and datasets, vanilla, and NSR
// with the λ chosen there when it is chosen. skipped says, per cell without
// NSR, why.
func PeerCells(gnnRecs []Record, models, datasets []string) (cells []Cell, skipped []string) {
	_, rows := GNNTable(gnnRecs)
	for _, ds := range datasets {
		for _, m := range models {
			cells = append(cells, Cell{Model: m, Dataset: ds, Variant: Vanilla})
			i := -1
			for j, r := range rows {
				if r.Model == m && r.Dataset == ds {
					i = j
				}
			}
			switch {
			case i < 0 || !rows[i].Chosen:
				skipped = append(skipped, fmt.Sprintf("%s %s: no λ chosen in the GNN table yet (run gnsr bench gnn first): vanilla only", m, ds))
			case rows[i].Layer != 0:
				skipped = append(skipped, fmt.Sprintf("%s %s: NSR on layer %d, but the peer regularises the hidden layer (0) only: vanilla only", m, ds, rows[i].Layer))
			default:
				cells = append(cells, Cell{Model: m, Dataset: ds, Variant: NSR, Layer: 0, Lambda: rows[i].Lambda})
			}
		}
	}
	return cells, skipped
}

// Todo lists the runs of p that recs do not hold yet: gnsr's by seed, the
// peer's by seed too, although a peer process reruns every seed of a cell.
func (p PeersPlan) Todo(recs []Record) []Job {
	have := keySet(recs)
	var jobs []Job
	for _, c := range p.Cells {
		peerDone := true
		for s := 0; s < p.Seeds; s++ {
			if !have[cellKey(TablePeers, ImplGNSR, c, uint64(s))] {
				jobs = append(jobs, Job{Impl: ImplGNSR, Cell: c, Seed: uint64(s)})
			}
			peerDone = peerDone && have[cellKey(TablePeers, ImplTorch, c, uint64(s))]
		}
		if !peerDone {
			for s := 0; s < p.Seeds; s++ {
				jobs = append(jobs, Job{Impl: ImplTorch, Cell: c, Seed: uint64(s)})
			}
		}
	}
	return jobs
}

// Slot is a Planner's: a cell, gnsr's seeds and the peer's together, is
// one slot, so that a shard times both sides of a cell under the same
// conditions; all in PhaseTune.
func (p PeersPlan) Slot(j Job) (Job, Phase) { return Job{Cell: j.Cell}, PhaseTune }

// RunPeers runs the runs of p that s does not hold yet: for each cell,
// gnsr's seeds through run, then the peer's through peer, whose records
// are stored once its process has finished every seed. It stops at the
// first error and when ctx is done; a later call carries on from there.
// With opt.Shard it runs the shard's cells only.
func RunPeers(ctx context.Context, s *Store, p PeersPlan, run Runner, peer PeerRunner, opt Options) error {
	if p.Seeds < 1 {
		return fmt.Errorf("bench: seeds = %d, need at least 1", p.Seeds)
	}
	d := newDriver(s, TablePeers, p.record(), p, run, opt)
	for _, c := range p.Cells {
		if err := d.seeds(ctx, c, p.Seeds); err != nil {
			return err
		}
		if !d.keep.Keep(Job{Impl: ImplTorch, Cell: c}) {
			continue
		}
		missing := false
		for seed := 0; seed < p.Seeds; seed++ {
			if _, ok := s.Get(cellKey(TablePeers, ImplTorch, c, uint64(seed))); !ok {
				missing = true
			}
		}
		if !missing {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		d.starting(Job{Impl: ImplTorch, Cell: c})
		recs, err := peer(ctx, c, p.Seeds)
		if err != nil {
			return fmt.Errorf("bench: peer %s %s %s λ=%g: %w", c.Model, c.Dataset, c.Variant, c.Lambda, err)
		}
		for _, r := range recs {
			if err := d.append(cellKey(TablePeers, ImplTorch, c, r.Seed), r); err != nil {
				return err
			}
		}
	}
	return nil
}

// TorchPeer runs the PyTorch peer scripts of the shared folder:
// gnn_torch.py for gcn and sage, mlp_torch.py for the MLPs on mnist, with
// the cell's epochs when it sets them.
type TorchPeer struct {
	Python  string // interpreter with torch, e.g. /usr/bin/python3
	Dir     string // the folder holding the scripts
	Root    string // data root, passed as --root
	Threads int    // torch threads (--threads); 0 means the peer's default (1)
	version string // torch's version, once Check has run
}

// Check reports whether the interpreter can import torch, and remembers
// torch's version for the records.
func (t *TorchPeer) Check(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, t.Python, "-c", "import torch; print(torch.__version__)").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench: %s cannot import torch: %w: %s", t.Python, err, lastLines(out, 3))
	}
	t.version = strings.TrimSpace(string(out))
	return nil
}

// peerLine is what the peer scripts print, one JSON object a line.
type peerLine struct {
	Summary       bool     `json:"summary"`
	Seed          *uint64  `json:"seed"`
	Seeds         int      `json:"seeds"`
	ValAcc        *float64 `json:"val_acc"`
	TestAcc       *float64 `json:"test_acc"`
	EpochMsMedian float64  `json:"epoch_ms_median"`
	TestAccMean   *float64 `json:"test_acc_mean"`
	TestAccStd    float64  `json:"test_acc_std"`
	// mlp_torch.py reports errors in % and seconds.
	ValErr       *float64 `json:"val_err"`
	TestErr      *float64 `json:"test_err"`
	EpochSMedian float64  `json:"epoch_s_median"`
	TestErrMean  *float64 `json:"test_err_mean"`
	Torch        string   `json:"torch"`
	Threads      int      `json:"threads"`
}

// Run is a PeerRunner: it runs the peer script for c and parses its output.
func (t *TorchPeer) Run(ctx context.Context, c Cell, seeds int) ([]Record, error) {
	args, proto, err := t.args(c, seeds)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	cmd := exec.CommandContext(ctx, t.Python, args...)
	cmd.Dir = filepath.Dir(args[0])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("bench: %s %s: %w: %s", t.Python, strings.Join(args, " "), err, lastLines(stderr.Bytes(), 5))
	}
	wall := time.Since(start).Seconds()
	recs, err := parsePeer(stdout.Bytes(), seeds)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", args[0], err)
	}
	threads := t.Threads
	if threads == 0 {
		threads = 1
	}
	for i := range recs {
		if proto != nil { // gnn_torch.py follows the cell's protocol
			recs[i].Hidden, recs[i].Epochs = proto.Hidden, proto.Epochs
			recs[i].LR, recs[i].WeightDecay, recs[i].Dropout = proto.LR, proto.WeightDecay, proto.Dropout
		} else { // mlp_torch.py's: the published MNIST protocol
			recs[i].Epochs, recs[i].Batch, recs[i].LR = 100, 100, 0.01
		}
		if c.Epochs > 0 {
			recs[i].Epochs = c.Epochs
		}
		// The peer reports no per-seed wall time; its loading is shared.
		recs[i].WallS = wall / float64(seeds)
		recs[i].Meta.Peer = fmt.Sprintf("torch %s, %d thread(s)", t.version, threads)
	}
	return recs, nil
}

// args returns the peer's command line for c (the script as an absolute
// path, so that a relative Dir means the same from any working directory)
// and, for gnn_torch.py, the protocol it follows; nil for mlp_torch.py.
func (t *TorchPeer) args(c Cell, seeds int) ([]string, *gnn.Config, error) {
	dir, err := filepath.Abs(t.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("peer folder %s: %w", t.Dir, err)
	}
	var args []string
	var proto *gnn.Config
	switch {
	case slices.Contains(gnn.Archs(), c.Model):
		if !PeerReads(c.Dataset) {
			return nil, nil, fmt.Errorf("the peer gnn_torch.py does not read %s", c.Dataset)
		}
		cfg, err := gnn.ConfigFor(c.Model, gnn.ProtocolFor(c.Dataset))
		if err != nil {
			return nil, nil, err
		}
		proto = &cfg
		args = []string{filepath.Join(dir, "gnn_torch.py"), "--dataset", c.Dataset, "--model", c.Model}
	case strings.HasPrefix(c.Model, "mlp") && c.Dataset == MLPDataset:
		args = []string{filepath.Join(dir, "mlp_torch.py"), "--arch", c.Model}
	default:
		return nil, nil, fmt.Errorf("no peer for model %s on %s", c.Model, c.Dataset)
	}
	args = append(args, "--seeds", strconv.Itoa(seeds))
	if t.Root != "" {
		args = append(args, "--root", t.Root)
	}
	if t.Threads > 0 {
		args = append(args, "--threads", strconv.Itoa(t.Threads))
	}
	if c.Epochs > 0 {
		args = append(args, "--epochs", strconv.Itoa(c.Epochs))
	}
	if c.Variant == NSR {
		args = append(args, "--nsr-lambda", strconv.FormatFloat(c.Lambda, 'g', -1, 64))
	}
	return args, proto, nil
}

// parsePeer turns the peer's JSON lines into one record per seed (keys
// left to the driver), checking that a summary line for all seeds ends
// them: a run that stopped early is an error, not a short result.
func parsePeer(out []byte, seeds int) ([]Record, error) {
	var recs []Record
	var sum *peerLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue // anything else the script prints, warnings say
		}
		var l peerLine
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("output line %q: %w", line, err)
		}
		if l.Summary {
			sum = &l
			continue
		}
		if l.Seed == nil {
			continue
		}
		r := Record{Key: Key{Seed: *l.Seed}, EpochMs: l.EpochMsMedian}
		switch {
		case l.TestAcc != nil && l.ValAcc != nil:
			r.TestAcc, r.ValAcc = *l.TestAcc, *l.ValAcc
		case l.TestErr != nil && l.ValErr != nil:
			r.TestAcc, r.ValAcc = 1-*l.TestErr/100, 1-*l.ValErr/100
			r.EpochMs = 1000 * l.EpochSMedian
		default:
			return nil, fmt.Errorf("output line %q has no accuracies", line)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if sum == nil {
		return nil, errors.New("no summary line: the peer stopped early")
	}
	if sum.Seeds != seeds || len(recs) != seeds {
		return nil, fmt.Errorf("the peer reported %d seed lines and a summary of %d seeds, asked for %d", len(recs), sum.Seeds, seeds)
	}
	// The summary must agree with the seed lines it summarizes.
	var test []float64
	for _, r := range recs {
		test = append(test, r.TestAcc)
	}
	m, _ := MeanStd(test)
	if sum.TestAccMean != nil && abs(m-*sum.TestAccMean) > 1e-9 {
		return nil, fmt.Errorf("the peer's summary test_acc_mean %v differs from its seeds' mean %v", *sum.TestAccMean, m)
	}
	if e := 100 * (1 - m); sum.TestErrMean != nil && abs(e-*sum.TestErrMean) > 1e-6 {
		return nil, fmt.Errorf("the peer's summary test_err_mean %v differs from its seeds' mean %v", *sum.TestErrMean, e)
	}
	return recs, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// lastLines returns the last n lines of b, for error messages.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ProtocolHidden returns the protocol's hidden width of an architecture on
// a dataset (gnn.ConfigFor's), which the peer uses too.
func ProtocolHidden(dataset, arch string) int {
	cfg, err := gnn.ConfigFor(arch, gnn.ProtocolFor(dataset))
	if err != nil {
		return 0
	}
	return cfg.Hidden
}

// PeerReads reports whether the peer gnn_torch.py reads dataset: it reads
// the Planetoid and Amazon families.
func PeerReads(dataset string) bool {
	e, err := datasets.Lookup(dataset)
	return err == nil && (e.Family == datasets.Planetoid || e.Family == datasets.Amazon)
}
