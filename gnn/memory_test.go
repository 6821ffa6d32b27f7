package gnn

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnsr/gnsr/datasets"
)

// heapPeak samples the bytes of heap objects (live and not yet swept)
// every millisecond while fn runs, and returns the largest sample less the
// one taken, after a collection, before fn.
func heapPeak(fn func()) int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	runtime.GC()
	runtime.GC() // what finalizers kept
	base := read()
	var peak int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return max(peak, read()) - base
}

// TestEstimateMemory checks EstimateMemory against the peak heap of short
// runs on a synthetic graph (data loading included), with the estimate as
// the runtime's memory limit as gnsr train sets it: the estimate must lie
// between the peak and twice the peak, for each architecture and for
// sampled training.
func TestEstimateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on a 30,000-node graph")
	}
	dir := filepath.Join(t.TempDir(), "g")
	if _, err := datasets.WriteSynthetic(dir, datasets.SynthConfig{Nodes: 30000, AvgDegree: 20, Classes: 10,
		Features: 300, NNZPerRow: 20, Homophily: 0.8, Train: 0.6, Val: 0.2, Format: "parquet"}); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		arch  string
		batch int
	}{{"gcn", 0}, {"sage", 0}, {"gat", 0}, {"sage", 128}} {
		cfg, err := ConfigFor(test.arch, Protocol{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Hidden, cfg.Epochs = 64, 2
		if test.batch > 0 {
			cfg.BatchSize, cfg.Fanouts, cfg.Epochs = test.batch, []int{10, 5}, 1
		}
		var est int64
		peak := heapPeak(func() {
			ds, err := datasets.LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			d, err := FromDataset(ds)
			if err != nil {
				t.Fatal(err)
			}
			est = EstimateMemory(d, cfg)
			// As gnsr train runs it: the estimate is the soft limit.
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(est))
			if _, err := Train(context.Background(), d, cfg, nil); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s batch %d: estimate %s, peak heap %s (%.2fx)", test.arch, test.batch, FormatBytes(est), FormatBytes(peak), float64(est)/float64(peak))
		if est < peak || est > 2*peak {
			t.Errorf("%s batch %d: estimate %s, peak heap %s: not within [1, 2] times the peak", test.arch, test.batch, FormatBytes(est), FormatBytes(peak))
		}
	}
}

// TestCheckMemory checks the refusal and its message.
func TestCheckMemory(t *testing.T) {
	d := communities(t, 1, 200, 3)
	cfg := DefaultConfig()
	cfg.Hidden = 1 << 20
	err := CheckMemory(d, cfg, 1<<30)
	if !errors.Is(err, ErrMemory) || !strings.Contains(err.Error(), "needs about") || !strings.Contains(err.Error(), "1.07 GB is available") {
		t.Errorf("CheckMemory of a huge run with 1 GiB: %v", err)
	}
	cfg.Hidden = 16
	if err := CheckMemory(d, cfg, 1<<30); err != nil {
		t.Errorf("CheckMemory of a small run with 1 GiB: %v", err)
	}
	for b, want := range map[int64]string{999: "0.000999 MB", 1e6: "1 MB", 2_345_678_901: "2.35 GB", 8e12: "8 TB"} {
		if got := FormatBytes(b); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", b, got, want)
		}
	}
}
