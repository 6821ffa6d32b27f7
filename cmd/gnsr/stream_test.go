package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cancelOnWrite is a stdout that cancels the run's context at its first
// write: the first result line, printed as soon as the first seed (or tune
// row) finishes, stops the run during the next one.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel()
	return w.buf.Write(p)
}

// runCancelled runs gnsr with args as main does, cancelling its context
// (as Ctrl-C does) once the first result line is out; it returns the exit
// status, stdout and stderr.
func runCancelled(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOnWrite{cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, args, out, &errOut)
	return code, out.buf.String(), errOut.String()
}

// TestTrainStreams checks item 4 of issue 16 for gnsr train: each seed's
// line is out when the seed finishes (the test stops the run at the first
// line, during seed 1 of 3, so seed 1 and 2 never print), and an
// interrupted run prints the summary over the seeds that finished, then
// exits non-zero saying how many did.
func TestTrainStreams(t *testing.T) {
	t.Setenv("GNSR_OFFLINE", "1") // Cora from the copy in the binary
	empty := t.TempDir()
	train := []string{"train", "--data-dir", empty, "--dataset", "cora", "--epochs", "5", "--seeds", "3", "-q"}
	const stopped = "gnsr: 1 seed of 3 finished (above): cora, seed 1: interrupted after epoch 0 of seed 1"

	t.Run("human", func(t *testing.T) {
		code, out, errOut := runCancelled(t, train...)
		if code != 1 || !strings.HasPrefix(errOut, stopped) {
			t.Errorf("exit status %d, stderr %q; want 1 and %q", code, errOut, stopped)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "cora gcn, 5 epochs") || !strings.Contains(lines[1], "test acc") ||
			!strings.HasPrefix(strings.TrimSpace(lines[2]), "0 ") || !strings.Contains(lines[3], "with 1 seed (1 of 3 finished)") {
			t.Errorf("want the header, seed 0's row and the summary over it:\n%s", out)
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, errOut := runCancelled(t, append(train, "--json")...)
		if code != 1 || !strings.HasPrefix(errOut, stopped) {
			t.Errorf("exit status %d, stderr %q; want 1 and %q", code, errOut, stopped)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Fatalf("want seed 0's object and the summary:\n%s", out)
		}
		var seed, sum map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &seed); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
			t.Fatal(err)
		}
		if seed["seed"] != 0.0 || sum["summary"] != true || sum["seeds"] != 1.0 || sum["incomplete"] != true || sum["test_acc_mean"] != seed["test_acc"] {
			t.Errorf("seed %v; summary %v", seed, sum)
		}
	})

	t.Run("complete", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), append(train, "--json"), &out, &errOut); code != 0 {
			t.Fatalf("exit status %d: %s", code, errOut.String())
		}
		if n := strings.Count(out.String(), "\n"); n != 4 || strings.Contains(out.String(), "incomplete") {
			t.Errorf("want 3 seeds and a summary without incomplete:\n%s", out.String())
		}
	})

	t.Run("resume", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		code, out, errOut := runCancelled(t, append(train, "--out", dir)...)
		if code != 1 || !strings.Contains(errOut, "1 seed of 3 finished (above): interrupted at epoch 0 of seed 1") || !strings.Contains(errOut, "--resume "+dir) {
			t.Errorf("exit status %d, stderr %q", code, errOut)
		}
		if !strings.Contains(out, "(1 of 3 finished)") {
			t.Errorf("stdout:\n%s", out)
		}
		var res, errBuf bytes.Buffer
		if code := run(context.Background(), []string{"train", "--resume", dir, "-q"}, &res, &errBuf); code != 0 {
			t.Fatalf("--resume: exit status %d: %s", code, errBuf.String())
		}
		if !strings.Contains(res.String(), "over 3 seeds;") {
			t.Errorf("--resume:\n%s", res.String())
		}
	})

	t.Run("images", func(t *testing.T) {
		root := os.Getenv("GNSR_DATA")
		if root == "" {
			t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
		}
		code, out, errOut := runCancelled(t, "train", "--data-dir", root, "--dataset", "mnist", "--model", "mlp3", "--epochs", "1", "--seeds", "2", "-q")
		if code != 1 || !strings.HasPrefix(errOut, "gnsr: 1 seed of 2 finished (above): mnist, seed 1: interrupted") {
			t.Errorf("exit status %d, stderr %q", code, errOut)
		}
		if !strings.Contains(out, "with 1 seed (1 of 2 finished)") {
			t.Errorf("stdout:\n%s", out)
		}
	})
}

// TestTuneResumes stops a gnsr tune --out at its first row (vanilla's two
// seeds recorded, the first NSR run under way) and reruns it: the rerun
// trains only what is missing, keeping the recorded runs as they were.
func TestTuneResumes(t *testing.T) {
	t.Setenv("GNSR_OFFLINE", "1")
	dir := t.TempDir()
	args := []string{"tune", "--data-dir", t.TempDir(), "--dataset", "cora", "--seeds", "2", "--epochs", "10", "--nsr-lambda-grid", "1,3", "--out", dir, "-q"}
	code, out, errOut := runCancelled(t, args...)
	if code != 1 || !strings.Contains(errOut, "rerun the same 'gnsr tune' to resume") {
		t.Fatalf("exit status %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "NSR on layers 0") || strings.Count(out, "\n") != 3 {
		t.Errorf("want the head and the vanilla row:\n%s", out)
	}
	path := filepath.Join(dir, "tune.jsonl")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(before, []byte("\n")); n != 2 {
		t.Fatalf("%s holds %d lines after the stop, want vanilla's 2 runs:\n%s", path, n, before)
	}
	var res, errBuf bytes.Buffer
	if code := run(context.Background(), args, &res, &errBuf); code != 0 {
		t.Fatalf("rerun: exit status %d: %s", code, errBuf.String())
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, before) || bytes.Count(after, []byte("\n")) != 6 {
		t.Errorf("rerun: %s should keep the 2 recorded runs as they were and add the 4 missing:\n%s", path, after)
	}
	if !strings.Contains(res.String(), "chosen on validation") || strings.Count(res.String(), "\n") != 6 {
		t.Errorf("rerun: want the head, 3 rows and the result:\n%s", res.String())
	}
}
