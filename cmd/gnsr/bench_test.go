package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runBench runs the bench command (not yet registered on the root) with args.
func runBench(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := newBenchCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestBenchDryRunAndFlags(t *testing.T) {
	out := t.TempDir()
	stdout, _, err := runBench(t, "gnn", "--dry-run", "--out", out, "--data-dir", t.TempDir(), "--datasets", "cora,pubmed", "--seeds", "4", "--tune-seeds", "2")
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
		{[]string{"gnn", "--lambda-grid", "1,x"}, "--lambda-grid"},
		{[]string{"gnn", "--models", "gat"}, "unknown model"},
		{[]string{"gnn", "--seeds", "0"}, "--seeds"},
		{[]string{"gnn", "--datasets", "cora"}, "missing file"}, // the data root is empty
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
