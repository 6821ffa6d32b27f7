package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestDefaultThreads(t *testing.T) {
	for n, want := range map[int][]int{0: {1}, 1: {1}, 2: {1, 2}, 6: {1, 2, 4, 6}, 16: {1, 2, 4, 8, 16}} {
		if got := DefaultThreads(n); !slices.Equal(got, want) {
			t.Errorf("DefaultThreads(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestThreadsPlanValidate(t *testing.T) {
	ok := ThreadsPlan{Models: []string{"gcn"}, Datasets: []string{"cora"}, Threads: []int{1, 2}, Seeds: 1}
	if err := ok.Validate(); err != nil {
		t.Fatalf("%+v: %v", ok, err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ThreadsPlan)
		want string
	}{
		{"no model", func(p *ThreadsPlan) { p.Models = nil }, "needs a model"},
		{"unknown model", func(p *ThreadsPlan) { p.Models = []string{"gcm"} }, "gcm"},
		{"no threads", func(p *ThreadsPlan) { p.Threads = nil }, "thread count"},
		{"zero threads", func(p *ThreadsPlan) { p.Threads = []int{0, 1} }, "thread count 0"},
		{"too many threads", func(p *ThreadsPlan) { p.Threads = []int{1, MaxThreads + 1} }, "need 1 to"},
		{"decreasing", func(p *ThreadsPlan) { p.Threads = []int{2, 1} }, "increasing"},
		{"twice", func(p *ThreadsPlan) { p.Threads = []int{2, 2} }, "increasing"},
		{"no seeds", func(p *ThreadsPlan) { p.Seeds = 0 }, "seeds = 0"},
		{"negative epochs", func(p *ThreadsPlan) { p.Epochs = -1 }, "epochs = -1"},
	} {
		p := ok
		tc.edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// fakeThreadsRun is a Runner for the thread table whose epoch time halves
// with each doubling of the threads and whose numbers are the seed's,
// except those of seed 1 at 4 threads.
func fakeThreadsRun(calls *[]string) Runner {
	return func(_ context.Context, c Cell, seed uint64) (Record, error) {
		*calls = append(*calls, fmt.Sprintf("%d/%s/%s/%d", seed, c.Dataset, c.Model, c.Threads))
		print := fmt.Sprintf("seed%d", seed)
		if seed == 1 && c.Threads == 4 {
			print = "other"
		}
		return Record{ValAcc: 0.5, TestAcc: 0.25 + 0.25*float64(seed), EpochMs: 8 / float64(c.Threads), Epochs: c.Epochs,
			PeakRSSKiB: 1024 * int64(c.Threads), Fingerprint: print}, nil
	}
}

// TestRunThreads runs a thread table with a fake runner: the runs come
// seed by seed, every thread count of a cell one after the other; a failed
// run stops the table and a second call runs only what is missing; the
// report gives the speed-ups and names the seed whose numbers changed.
func TestRunThreads(t *testing.T) {
	p := ThreadsPlan{Models: []string{"gcn", "sage"}, Datasets: []string{"cora", GraphPrefix + "/g"}, Threads: []int{1, 2, 4}, Seeds: 2, Epochs: 3}
	var want []string
	for seed := range 2 {
		for _, ds := range p.Datasets {
			for _, m := range p.Models {
				for _, th := range p.Threads {
					want = append(want, fmt.Sprintf("%d/%s/%s/%d", seed, ds, m, th))
				}
			}
		}
	}
	s := NewMemStore()
	if n := len(p.Todo(s.Records())); n != 24 {
		t.Fatalf("Todo of an empty store: %d runs, want 24", n)
	}
	var calls []string
	good := fakeThreadsRun(&calls)
	broken := errors.New("out of memory")
	failing := func(ctx context.Context, c Cell, seed uint64) (Record, error) {
		if len(calls) == 5 {
			return Record{}, broken
		}
		return good(ctx, c, seed)
	}
	if err := RunThreads(context.Background(), s, p, failing, Options{}); !errors.Is(err, broken) {
		t.Fatalf("RunThreads with a failing run: %v, want %v", err, broken)
	}
	if n := len(s.Records()); n != 5 {
		t.Fatalf("%d runs recorded before the failure, want 5", n)
	}
	if err := RunThreads(context.Background(), s, p, good, Options{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, want) {
		t.Fatalf("runs in order\n%v\nwant\n%v", calls, want)
	}
	if todo := p.Todo(s.Records()); len(todo) != 0 {
		t.Fatalf("Todo after the table: %v", todo)
	}
	if todo := Unfinished(TableThreads, s.Records(), nil); len(todo) != 0 {
		t.Fatalf("Unfinished after the table: %v", todo)
	}
	for _, r := range s.Records() {
		if r.Table != TableThreads || r.Threads == 0 || r.TrainEpochs != 3 || !slices.Equal(r.Plan.Threads, p.Threads) {
			t.Fatalf("record %+v: want the table, its threads and epochs, and the plan's thread counts", r.Key)
		}
	}

	_, rows := ThreadsTable(s.Records())
	if len(rows) != 12 {
		t.Fatalf("%d rows, want 2 datasets × 2 models × 3 thread counts", len(rows))
	}
	for _, r := range rows {
		if r.N != 2 || r.Compared != 2 {
			t.Errorf("%+v: want 2 runs, 2 compared", r)
		}
		if want := float64(r.Threads); r.SpeedUp != want || r.Efficiency != 1 || r.EpochMs != 8/want {
			t.Errorf("%+v: want speed-up %v, efficiency 1", r, want)
		}
		if r.PeakRSSKiB != 1024*int64(r.Threads) || r.TestAcc != 0.375 {
			t.Errorf("%+v: peak RSS or test accuracy", r)
		}
		if same := r.Threads != 4; r.Same != same || !same && !slices.Equal(r.Differ, []uint64{1}) {
			t.Errorf("%+v: same numbers %v, want %v", r, r.Same, same)
		}
	}
	md := string(ThreadsMarkdown(s.Records()))
	for _, w := range []string{"### gcn on cora", "### sage on graph /g", "| 2 | 2 | 4.00 | 2.00 | 1.00 | 2 | 37.50 | yes |", "| 4 | 2 | 2.00 | 4.00 | 1.00 | 4 | 37.50 | **no**: seed 1 |", "seeds 0–1", "3 epochs", "GOMAXPROCS the run's thread count"} {
		if !strings.Contains(md, w) {
			t.Errorf("threads.md lacks %q:\n%s", w, md)
		}
	}
}

func TestParseSeedLine(t *testing.T) {
	out := `{"seed":3,"val_acc":0.5,"test_acc":0.25,"best_epoch":7,"epoch_ms_median":2.5,"step_ms":[1,2],"wall_s":9,"loss":[1.5,1.25]}
{"seed":4,"val_acc":0.75,"test_acc":0.5,"best_epoch":2,"epoch_ms_median":3,"loss":[1]}
{"summary":true,"hidden":16,"epochs":20,"test_acc_mean":0.375}
`
	r, err := parseSeedLine([]byte(out), 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.ValAcc != 0.5 || r.TestAcc != 0.25 || r.BestEpoch != 7 || r.EpochMs != 2.5 || r.Hidden != 16 || r.Epochs != 20 || r.Fingerprint == "" {
		t.Fatalf("parseSeedLine: %+v", r)
	}
	// Timings do not count; anything else does.
	slower := strings.Replace(strings.Replace(out, `"epoch_ms_median":2.5,"step_ms":[1,2],"wall_s":9`, `"epoch_ms_median":7,"step_ms":[5,5],"wall_s":1`, 1), "\n", "\n\n", 1)
	if r2, err := parseSeedLine([]byte(slower), 3); err != nil || r2.Fingerprint != r.Fingerprint || r2.EpochMs != 7 {
		t.Errorf("other timings: fingerprint %q (%v), want %q", r2.Fingerprint, err, r.Fingerprint)
	}
	changed := strings.Replace(out, `"loss":[1.5,1.25]`, `"loss":[1.5,1.2500001]`, 1)
	if r3, err := parseSeedLine([]byte(changed), 3); err != nil || r3.Fingerprint == r.Fingerprint {
		t.Errorf("another loss: fingerprint %q (%v), want another than %q", r3.Fingerprint, err, r.Fingerprint)
	}
	for _, tc := range []struct {
		out  string
		seed uint64
		want string
	}{
		{out, 5, "no JSON line for seed 5"},
		{"progress 10%\n" + out, 3, "progress 10%"},
		{`{"seed":3,"val_acc":0.5}`, 3, "no val_acc or test_acc"},
	} {
		if _, err := parseSeedLine([]byte(tc.out), tc.seed); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseSeedLine(seed %d): %v, want an error containing %q", tc.seed, err, tc.want)
		}
	}
}

func TestProcessRunnerArgs(t *testing.T) {
	r := &ProcessRunner{Root: "/data"}
	for _, tc := range []struct {
		c    Cell
		want string
	}{
		{Cell{Model: "gcn", Dataset: "pubmed", Threads: 2}, "train --model gcn --dataset pubmed --seed 1 --seeds 1 --json --quiet --data-dir /data"},
		{Cell{Model: "sage", Dataset: GraphPrefix + "/tmp/g 1", Epochs: 10}, "train --model sage --graph /tmp/g 1 --seed 1 --seeds 1 --json --quiet --epochs 10 --data-dir /data"},
	} {
		if got := strings.Join(r.Args(tc.c, 1), " "); got != tc.want {
			t.Errorf("Args(%+v) =\n%s\nwant\n%s", tc.c, got, tc.want)
		}
	}
}

// TestProcessRunnerRun runs a shell that prints a seed's line built from
// the GOMAXPROCS it was given, and one that fails.
func TestProcessRunnerRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script := func(s string) func(context.Context, []string) (*exec.Cmd, error) {
		return func(ctx context.Context, args []string) (*exec.Cmd, error) {
			return exec.CommandContext(ctx, sh, "-c", s), nil
		}
	}
	r := &ProcessRunner{Command: script(`echo "{\"seed\":2,\"val_acc\":0.5,\"test_acc\":0.25,\"epoch_ms_median\":$GOMAXPROCS}"`)}
	rec, err := r.Run(context.Background(), Cell{Model: "gcn", Dataset: "cora", Threads: 3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rec.EpochMs != 3 || rec.Meta.GOMAXPROCS != 3 || rec.WallS <= 0 || rec.Fingerprint == "" {
		t.Errorf("Run: %+v", rec)
	}
	if runtime.GOOS == "linux" && rec.PeakRSSKiB <= 0 {
		t.Errorf("peak RSS %d KiB on Linux", rec.PeakRSSKiB)
	}
	r.Command = script(`echo "cannot read the graph" >&2; exit 1`)
	_, err = r.Run(context.Background(), Cell{Model: "gcn", Dataset: "cora", Threads: 2}, 0)
	if err == nil || !strings.Contains(err.Error(), "GOMAXPROCS=2 gnsr train --model gcn --dataset cora") || !strings.Contains(err.Error(), "cannot read the graph") {
		t.Errorf("Run of a failing process: %v", err)
	}
}
