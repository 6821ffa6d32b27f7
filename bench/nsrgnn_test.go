package bench

import (
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gnsr/gnsr/internal/stats"
)

func nsrTestPlan() NSRGNNPlan {
	return NSRGNNPlan{Models: []string{"gcn"}, Datasets: []string{"cora"}, Depths: []int{2, 4}, Sampled: true,
		Arms: []string{ArmAuto, ArmLast}, Grid: []float64{0.1, 1}, TuneSeeds: 2, TestSeeds: 4}
}

// nsrFake is a Runner for the study. On the tuning seeds λ=1 has the best
// validation accuracy; on the held-out seeds λ=0.1 would, so a choice that
// peeks at them is caught. NSR's test accuracy is vanilla's plus 0.01 plus
// a per-seed wobble, so the paired interval excludes zero; the sampled
// models' NSR runs gain nothing on average.
type nsrFake struct {
	calls []Key
	clock *fakeClock
	// cancelAfter, if > 0, cancels cancel after that many calls.
	cancelAfter int
	cancel      context.CancelFunc
}

func (f *nsrFake) run(ctx context.Context, c Cell, seed uint64) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	f.calls = append(f.calls, gnsrKey(TableNSRGNN, c, seed))
	f.clock.t = f.clock.t.Add(time.Second)
	if f.cancelAfter > 0 && len(f.calls) == f.cancelAfter {
		f.cancel()
	}
	r := Record{Hidden: 16, Epochs: 200, LR: 0.01, WeightDecay: 5e-4, Dropout: 0.5, EpochMs: 2, WallS: 1}
	test := 0.70 + 0.01*float64(seed%3)
	r.ValAcc, r.TestAcc = 0.70, test
	if c.Variant == NSR {
		tuning := seed < 2
		switch {
		case c.Lambda == 1 && tuning, c.Lambda == 0.1 && !tuning:
			r.ValAcc = 0.75
		default:
			r.ValAcc = 0.72
		}
		wobble := []float64{0.002, -0.001, 0.001, -0.002}[seed%4]
		r.TestAcc = test + 0.01 + wobble
		if c.Sampled {
			r.TestAcc = test + wobble
		}
		if c.Arm == ArmAuto {
			r.NSRLayers, r.NSRChoice = []int{int(seed % 2)}, "fake"
		}
	}
	return r, nil
}

func runNSRFresh(t *testing.T, dir string, p NSRGNNPlan) ([]Record, *nsrFake) {
	t.Helper()
	s, err := Open(dir, TableNSRGNN)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := &nsrFake{clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if err := RunNSRGNN(context.Background(), s, p, f.run, testOptions(f.clock)); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(s.Records()), f
}

// TestRunNSRGNN checks the study's runs: vanilla on the held-out seeds
// only, every λ on the tuning seeds, λ chosen on the tuning seeds alone,
// the last arm on the last hidden layer, and the paired differences.
func TestRunNSRGNN(t *testing.T) {
	p := nsrTestPlan()
	recs, _ := runNSRFresh(t, t.TempDir(), p)
	models := p.ModelsOf()
	if len(models) != 4 {
		t.Fatalf("models %v, want gcn-2, gcn-4, sage-2 sampled, sage-4 sampled", models)
	}
	perModel := p.TestSeeds + len(p.Arms)*(len(p.Grid)*p.TuneSeeds+p.TestSeeds)
	if want := len(models) * perModel; len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	if todo := p.Todo(recs); len(todo) != 0 {
		t.Errorf("Todo after the run: %d jobs, want 0", len(todo))
	}
	for _, r := range recs {
		switch {
		case r.Variant == Vanilla && r.Seed < 2:
			t.Errorf("vanilla on a tuning seed: %+v", r.Key)
		case r.Variant == NSR && r.Seed >= 2 && r.Lambda != 1:
			t.Errorf("held-out run with λ %v, want 1 (the tuning seeds' choice): %+v", r.Lambda, r.Key)
		case r.Arm == ArmLast && r.Layer != r.Depth-2:
			t.Errorf("last arm on layer %d of a %d-layer model", r.Layer, r.Depth)
		case r.Depth == 0 || r.Sampled != (r.Model == SampledModel):
			t.Errorf("record without its model's depth or sampling: %+v", r.Key)
		}
	}
	gotP, rows := NSRGNNTable(recs)
	if !slices.Equal(gotP.Depths, p.Depths) || !slices.Equal(gotP.Arms, p.Arms) || gotP.TestSeeds != 4 || !gotP.Sampled {
		t.Errorf("the table's plan %+v, want %+v", gotP, p)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	for _, row := range rows {
		if row.Vanilla.N != 4 {
			t.Errorf("%s: vanilla over %d seeds, want 4", row.Model, row.Vanilla.N)
		}
		for _, a := range row.Arms {
			var van, nsr []float64
			for s := uint64(2); s < 6; s++ {
				test := 0.70 + 0.01*float64(s%3)
				d := 0.01
				if row.Model.Sampled {
					d = 0
				}
				van, nsr = append(van, test), append(nsr, test+d+[]float64{0.002, -0.001, 0.001, -0.002}[s%4])
			}
			want := stats.PairedT(van, nsr)
			if !a.Chosen || a.Lambda != 1 || a.Paired.N != 4 || math.Abs(a.Paired.Mean-want.Mean) > 1e-12 || math.Abs(a.Paired.P-want.P) > 1e-9 {
				t.Errorf("%s %s: λ %v chosen %v, paired %+v, want λ 1 and %+v", row.Model, a.Arm, a.Lambda, a.Chosen, a.Paired, want)
			}
			if a.Arm == ArmAuto && (a.Layers[0] != 2 || a.Layers[1] != 2) {
				t.Errorf("%s auto: layers %v, want 0 and 1 twice each", row.Model, a.Layers)
			}
		}
	}
	md := string(NSRGNNMarkdown(recs))
	for _, want := range []string{
		"| cora | gcn-4 | 71.25 ± 0.96 | last | 1 | 2 | 72.25 ± 1.04 | **+1.00** | [+0.71, +1.29] |",
		"| cora | gcn-2 | 71.25 ± 0.96 | auto | 1 | 0 ×2, 1 ×2 |",
		"| cora | sage-2 sampled | 71.25 ± 0.96 | last | 1 | 0 | 71.25 ± 1.04 | +0.00 | [-0.29, +0.29] |",
		"seeds 2–5, never used for the choice",
		"2 and 4 layers",
		"fanouts [25 10] at depth 2",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	dir := t.TempDir()
	if err := WriteNSRGNNReport(dir, recs); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, TableNSRGNN+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("nsr-gnn.png: %v", err)
	}
}

// TestNSRGNNResumeAndShards kills the study twice and resumes it, then
// runs it as three shards in two phases; both must equal one
// uninterrupted run, record for record, without a run made twice.
func TestNSRGNNResumeAndShards(t *testing.T) {
	p := nsrTestPlan()
	want, _ := runNSRFresh(t, t.TempDir(), p)
	dir := t.TempDir()
	calls := 0
	for _, kill := range []int{5, 23, 0} {
		s, err := Open(dir, TableNSRGNN)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		f := &nsrFake{clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}, cancelAfter: kill, cancel: cancel}
		err = RunNSRGNN(ctx, s, p, f.run, testOptions(f.clock))
		cancel()
		s.Close()
		if (err != nil) != (kill > 0) {
			t.Fatalf("kill after %d: %v", kill, err)
		}
		calls += len(f.calls)
	}
	if calls != len(want) {
		t.Errorf("%d runs over three invocations, want %d: a run was made twice or never", calls, len(want))
	}
	checkMerged(t, dir, TableNSRGNN, want, nil)

	dir = t.TempDir()
	for _, ph := range []Phase{PhaseTune, PhaseFinal} {
		for i := range 3 {
			sh := Shard{Index: i, Count: 3}
			s, err := OpenShard(dir, TableNSRGNN, sh)
			if err != nil {
				t.Fatal(err)
			}
			f := &nsrFake{clock: &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
			err = RunNSRGNN(context.Background(), s, p, f.run, shardOptions(f.clock, sh, ph))
			s.Close()
			if err != nil {
				t.Fatalf("shard %d phase %s: %v", i, ph, err)
			}
		}
	}
	checkMerged(t, dir, TableNSRGNN, want, nil)
}

func TestNSRGNNPlanValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(*NSRGNNPlan)
		want   string
	}{
		{func(p *NSRGNNPlan) { p.Depths = []int{1} }, "depth 1"},
		{func(p *NSRGNNPlan) { p.Depths = []int{2, 2} }, "twice"},
		{func(p *NSRGNNPlan) { p.Arms = []string{"first"} }, `arm "first"`},
		{func(p *NSRGNNPlan) { p.TestSeeds = 0 }, "held-out seeds = 0"},
		{func(p *NSRGNNPlan) { p.Grid = nil }, "grid is empty"},
	} {
		p := nsrTestPlan()
		tc.change(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
		}
	}
	if got := SampledFanouts(4); !slices.Equal(got, []int{10, 10, 5, 5}) {
		t.Errorf("SampledFanouts(4) = %v", got)
	}
}
