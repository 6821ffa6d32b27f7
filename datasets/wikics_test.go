package datasets

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// synthWikiCS returns the fields of a small file in the schema of WikiCS's
// data.json: 5 nodes, 3 features, 3 classes, 4 splits.
func synthWikiCS() map[string]any {
	const splits = 4
	n := 5
	train, val, stop := make([][]bool, splits), make([][]bool, splits), make([][]bool, splits)
	for k := 0; k < splits; k++ {
		train[k], val[k], stop[k] = make([]bool, n), make([]bool, n), make([]bool, n)
		train[k][k%n] = true
		val[k][(k+1)%n] = true
		stop[k][(k+2)%n] = true
	}
	return map[string]any{
		"features": [][]float64{{0, 0.5, -1}, {1e-3, 0, 0}, {0, 0, 0}, {2, 3, 4}, {0.1, 0, 0.25}},
		"labels":   []int{0, 2, 1, 2, 0},
		// 0→1, 1→0 (reciprocal), 1→1 (self-loop), 3→4, 4→1, 4→1 (repeat).
		"links":          [][]int{{1}, {0, 1}, {}, {4}, {1, 1}},
		"train_masks":    train,
		"val_masks":      val,
		"stopping_masks": stop,
		"test_mask":      []bool{false, false, true, true, true},
	}
}

func marshalWikiCS(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeWikiCS writes data as <root>/wikics/raw/data.json under a new root.
func writeWikiCS(t testing.TB, data []byte) (root, path string) {
	t.Helper()
	root = t.TempDir()
	dir := filepath.Join(root, "wikics", "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "data.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, path
}

func TestLoadWikiCS(t *testing.T) {
	fields := synthWikiCS()
	fields["metadata"] = map[string]any{"x": []any{1, "two", []int{3}}} // skipped
	root, path := writeWikiCS(t, marshalWikiCS(t, fields))
	for split := 0; split < 4; split++ {
		ds, err := LoadWikiCS(root, split)
		if err != nil {
			t.Fatal(err)
		}
		f := ds.Features
		if f.Rows != 5 || f.Cols != 3 || !slices.Equal(f.Indptr, []int{0, 2, 3, 3, 6, 8}) ||
			!slices.Equal(f.Indices, []int32{1, 2, 0, 0, 1, 2, 0, 2}) ||
			!slices.Equal(f.Data, []float32{0.5, -1, 1e-3, 2, 3, 4, 0.1, 0.25}) {
			t.Errorf("features %+v", f)
		}
		if want := [][2]int{{0, 1}, {1, 4}, {3, 4}}; !slices.Equal(edgesOf(ds.Graph), want) {
			t.Errorf("edges %v, want %v", edgesOf(ds.Graph), want)
		}
		if !slices.Equal(ds.Labels, []int{0, 2, 1, 2, 0}) || ds.NumClasses != 3 || ds.Name != "wikics" ||
			!slices.Equal(ds.Files, []string{path}) {
			t.Errorf("labels %v, %d classes, name %q, files %v", ds.Labels, ds.NumClasses, ds.Name, ds.Files)
		}
		want := Split{Train: []int{split % 5}, Val: []int{(split + 1) % 5}, Test: []int{2, 3, 4}}
		if !splitsEqual(ds.Split, want) {
			t.Errorf("split %d: %v, want %v", split, ds.Split, want)
		}
	}
	// Load checks the file's size against the registry's before parsing.
	if _, err := Load(root, "wikics"); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "gnsr data download wikics") {
		t.Errorf("Load of a short data.json: %v, want a checksum error", err)
	}
	// All splits are kept, for the protocol's split seed mod 20.
	ds, err := LoadWikiCS(root, 0)
	if err != nil || len(ds.Splits) != 4 || ds.Protocol.Split.Kind != FileSplits {
		t.Fatalf("LoadWikiCS: %v, %v", ds, err)
	}
	for seed := range uint64(7) {
		s, err := ds.Protocol.Split.ForSeed(ds, seed)
		if want := ds.Splits[seed%4]; err != nil || !splitsEqual(s, want) {
			t.Errorf("seed %d: split %v, %v; want %v", seed, s, err, want)
		}
	}
	// Masks of 0 and 1, no stopping masks, keys in another order.
	raw := `{"test_mask": [0, 0, 1, 1, 1], "labels": [0, 2, 1, 2, 0],
	  "train_masks": [[1, 0, 0, 0, 0]], "val_masks": [[0, 1, 0, 0, 0]],
	  "links": [[1], [0], [], [4], [1]],
	  "features": [[0, 0.5, -1], [0.001, 0, 0], [0, 0, 0], [2, 3, 4], [0.1, 0, 0.25]]}`
	root, _ = writeWikiCS(t, []byte(raw))
	if ds, err := LoadWikiCS(root, 0); err != nil || !slices.Equal(ds.Split.Test, []int{2, 3, 4}) {
		t.Errorf("0/1 masks: %v, %v", ds, err)
	}
}

func TestLoadWikiCSErrors(t *testing.T) {
	with := func(key string, v any) []byte {
		f := synthWikiCS()
		if v == nil {
			delete(f, key)
		} else {
			f[key] = v
		}
		return marshalWikiCS(t, f)
	}
	good := marshalWikiCS(t, synthWikiCS())
	short := make([][]bool, 4)
	for i := range short {
		short[i] = make([]bool, 5)
	}
	short[2] = short[2][:4]
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	for _, tc := range []struct {
		name  string
		data  []byte
		split int
		field string
		msg   string
	}{
		{"wrong mask length", with("val_masks", short), 0, "val_masks[2]", "4 entries for 5 nodes"},
		{"wrong test mask length", with("test_mask", []bool{true}), 0, "test_mask", "1 entries for 5 nodes"},
		{"stopping mask length", with("stopping_masks", short), 0, "stopping_masks[2]", "4 entries"},
		{"label negative", with("labels", []int{0, -1, 1, 2, 0}), 0, "labels[1]", "not an integer in [0, 65535]"},
		{"label too large", with("labels", []int{0, 1 << 20, 1, 2, 0}), 0, "labels[1]", "not an integer"},
		{"label not integer", with("labels", []any{0, 1.5, 1, 2, 0}), 0, "labels[1]", "not an integer"},
		{"label count", with("labels", []int{0, 1}), 0, "labels", "2 labels for 5 nodes"},
		{"link to missing node", with("links", [][]int{{1}, {0}, {}, {5}, {1}}), 0, "links[3][0]", "node 5 does not exist"},
		{"negative link", with("links", [][]int{{1}, {0}, {}, {-1}, {1}}), 0, "links[3][0]", "not an integer"},
		{"links count", with("links", [][]int{{1}}), 0, "links", "1 adjacency lists for 5 nodes"},
		{"feature row length", with("features", [][]float64{{0, 0, 0}, {1, 0}, {0, 0, 0}, {2, 3, 4}, {0, 0, 0}}), 0,
			"features[1]", "2 values, want 3"},
		{"feature not a number", with("features", [][]any{{0, 0, 0}, {1, "x", 0}, {0, 0, 0}, {2, 3, 4}, {0, 0, 0}}), 0,
			"features[1][1]", "want a number"},
		{"feature overflows float32", with("features", [][]float64{{0, 0, 0}, {1e300, 0, 0}, {0, 0, 0}, {2, 3, 4}, {0, 0, 0}}), 0,
			"features[1][0]", "not a float32"},
		{"no nodes", with("features", [][]float64{}), 0, "features", "no nodes"},
		{"split beyond file", good, 5, "train_masks", "split 5 is out of range: the file has 4 masks"},
		{"mask not boolean", with("test_mask", []any{true, 2, true, true, true}), 0, "test_mask[1]", "want a boolean"},
		{"missing key", with("links", nil), 0, "", `no "links" key`},
		{"duplicate key", []byte(`{"labels": [0], "labels": [0]}`), 0, "", `key "labels" appears twice`},
		{"truncated", good[:len(good)/2], 0, "", "unexpected EOF"},
		{"trailing data", append(slices.Clone(good), []byte(" {}")...), 0, "", "data after the top-level object"},
		{"not an object", []byte(`[1, 2]`), 0, "the top level", "want {"},
		{"syntax error", []byte(`{"labels": [0,, 1]}`), 0, "labels", "invalid character"},
		{"deep unknown value", []byte(`{"x": ` + deep + `}`), 0, "x", "nested deeper than 64"},
		{"empty file", nil, 0, "", "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, path := writeWikiCS(t, tc.data)
			_, err := LoadWikiCS(root, tc.split)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path+": "+tc.field) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v\nwant ErrFormat naming %s, %s and %q", err, path, tc.field, tc.msg)
			}
		})
	}
	// A split index outside [0, 20) is refused before the file is read.
	for _, split := range []int{-1, WikiCSSplits} {
		if _, err := LoadWikiCS(t.TempDir(), split); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("split %d: err = %v", split, err)
		}
	}
	if _, err := LoadWikiCS(t.TempDir(), 0); !errors.Is(err, ErrMissing) {
		t.Errorf("missing file: err = %v", err)
	}
}
