package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/vision"
)

// evalModelFile runs gnsr eval --model path --json.
func evalModelFile(t *testing.T, path string, args ...string) evalJSON {
	t.Helper()
	out, err := gnsr(t, append([]string{"eval", "--model", path, "--json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	var e evalJSON
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return e
}

// TestEvalImageModel trains MLP-3 on MNIST for an epoch with the library,
// saving the model, and checks that gnsr eval --model reports the test and
// validation accuracy of the run's best epoch.
func TestEvalImageModel(t *testing.T) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	data, err := datasets.LoadImages(root, "mnist", datasets.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := vision.DefaultConfig()
	cfg.Arch, cfg.Epochs, cfg.Seed = "mlp3", 1, 2
	cfg.Optimizer.LR, cfg.Optimizer.Momentum = 0.05, 0.9
	path := filepath.Join(t.TempDir(), "mnist.model")
	res, err := vision.TrainWith(context.Background(), data, cfg, vision.Options{Model: path, Dataset: "mnist"})
	if err != nil {
		t.Fatal(err)
	}
	e := evalModelFile(t, path, "--data-dir", root)
	if e.TestAcc != res.TestAcc || e.ValAcc != res.ValAcc || e.Seed != 2 || e.Model != "mlp3" || e.Dataset != "mnist" || e.EpochsDone != res.BestEpoch {
		t.Errorf("eval %+v; training reported test %v val %v at epoch %d", e, res.TestAcc, res.ValAcc, res.BestEpoch)
	}
	if _, err := gnsr(t, "eval", "--model", path, "--data-dir", root, "--dataset", "cora"); err == nil {
		t.Error("an image model evaluated on a graph dataset")
	}
}

// sameImageCheckpoints checks that two finished image checkpoints hold the
// same weights, optimizer state, NSR queues, random states and history
// (wall times aside).
func sameImageCheckpoints(t *testing.T, gotPath, wantPath string) {
	t.Helper()
	var enc [2][]byte
	for i, p := range []string{gotPath, wantPath} {
		c, err := vision.ReadCheckpoint(p)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Done() {
			t.Errorf("%s: %d of %d epochs done", p, c.EpochsDone, c.Config.Epochs)
		}
		for i := range c.Epochs {
			c.Epochs[i].TrainMs = 0
		}
		if enc[i], err = c.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(enc[0], enc[1]) {
		t.Errorf("%s differs from the uninterrupted %s", gotPath, wantPath)
	}
}

// TestImageRunResumes stops an MNIST run with SIGTERM during seed 0 (it
// checkpoints between two steps and says how to resume), resumes it in a
// child killed with SIGKILL during seed 1, resumes that to the end, and
// checks that the results, every seed's final checkpoint and saved model
// equal those of a run never interrupted, bit for bit, and that gnsr eval
// reports the test accuracy train printed for each seed.
func TestImageRunResumes(t *testing.T) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	run := []string{"train", "--dataset", "mnist", "--data-dir", root, "--model", "mlp3", "--epochs", "5", "--seeds", "2",
		"--val-size", "57000", "--lr", "0.05", "--momentum", "0.9", "--nsr-lambda", "0.5", "-q"}
	want := filepath.Join(t.TempDir(), "want")
	if _, err := gnsr(t, append(run, "--out", want)...); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	args := append(slices.Clone(run), "--out", dir, "--checkpoint-every", "1")
	c := startChild(t, args...)
	if !c.waitFor(t, filepath.Join(dir, "seed-0.ckpt")) {
		t.Fatalf("child ended before a checkpoint: %s", c.stderr)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := c.wait()
	if err == nil {
		t.Skip("the child finished before SIGTERM; the machine is too fast for this run")
	}
	msg := strings.TrimSpace(c.stderr.String())
	if !strings.HasPrefix(msg, "gnsr: interrupted at epoch ") || !strings.Contains(msg, "(resume with --resume "+dir+")") {
		t.Errorf("message %q", msg)
	}
	r := readResults(t, dir)
	ck, err := vision.ReadCheckpoint(filepath.Join(dir, "seed-0.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || r.Interrupted == nil || r.Interrupted.EpochsDone != ck.EpochsDone || r.Interrupted.Partial == nil {
		t.Errorf("partial results %+v for a checkpoint after %d epochs", r, ck.EpochsDone)
	}
	t.Logf("SIGTERM: seed 0 stopped after %d epochs and %d steps", ck.EpochsDone, ck.Step)
	if _, err := gnsr(t, "train", "--resume", dir, "--lr", "0.5"); err == nil || !strings.Contains(err.Error(), "--lr") {
		t.Errorf("resume with another --lr: %v", err)
	}
	c = startChild(t, "train", "--resume", dir, "-q")
	if c.waitFor(t, filepath.Join(dir, "seed-1.ckpt")) {
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	c.wait()
	out, err := gnsr(t, "train", "--resume", dir, "--json", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"summary":true`) {
		t.Errorf("output %s", out)
	}
	got, _ := sameResults(t, dir, want, 2)
	for i, g := range got.Seeds {
		name := fmt.Sprintf("seed-%d", i)
		sameImageCheckpoints(t, filepath.Join(dir, name+".ckpt"), filepath.Join(want, name+".ckpt"))
		m1, _ := os.ReadFile(filepath.Join(dir, name+".model"))
		m2, _ := os.ReadFile(filepath.Join(want, name+".model"))
		if len(m1) == 0 || !bytes.Equal(m1, m2) {
			t.Errorf("%s.model differs from the uninterrupted run's", name)
		}
		if _, err := gnsr(t, "eval", "--checkpoint", filepath.Join(dir, name+".ckpt")); err == nil || !strings.Contains(err.Error(), "--model") {
			t.Errorf("eval --checkpoint of an image run: %v", err)
		}
		e := evalModelFile(t, filepath.Join(dir, name+".model"), "--data-dir", root)
		if e.TestAcc != g.TestAcc || e.ValAcc != g.ValAcc || e.Seed != g.Seed || e.EpochsDone != g.BestEpoch {
			t.Errorf("eval of seed %d: %+v; train printed %+v", i, e, g)
		}
	}
}
