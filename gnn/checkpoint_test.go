package gnn

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnsr/gnsr/datasets"
)

// trainStopping trains cfg on d writing checkpoints to path, resumed from
// from (if not nil), and cancels itself after epoch stop (0: never). It
// returns the result, or nil if the run was interrupted.
func trainStopping(t *testing.T, d *Data, cfg Config, path string, from *Checkpoint, stop int) *Result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := TrainWith(ctx, d, cfg, Options{
		Checkpoint: path, CheckpointEvery: 4, Resume: from,
		OnEpoch: func(e Epoch) {
			if e.Epoch == stop {
				cancel()
			}
		},
	})
	var ie *InterruptedError
	switch {
	case stop > 0 && stop < cfg.Epochs:
		if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Epoch != stop || ie.Checkpoint != path || ie.Resumable != nil {
			t.Fatalf("stopping after epoch %d: %v (%+v)", stop, err, ie)
		}
		return nil
	case err != nil:
		t.Fatal(err)
	}
	return res
}

// canonical encodes c with the wall times zeroed: what must match between
// an interrupted run and one that was not.
func canonical(t *testing.T, c *Checkpoint) []byte {
	t.Helper()
	cc := *c
	cc.Epochs = slices.Clone(c.Epochs)
	for i := range cc.Epochs {
		cc.Epochs[i].TrainMs = 0
	}
	b, err := cc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameResult(t *testing.T, got, want *Result) {
	t.Helper()
	if got.BestEpoch != want.BestEpoch || got.ValAcc != want.ValAcc || got.TestAcc != want.TestAcc ||
		got.NSRChoice != want.NSRChoice || !slices.Equal(got.NSRLayers, want.NSRLayers) {
		t.Errorf("result: got best epoch %d val %v test %v NSR %v %q, want %d %v %v %v %q", got.BestEpoch, got.ValAcc, got.TestAcc,
			got.NSRLayers, got.NSRChoice, want.BestEpoch, want.ValAcc, want.TestAcc, want.NSRLayers, want.NSRChoice)
	}
	if len(got.Epochs) != len(want.Epochs) {
		t.Fatalf("%d epochs, want %d", len(got.Epochs), len(want.Epochs))
	}
	for i, g := range got.Epochs {
		w := want.Epochs[i]
		if g.Loss != w.Loss || g.NSRLoss != w.NSRLoss || g.ValAcc != w.ValAcc || g.TestAcc != w.TestAcc {
			t.Errorf("epoch %d: loss %v+%v acc %v/%v, want %v+%v %v/%v", i+1, g.Loss, g.NSRLoss, g.ValAcc, g.TestAcc, w.Loss, w.NSRLoss, w.ValAcc, w.TestAcc)
		}
	}
	for l := range want.Outputs {
		for i, v := range want.Outputs[l] {
			if math.Float32bits(got.Outputs[l][i]) != math.Float32bits(v) {
				t.Fatalf("layer %d output %d: %v, want %v", l, i, got.Outputs[l][i], v)
			}
		}
	}
}

// TestResumeEqualsUninterrupted interrupts runs at several epochs (before,
// at and after the auto NSR choice and the periodic checkpoints), resumes
// each from its checkpoint, possibly several times, and checks that every
// number and the final checkpoint (weights, Adam moments, RNG) equal those
// of the run that was never interrupted, bit for bit.
func TestResumeEqualsUninterrupted(t *testing.T) {
	d := communities(t, 3, 300, 3)
	gcnNSR := quickConfig(5)
	gcnNSR.Epochs, gcnNSR.NSR.Lambdas, gcnNSR.NSR.Layers = 12, []float64{0.5, 0.1}, []int{0, 1}
	auto := quickConfig(6)
	auto.Epochs, auto.NSR.Lambdas, auto.NSR.Auto, auto.NSR.Warmup = 12, []float64{0.5}, true, 3
	sage := quickConfig(7)
	sage.Epochs, sage.Arch, sage.NSR.Lambdas = 12, "sage", []float64{0.3}
	mini := quickConfig(8)
	mini.Epochs, mini.Arch, mini.BatchSize, mini.Fanouts = 6, "sage", 8, []int{5, -1}
	miniAuto := mini
	miniAuto.NSR.Lambdas, miniAuto.NSR.Auto, miniAuto.NSR.Warmup = []float64{0.5}, true, 3
	for _, tc := range []struct {
		name  string
		cfg   Config
		stops [][]int // each a sequence of interruptions
	}{
		{"gcn dropout NSR", gcnNSR, [][]int{{1}, {4}, {6, 9}}},
		{"gcn auto NSR", auto, [][]int{{2}, {3}, {5, 6, 11}}},
		{"sage NSR", sage, [][]int{{5}, {8}}},
		{"sage mini-batch", mini, [][]int{{2}, {3, 4}}},
		{"sage mini-batch auto NSR before the choice", miniAuto, [][]int{{2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			full := filepath.Join(dir, "full.ckpt")
			want := trainStopping(t, d, tc.cfg, full, nil, 0)
			wantCk, err := ReadCheckpoint(full)
			if err != nil {
				t.Fatal(err)
			}
			if !wantCk.Done() || wantCk.EpochsDone != tc.cfg.Epochs {
				t.Fatalf("final checkpoint after %d epochs", wantCk.EpochsDone)
			}
			for _, stops := range tc.stops {
				path := filepath.Join(dir, "stopped.ckpt")
				os.Remove(path)
				var from *Checkpoint
				for _, stop := range stops {
					trainStopping(t, d, tc.cfg, path, from, stop)
					if from, err = ReadCheckpoint(path); err != nil {
						t.Fatal(err)
					}
					if from.EpochsDone != stop {
						t.Fatalf("checkpoint after %d epochs, stopped after %d", from.EpochsDone, stop)
					}
				}
				got := trainStopping(t, d, tc.cfg, path, from, 0)
				sameResult(t, got, want)
				gotCk, err := ReadCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(canonical(t, gotCk), canonical(t, wantCk)) {
					t.Errorf("stops %v: final checkpoint differs from the uninterrupted run's", stops)
				}
			}
		})
	}
}

// TestResumeMiniBatchNSRRefused checks that a mini-batch run whose NSR
// queues hold steps says at the interruption that it cannot be resumed,
// and that resuming it is refused.
func TestResumeMiniBatchNSRRefused(t *testing.T) {
	d := communities(t, 3, 200, 3)
	cfg := quickConfig(1)
	cfg.Epochs, cfg.Arch, cfg.BatchSize, cfg.Fanouts, cfg.NSR.Lambdas = 5, "sage", 10, []int{4, 4}, []float64{0.5}
	path := filepath.Join(t.TempDir(), "mb.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := TrainWith(ctx, d, cfg, Options{Checkpoint: path, OnEpoch: func(Epoch) { cancel() }})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Resumable == nil || !strings.Contains(ie.Resumable.Error(), "queues") {
		t.Fatalf("got %v, want an interruption that is not resumable", err)
	}
	ck, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TrainWith(context.Background(), d, cfg, Options{Resume: ck}); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "queues") {
		t.Errorf("resume: %v, want a refusal naming the queues", err)
	}
	if acc, err := Evaluate(d, ck); err != nil || acc.Train <= 0 {
		t.Errorf("Evaluate: %+v, %v", acc, err)
	}
}

// TestResumeMismatch checks that a checkpoint is refused for other data,
// another configuration or architecture, naming what differs.
func TestResumeMismatch(t *testing.T) {
	d := communities(t, 3, 200, 3)
	cfg := quickConfig(2)
	cfg.Epochs = 3
	path := filepath.Join(t.TempDir(), "c.ckpt")
	if _, err := TrainWith(context.Background(), d, cfg, Options{Checkpoint: path}); err != nil {
		t.Fatal(err)
	}
	ck, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	other := communities(t, 4, 200, 3)
	hidden := cfg
	hidden.Hidden = 32
	lr := cfg
	lr.LR = 0.02
	for _, tc := range []struct {
		name string
		d    *Data
		cfg  Config
		want string
	}{
		{"data", other, cfg, "other data"},
		{"hidden", d, hidden, "Hidden"},
		{"lr", d, lr, "LR"},
	} {
		_, err := TrainWith(context.Background(), tc.d, tc.cfg, Options{Resume: ck})
		if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrCheckpoint naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := Evaluate(other, ck); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("Evaluate on other data: %v", err)
	}
	// Same data with another architecture's weights.
	bad := *ck
	bad.Weights = slices.Clone(ck.Weights)
	bad.Weights[0].Shape = []int{bad.Weights[0].Shape[1], bad.Weights[0].Shape[0]}
	if _, err := Evaluate(d, &bad); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "architecture") {
		t.Errorf("Evaluate with transposed weights: %v", err)
	}
	// A finished checkpoint resumes to its result without training.
	res, err := TrainWith(context.Background(), d, cfg, Options{Resume: ck})
	if err != nil || len(res.Epochs) != 3 || res.TestAcc != ck.TestAcc {
		t.Errorf("resuming a finished run: %v, %v", res, err)
	}
}

// smallCheckpoint returns the encoding of a real checkpoint of a short run.
func smallCheckpoint(tb testing.TB) []byte {
	tb.Helper()
	d := communities(tb, 3, 100, 2)
	cfg := quickConfig(2)
	cfg.Epochs, cfg.Hidden, cfg.NSR.Lambdas = 2, 4, []float64{0.1}
	path := filepath.Join(tb.TempDir(), "c.ckpt")
	if _, err := TrainWith(context.Background(), d, cfg, Options{Checkpoint: path, Meta: map[string]string{"dataset": "test"}}); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestCheckpointCorrupt truncates a checkpoint at every length and flips
// one bit of every byte in turn: each is refused with ErrCheckpoint and an
// error naming the file, never loaded, never a panic.
func TestCheckpointCorrupt(t *testing.T) {
	good := smallCheckpoint(t)
	if _, err := DecodeCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bad.ckpt")
	check := func(what string, b []byte) {
		t.Helper()
		if c, err := DecodeCheckpoint(b); err == nil || c != nil || !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("%s: loaded (%v)", what, err)
		}
	}
	for n := range len(good) {
		check("truncated to "+strconv.Itoa(n), good[:n])
	}
	step := max(1, len(good)/1500)
	for i := 0; i < len(good); i += step {
		b := slices.Clone(good)
		b[i] ^= 1 << (i % 8)
		check("bit flipped at "+strconv.Itoa(i), b)
	}
	// Through the file, the error names it.
	if err := os.WriteFile(path, good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCheckpoint(path); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: %v, want ErrCheckpoint naming %s", err, path)
	}
}

// TestCheckpointRoundTrip checks that decoding an encoding gives back the
// same checkpoint, and that the version is checked.
func TestCheckpointRoundTrip(t *testing.T) {
	good := smallCheckpoint(t)
	c, err := DecodeCheckpoint(good)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.MarshalBinary()
	if err != nil || !bytes.Equal(again, good) {
		t.Fatalf("re-encoding differs (%v)", err)
	}
	if c.Meta["dataset"] != "test" || c.EpochsDone != 2 || len(c.Weights) != 4 || len(c.Best) != 4 || c.Optimizer.Kind != "adam" || c.Optimizer.Step != 2 {
		t.Errorf("decoded %+v", c)
	}
	v := slices.Clone(good)
	v[8] = 9
	if _, err := DecodeCheckpoint(v); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("version 9: %v", err)
	}
}

// FuzzCheckpoint checks that DecodeCheckpoint never panics and only ever
// accepts what it can encode and decode again.
func FuzzCheckpoint(f *testing.F) {
	good := smallCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(checkpointMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCheckpoint(b)
		if err != nil {
			if c != nil || !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("error %v with checkpoint %v", err, c)
			}
			return
		}
		again, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeCheckpoint(again); err != nil {
			t.Fatalf("re-encoded checkpoint refused: %v", err)
		}
	})
}

// BenchmarkSoakPubMedGCN trains GCN on PubMed for GNSR_SOAK_EPOCHS epochs
// (default b.N) and reports the heap in use, after a GC, at the start and
// at the end: a leak per epoch shows as growth.
func BenchmarkSoakPubMedGCN(b *testing.B) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		b.Skip("GNSR_DATA is not set")
	}
	ds, err := datasets.Load(root, "pubmed")
	if err != nil {
		b.Fatal(err)
	}
	d, err := FromDataset(ds)
	if err != nil {
		b.Fatal(err)
	}
	epochs := b.N
	if s := os.Getenv("GNSR_SOAK_EPOCHS"); s != "" {
		if epochs, err = strconv.Atoi(s); err != nil || epochs < 1 {
			b.Fatalf("GNSR_SOAK_EPOCHS=%q", s)
		}
	}
	heap := func() float64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return float64(m.HeapInuse)
	}
	cfg := DefaultConfig()
	cfg.Epochs = epochs
	cfg.NSR.Lambdas = []float64{1}
	var start, end float64
	b.ResetTimer()
	t0 := time.Now()
	_, err = Train(context.Background(), d, cfg, func(e Epoch) {
		if e.Epoch == 1 { // after the first step's one-off allocations
			start = heap()
		}
		if e.Epoch == epochs { // while the run still holds its graphs
			end = heap()
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(start/(1<<20), "heap-start-MiB")
	b.ReportMetric(end/(1<<20), "heap-end-MiB")
	b.ReportMetric(100*(end-start)/start, "heap-growth-%")
	b.ReportMetric(float64(epochs), "epochs")
	b.ReportMetric(float64(time.Since(t0).Milliseconds())/float64(epochs), "ms/epoch")
}
