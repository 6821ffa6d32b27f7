package gnn

import (
	"os"
	"testing"

	"github.com/gnsr/gnsr/datasets"
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
	d, err := FromDataset(ds)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := ConfigFor(model, ProtocolFor(dataset))
	if err != nil {
		b.Fatal(err)
	}
	if hidden > 0 {
		cfg.Hidden = hidden
	}
	a, _ := LookupArch(model)
	r, err := newRun(d, cfg, a.New)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.compile(); err != nil {
		b.Fatal(err)
	}
	defer r.vm.Close()
	for i := 0; b.Loop(); i++ {
		if _, err := r.step(i + 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStepComputersGCN(b *testing.B)  { benchmarkStep(b, "amazon-computers", "gcn", 64) }
func BenchmarkStepComputersSAGE(b *testing.B) { benchmarkStep(b, "amazon-computers", "sage", 64) }
func BenchmarkStepPubMedGCN(b *testing.B)     { benchmarkStep(b, "pubmed", "gcn", 16) }
func BenchmarkStepPubMedGAT(b *testing.B)     { benchmarkStep(b, "pubmed", "gat", 0) }
func BenchmarkStepPhotoGAT(b *testing.B)      { benchmarkStep(b, "amazon-photo", "gat", 0) }
