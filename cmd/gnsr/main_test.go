package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/internal/filelock"
)

// gnsr runs the command line with args and returns stdout and the error.
func gnsr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// cliRow is one row of TestCLI: a command line, its exit status, and
// substrings of the first line of its stderr (and of its stdout).
type cliRow struct {
	name string
	args []string // $EMPTY: an empty data root; $DATA: $GNSR_DATA (the row is skipped without it); $TMP: a fresh directory; $LOCKED: a run directory locked by another writer
	code int      // exit status
	err  []string // substrings of the first line of stderr
	out  []string // substrings of stdout
	no   []string // substrings of neither
}

// TestCLI is the contract of the command line: each row runs gnsr as main
// does (in this process, without network: GNSR_OFFLINE) and checks the exit
// status and the first line of stderr. Bad flags are refused with a message
// that names them before any data is read or training starts (the data root
// of most rows is empty, so reaching the loader would give another error).
func TestCLI(t *testing.T) {
	t.Setenv("GNSR_OFFLINE", "1")
	empty := t.TempDir()
	data := os.Getenv("GNSR_DATA")
	train := func(args ...string) []string { return append([]string{"train", "--data-dir", "$EMPTY"}, args...) }
	for _, tc := range []cliRow{
		{"no dataset", train(), 1, []string{"--dataset is required", "cora", "pubmed"}, nil, nil},
		{"negative lambda", train("--dataset", "cora", "--nsr-lambda", "-1"), 1, []string{"--nsr-lambda", "negative"}, nil, nil},
		{"layer out of range", train("--dataset", "cora", "--nsr-lambda", "1", "--nsr-layers", "2"), 1, []string{"--nsr-layers", "out of range"}, nil, nil},
		{"lambda count", train("--dataset", "cora", "--nsr-lambda", "1,2,3", "--nsr-layers", "0,1"), 1, []string{"--nsr-lambda", "3 values for 2 layers"}, nil, nil},
		{"bad lambda", train("--dataset", "cora", "--nsr-lambda", "lots"), 1, []string{"--nsr-lambda", "not a number"}, nil, nil},
		{"dropout", train("--dataset", "cora", "--dropout", "1.5"), 1, []string{"dropout"}, nil, nil},
		{"seeds", train("--dataset", "cora", "--seeds", "0"), 1, []string{"--seeds"}, nil, nil},
		{"unknown model", train("--dataset", "cora", "--model", "gin"), 1, []string{"unknown architecture", "gcn"}, nil, nil},
		{"no layers", train("--dataset", "cora", "--layers", "0"), 1, []string{"--layers = 0"}, nil, nil},
		{"no heads", train("--dataset", "cora", "--model", "gat", "--heads", "0"), 1, []string{"--heads = 0"}, nil, nil},
		{"heads without attention", train("--dataset", "cora", "--heads", "4"), 1, []string{"--heads", "attention"}, nil, nil},
		{"hidden widths", train("--dataset", "cora", "--layers", "3", "--hidden", "8,8,8"), 1, []string{"--hidden", "3 widths for 2 hidden layers"}, nil, nil},
		{"graph flag on images", train("--dataset", "mnist", "--hidden", "8"), 1, []string{"--hidden does not apply"}, nil, nil},
		{"unknown image model", train("--dataset", "mnist", "--model", "mlp5"), 1, []string{"--model", "mlp4"}, nil, nil},
		{"image NSR layer", train("--dataset", "mnist", "--model", "mlp3", "--nsr-lambda", "1", "--nsr-layers", "2"), 1, []string{"--nsr-layers", "out of range"}, nil, nil},
		// Item 1 of issue 16: errors name the flag the user set, and only
		// flags that apply are checked.
		{"one epoch, NSR off", train("--dataset", "cora", "--epochs", "1"), 0, nil, []string{"cora gcn"}, nil},
		{"warmup without auto", train("--dataset", "cora", "--nsr-warmup", "0"), 1, []string{"--nsr-warmup applies to --nsr-layers auto"}, nil, nil},
		{"auto warmup 0", train("--dataset", "cora", "--nsr-lambda", "1", "--nsr-layers", "auto", "--nsr-warmup", "0"), 1, []string{"--nsr-warmup = 0"}, nil, nil},
		{"auto, one epoch", train("--dataset", "cora", "--nsr-lambda", "1", "--nsr-layers", "auto", "--epochs", "1"), 1, []string{"--nsr-layers auto", "--epochs of at least 2"}, nil, nil},
		{"auto warmup too long", train("--dataset", "cora", "--nsr-lambda", "1", "--nsr-layers", "auto", "--nsr-warmup", "5", "--epochs", "5"), 1, []string{"--nsr-warmup = 5", "--epochs (5)"}, nil, nil},
		{"no layers with NSR", train("--dataset", "cora", "--layers", "0", "--nsr-lambda", "1"), 1, []string{"gnsr: --layers = 0"}, nil, nil},
		{"no epochs", train("--dataset", "cora", "--epochs", "0"), 1, []string{"gnsr: --epochs = 0"}, nil, nil},
		{"batch without fanouts", train("--dataset", "cora", "--model", "sage", "--batch-size", "512"), 1, []string{"--batch-size", "--fanouts"}, nil, nil},
		{"fanouts without batch", train("--dataset", "cora", "--fanouts", "10,5"), 1, []string{"--fanouts applies to mini-batch"}, nil, nil},
		{"negative lr", train("--dataset", "cora", "--lr", "-1"), 1, []string{"--lr = -1"}, nil, nil},
		// Item 2: tune, analyze, data info and bench gnn take every
		// dataset they list, and list only those.
		{"tune help", []string{"tune", "--help"}, 0, nil, []string{"one of [cora", "ogbn-products]", "one of [gcn sage gat]"}, []string{"mnist", "cifar", "mlp"}},
		{"analyze help", []string{"analyze", "--help"}, 0, nil, []string{"one of [cora", "one of [gcn sage gat]"}, []string{"mnist", "cifar", "mlp"}},
		{"bench gnn help", []string{"bench", "gnn", "--help"}, 0, nil, []string{"--dataset strings", "ogbn-products]", "--nsr-lambda-grid", "--nsr-layers"}, []string{"mnist", "cifar", "--datasets", "--lambda-grid ", "--nsr-layer "}},
		{"tune image", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "mnist"}, 1, []string{"--dataset: mnist is not a node-classification dataset", "cora"}, nil, nil},
		{"tune unknown", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "foo"}, 1, []string{"--dataset", `unknown dataset "foo"`, "ogbn-products"}, nil, []string{"mnist"}},
		{"analyze image", []string{"analyze", "--data-dir", "$EMPTY", "--dataset", "cifar10-jpeg"}, 1, []string{"--dataset: cifar10-jpeg is not a node-classification dataset"}, nil, nil},
		{"analyze unknown", []string{"analyze", "--data-dir", "$EMPTY", "--dataset", "foo"}, 1, []string{"--dataset", `unknown dataset "foo"`, "cora"}, nil, []string{"mnist"}},
		{"bench gnn unknown", []string{"bench", "gnn", "--dataset", "foo", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--dataset", `unknown dataset "foo"`, "cora", "ogbn-products"}, nil, []string{"mnist", "runs to do"}},
		{"bench gnn image", []string{"bench", "gnn", "--dataset", "mnist", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--dataset: mnist is not a node-classification dataset"}, nil, []string{"runs to do"}},
		{"bench peers unknown", []string{"bench", "peers", "--dataset", "foo", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--dataset", `unknown dataset "foo"`, "mnist"}, nil, nil},
		{"data info graph", []string{"data", "info", "--data-dir", "$EMPTY", "cora"}, 0, nil, []string{"2,708"}, nil},
		{"data info images", []string{"data", "info", "--data-dir", "$DATA", "mnist"}, 0, nil, []string{"60,000 train"}, nil},
		{"data info missing images", []string{"data", "info", "--data-dir", "$EMPTY", "cifar10"}, 1, []string{"missing file", "gnsr data download cifar10"}, nil, nil},
		{"data info unknown", []string{"data", "info", "--data-dir", "$EMPTY", "foo"}, 1, []string{`unknown dataset "foo"`, "mnist"}, nil, nil},
		// Item 6: one flag vocabulary; bench's old spellings still work,
		// deprecated; -q on data; bench gnn's defaults are the committed
		// table's.
		{"bench new spellings", []string{"bench", "gnn", "--dataset", "cora", "--model", "gcn", "--nsr-lambda-grid", "0.3,3", "--nsr-layers", "0", "--seeds", "2", "--tune-seeds", "1", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 0, nil, []string{"plan (gnn): 5 runs to do"}, []string{"deprecated"}},
		{"bench old spellings", []string{"bench", "gnn", "--datasets", "cora", "--models", "gcn", "--lambda-grid", "0.3,3", "--nsr-layer", "0", "--seeds", "2", "--tune-seeds", "1", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 0, []string{"--datasets is deprecated: use --dataset"}, []string{"plan (gnn): 5 runs to do"}, nil},
		{"bench both spellings", []string{"bench", "gnn", "--dataset", "cora", "--datasets", "cora", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--datasets and --dataset", "give --dataset"}, nil, nil},
		{"bench bad layer", []string{"bench", "gnn", "--nsr-layers", "5", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--nsr-layers = 5"}, nil, nil},
		{"bench bad grid", []string{"bench", "gnn", "--nsr-lambda-grid", "1,x", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--nsr-lambda-grid"}, nil, nil},
		{"bench mlp old spelling", []string{"bench", "mlp", "--models", "mlp5", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{`--model: unknown model "mlp5"`}, nil, nil},
		{"bench gnn unknown, old spelling", []string{"bench", "gnn", "--datasets", "foo", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"gnsr: --datasets:", `unknown dataset "foo"`, "cora", "ogbn-products"}, nil, []string{"mnist", "runs to do"}},
		{"bench gnn bad grid, old spelling", []string{"bench", "gnn", "--lambda-grid", "1,x", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"gnsr: --lambda-grid:"}, nil, nil},
		{"bench gnn bad layer, old spelling", []string{"bench", "gnn", "--nsr-layer", "5", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"gnsr: --nsr-layer = 5"}, nil, nil},
		{"bench gnn default is the committed table", []string{"bench", "gnn", "--dry-run", "--data-dir", "$EMPTY"}, 0, nil, []string{"plan (gnn): 0 runs to do"}, nil},
		{"data list -q", []string{"data", "list", "-q", "--data-dir", "$EMPTY"}, 0, nil, []string{"cora"}, nil},
		{"data verify -q", []string{"data", "verify", "-q", "--data-dir", "$EMPTY"}, 0, nil, nil, nil},
		{"data download -q", []string{"data", "download", "-q", "--data-dir", "$TMP", "citeseer"}, 0, nil, nil, []string{"ready"}},
		{"data info -q", []string{"data", "info", "-q", "--data-dir", "$EMPTY", "cora"}, 0, nil, []string{"2,708"}, []string{"loaded"}},
		// Item 7: version; seeds that would wrap; plurals; analyze's one
		// seed.
		{"version", []string{"version"}, 0, nil, []string{"gnsr ", "commit ", "go ", "blas ", "tags ", "cgo "}, nil},
		{"--version", []string{"--version"}, 0, nil, []string{"gnsr ", "commit ", "go ", "blas ", "tags ", "cgo "}, nil},
		{"seed wraps", train("--dataset", "cora", "--seed", "18446744073709551615", "--seeds", "2"), 1, []string{"--seed 18446744073709551615 with --seeds 2"}, nil, nil},
		{"last seed", train("--dataset", "cora", "--seed", "18446744073709551615", "--epochs", "1"), 0, nil, []string{"18446744073709551615"}, nil},
		{"image seed wraps", train("--dataset", "mnist", "--seed", "18446744073709551614", "--seeds", "3"), 1, []string{"--seed 18446744073709551614 with --seeds 3"}, nil, nil},
		{"tune seed wraps", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "cora", "--seed", "18446744073709551615", "--seeds", "2"}, 1, []string{"--seed 18446744073709551615 with --seeds 2"}, nil, nil},
		{"plurals", train("--dataset", "cora", "--epochs", "1"), 0, nil, []string{"cora gcn, 1 epoch, hidden 16", "with 1 seed"}, []string{"1 epochs", "1 seeds"}},
		{"tune plurals", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "cora", "--seeds", "1", "--epochs", "2", "--nsr-lambda-grid", "1"}, 0, nil, []string{"cora gcn, 1 seed, 2 epochs"}, []string{"1 seeds"}},
		{"analyze seeds", []string{"analyze", "--data-dir", "$EMPTY", "--dataset", "cora", "--seeds", "3", "--out", "$TMP"}, 1, []string{"--seeds = 3", "--seed"}, nil, nil},
		// Item 5: run directories are locked.
		{"resume a run being written", train("--resume", "$LOCKED"), 1, []string{"--resume ", "another gnsr train is writing this run directory"}, nil, nil},
		{"out on a run being written", train("--dataset", "cora", "--epochs", "1", "--out", "$LOCKED"), 1, []string{"--out ", "another gnsr train is writing this run directory"}, nil, nil},
		{"out, then resume", train("--dataset", "cora", "--epochs", "1", "--out", "$TMP"), 0, nil, []string{"cora gcn"}, nil},
		// Item 3: defaults per dataset family, in the runs and in --help;
		// flags the family does not take are refused, naming them.
		{"train help per family", []string{"train", "--help"}, 0, nil, []string{"graphs   --model gcn", "mnist    --model mlp4", "cifar10-jpeg\n           --model cnn", "200 for Planetoid; images 100)", "(default mnist mlp4, cifar10 cnn)", "(default: graphs 0, images -1)"},
			[]string{`(default "gcn")`, "(default 200)", "(default 0.0005)", "(default 0.01)", "gat elu) (default", "(default: the protocol's"}},
		{"cifar10 default model", train("--dataset", "cifar10-jpeg", "--nsr-lambda", "1", "--nsr-layers", "9"), 1, []string{"--nsr-layers", "a model with 5 layers"}, nil, nil}, // cnn's 5, not mlp4's 3
		{"mnist default model", train("--dataset", "mnist", "--nsr-lambda", "1", "--nsr-layers", "9"), 1, []string{"--nsr-layers", "a model with 3 layers"}, nil, nil},
		{"cifar10 width without model", train("--dataset", "cifar10-jpeg", "--width", "2"), 1, []string{"downloading cifar10-jpeg"}, nil, []string{"width"}}, // cnn takes --width: the run gets to the (missing) data
		{"width on an MLP", train("--dataset", "mnist", "--width", "2"), 1, []string{"--width applies to convolutional models", "not --model mlp4"}, nil, nil},
		{"augment on an MLP", train("--dataset", "mnist", "--model", "mlp3", "--augment"), 1, []string{"--augment applies to convolutional models", "not --model mlp3"}, nil, nil},
		{"image header without hidden", train("--data-dir", "$DATA", "--dataset", "mnist", "--model", "mlp3", "--epochs", "1", "-q"), 0, nil, []string{"mnist mlp3, 1 epoch\n", "; median epoch "}, []string{"hidden", "median step"}},
		{"optimizer on a graph", train("--dataset", "cora", "--optimizer", "adam"), 1, []string{"gnsr: --optimizer applies to image datasets (mnist, cifar10, cifar10-jpeg), not cora", "Adam"}, nil, nil},
		{"momentum on a graph", train("--dataset", "cora", "--momentum", "0.9"), 1, []string{"gnsr: --momentum applies to image datasets"}, nil, nil},
		{"nesterov on a graph", train("--dataset", "cora", "--nesterov"), 1, []string{"gnsr: --nesterov applies to image datasets"}, nil, nil},
		{"augment on a graph", train("--dataset", "cora", "--augment"), 1, []string{"gnsr: --augment applies to image datasets"}, nil, nil},
		{"width on a graph", train("--dataset", "cora", "--width", "2"), 1, []string{"gnsr: --width applies to image datasets"}, nil, nil},
		{"val-size on a graph", train("--dataset", "pubmed", "--val-size", "100"), 1, []string{"gnsr: --val-size applies to image datasets", "split"}, nil, nil},
		{"lr-step on a graph", train("--dataset", "cora", "--lr-step", "50"), 1, []string{"gnsr: --lr-step applies to image datasets", "constant learning rate"}, nil, nil},
		{"lr-gamma on a graph", train("--dataset", "cora", "--lr-gamma", "0.5"), 1, []string{"gnsr: --lr-gamma applies to image datasets"}, nil, nil},
		{"image flag on a user graph", train("--graph", "$TMP", "--optimizer", "sgd"), 1, []string{"gnsr: --optimizer applies to image datasets"}, nil, nil},
		{"activation on images", train("--dataset", "mnist", "--activation", "elu"), 1, []string{"gnsr: --activation does not apply to image models"}, nil, nil},
		{"residual on images", train("--dataset", "mnist", "--residual"), 1, []string{"gnsr: --residual does not apply to image models"}, nil, nil},
		{"batch-norm on images", train("--dataset", "cifar10-jpeg", "--batch-norm"), 1, []string{"gnsr: --batch-norm does not apply to image models"}, nil, nil},
		{"heads on images", train("--dataset", "mnist", "--heads", "4"), 1, []string{"gnsr: --heads does not apply to image models"}, nil, nil},
		{"graph and image dataset", train("--dataset", "mnist", "--graph", "$TMP"), 1, []string{"gnsr: --graph ", "--dataset mnist: give one of them"}, nil, nil},
		// The contract beyond the items.
		{"unknown command", []string{"nosuch"}, 1, []string{`gnsr: unknown command "nosuch"`}, nil, nil},
		{"unknown flag", train("--bogus"), 1, []string{"gnsr: unknown flag: --bogus"}, nil, nil},
		{"missing dataset offline", train("--dataset", "amazon-photo"), 1, []string{"gnsr: datasets: missing file:", "amazon_electronics_photo.npz", "GNSR_OFFLINE"}, nil, nil},
		{"tune with a lambda", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "cora", "--nsr-lambda", "1"}, 1, []string{"--nsr-lambda-grid, not --nsr-lambda"}, nil, nil},
		{"tune auto", []string{"tune", "--data-dir", "$EMPTY", "--dataset", "cora", "--nsr-layers", "auto"}, 1, []string{"--nsr-layers, not auto"}, nil, nil},
		{"analyze without NSR", []string{"analyze", "--data-dir", "$EMPTY", "--dataset", "cora", "--nsr-lambda", "0", "--out", "$TMP"}, 1, []string{"--nsr-lambda > 0"}, nil, nil},
		{"eval without a model", []string{"eval"}, 1, []string{"--model", "--checkpoint"}, nil, nil},
		{"predict without a model", []string{"predict"}, 1, []string{"--model and --out are required"}, nil, nil},
		{"synth without --out", []string{"data", "synth"}, 1, []string{"--out is required"}, nil, nil},
		{"nsr-gnn plan", []string{"bench", "nsr-gnn", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 0, nil, []string{"plan (nsr-gnn): 2640 runs to do"}, nil},
		{"nsr-gnn help", []string{"bench", "nsr-gnn", "--help"}, 0, nil, []string{"0.01, 0.03, 0.1, 0.3, 1, 3", "seeds\n0..--tune-seeds−1 (0–2)", "(3–12)", "--nsr-arms"}, []string{"mnist"}},
		{"nsr-gnn depth 1", []string{"bench", "nsr-gnn", "--depths", "1", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--depths: 1, need at least 2"}, nil, []string{"runs to do"}},
		{"nsr-gnn arm", []string{"bench", "nsr-gnn", "--nsr-arms", "first", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{`--nsr-arms: "first", want auto or last`}, nil, nil},
		{"nsr-gnn image", []string{"bench", "nsr-gnn", "--dataset", "mnist", "--dry-run", "--data-dir", "$EMPTY", "--out", "$TMP"}, 1, []string{"--dataset: mnist is not a node-classification dataset"}, nil, nil},
		// Issue 14: the memory pre-flight refuses a run larger than the
		// machine in one line, before allocating, naming the flags.
		{"hidden beyond memory", train("--dataset", "cora", "--hidden", "100000000"), 1, []string{"gnsr: gnn: not enough memory", "needs about", "--hidden"}, nil, []string{"goroutine", "panic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				switch a {
				case "$EMPTY":
					a = empty
				case "$DATA":
					if data == "" {
						t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
					}
					a = data
				case "$TMP":
					a = t.TempDir()
				case "$LOCKED": // a run directory another process writes
					a = t.TempDir()
					if err := os.WriteFile(filepath.Join(a, manifestFile), []byte("{}"), 0o644); err != nil {
						t.Fatal(err)
					}
					// flock belongs to the open file: this lock stands for
					// another process's.
					l, err := filelock.Acquire(filepath.Join(a, lockFile))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Release() })
				}
				args[i] = a
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut)
			first, _, _ := strings.Cut(errOut.String(), "\n")
			if code != tc.code {
				t.Errorf("gnsr %s: exit status %d, want %d; stderr: %s", strings.Join(tc.args, " "), code, tc.code, first)
			}
			for _, w := range tc.err {
				if !strings.Contains(first, w) {
					t.Errorf("gnsr %s: first line of stderr %q does not mention %q", strings.Join(tc.args, " "), first, w)
				}
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("gnsr %s: stdout does not mention %q:\n%s", strings.Join(tc.args, " "), w, out.String())
				}
			}
			for _, w := range tc.no {
				if strings.Contains(first, w) || strings.Contains(out.String(), w) {
					t.Errorf("gnsr %s: %q in the first line of stderr or in stdout:\n%s\n%s", strings.Join(tc.args, " "), w, first, out.String())
				}
			}
		})
	}
}

func TestTrainUnknownAndMissingDataset(t *testing.T) {
	empty := t.TempDir()
	_, err := gnsr(t, "train", "--data-dir", empty, "--dataset", "imagenet")
	if err == nil || !strings.Contains(err.Error(), "imagenet") || !strings.Contains(err.Error(), "citeseer") {
		t.Errorf("unknown dataset: %v, want the name and the known ones", err)
	}
	// Without network (GNSR_OFFLINE), a missing dataset is an error that
	// names the file and says what to do.
	t.Setenv("GNSR_OFFLINE", "1")
	_, err = gnsr(t, "train", "--data-dir", empty, "--dataset", "amazon-photo")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "amazon-photo", "raw", "amazon_electronics_photo.npz")) ||
		!strings.Contains(err.Error(), "GNSR_OFFLINE") {
		t.Errorf("missing files: %v, want the path and GNSR_OFFLINE", err)
	}
}

// TestTrainJSON runs the CLI on the real Cora and checks the JSON Lines
// contract that benchmark scripts read.
func TestTrainJSON(t *testing.T) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	out, err := gnsr(t, "train", "--data-dir", root, "--dataset", "cora", "--epochs", "20", "--seeds", "2", "--json", "--nsr-lambda", "0.1")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 2 seeds and a summary:\n%s", len(lines), out)
	}
	for i, l := range lines[:2] {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["seed"] != float64(i) || len(rec["nsr_loss"].([]any)) != 20 {
			t.Errorf("seed line %d: %s", i, l)
		}
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[2]), &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"summary", "dataset", "model", "seeds", "nsr_lambda", "nsr_layers", "test_acc_mean", "test_acc_std", "val_acc_mean", "epoch_ms_median", "wall_s"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %q: %s", k, lines[2])
		}
	}
	if sum["summary"] != true || sum["dataset"] != "cora" || sum["seeds"] != float64(2) || sum["nsr_lambda"] != 0.1 {
		t.Errorf("summary: %s", lines[2])
	}
	if acc := sum["test_acc_mean"].(float64); acc < 0.5 || acc > 1 {
		t.Errorf("test_acc_mean %v after 20 epochs", acc)
	}
}

// TestDataVerifyDetectsModifiedFile copies Cora into a temporary root, flips
// one byte of one file, and expects data verify to fail naming that file.
func TestDataVerifyDetectsModifiedFile(t *testing.T) {
	src := os.Getenv("GNSR_DATA")
	if src == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "cora", "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(src, "cora", "raw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, "cora", "raw", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "ind.cora.y" {
			b[len(b)/2] ^= 1
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := gnsr(t, "data", "verify", "--data-dir", root, "cora")
	if err == nil {
		t.Fatalf("verify passed a modified file:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "MODIFIED") && !strings.Contains(line, "ind.cora.y") {
			t.Errorf("a file other than ind.cora.y reported modified: %s", line)
		}
	}
	if n := strings.Count(out, "MODIFIED"); n != 1 || !strings.Contains(out, "replace it with `gnsr data download cora`") {
		t.Errorf("%d files reported modified, want 1 with how to repair it:\n%s", n, out)
	}
	// download replaces the modified file (from the copy in the binary,
	// without network), and verify then passes.
	t.Setenv("GNSR_OFFLINE", "1")
	if _, err := gnsr(t, "data", "download", "--data-dir", root, "cora"); err != nil {
		t.Fatal(err)
	}
	if out, err := gnsr(t, "data", "verify", "--data-dir", root, "cora"); err != nil || strings.Contains(out, "MODIFIED") {
		t.Errorf("verify after download: %v\n%s", err, out)
	}
}

// TestTrainMNIST runs the image path of gnsr train for one epoch of MLP-3
// with NSR on the logits and checks the JSON summary.
func TestTrainMNIST(t *testing.T) {
	root := os.Getenv("GNSR_DATA")
	if root == "" {
		t.Skip("GNSR_DATA is not set: set it to the datasets root (.ci/run uses ../shared/datasets)")
	}
	out, err := gnsr(t, "train", "--data-dir", root, "--dataset", "mnist", "--model", "mlp3", "--epochs", "1",
		"--lr", "0.05", "--momentum", "0.9", "--nsr-lambda", "0.02475", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum["model"] != "mlp3" || sum["nsr_layers"] != "1" || sum["nsr_lambda"] != 0.02475 {
		t.Errorf("summary: %s", lines[len(lines)-1])
	}
	if acc := sum["test_acc_mean"].(float64); acc < 0.9 {
		t.Errorf("MLP-3 after one epoch: test accuracy %v, want >= 0.9", acc)
	}
}

// TestRunLabel checks the progress label: no λ for a vanilla run.
func TestRunLabel(t *testing.T) {
	for _, tc := range []struct {
		lambdas []float64
		want    string
	}{
		{nil, "cora gcn seed 3"},
		{[]float64{0}, "cora gcn seed 3"},
		{[]float64{0.5, 1}, "cora gcn λ=[0.5 1] seed 3"},
	} {
		if got := runLabel("cora", "gcn", tc.lambdas, 3); got != tc.want {
			t.Errorf("runLabel(%v) = %q, want %q", tc.lambdas, got, tc.want)
		}
	}
}
