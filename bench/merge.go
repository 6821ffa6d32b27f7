package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TableFile is one file of a table's records: <table>.jsonl (Shard zero)
// or a shard's <table>.shard-<i>-of-<n>.jsonl.
type TableFile struct {
	Path  string
	Shard Shard
}

var shardFileName = regexp.MustCompile(`^(.+)\.shard-([0-9]+)-of-([0-9]+)\.jsonl$`)

// TableFiles returns the files of table in dir: <table>.jsonl first when
// it exists, then the shards' files by shard count and index. A missing
// directory has none. A shard file whose index is not below its count is
// an error that names it.
func TableFiles(dir, table string) ([]TableFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var files, shards []TableFile
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if e.Name() == table+".jsonl" {
			files = append(files, TableFile{Path: Path(dir, table)})
			continue
		}
		m := shardFileName.FindStringSubmatch(e.Name())
		if m == nil || m[1] != table {
			continue
		}
		sh, err := ParseShard(m[2]+"/"+m[3], nil)
		if err != nil {
			return nil, fmt.Errorf("bench: %s is not a shard's file: %w", Path(dir, strings.TrimSuffix(e.Name(), ".jsonl")), err)
		}
		shards = append(shards, TableFile{Path: Path(dir, sh.Name(table)), Shard: sh})
	}
	slices.SortFunc(shards, func(a, b TableFile) int {
		if a.Shard.Count != b.Shard.Count {
			return a.Shard.Count - b.Shard.Count
		}
		return a.Shard.Index - b.Shard.Index
	})
	return append(files, shards...), nil
}

// Merged is a table's records joined from all its files in a directory.
type Merged struct {
	Table string
	Files []TableFile
	// Records holds each key once, as the first file in Files order
	// recorded it.
	Records    []Record
	Duplicates []Duplicate
	// Ignored says, per file, that a last line cut short by a killed run
	// (or a shard still writing) was left out.
	Ignored []string
}

// Duplicate is a run recorded more than once.
type Duplicate struct {
	Key Key
	// Files are the files holding the key, in the order read: the first is
	// the record kept (a file appears twice if it holds the key twice).
	Files []string
	// Conflict is set when the records' results differ (see SameResult):
	// then at most one of them is right, and the table cannot be trusted
	// until a person removes the others.
	Conflict bool
}

// Merge reads every file of table in dir (TableFiles) without changing
// them, and joins their records: a key recorded twice is reported as a
// Duplicate, and the first record kept.
func Merge(dir, table string) (*Merged, error) {
	files, err := TableFiles(dir, table)
	if err != nil {
		return nil, err
	}
	m := &Merged{Table: table, Files: files}
	first := map[Key]int{}   // into m.Records
	from := map[Key]string{} // the file of the kept record
	dup := map[Key]int{}     // into m.Duplicates
	for _, f := range files {
		recs, dropped, err := ReadRecords(f.Path)
		if err != nil {
			return nil, err
		}
		if dropped > 0 {
			m.Ignored = append(m.Ignored, fmt.Sprintf("%s: ignoring a last line of %d bytes cut short by a killed run (or one still writing it)", f.Path, dropped))
		}
		for _, r := range recs {
			i, seen := first[r.Key]
			if !seen {
				first[r.Key], from[r.Key] = len(m.Records), f.Path
				m.Records = append(m.Records, r)
				continue
			}
			j, ok := dup[r.Key]
			if !ok {
				j = len(m.Duplicates)
				dup[r.Key] = j
				m.Duplicates = append(m.Duplicates, Duplicate{Key: r.Key, Files: []string{from[r.Key]}})
			}
			d := &m.Duplicates[j]
			d.Files = append(d.Files, f.Path)
			d.Conflict = d.Conflict || !SameResult(m.Records[i], r)
		}
	}
	return m, nil
}

// MissingShards returns, for each shard count among m's shard files, the
// shards without a file: tasks that never started (every shard creates its
// file when it starts, even with no runs to make).
func (m *Merged) MissingShards() []Shard {
	have := map[Shard]bool{}
	var counts []int
	for _, f := range m.Files {
		if f.Shard.Sharded() {
			have[f.Shard] = true
			if !slices.Contains(counts, f.Shard.Count) {
				counts = append(counts, f.Shard.Count)
			}
		}
	}
	var missing []Shard
	for _, n := range counts {
		for i := range n {
			if !have[Shard{Index: i, Count: n}] {
				missing = append(missing, Shard{Index: i, Count: n})
			}
		}
	}
	return missing
}

// Conflicts returns the duplicates whose results differ.
func (m *Merged) Conflicts() []Duplicate {
	var out []Duplicate
	for _, d := range m.Duplicates {
		if d.Conflict {
			out = append(out, d)
		}
	}
	return out
}

// Unfinished returns the runs of the plan that recs (the records of table)
// were run under that they do not hold, in run order (see the plans'
// Todo). The peer table's cells are those 'gnsr bench peers' derives from
// the GNN table, whose records are gnn.
func Unfinished(table string, recs, gnn []Record) []Job {
	p, ok := planOf(recs, table)
	if !ok {
		return nil
	}
	switch table {
	case TableGNN:
		return gnnPlanOf(p).Todo(recs)
	case TableMLP:
		return MLPPlan{Models: p.Models, Seeds: p.Seeds, ModelEpochs: p.Epochs}.Todo(recs)
	case TableTune:
		return tunePlanOf(p).Todo(recs)
	case TableNSRGNN:
		return nsrGNNPlanOf(p).Todo(recs)
	case TableThreads:
		return threadsPlanOf(p).Todo(recs)
	case TablePeers:
		var graphModels, graphSets []string
		var mlpCells []Cell
		for _, m := range p.Models {
			if !strings.HasPrefix(m, "mlp") {
				graphModels = append(graphModels, m)
			} else if _, ok := Published(m); ok && slices.Contains(p.Datasets, MLPDataset) {
				van, nsr := MLPCells(m, p.Epochs[m])
				mlpCells = append(mlpCells, van, nsr)
			}
		}
		for _, d := range p.Datasets {
			if d != MLPDataset {
				graphSets = append(graphSets, d)
			}
		}
		cells, _ := PeerCells(gnn, graphModels, graphSets)
		return PeersPlan{Models: p.Models, Datasets: p.Datasets, Seeds: p.Seeds, Cells: append(cells, mlpCells...)}.Todo(recs)
	}
	return nil
}

// SameResult reports whether a and b are the same run with the same
// results and settings: equal but for the timings (WallS, EpochMs), the
// plan and the metadata (when, where and by which build).
func SameResult(a, b Record) bool {
	a.Plan, b.Plan = Plan{}, Plan{}
	return SameRun(a, b)
}

// SameRun reports whether a and b are equal but for the timings (WallS,
// EpochMs) and the metadata (Meta: when, where and by which build): what a
// table made by several processes, on several machines, must share with
// the same table made by one process.
func SameRun(a, b Record) bool {
	a.WallS, a.EpochMs, a.Meta = 0, 0, Meta{}
	b.WallS, b.EpochMs, b.Meta = 0, 0, Meta{}
	return reflect.DeepEqual(a, b)
}

// Diff is how two sets of records of a table differ.
type Diff struct {
	Same         int   // keys in both, with SameRun records
	Differ       []Key // keys in both whose records differ
	OnlyA, OnlyB []Key // keys in one set only
}

// Equal reports whether the two sets hold the same runs.
func (d Diff) Equal() bool { return len(d.Differ)+len(d.OnlyA)+len(d.OnlyB) == 0 }

// Compare compares two sets of records, each holding a key at most once
// (as Merge returns them), by key: keys in a's order, then b's.
func Compare(a, b []Record) Diff {
	var d Diff
	bi := map[Key]int{}
	for i, r := range b {
		bi[r.Key] = i
	}
	inA := map[Key]bool{}
	for _, r := range a {
		inA[r.Key] = true
		j, ok := bi[r.Key]
		switch {
		case !ok:
			d.OnlyA = append(d.OnlyA, r.Key)
		case SameRun(r, b[j]):
			d.Same++
		default:
			d.Differ = append(d.Differ, r.Key)
		}
	}
	for _, r := range b {
		if !inA[r.Key] {
			d.OnlyB = append(d.OnlyB, r.Key)
		}
	}
	return d
}

// String names a run: "gnn gnsr gcn cora nsr λ=3 layer 0 seed 2", with the
// epochs where the key sets them.
func (k Key) String() string {
	s := fmt.Sprintf("%s %s %s %s %s", k.Table, k.Impl, k.Model, k.Dataset, k.Variant)
	if k.Variant != Vanilla {
		s += fmt.Sprintf(" λ=%g layer %d", k.Lambda, k.Layer)
	}
	if k.TrainEpochs > 0 {
		s += " " + epochsPhrase(strconv.Itoa(k.TrainEpochs))
	}
	return s + fmt.Sprintf(" seed %d", k.Seed)
}
