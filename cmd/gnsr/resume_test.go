package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
)

// childArgs, when set in the environment, makes the test binary run gnsr
// with these arguments (a JSON list) instead of the tests, as the real
// command would: the tests below kill such children.
const childArgs = "GNSR_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if s := os.Getenv(childArgs); s != "" {
		var args []string
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			fmt.Fprintln(os.Stderr, "gnsr test child:", err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		// Run as gnsr itself (os.Executable with gnsr's arguments), as
		// gnsr bench threads runs its children.
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is gnsr running in a child process.
type child struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error // receives Wait's result
}

// startChild starts gnsr with args in a child process.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startChildEnv(t, nil, args...)
}

// startChildEnv starts gnsr with args in a child process whose environment
// has env (NAME=value entries) beside this process's.
func startChildEnv(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	a, _ := json.Marshal(args)
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	c.cmd.Env = append(append(os.Environ(), env...), childArgs+"="+string(a))
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-c.done:
			c.done <- err
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// waitFor polls until path exists or the child exits, and reports whether
// path exists with the child still running.
func (c *child) waitFor(t *testing.T, path string) bool {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return true
		}
		select {
		case err := <-c.done:
			c.done <- err // for wait
			return false
		case <-deadline:
			t.Fatalf("no %s after a minute", path)
		case <-time.After(time.Millisecond):
		}
	}
}

// wait returns the child's exit error, leaving it for the next wait.
func (c *child) wait() error {
	err := <-c.done
	c.done <- err
	return err
}

// writeSynthGraph writes a small synthetic graph of four classes (gnsr
// data synth's generator, OGB's layout) and returns its directory.
func writeSynthGraph(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "graph")
	c := datasets.SynthConfig{Nodes: n, AvgDegree: 4, Classes: 4, Features: 24, NNZPerRow: 4, Homophily: 0.7,
		Train: 0.2, Val: 0.2, Seed: 3, Format: "ogb"}
	if _, err := datasets.WriteSynthetic(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readResults(t *testing.T, dir string) resultsJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, resultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var r resultsJSON
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// sameResults checks that the run directories dir and want hold complete
// results of n seeds with the same numbers (wall times aside), and returns
// them.
func sameResults(t *testing.T, dir, want string, n int) (got, exp resultsJSON) {
	t.Helper()
	got, exp = readResults(t, dir), readResults(t, want)
	if !got.Complete || got.Summary == nil || len(got.Seeds) != n || len(exp.Seeds) != n {
		t.Fatalf("results after resuming: %+v", got)
	}
	for i := range exp.Seeds {
		g, w := got.Seeds[i], exp.Seeds[i]
		g.EpochMsMedian, w.EpochMsMedian = 0, 0
		a, _ := json.Marshal(g)
		b, _ := json.Marshal(w)
		if !bytes.Equal(a, b) {
			t.Errorf("seed %d:\n got %s\nwant %s", i, a, b)
		}
	}
	return got, exp
}

// sameCheckpoints checks that two finished checkpoints hold the same
// weights, optimizer state, RNG state and history (wall times aside).
func sameCheckpoints(t *testing.T, gotPath, wantPath string) {
	t.Helper()
	got, err := gnn.ReadCheckpoint(gotPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := gnn.ReadCheckpoint(wantPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*gnn.Checkpoint{got, want} {
		for i := range c.Epochs {
			c.Epochs[i].TrainMs = 0
		}
	}
	a, _ := got.MarshalBinary()
	b, _ := want.MarshalBinary()
	if !got.Done() || !bytes.Equal(a, b) {
		t.Errorf("%s differs from the uninterrupted %s", gotPath, wantPath)
	}
}

// TestKilledRunResumes kills a training child with SIGKILL once it has
// written a checkpoint of seed 0, resumes it in a child killed again during
// seed 1, resumes that to the end, and checks that the results and every
// seed's final weights equal those of a run never interrupted, bit for bit.
func TestKilledRunResumes(t *testing.T) {
	graph := writeSynthGraph(t, 600)
	run := []string{"train", "--graph", graph, "--epochs", "150", "--seeds", "2",
		"--nsr-lambda", "0.5", "--nsr-layers", "auto", "--nsr-warmup", "3", "-q"}
	want := filepath.Join(t.TempDir(), "want")
	if _, err := gnsr(t, append(run, "--out", want)...); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	args := append(slices.Clone(run), "--out", dir, "--checkpoint-every", "4")
	for i, seedFile := range []string{"seed-0.ckpt", "seed-1.ckpt"} {
		c := startChild(t, args...)
		if !c.waitFor(t, filepath.Join(dir, seedFile)) {
			t.Fatalf("child %d ended before writing %s: %s", i, seedFile, c.stderr)
		}
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := c.wait(); err == nil {
			t.Skipf("child %d finished before the kill; the machine is too fast for this run", i)
		}
		ck, err := gnn.ReadCheckpoint(filepath.Join(dir, seedFile))
		if err != nil {
			t.Fatalf("checkpoint after SIGKILL: %v", err)
		}
		t.Logf("killed child %d with %s at epoch %d", i, seedFile, ck.EpochsDone)
		args = []string{"train", "--resume", dir, "-q"}
	}
	out, err := gnsr(t, "train", "--resume", dir, "--json", "-q")
	if err != nil {
		t.Fatal(err)
	}
	got, exp := sameResults(t, dir, want, 2)
	for i := range exp.Seeds {
		sameCheckpoints(t, filepath.Join(dir, fmt.Sprintf("seed-%d.ckpt", i)), filepath.Join(want, fmt.Sprintf("seed-%d.ckpt", i)))
	}
	if got.Summary.TestAccMean != exp.Summary.TestAccMean || !strings.Contains(out, `"summary":true`) {
		t.Errorf("summary %+v, want %+v", got.Summary, exp.Summary)
	}
	// The checkpoints evaluate to the accuracies of the run.
	ev, err := gnsr(t, "eval", "--checkpoint", filepath.Join(dir, "seed-1.ckpt"), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var e evalJSON
	if err := json.Unmarshal([]byte(ev), &e); err != nil || e.Dataset != graph || e.EpochsDone != 150 || e.TrainAcc <= 0.5 {
		t.Errorf("eval: %s (%v)", ev, err)
	}
}

// TestInterruptedRunSaysHowToResume sends SIGTERM to a training child and
// checks that it exits non-zero with the one-line message, leaving a
// checkpoint and partial results.
func TestInterruptedRunSaysHowToResume(t *testing.T) {
	graph := writeSynthGraph(t, 600)
	dir := filepath.Join(t.TempDir(), "run")
	c := startChild(t, "train", "--graph", graph, "--epochs", "100000", "--out", dir, "--checkpoint-every", "5", "-q")
	if !c.waitFor(t, filepath.Join(dir, "seed-0.ckpt")) {
		t.Fatalf("child ended before a checkpoint: %s", c.stderr)
	}
	// While the child writes the run directory, another gnsr train on it
	// is refused, naming it.
	for _, args := range [][]string{{"--resume", dir}, {"--graph", graph, "--epochs", "3", "--out", dir}} {
		if _, err := gnsr(t, append([]string{"train", "-q"}, args...)...); err == nil || !strings.Contains(err.Error(), dir+": another gnsr train is writing this run directory") {
			t.Errorf("train %v beside the running child: %v, want the lock's error naming %s", args, err, dir)
		}
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := c.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	msg := strings.TrimSpace(c.stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "gnsr: interrupted at epoch ") ||
		!strings.Contains(msg, "of seed 0; checkpoint in "+dir+" (resume with --resume "+dir+")") {
		t.Errorf("message %q", msg)
	}
	r := readResults(t, dir)
	ck, err := gnn.ReadCheckpoint(filepath.Join(dir, "seed-0.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Interrupted == nil || r.Interrupted.EpochsDone != ck.EpochsDone || r.Interrupted.Partial == nil ||
		len(r.Interrupted.Partial.Loss) != ck.EpochsDone || !strings.Contains(msg, fmt.Sprintf("epoch %d ", ck.EpochsDone)) {
		t.Errorf("partial results %+v for a checkpoint after %d epochs", r, ck.EpochsDone)
	}
	// The directory holds a run: a new run there is refused, and resuming
	// with other settings too.
	if _, err := gnsr(t, "train", "--graph", graph, "--out", dir); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("new run in a run directory: %v", err)
	}
	if _, err := gnsr(t, "train", "--resume", dir, "--lr", "0.5"); err == nil || !strings.Contains(err.Error(), "--lr") {
		t.Errorf("resume with another --lr: %v", err)
	}
	// Another dataset is refused by eval.
	other := writeSynthGraph(t, 500)
	if _, err := gnsr(t, "eval", "--checkpoint", filepath.Join(dir, "seed-0.ckpt"), "--graph", other); err == nil || !strings.Contains(err.Error(), "other data") {
		t.Errorf("eval on other data: %v", err)
	}
}
