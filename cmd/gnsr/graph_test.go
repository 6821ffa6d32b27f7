package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/datasets"
	"github.com/parquet-go/parquet-go"
)

// TestTrainGraph trains on one synthetic graph written in both layouts:
// the per-seed results must be equal, and above chance.
func TestTrainGraph(t *testing.T) {
	var runs [2][]seedJSON
	for k, format := range []string{"ogb", "parquet"} {
		dir := filepath.Join(t.TempDir(), "g")
		if _, err := gnsr(t, "data", "synth", "--nodes", "400", "--avg-degree", "8", "--classes", "4", "--features", "32",
			"--nnz-per-row", "6", "--seed", "5", "--format", format, "--out", dir); err != nil {
			t.Fatal(err)
		}
		out, err := gnsr(t, "train", "--graph", dir, "--seeds", "2", "--epochs", "40", "--json", "-q")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(line, `"summary"`) {
				continue
			}
			var r seedJSON
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			r.EpochMsMedian, r.Dataset = 0, ""
			runs[k] = append(runs[k], r)
		}
	}
	if len(runs[0]) != 2 || len(runs[1]) != 2 {
		t.Fatalf("runs %v", runs)
	}
	for s := range runs[0] {
		a, _ := json.Marshal(runs[0][s])
		b, _ := json.Marshal(runs[1][s])
		if string(a) != string(b) {
			t.Errorf("seed %d: OGB layout %s, Parquet %s", s, a, b)
		}
		if runs[0][s].TestAcc < 0.5 {
			t.Errorf("seed %d: test accuracy %.3f on 4 classes", s, runs[0][s].TestAcc)
		}
	}
}

type idNode struct {
	ID       int64     `parquet:"id"`
	Label    int64     `parquet:"label"`
	Split    string    `parquet:"split"`
	Features []float32 `parquet:"features,list"`
}

type idEdge struct {
	Src int64 `parquet:"src"`
	Dst int64 `parquet:"dst"`
}

func writeParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestTrainGraphNodeIDs trains on a Parquet graph whose ids are not 0..N-1
// and checks that the predictions name the nodes by their ids.
func TestTrainGraphNodeIDs(t *testing.T) {
	dir := t.TempDir()
	var nodes []idNode
	var edges []idEdge
	for i := range 60 {
		id := int64(1_000_000 - 7*i) // descending, far from 0..N-1
		nodes = append(nodes, idNode{ID: id, Label: int64(i % 2), Split: []string{"train", "val", "test"}[i%3],
			Features: []float32{float32(i % 2), 1 - float32(i%2), 0.5}})
		if i >= 2 {
			edges = append(edges, idEdge{Src: id, Dst: id + 14})
		}
	}
	writeParquet(t, filepath.Join(dir, datasets.ParquetNodes), nodes)
	writeParquet(t, filepath.Join(dir, datasets.ParquetEdges), edges)
	run := filepath.Join(t.TempDir(), "run")
	if _, err := gnsr(t, "train", "--graph", dir, "--epochs", "20", "--out", run, "-q"); err != nil {
		t.Fatal(err)
	}
	// The model records the graph: predict and eval read it again.
	preds := filepath.Join(t.TempDir(), "preds.csv")
	if _, err := gnsr(t, "predict", "--model", filepath.Join(run, "seed-0.model"), "--nodes", "all", "--out", preds); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(preds)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 61 || lines[0] != "node,id,class,p_0,p_1" || !strings.HasPrefix(lines[1], "0,1000000,") ||
		!strings.HasPrefix(lines[60], "59,999587,") {
		t.Errorf("predictions:\n%s", strings.Join(lines[:min(3, len(lines))], "\n"))
	}
	// A list of nodes gets the same lines as all of them (only its
	// receptive field computed), and a bad list a clear error.
	some := filepath.Join(t.TempDir(), "some.csv")
	if _, err := gnsr(t, "predict", "--model", filepath.Join(run, "seed-0.model"), "--nodes", "3, 59", "--out", some); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(some); err != nil || string(b) != strings.Join([]string{lines[0], lines[4], lines[60]}, "\n")+"\n" {
		t.Errorf("predictions of nodes 3 and 59: %v\n%s\nwant lines 3 and 59 of\n%s", err, b, strings.Join(lines[:5], "\n"))
	}
	if _, err := gnsr(t, "predict", "--model", filepath.Join(run, "seed-0.model"), "--nodes", "3,60", "--out", some); err == nil || !strings.Contains(err.Error(), "node indices in [0, 60)") {
		t.Errorf("--nodes 3,60 on 60 nodes: %v", err)
	}
	if out, err := gnsr(t, "eval", "--model", filepath.Join(run, "seed-0.model"), "--json"); err != nil || !strings.Contains(out, dir) {
		t.Errorf("eval: %v %s", err, out)
	}
	// The data info of the graph says how it was read.
	out, err := gnsr(t, "data", "info", "--graph", dir)
	if err != nil || !strings.Contains(out, "nodes           60") || !strings.Contains(out, "stored dense") {
		t.Errorf("data info: %v\n%s", err, out)
	}
}

// TestTuneAnalyzeGraph runs tune and analyze on a user's graph.
func TestTuneAnalyzeGraph(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "g")
	if _, err := gnsr(t, "data", "synth", "--nodes", "300", "--features", "16", "--nnz-per-row", "4", "--out", dir); err != nil {
		t.Fatal(err)
	}
	out, err := gnsr(t, "tune", "--graph", dir, "--epochs", "10", "--nsr-lambda-grid", "1", "-q")
	if err != nil || !strings.Contains(out, dir+" gcn, 1 seed, 10 epochs") {
		t.Errorf("tune: %v\n%s", err, out)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(t.TempDir())
	if _, err := gnsr(t, "analyze", "--graph", dir, "--epochs", "10", "-q"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("analysis-g-gcn", "by_epoch.csv")); err != nil {
		t.Errorf("analyze output: %v", err)
	}
}

// TestEvalPredictSavedModels trains GCN on Cora (the embedded copy) and on a
// synthetic graph of Cora's width, saving the models: gnsr eval of each
// seed's model reports the test accuracy and best epoch train printed, and
// each model predicts a class for every node of the other's graph, which it
// never saw, its features preprocessed as its own training features were
// (Cora's L1-normalised rows, the synthetic graph's raw ones).
func TestEvalPredictSavedModels(t *testing.T) {
	t.Setenv("GNSR_OFFLINE", "1")
	root, tmp := t.TempDir(), t.TempDir()
	synth := filepath.Join(tmp, "synth")
	if _, err := gnsr(t, "data", "synth", "--nodes", "300", "--classes", "7", "--features", "1433", "--nnz-per-row", "20",
		"--seed", "4", "--out", synth); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		data  []string // where the model trains
		other []string // a graph it never saw
	}{
		{"cora", []string{"--dataset", "cora", "--data-dir", root}, []string{"--graph", synth}},
		{"synth", []string{"--graph", synth}, []string{"--dataset", "cora", "--data-dir", root}},
	} {
		run := filepath.Join(tmp, "run-"+c.name)
		out, err := gnsr(t, append([]string{"train", "--seeds", "2", "--epochs", "30", "--out", run, "--json", "-q"}, c.data...)...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var seeds int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r seedJSON
			if strings.Contains(line, `"summary"`) {
				continue
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			seeds++
			model := filepath.Join(run, fmt.Sprintf("seed-%d.model", r.Seed))
			e := evalModelFile(t, model, c.data[2:]...)
			if e.TestAcc != r.TestAcc || e.ValAcc != r.ValAcc || e.EpochsDone != r.BestEpoch {
				t.Errorf("%s seed %d: eval test %v val %v epoch %d; train printed test %v val %v epoch %d",
					c.name, r.Seed, e.TestAcc, e.ValAcc, e.EpochsDone, r.TestAcc, r.ValAcc, r.BestEpoch)
			}
		}
		if seeds != 2 {
			t.Fatalf("%s: %d seeds in\n%s", c.name, seeds, out)
		}
		preds := filepath.Join(tmp, c.name+".csv")
		args := append([]string{"predict", "--model", filepath.Join(run, "seed-0.model"), "--out", preds}, c.other...)
		if c.name == "cora" {
			args = append(args, "--nodes", "all")
		}
		if _, err := gnsr(t, args...); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := os.ReadFile(preds)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		want := map[string]int{"cora": 300, "synth": 1000}[c.name]
		if len(lines) != want+1 {
			t.Errorf("%s model on the other graph: %d predictions, want %d", c.name, len(lines)-1, want)
		}
		for _, l := range lines[1:] {
			if f := strings.Split(l, ","); len(f) < 2 || len(f[1]) != 1 || f[1][0] < '0' || f[1][0] > '6' {
				t.Fatalf("%s: prediction %q", c.name, l)
			}
		}
	}
}
