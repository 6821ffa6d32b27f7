package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gnsr/gnsr/bench"
)

// shardData returns $GNSR_DATA, skipping the test without it or without
// the given datasets there.
func shardData(t *testing.T, sets ...string) string {
	t.Helper()
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	for _, d := range sets {
		if _, err := os.Stat(filepath.Join(root, d, "raw")); err != nil {
			t.Skipf("%s is not under %s", d, root)
		}
	}
	return root
}

// runChildren runs gnsr with args in n child processes at once, child i
// with JOB_COMPLETION_INDEX=i and GNSR_SHARD_COUNT=n (a Kubernetes Indexed
// Job's), and fails the test if any fails.
func runChildren(t *testing.T, n int, args ...string) {
	t.Helper()
	children := make([]*child, n)
	for i := range n {
		children[i] = startChildEnv(t, []string{fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i), fmt.Sprintf("GNSR_SHARD_COUNT=%d", n),
			"SLURM_ARRAY_TASK_ID="}, append(args, "--shard", "auto")...)
	}
	for i, c := range children {
		if err := c.wait(); err != nil {
			t.Fatalf("shard %d/%d of %v: %v\n%s", i, n, args, err, c.stderr)
		}
	}
}

// runOne runs gnsr with args in one child process and fails the test if it
// fails.
func runOne(t *testing.T, args ...string) {
	t.Helper()
	c := startChild(t, args...)
	if err := c.wait(); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, c.stderr)
	}
}

// checkJoined checks, in this process, that the shards' table in sharded
// is complete, holds no run twice, and equals one process's table in one
// record for record (gnsr bench report --require-complete, gnsr bench
// compare), and returns the report's output.
func checkJoined(t *testing.T, sharded, one, table string, shards int) string {
	t.Helper()
	out, err := gnsr(t, "bench", "report", "--out", sharded, "--require-complete")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	want := fmt.Sprintf("%s: %%d runs from %d shard files (of %d), 0 recorded twice; complete", table, shards, shards)
	var n int
	if _, err := fmt.Sscanf(firstLine(out, table+":"), want, &n); err != nil || n == 0 {
		t.Errorf("report says %q, want %q", firstLine(out, table+":"), want)
	}
	m, err := bench.Merge(sharded, table)
	if err != nil || len(m.Duplicates) > 0 || len(m.Records) != n {
		t.Errorf("merge: %v, %d duplicates, %d records", err, len(m.Duplicates), len(m.Records))
	}
	cmp, err := gnsr(t, "bench", "compare", one, sharded)
	if err != nil || !strings.Contains(cmp, fmt.Sprintf("%s: the same %d runs in both", table, n)) {
		t.Errorf("compare: %v\n%s", err, cmp)
	}
	return out
}

// firstLine returns the first line of s that starts with prefix.
func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestShardProcesses runs bench gnn, bench mlp and tune as 4 processes,
// each given its JOB_COMPLETION_INDEX as a Kubernetes Indexed Job gives
// it, and checks that the joined table equals one process's record for
// record.
func TestShardProcesses(t *testing.T) {
	root := shardData(t, "cora", "mnist")
	data := []string{"--data-dir", root, "-q"}
	for _, tc := range []struct {
		table  string
		args   []string
		phases []string
	}{
		{"gnn", []string{"bench", "gnn", "--dataset", "cora", "--model", "gcn,sage", "--seeds", "2", "--tune-seeds", "1", "--nsr-lambda-grid", "0.3,3", "--epochs", "10"}, []string{"tune", "final"}},
		{"mlp", []string{"bench", "mlp", "--model", "mlp3", "--seeds", "2", "--epochs", "1"}, nil},
		{"tune", []string{"tune", "--dataset", "cora", "--seeds", "2", "--epochs", "10", "--nsr-lambda-grid", "0.3,3"}, nil},
	} {
		t.Run(tc.table, func(t *testing.T) {
			one, sharded := t.TempDir(), t.TempDir()
			args := append(append(tc.args, data...), "--out")
			runOne(t, append(args, one)...)
			if tc.phases == nil {
				runChildren(t, 4, append(args, sharded)...)
			}
			for _, ph := range tc.phases {
				runChildren(t, 4, append(args, sharded, "--phase", ph)...)
			}
			checkJoined(t, sharded, one, tc.table, 4)
		})
	}
}

// TestShardKilledAndRerun kills one shard's process (SIGKILL) after its
// first run is recorded, reruns it, and checks that the table completes
// with no run recorded twice and equals one process's.
func TestShardKilledAndRerun(t *testing.T) {
	root := shardData(t, "cora")
	one, sharded := t.TempDir(), t.TempDir()
	args := []string{"bench", "gnn", "--dataset", "cora", "--model", "gcn,sage", "--seeds", "4", "--tune-seeds", "2",
		"--nsr-lambda-grid", "0.3,3", "--epochs", "50", "--data-dir", root, "-q", "--out"}
	runOne(t, append(args, one)...)
	shard := func(i int, phase string) []string {
		return append(args, sharded, "--phase", phase, "--shard", fmt.Sprintf("%d/2", i))
	}
	// Shard 0 has 8 tune-phase runs of some 0.1 s: killed within a few ms
	// of the first, it has most of them to do.
	file := bench.Path(sharded, bench.Shard{Index: 0, Count: 2}.Name(bench.TableGNN))
	c := startChild(t, shard(0, "tune")...)
	for lines := 0; lines == 0; {
		b, _ := os.ReadFile(file)
		lines = strings.Count(string(b), "\n")
		select {
		case err := <-c.done:
			t.Fatalf("shard 0 finished before it was killed (%v)", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := c.wait(); err == nil {
		t.Fatal("the killed shard exited cleanly")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	killedAt := strings.Count(string(b), "\n")
	if killedAt >= 8 {
		t.Fatalf("shard 0 recorded %d runs before the kill: all of them", killedAt)
	}
	runOne(t, shard(0, "tune")...) // the rerun
	runOne(t, shard(1, "tune")...)
	runOne(t, shard(0, "final")...)
	runOne(t, shard(1, "final")...)
	out := checkJoined(t, sharded, one, "gnn", 2)
	t.Logf("killed after %d of shard 0's tune-phase runs; %s", killedAt, firstLine(out, "gnn:"))
}

// TestShardFlagErrors checks the errors of --shard and --phase.
func TestShardFlagErrors(t *testing.T) {
	for _, k := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
		t.Setenv(k, "")
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "gnn", "--shard", "1/4"}, "--shard 1/4 needs --phase tune or final"},
		{[]string{"bench", "gnn", "--shard", "4/4", "--phase", "tune"}, "from 0 to 3"},
		{[]string{"bench", "gnn", "--shard", "0/4", "--phase", "first"}, "--phase"},
		{[]string{"bench", "mlp", "--shard", "auto"}, "neither SLURM_ARRAY_TASK_ID"},
		{[]string{"bench", "gnn", "--epochs", "-1"}, "--epochs"},
		{[]string{"tune", "--dataset", "cora", "--shard", "0/2"}, "--shard needs --out"},
		{[]string{"tune", "--dataset", "cora", "--shard", "auto", "--out", empty}, "neither"},
	} {
		args := append(tc.args, "--data-dir", empty)
		if tc.args[0] == "bench" {
			args = append(args, "--out", empty)
		}
		out, err := gnsr(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q\n%s", tc.args, err, tc.want, out)
		}
	}
	// The 8 final runs by cost: sage on pubmed (11.3 s a run) twice,
	// shards 0 and 1; gcn on pubmed (7.6 s) twice, shards 2 and 3; the
	// cheaper cora runs then fill shards 2 and 3 up to 10.9 s.
	out, err := gnsr(t, "bench", "gnn", "--dry-run", "--out", empty, "--data-dir", empty, "--dataset", "cora,pubmed", "--seeds", "4", "--tune-seeds", "2", "--shard", "1/4", "--phase", "final")
	if err != nil || !strings.Contains(out, "plan (gnn, shard 1/4, phase final): 1 runs to do") || !strings.Contains(out, "sage   pubmed") {
		t.Errorf("dry run of a shard: %v\n%s", err, out)
	}
}
