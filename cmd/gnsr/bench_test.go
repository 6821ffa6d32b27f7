package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/bench"
)

// runBench runs gnsr bench with args.
func runBench(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{"bench"}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestBenchDryRunAndFlags(t *testing.T) {
	out := t.TempDir()
	stdout, _, err := runBench(t, "gnn", "--dry-run", "--out", out, "--data-dir", t.TempDir(), "--dataset", "cora,pubmed", "--seeds", "4", "--tune-seeds", "2")
	if err != nil {
		t.Fatal(err)
	}
	// 2 models × 2 datasets × (4 vanilla + 4 λ × 2 tuning seeds + 2 more at the chosen λ).
	for _, w := range []string{"56 runs to do", "gcn    cora", "sage   pubmed", "(prior)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, stdout)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gnn", "--tune-seeds", "11"}, "tune seeds"},
		{[]string{"gnn", "--nsr-lambda-grid", "1,x"}, "--nsr-lambda-grid"},
		{[]string{"gnn", "--model", "gin"}, "unknown architecture"},
		{[]string{"gnn", "--seeds", "0"}, "--seeds"},
		{[]string{"gnn", "--dataset", "foo", "--dry-run"}, "unknown dataset"},
		{[]string{"gnn", "--dataset", "mnist", "--dry-run"}, "not a node-classification dataset"},
	} {
		_, _, err := runBench(t, append(tc.args, "--out", out, "--data-dir", t.TempDir())...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	_, stderr, err := runBench(t, "report", "--out", out)
	if err != nil || !strings.Contains(stderr, "no results") {
		t.Errorf("report on an empty directory: %v, %q", err, stderr)
	}
}

func TestBenchMLPDryRunAndFlags(t *testing.T) {
	out := t.TempDir()
	stdout, _, err := runBench(t, "mlp", "--dry-run", "--out", out, "--data-dir", t.TempDir(), "--epochs", "20", "--model-epochs", "mlp4=100")
	if err != nil {
		t.Fatal(err)
	}
	// 5 models × 2 variants × 3 seeds.
	for _, w := range []string{"30 runs to do", "mlp3   mnist                 6", "mlp10  mnist", "(prior)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("plan lacks %q:\n%s", w, stdout)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mlp", "--model", "mlp5"}, "unknown model"},
		{[]string{"mlp", "--model", "mlp3,mlp3"}, "twice"},
		{[]string{"mlp", "--seeds", "0"}, "--seeds"},
		{[]string{"mlp", "--epochs", "0"}, "--epochs"},
		{[]string{"mlp", "--model-epochs", "mlp9=3"}, "--model-epochs"},
		{[]string{"mlp", "--model", "mlp3", "--model-epochs", "mlp4=100"}, "not among --model"},
		{[]string{"mlp", "--model-epochs", "mlp4=0"}, "need at least 1"},
		{[]string{"mlp", "--model-epochs", "mlp4"}, "model-epochs"},    // not NAME=N
		{[]string{"mlp", "--model", "mlp3", "--epochs", "1"}, "mnist"}, // the data root is empty
		{[]string{"peers", "--mlp-epochs", "-1"}, "--mlp-epochs"},
		{[]string{"peers", "--dataset", "mnist", "--mlp-epochs", "0"}, "nothing to run"},
	} {
		_, _, err := runBench(t, append(tc.args, "--out", out, "--data-dir", t.TempDir())...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestBenchReportMLP(t *testing.T) {
	out := t.TempDir()
	s, err := bench.Open(out, bench.TableMLP)
	if err != nil {
		t.Fatal(err)
	}
	_, nsr := bench.MLPCells("mlp4", 1)
	plan := bench.MLPPlan{Models: []string{"mlp4"}, Seeds: 1, Epochs: 1}
	fake := func(_ context.Context, c bench.Cell, _ uint64) (bench.Record, error) {
		acc := 0.97
		if c == nsr {
			acc = 0.98
		}
		return bench.Record{TestAcc: acc, ValAcc: acc, Epochs: 1, Batch: 100, LR: 0.01, WallS: 1, EpochMs: 900}, nil
	}
	if err := bench.RunMLP(context.Background(), s, plan, fake, bench.Options{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stdout, _, err := runBench(t, "report", "--out", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"mlp.md", "mlp.png"} {
		if !strings.Contains(stdout, filepath.Join(out, f)) {
			t.Errorf("report did not write %s:\n%s", f, stdout)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "mlp.md"))
	if err != nil || !strings.Contains(string(md), "| mlp4 | 256,100 | 1 | 1 | 3.00 | 2.00 | +1.00 | 2.29 ± 0.07 | 1.64 ± 0.04 |") {
		t.Errorf("mlp.md (%v):\n%s", err, md)
	}
}

// TestBenchThreads runs the thread table on a small synthetic graph: every
// run a child process (this test binary as gnsr) at its thread count, each
// seed's numbers the same at 1, 2 and 3 threads, and the report written
// (again by gnsr bench report).
func TestBenchThreads(t *testing.T) {
	tmp := t.TempDir()
	graph := filepath.Join(tmp, "graph")
	if _, err := gnsr(t, "data", "synth", "--nodes", "400", "--features", "50", "--seed", "2", "--out", graph); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "results")
	args := []string{"threads", "--graph", graph, "--model", "gcn,sage", "--threads", "1,2,3", "--seeds", "2", "--epochs", "5", "--out", out, "--data-dir", tmp, "-q"}
	stdout, _, err := runBench(t, append(args, "--dry-run")...)
	if err != nil || !strings.Contains(stdout, "12 runs to do") {
		t.Fatalf("dry run: %v\n%s", err, stdout)
	}
	if _, stderr, err := runBench(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if err := os.Remove(filepath.Join(out, "threads.md")); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runBench(t, "report", "--out", out, "--require-complete"); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "threads.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "| 1 |") || strings.HasPrefix(line, "| 2 |") || strings.HasPrefix(line, "| 3 |") {
			rows++
			if fields := strings.Split(line, "|"); strings.TrimSpace(fields[2]) != "2" || strings.TrimSpace(fields[8]) != "yes" {
				t.Errorf("row %q: want 2 runs and the same numbers", line)
			}
		}
	}
	if rows != 6 || !strings.Contains(string(md), "### sage on graph "+graph) {
		t.Errorf("want 2 models × 3 thread counts on the graph:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(out, "threads.png")); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--threads", "2,1"}, "--threads"},
		{[]string{"--threads", "0"}, "--threads"},
		{[]string{"--model", "gin"}, "unknown architecture"},
		{[]string{"--graph", filepath.Join(tmp, "none")}, "--graph"},
		{[]string{"--epochs", "-2"}, "--epochs"},
	} {
		_, _, err := runBench(t, append([]string{"threads", "--dry-run", "--out", t.TempDir(), "--data-dir", tmp}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}
