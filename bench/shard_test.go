package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// env returns a getenv for the given variables.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		flag string
		env  func(string) string
		want Shard
		err  string // a part of the error; "" for none
	}{
		{"", env(), Shard{}, ""},
		{"0/1", env(), Shard{0, 1}, ""},
		{"3/4", env(), Shard{3, 4}, ""},
		{"4/4", env(), Shard{}, "from 0 to 3"},
		{"-1/4", env(), Shard{}, "from 0 to 3"},
		{"1/0", env(), Shard{}, "count"},
		{"1/100001", env(), Shard{}, "count"},
		{"2", env(), Shard{}, "want i/n"},
		{"a/b", env(), Shard{}, "count"},
		{"auto", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_STEP", "1"), Shard{2, 4}, ""},
		{"auto", env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{2, 4}, ""},
		// --array=1-4 and --array=10-16:2
		{"auto", env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1"), Shard{3, 4}, ""},
		{"auto", env("SLURM_ARRAY_TASK_ID", "14", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "10", "SLURM_ARRAY_TASK_STEP", "2"), Shard{2, 4}, ""},
		{"auto", env("SLURM_ARRAY_TASK_ID", "15", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "10", "SLURM_ARRAY_TASK_STEP", "2"), Shard{}, "not on the array's step"},
		// --array=0,1,5,7: task 5 is not one of 4 shards
		{"auto", env("SLURM_ARRAY_TASK_ID", "5", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{}, "--array=0-3"},
		{"auto", env("SLURM_ARRAY_TASK_ID", "2"), Shard{}, "SLURM_ARRAY_TASK_COUNT is not"},
		{"auto", env("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "4"), Shard{}, `SLURM_ARRAY_TASK_ID="x"`},
		{"auto", env("JOB_COMPLETION_INDEX", "3", "GNSR_SHARD_COUNT", "4"), Shard{3, 4}, ""},
		{"auto", env("JOB_COMPLETION_INDEX", "0", "GNSR_SHARD_COUNT", "1"), Shard{0, 1}, ""},
		{"auto", env("JOB_COMPLETION_INDEX", "4", "GNSR_SHARD_COUNT", "4"), Shard{}, "not among the 4 shards"},
		{"auto", env("JOB_COMPLETION_INDEX", "3"), Shard{}, "GNSR_SHARD_COUNT is not"},
		{"auto", env("JOB_COMPLETION_INDEX", "1", "GNSR_SHARD_COUNT", "0"), Shard{}, `GNSR_SHARD_COUNT="0"`},
		{"auto", env(), Shard{}, "neither SLURM_ARRAY_TASK_ID"},
		{"auto", env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "2", "JOB_COMPLETION_INDEX", "1"), Shard{}, "both"},
	} {
		got, err := ParseShard(tc.flag, tc.env)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.flag, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one with %q", tc.flag, err, tc.err)
		case got != tc.want:
			t.Errorf("%q: %+v, want %+v", tc.flag, got, tc.want)
		}
	}
	if n := (Shard{2, 4}).Name(TableGNN); n != "gnn.shard-2-of-4" {
		t.Errorf("name %q", n)
	}
	if n := (Shard{}).Name(TableGNN); n != "gnn" {
		t.Errorf("name %q", n)
	}
}

// TestShardingPartition checks that every run of a plan, final runs at any
// λ included, belongs to exactly one shard in exactly one phase, that a
// cell of the peer table stays whole, and that the shards' estimated loads
// differ by no more than the costliest run (the greedy assignment's bound).
func TestShardingPartition(t *testing.T) {
	p := testPlan()
	p.Datasets = append(p.Datasets, "amazon-photo", "citeseer")
	var jobs []Job
	for _, j := range p.Todo(nil) {
		if j.Undecided {
			for _, l := range p.Grid { // whichever λ is chosen
				j.Undecided, j.Cell.Lambda = false, l
				jobs = append(jobs, j)
			}
			continue
		}
		jobs = append(jobs, j)
	}
	for _, n := range []int{1, 3, 4, 7, 100} {
		count := map[Job]int{}
		load := make([]time.Duration, n)
		for i := range n {
			for _, ph := range []Phase{PhaseTune, PhaseFinal} {
				keep := NewSharding(p, Shard{i, n}, ph)
				for _, j := range jobs {
					if keep.Keep(j) {
						count[j]++
						load[i] += DefaultPrior(j.Impl, j.Cell)
						if _, phase := p.Slot(j); phase != ph {
							t.Errorf("%d shards: %+v kept in phase %s", n, j, ph)
						}
					}
				}
			}
		}
		for _, j := range jobs {
			if count[j] != 1 {
				t.Fatalf("%d shards: %+v is run by %d shards", n, j, count[j])
			}
		}
		if n > len(jobs) {
			continue
		}
		// The final runs here count once per λ: compare the tune phase.
		tune := make([]time.Duration, n)
		var costliest time.Duration
		for _, j := range p.Todo(nil) {
			if j.Undecided {
				continue
			}
			c := DefaultPrior(j.Impl, j.Cell)
			costliest = max(costliest, c)
			for i := range n {
				if NewSharding(p, Shard{i, n}, PhaseTune).Keep(j) {
					tune[i] += c
				}
			}
		}
		if spread := slices.Max(tune) - slices.Min(tune); spread > costliest {
			t.Errorf("%d shards: tune-phase loads %v differ by %v, more than the costliest run %v", n, tune, spread, costliest)
		}
	}
	// The peer table: gnsr's seeds and the peer's of a cell in one shard.
	pp := PeersPlan{Models: []string{"gcn", "sage"}, Datasets: []string{"cora", "pubmed"}, Seeds: 3}
	for _, m := range pp.Models {
		for _, d := range pp.Datasets {
			pp.Cells = append(pp.Cells, Cell{Model: m, Dataset: d, Variant: Vanilla}, Cell{Model: m, Dataset: d, Variant: NSR, Lambda: 3})
		}
	}
	for _, c := range pp.Cells {
		owners := map[int]bool{}
		for i := range 3 {
			keep := NewSharding(pp, Shard{i, 3}, PhaseAll)
			for _, j := range pp.Todo(nil) {
				if j.Cell == c && keep.Keep(j) {
					owners[i] = true
				}
			}
		}
		if len(owners) != 1 {
			t.Errorf("peer cell %+v split among shards %v", c, owners)
		}
	}
}

// shardOptions are testOptions for shard sh in phase ph.
func shardOptions(clock *fakeClock, sh Shard, ph Phase) Options {
	o := testOptions(clock)
	o.Shard, o.Phase = sh, ph
	return o
}

// runGNNShard runs shard sh of p in phase ph into dir and returns how many
// runs it made and its error.
func runGNNShard(t *testing.T, ctx context.Context, dir string, p GNNPlan, sh Shard, ph Phase, f *fakeRun) (int, error) {
	t.Helper()
	s, err := OpenShard(dir, TableGNN, sh)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if f == nil {
		f = &fakeRun{}
	}
	if f.clock == nil {
		f.clock = &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	err = RunGNN(ctx, s, p, f.run, shardOptions(f.clock, sh, ph))
	return len(f.calls), err
}

// checkMerged checks that the table of dir, joined from its files, holds
// want's runs exactly once each, with no shard missing and nothing left.
func checkMerged(t *testing.T, dir, table string, want, gnn []Record) {
	t.Helper()
	m, err := Merge(dir, table)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Duplicates) > 0 || len(m.MissingShards()) > 0 {
		t.Errorf("%s: duplicates %+v, missing shards %v", table, m.Duplicates, m.MissingShards())
	}
	if todo := Unfinished(table, m.Records, gnn); len(todo) > 0 {
		t.Errorf("%s: %d runs missing: %+v", table, len(todo), todo)
	}
	if d := Compare(want, m.Records); !d.Equal() {
		t.Errorf("%s: the shards' table differs from one process's: %d the same, differ %v, only in one process's %v, only in the shards' %v", table, d.Same, d.Differ, d.OnlyA, d.OnlyB)
	}
}

// TestShardedGNN runs the GNN table as 4 shards in two phases and checks
// that it equals the table of one process, record for record; that the
// final phase before the tune phase says what it waits for; that a shard
// without a phase is refused; and that each shard made its own runs only.
func TestShardedGNN(t *testing.T) {
	ctx := context.Background()
	p := testPlan()
	whole := runFresh(t, t.TempDir())
	dir := t.TempDir()
	if _, err := runGNNShard(t, ctx, dir, p, Shard{0, 4}, PhaseAll, nil); !errors.Is(err, errPhaseNeeded) {
		t.Errorf("a shard without a phase: %v", err)
	}
	n, err := runGNNShard(t, ctx, dir, p, Shard{1, 4}, PhaseFinal, nil)
	if err == nil || !strings.Contains(err.Error(), "λ is not chosen yet for") || n != 0 {
		t.Errorf("the final phase first: %d runs, %v", n, err)
	}
	total := 0
	for _, ph := range []Phase{PhaseTune, PhaseFinal} {
		for i := range 4 {
			n, err := runGNNShard(t, ctx, dir, p, Shard{i, 4}, ph, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 && ph == PhaseTune {
				t.Errorf("shard %d/4 had no tune-phase run", i)
			}
			total += n
		}
	}
	if total != len(whole) {
		t.Errorf("the shards made %d runs, the table has %d", total, len(whole))
	}
	checkMerged(t, dir, TableGNN, whole, nil)
	// Each shard's own file: its runs in both phases, none of another's.
	for i := range 4 {
		recs, _, err := ReadRecords(Path(dir, Shard{i, 4}.Name(TableGNN)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			j := Job{Impl: r.Impl, Cell: Cell{Model: r.Model, Dataset: r.Dataset, Variant: r.Variant, Layer: r.Layer, Lambda: r.Lambda, Epochs: r.TrainEpochs}, Seed: r.Seed}
			if !NewSharding(p, Shard{i, 4}, PhaseAll).Keep(j) {
				t.Errorf("shard %d recorded %v, another shard's run", i, r.Key)
			}
		}
	}
	// The same in one directory per shard (no shard sees another's runs
	// during the tune phase): the files joined hold no run twice.
	sep := t.TempDir()
	for i := range 4 {
		d := filepath.Join(sep, "tune", string(rune('a'+i)))
		if _, err := runGNNShard(t, ctx, d, p, Shard{i, 4}, PhaseTune, nil); err != nil {
			t.Fatal(err)
		}
		copyFile(t, Path(d, Shard{i, 4}.Name(TableGNN)), filepath.Join(sep, "joined", Shard{i, 4}.Name(TableGNN)+".jsonl"))
	}
	for i := range 4 {
		if _, err := runGNNShard(t, ctx, filepath.Join(sep, "joined"), p, Shard{i, 4}, PhaseFinal, nil); err != nil {
			t.Fatal(err)
		}
	}
	checkMerged(t, filepath.Join(sep, "joined"), TableGNN, whole, nil)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShardKillAndResume kills a shard after two runs, leaves a line cut
// short at the end of its file as a kill during the write does, reruns it,
// and checks that the table completes without a run made or recorded twice.
func TestShardKillAndResume(t *testing.T) {
	p := testPlan()
	whole := runFresh(t, t.TempDir())
	dir := t.TempDir()
	for _, ph := range []Phase{PhaseTune, PhaseFinal} {
		for i := range 3 {
			if i == 1 {
				ctx, cancel := context.WithCancel(context.Background())
				f := &fakeRun{cancelAfter: 2, cancel: cancel}
				if _, err := runGNNShard(t, ctx, dir, p, Shard{i, 3}, ph, f); !errors.Is(err, context.Canceled) {
					t.Fatalf("killed shard: %v", err)
				}
				cancel()
				path := Path(dir, Shard{i, 3}.Name(TableGNN))
				fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				fh.WriteString(`{"table":"gnn","impl":"gnsr","mod`)
				fh.Close()
				if m, err := Merge(dir, TableGNN); err != nil || len(m.Ignored) != 1 {
					t.Errorf("a cut-short line while merging: %v, %q", err, m.Ignored)
				}
				f = &fakeRun{}
				if _, err := runGNNShard(t, context.Background(), dir, p, Shard{i, 3}, ph, f); err != nil {
					t.Fatal(err)
				}
				for _, k := range f.calls {
					if _, ok := keySet(whole)[k]; !ok {
						t.Errorf("rerun made %v, not a run of the table", k)
					}
				}
				continue
			}
			if _, err := runGNNShard(t, context.Background(), dir, p, Shard{i, 3}, ph, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkMerged(t, dir, TableGNN, whole, nil)
}

func TestShardedMLPAndPeers(t *testing.T) {
	ctx := context.Background()
	p := mlpTestPlan()
	whole, err := runMLP(t, t.TempDir(), p, newFakeMLP(), ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 3 {
		s, err := OpenShard(dir, TableMLP, Shard{i, 3})
		if err != nil {
			t.Fatal(err)
		}
		f := newFakeMLP()
		if err := RunMLP(ctx, s, p, f.run, shardOptions(f.clock, Shard{i, 3}, PhaseAll)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	checkMerged(t, dir, TableMLP, whole, nil)

	gnnRecs := runFresh(t, t.TempDir())
	cells, _ := PeerCells(gnnRecs, []string{"gcn", "sage"}, []string{"cora", "pubmed"})
	pp := PeersPlan{Models: []string{"gcn", "sage"}, Datasets: []string{"cora", "pubmed"}, Seeds: 2, Cells: cells}
	peer := func(ctx context.Context, c Cell, seeds int) ([]Record, error) {
		return parsePeer([]byte(peerOut), seeds)
	}
	runPeers := func(dir string, sh Shard) {
		s, err := OpenShard(dir, TablePeers, sh)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		f := &fakeRun{clock: &fakeClock{}}
		if err := RunPeers(ctx, s, pp, f.run, peer, shardOptions(f.clock, sh, PhaseAll)); err != nil {
			t.Fatal(err)
		}
	}
	one := t.TempDir()
	runPeers(one, Shard{})
	wholePeers, _, err := ReadRecords(Path(one, TablePeers))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for i := range 2 {
		runPeers(dir, Shard{i, 2})
	}
	checkMerged(t, dir, TablePeers, wholePeers, gnnRecs)
}

// fakeTune is a tune Runner: fakeRun's numbers, keyed in the tune table.
func fakeTune(f *fakeRun) Runner {
	return func(ctx context.Context, c Cell, seed uint64) (Record, error) {
		r, err := f.run(ctx, c, seed)
		r.Epochs = c.Epochs
		return r, err
	}
}

func TestShardedTune(t *testing.T) {
	ctx := context.Background()
	p := TunePlan{Model: "gcn", Dataset: "pubmed", FirstSeed: 5, Seeds: 3, Grid: []float64{0.3, 3, 100}, Epochs: 30, Config: `{"Hidden":16}`}
	clock := &fakeClock{}
	s := NewMemStore()
	if err := RunTune(ctx, s, p, fakeTune(&fakeRun{}), testOptions(clock)); err != nil {
		t.Fatal(err)
	}
	whole := slices.Clone(s.Records())
	if len(whole) != 12 || whole[0].Seed != 5 || whole[0].TrainEpochs != 30 || whole[0].Plan.FirstSeed != 5 {
		t.Fatalf("%d runs, first %+v", len(whole), whole[0])
	}
	got, rows, lambda, chosen := TuneTable(whole)
	if !chosen || lambda != 3 || got.Model != "gcn" || got.FirstSeed != 5 || len(rows) != 4 || rows[3].Failed != 3 || rows[2].N != 3 {
		t.Errorf("tune table: plan %+v, λ %v (chosen %v), rows %+v", got, lambda, chosen, rows)
	}
	md := string(TuneMarkdown(whole))
	for _, w := range []string{"seeds 5–7", "| 3 | **72.60** | 87.00 ± 1.00 | 3.0 |", "| 100 | diverged | diverged (3) | — |", "the chosen λ = 3"} {
		if !strings.Contains(md, w) {
			t.Errorf("tune markdown lacks %q:\n%s", w, md)
		}
	}
	dir := t.TempDir()
	for i := range 5 {
		s, err := OpenShard(dir, TableTune, Shard{i, 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := RunTune(ctx, s, p, fakeTune(&fakeRun{}), shardOptions(clock, Shard{i, 5}, PhaseAll)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	checkMerged(t, dir, TableTune, whole, nil)
	// Another setting in the same directory is refused.
	s, err := OpenShard(dir, TableTune, Shard{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := p
	q.Config = `{"Hidden":64}`
	if err := RunTune(ctx, s, q, fakeTune(&fakeRun{}), testOptions(clock)); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings in the same directory: %v", err)
	}
}

// TestMerge checks what joining a table's files reports: runs recorded
// twice (with the same results, or not), shards without a file, runs
// missing, and files that are not a shard's.
func TestMerge(t *testing.T) {
	whole := runFresh(t, t.TempDir())
	dir := t.TempDir()
	write := func(name string, recs []Record) {
		s, err := Open(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := s.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
	// Shards 0 and 2 of 4, overlapping by two runs; shards 1 and 3 missing.
	write(Shard{0, 4}.Name(TableGNN), whole[:10])
	other := slices.Clone(whole[8:20])
	other[1].TestAcc += 0.01 // the second overlapping run disagrees
	other[0].WallS, other[0].Meta.CPU = 99, "another machine"
	write(Shard{2, 4}.Name(TableGNN), other)
	m, err := Merge(dir, TableGNN)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Records) != 20 || len(m.Files) != 2 || m.Files[0].Shard != (Shard{0, 4}) {
		t.Errorf("%d records from %+v", len(m.Records), m.Files)
	}
	if len(m.Duplicates) != 2 || m.Duplicates[0].Conflict || !m.Duplicates[1].Conflict || len(m.Conflicts()) != 1 ||
		m.Duplicates[0].Key != whole[8].Key || !slices.Equal(m.Duplicates[0].Files, []string{m.Files[0].Path, m.Files[1].Path}) {
		t.Errorf("duplicates %+v", m.Duplicates)
	}
	if got := m.MissingShards(); !slices.Equal(got, []Shard{{1, 4}, {3, 4}}) {
		t.Errorf("missing shards %v", got)
	}
	if got := Unfinished(TableGNN, m.Records, nil); len(got) != len(whole)-20 {
		t.Errorf("%d runs unfinished, want %d", len(got), len(whole)-20)
	}
	if err := os.WriteFile(filepath.Join(dir, "gnn.shard-4-of-4.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(dir, TableGNN); err == nil || !strings.Contains(err.Error(), "gnn.shard-4-of-4") {
		t.Errorf("a file of shard 4 of 4: %v", err)
	}
	// Only the table's own files count.
	if files, err := TableFiles(t.TempDir(), TableGNN); err != nil || len(files) != 0 {
		t.Errorf("empty directory: %v, %v", files, err)
	}
	if files, err := TableFiles(filepath.Join(dir, "none"), TableGNN); err != nil || len(files) != 0 {
		t.Errorf("missing directory: %v, %v", files, err)
	}
}

// TestOpenShardSkipsOtherFiles checks that a run recorded in any file of
// the table is not made again, nor written twice.
func TestOpenShardSkipsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	whole := runFresh(t, dir) // gnn.jsonl holds every run
	s, err := OpenShard(dir, TableGNN, Shard{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Records()) != len(whole) {
		t.Errorf("the shard sees %d runs, want %d", len(s.Records()), len(whole))
	}
	f := &fakeRun{clock: &fakeClock{}}
	for _, ph := range []Phase{PhaseTune, PhaseFinal} {
		if err := RunGNN(context.Background(), s, testPlan(), f.run, shardOptions(f.clock, Shard{1, 2}, ph)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Append(whole[0]); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.Path())
	if len(f.calls) != 0 || err != nil || len(b) != 0 {
		t.Errorf("%d runs made, %d bytes written (%v)", len(f.calls), len(b), err)
	}
}
