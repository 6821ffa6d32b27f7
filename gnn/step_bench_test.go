package gnn

import (
	"os"
	"sort"
	"testing"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/parallel"
)

// benchmarkStep times full-batch training steps (dropout draws, forward,
// loss, backward, Adam), what epoch_ms_median measures, without the
// evaluation pass between them.
func benchmarkStep(b *testing.B, dataset, model string, hidden int) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		b.Skip("GNSR_DATA is not set")
	}
	ds, err := datasets.Load(root, dataset)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSteps(b, ds, ProtocolFor(dataset), model, hidden)
}

// benchmarkSteps times ds's training steps of model. Beside the time a
// step it reports cpu/wall, the CPU time of the process over the steps'
// wall time (at most GOMAXPROCS), and, in a binary built with -tags
// parstats, serial-%: the share of the steps' wall time outside parallel
// sections, the counting's own time taken out.
func benchmarkSteps(b *testing.B, ds *datasets.NodeDataset, p Protocol, model string, hidden int) {
	d, err := FromDataset(ds)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := ConfigFor(model, p)
	if err != nil {
		b.Fatal(err)
	}
	if hidden > 0 {
		cfg.Hidden = hidden
	}
	a, _ := LookupArch(model)
	r, err := newRun(d, cfg, a)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.compile(); err != nil {
		b.Fatal(err)
	}
	defer r.vm.Close()
	// One step first, so that buffers and pools are in place.
	if _, err := r.step(1); err != nil {
		b.Fatal(err)
	}
	cpu0, ok := cpuTime()
	start := time.Now()
	_, par0, over0, instrumented := parallel.Stats()
	sites0 := map[string]parallel.Site{}
	for _, s := range parallel.Sites() {
		sites0[s.Caller] = s
	}
	for i := 0; b.Loop(); i++ {
		if _, err := r.step(i + 2); err != nil {
			b.Fatal(err)
		}
	}
	wall := time.Since(start)
	if cpu1, _ := cpuTime(); ok {
		b.ReportMetric(float64(cpu1-cpu0)/float64(wall), "cpu/wall")
	}
	if _, par1, over1, _ := parallel.Stats(); instrumented {
		// The counting's own time is not the program's.
		b.ReportMetric(100*(1-float64(par1-par0)/float64(wall-(over1-over0))), "serial-%")
		// With -v, where the steps' parallel time went and how evenly
		// the goroutines shared it.
		var sites []parallel.Site
		for _, s := range parallel.Sites() {
			s0 := sites0[s.Caller]
			s.Sections, s.Wall, s.Busy, s.Slots = s.Sections-s0.Sections, s.Wall-s0.Wall, s.Busy-s0.Busy, s.Slots-s0.Slots
			if s.Sections > 0 {
				sites = append(sites, s)
			}
		}
		sort.Slice(sites, func(i, j int) bool { return sites[i].Wall > sites[j].Wall })
		for _, s := range sites[:min(12, len(sites))] {
			b.Logf("%5.1f%% of wall, balance %5.1f%%, %5d sections: %s", 100*float64(s.Wall)/float64(wall),
				100*float64(s.Busy)/float64(max(s.Slots, 1)), s.Sections, s.Caller)
		}
	}
}

// BenchmarkStepGraphGCN times GCN steps (hidden 64) on the graph directory
// $GNSR_BENCH_GRAPH, as written by gnsr data synth: the big graphs of
// issue 14 (e.g. 200,000 nodes, --avg-degree 20 --features 500
// --nnz-per-row 20 --classes 10).
func BenchmarkStepGraphGCN(b *testing.B) {
	dir := os.Getenv("GNSR_BENCH_GRAPH")
	if dir == "" {
		b.Skip("GNSR_BENCH_GRAPH is not set")
	}
	ds, err := datasets.LoadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkSteps(b, ds, ProtocolOf(ds.Protocol), "gcn", 64)
}

func BenchmarkStepComputersGCN(b *testing.B)  { benchmarkStep(b, "amazon-computers", "gcn", 64) }
func BenchmarkStepComputersSAGE(b *testing.B) { benchmarkStep(b, "amazon-computers", "sage", 64) }
func BenchmarkStepPubMedGCN(b *testing.B)     { benchmarkStep(b, "pubmed", "gcn", 16) }
func BenchmarkStepCoraGCN(b *testing.B)       { benchmarkStep(b, "cora", "gcn", 16) }
func BenchmarkStepPhotoGCN(b *testing.B)      { benchmarkStep(b, "amazon-photo", "gcn", 64) }
func BenchmarkStepPubMedGAT(b *testing.B)     { benchmarkStep(b, "pubmed", "gat", 0) }
func BenchmarkStepPhotoGAT(b *testing.B)      { benchmarkStep(b, "amazon-photo", "gat", 0) }
