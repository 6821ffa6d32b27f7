package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The statistics of ../shared/datasets/SOURCES.md, and digests of the
// arrays that ../shared/peers/common.py's load_planetoid gives (features
// with sorted indices; labels with -1 where the one-hot row is zero; edges
// u < v sorted), computed with Python.
var planetoidStats = []struct {
	name                  string
	nodes, edges, feats   int
	nnz                   int
	classes               int
	counts                []int
	unlabeled             int
	train, val, test      int
	featSHA, labSHA, eSHA string
}{
	{"cora", 2708, 5278, 1433, 49216, 7, []int{351, 217, 418, 818, 426, 298, 180}, 0, 140, 500, 1000,
		"a062dfa1489e9d61bd6f046ba191b16f5840d93e90d9e99ada7afc31f199103a",
		"d0018d7ffd314eb25a4904973f2c7eb1b7be135d668de42d453714724f8e9d03",
		"77b2d0ad6bdc31beefce3956fca3e6c6c608f5c61da6f8ad6f55a5b72425db60"},
	{"citeseer", 3327, 4552, 3703, 105165, 6, []int{249, 590, 668, 701, 596, 508}, 15, 120, 500, 1000,
		"fcdf3c26718cd6fac729fb99ba83cce1f5ef3415065e830d5b34479ff060c0e3",
		"a33560b649dadb27528b35f6bf2a3976cdc61d2e24ae8db5f5d503233b0ef7aa",
		"a175d643c1915f9e7325ed345ff16c865b679063f21e652c3c7ce76e0139ac75"},
	{"pubmed", 19717, 44324, 500, 988031, 3, []int{4103, 7739, 7875}, 0, 60, 500, 1000,
		"724f8f10cd58fae31815534fbb1d8307ab53d3834f7c25bdc1bfd120c0c1b085",
		"973a30d7c0567fe67fb9026058f1105859f87d44981b7b88992d648877d174c7",
		"891688449aa2e9f68bad00cb1fd43351afbc646518864c96b586a5cc83df3a9d"},
}

func TestLoadPlanetoidReal(t *testing.T) {
	root := dataRoot(t)
	for _, want := range planetoidStats {
		t.Run(want.name, func(t *testing.T) {
			start := time.Now()
			ds, err := Load(root, want.name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loaded %s in %v", want.name, time.Since(start))
			f := ds.Features
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			if ds.Name != want.name || f.Rows != want.nodes || f.Cols != want.feats || f.NNZ() != want.nnz ||
				len(ds.Labels) != want.nodes || len(edgesOf(ds.Graph)) != want.edges || ds.NumClasses != want.classes {
				t.Errorf("got %s: %d×%d features with %d non-zeros, %d labels, %d edges, %d classes; want %+v",
					ds.Name, f.Rows, f.Cols, f.NNZ(), len(ds.Labels), len(edgesOf(ds.Graph)), ds.NumClasses, want)
			}
			counts := make([]int, ds.NumClasses)
			unlabeled := 0
			for _, l := range ds.Labels {
				if l < 0 {
					unlabeled++
				} else {
					counts[l]++
				}
			}
			if !slices.Equal(counts, want.counts) || unlabeled != want.unlabeled {
				t.Errorf("class counts %v and %d unlabeled, want %v and %d", counts, unlabeled, want.counts, want.unlabeled)
			}
			sp := ds.Split
			if len(sp.Train) != want.train || len(sp.Val) != want.val || len(sp.Test) != want.test {
				t.Errorf("split %d/%d/%d, want %d/%d/%d", len(sp.Train), len(sp.Val), len(sp.Test), want.train, want.val, want.test)
			}
			if sp.Train[0] != 0 || sp.Val[0] != want.train || sp.Val[want.val-1] != want.train+want.val-1 {
				t.Errorf("train starts at %d, val runs %d..%d", sp.Train[0], sp.Val[0], sp.Val[len(sp.Val)-1])
			}
			for _, e := range edgesOf(ds.Graph) {
				if e[0] >= e[1] || e[1] >= want.nodes {
					t.Fatalf("edge %v", e)
				}
			}
			if len(ds.Files) != 8 {
				t.Errorf("Files = %v", ds.Files)
			}
			if got := featureDigest(f.Indptr, f.Indices, f.Data); got != want.featSHA {
				t.Errorf("feature digest %s, want %s (common.py)", got, want.featSHA)
			}
			if got := intsDigest(ds.Labels); got != want.labSHA {
				t.Errorf("label digest %s, want %s (common.py)", got, want.labSHA)
			}
			var flat []int
			for _, e := range edgesOf(ds.Graph) {
				flat = append(flat, e[0], e[1])
			}
			if got := intsDigest(flat); got != want.eSHA {
				t.Errorf("edge digest %s, want %s (common.py)", got, want.eSHA)
			}
		})
	}
}

func featureDigest(indptr []int, indices []int32, data []float32) string {
	h := sha256.New()
	var b []byte
	for _, p := range indptr {
		b = binary.LittleEndian.AppendUint64(b, uint64(p))
	}
	for _, c := range indices {
		b = binary.LittleEndian.AppendUint32(b, uint32(c))
	}
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func intsDigest(xs []int) string {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestLoadPlanetoidSynthetic compares the loader with a literal dense
// transcription of common.py on datasets with holes in the test range and
// a shuffled test index.
func TestLoadPlanetoidSynthetic(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		s := newSynthPlanetoid(seed)
		root := t.TempDir()
		if err := s.write(root, "citeseer"); err != nil {
			t.Fatal(err)
		}
		ds, err := LoadPlanetoid(root, "citeseer")
		if err != nil {
			t.Fatal(err)
		}
		feats, labels, edges := s.reference()
		n := len(feats)
		if ds.Features.Rows != n || ds.Features.Cols != s.features || !slices.Equal(ds.Labels, labels) {
			t.Fatalf("seed %d: %d×%d features, labels %v; want %d×%d, %v", seed, ds.Features.Rows, ds.Features.Cols, ds.Labels, n, s.features, labels)
		}
		for i := 0; i < n; i++ {
			row := make([]float32, s.features)
			for k := ds.Features.Indptr[i]; k < ds.Features.Indptr[i+1]; k++ {
				row[ds.Features.Indices[k]] = ds.Features.Data[k]
			}
			if !slices.Equal(row, feats[i]) {
				t.Fatalf("seed %d: row %d = %v, want %v", seed, i, row, feats[i])
			}
		}
		if len(edgesOf(ds.Graph)) != len(edges) {
			t.Errorf("seed %d: %d edges, want %d", seed, len(edgesOf(ds.Graph)), len(edges))
		}
		for _, e := range edgesOf(ds.Graph) {
			if !edges[e] {
				t.Errorf("seed %d: unexpected edge %v", seed, e)
			}
		}
		if !slices.IsSortedFunc(edgesOf(ds.Graph), func(a, b [2]int) int {
			if a[0] != b[0] {
				return a[0] - b[0]
			}
			return a[1] - b[1]
		}) {
			t.Errorf("seed %d: edges not sorted", seed)
		}
		if !slices.Equal(ds.Split.Test, s.testIdx) || len(ds.Split.Train) != s.train || ds.Split.Val[0] != s.train {
			t.Errorf("seed %d: split %v", seed, ds.Split)
		}
		// Two nodes of the test range have no label.
		unlabeled := 0
		for _, l := range ds.Labels {
			if l == -1 {
				unlabeled++
			}
		}
		if unlabeled != 2 {
			t.Errorf("seed %d: %d unlabeled nodes, want 2", seed, unlabeled)
		}
	}
}

func TestLoadPlanetoidErrors(t *testing.T) {
	synth := newSynthPlanetoid(4)
	good := synth.files()
	negative := append(slices.Clone(synth.graph), adjEntry{5, []int{-1}})
	tests := []struct {
		name    string
		replace map[string][]byte // file extension → new contents; nil deletes
		is      error
		want    []string
	}{
		{"missing graph", map[string][]byte{"graph": nil}, ErrMissing,
			[]string{"ind.cora.graph", "gnsr data download cora", "GNSR_DATA"}},
		{"malicious graph", map[string][]byte{"graph": malicious("os", "system", "rm -rf /")}, ErrFormat,
			[]string{"ind.cora.graph", "os.system"}},
		{"truncated allx", map[string][]byte{"allx": good["allx"][:len(good["allx"])/2]}, ErrFormat,
			[]string{"ind.cora.allx", "truncated"}},
		{"labels as features", map[string][]byte{"tx": good["ty"]}, ErrFormat,
			[]string{"ind.cora.tx", "csr_matrix"}},
		{"row mismatch", map[string][]byte{"y": matrixPickle(2, 3, make([]int, 6))}, ErrFormat,
			[]string{"ind.cora.y", "2 rows, but ind.cora.x has 6"}},
		{"class mismatch", map[string][]byte{"ty": matrixPickle(10, 2, make([]int, 20))}, ErrFormat,
			[]string{"ind.cora.ty", "2 label columns"}},
		{"bad test index", map[string][]byte{"test.index": []byte("510\nx\n")}, ErrFormat,
			[]string{"ind.cora.test.index", "line 2"}},
		{"test index count", map[string][]byte{"test.index": []byte("510\n511\n")}, ErrFormat,
			[]string{"ind.cora.test.index", "2 test indices for 10 rows"}},
		{"duplicate test index", map[string][]byte{"test.index": []byte("510\n511\n512\n513\n514\n515\n516\n517\n518\n518\n")}, ErrFormat,
			[]string{"ind.cora.test.index", "appears twice"}},
		{"test index far away", map[string][]byte{"test.index": []byte("510\n511\n512\n513\n514\n515\n516\n517\n518\n2000000000\n")}, ErrFormat,
			[]string{"ind.cora.test.index", "span"}},
		{"graph too small for the test range", map[string][]byte{"graph": graphPickle(synth.graph[:5])}, ErrFormat,
			[]string{"ind.cora.test.index", "5 nodes of the graph"}},
		{"negative edge", map[string][]byte{"graph": graphPickle(negative)}, ErrFormat,
			[]string{"ind.cora.graph", "negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "cora", "raw")
			os.MkdirAll(dir, 0o755)
			for ext, b := range good {
				if r, ok := tc.replace[ext]; ok {
					if r == nil {
						continue
					}
					b = r
				}
				os.WriteFile(filepath.Join(dir, "ind.cora."+ext), b, 0o644)
			}
			_, err := LoadPlanetoid(root, "cora")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.is) || !strings.HasPrefix(err.Error(), "datasets:") {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.is == ErrMissing && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q does not wrap fs.ErrNotExist", err)
			}
		})
	}
}

func TestLoadDispatch(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		is   error
		want string
	}{
		{"nosuch", ErrUnknownDataset, "cora, citeseer, pubmed, amazon-computers"},
		{"amazon-photo", ErrMissing, filepath.Join(root, "amazon-photo", "raw", "amazon_electronics_photo.npz")},
		{"wikics", ErrMissing, filepath.Join(root, "wikics", "raw", "data.json")},
		{"mnist", ErrNotSupported, "mnist is an image classification dataset, not a graph"},
		{"ogbn-arxiv", ErrMissing, filepath.Join(root, "ogbn-arxiv", "raw", "arxiv.zip")},
	} {
		_, err := Load(root, tc.name)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error wrapping %v mentioning %q", tc.name, err, tc.is, tc.want)
		}
	}
	if _, err := LoadPlanetoid(root, "amazon-photo"); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("LoadPlanetoid(amazon-photo) = %v", err)
	}
	// With none of its files, Cora comes from the binary's copy; with some,
	// the missing ones are named.
	if ds, err := Load(root, "cora"); err != nil || len(ds.Labels) != 2708 || !strings.HasPrefix(ds.Files[0], "embedded:") {
		t.Errorf("Load(cora) from the embedded copy: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "cora", "raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "cora", "raw", "ind.cora.y"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(root, "cora"); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "ind.cora.y: 1 bytes, want 4054") {
		t.Errorf("Load(cora) with a short file: %v", err)
	}
	if _, err := LoadImages(root, "cora", ImageOptions{}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("LoadImages(cora) = %v", err)
	}
}

func TestRoot(t *testing.T) {
	cache, cacheErr := os.UserCacheDir()
	for _, tc := range []struct {
		flag, env, want string
	}{
		{"/flag", "/env", "/flag"},
		{"", "/env", "/env"},
		{"", "", filepath.Join(cache, "gnsr")},
	} {
		t.Setenv(EnvDataRoot, tc.env)
		got, err := Root(tc.flag)
		if tc.want == filepath.Join(cache, "gnsr") && cacheErr != nil {
			if err == nil {
				t.Errorf("Root(%q) with no cache dir: no error", tc.flag)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Root(%q) with %s=%q = %q, %v; want %q", tc.flag, EnvDataRoot, tc.env, got, err, tc.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"cora", "citeseer", "pubmed", "amazon-computers", "amazon-photo", "wikics", "ogbn-arxiv", "ogbn-products", "mnist", "cifar10", "cifar10-jpeg"}
	if got := Known(); !slices.Equal(got, want) {
		t.Errorf("Known() = %v, want %v", got, want)
	}
	for _, name := range want {
		fs, err := Files(name)
		if err != nil || len(fs) == 0 {
			t.Fatalf("Files(%q) = %v, %v", name, fs, err)
		}
		for _, f := range fs {
			if f.Name == "" || (f.Size <= 0 && name != "ogbn-products") || (f.SHA256 != "" && len(f.SHA256) != 64) {
				t.Errorf("%s: bad spec %+v", name, f)
			}
			if f.URL == "" && name != "cifar10-jpeg" {
				t.Errorf("%s: no URL for %s", name, f.Name)
			}
			if f.SHA256 == "" && name != "wikics" && name != "ogbn-arxiv" && name != "ogbn-products" {
				t.Errorf("%s: no sha256 for %s", name, f.Name)
			}
		}
	}
	cora, _ := Files("cora")
	if len(cora) != 8 || cora[6].URL != "https://github.com/kimiyoung/planetoid/raw/master/data/ind.cora.graph" {
		t.Errorf("cora files %+v", cora)
	}
	cora[0].Name = "changed"
	if again, _ := Files("cora"); again[0].Name != "ind.cora.x" {
		t.Error("Files returns the registry's own slice")
	}
	if _, err := Files("nosuch"); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("Files(nosuch) = %v", err)
	}
}

// TestVerifyReal checks the shared data against the registry's digests.
func TestVerifyReal(t *testing.T) {
	root := dataRoot(t)
	for _, name := range Known() {
		st, err := Verify(root, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if name == "wikics" || name == "cifar10" || name == "ogbn-arxiv" || name == "ogbn-products" { // not available here
				if s.Present {
					t.Logf("%s present", s.Path)
				}
				continue
			}
			if !s.OK {
				t.Errorf("%s: %+v", s.Path, s)
			}
		}
	}
}

func BenchmarkLoadPubMed(b *testing.B) {
	root := dataRoot(b)
	for b.Loop() {
		if _, err := LoadPlanetoid(root, "pubmed"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEmbeddedPlanetoid checks the binary's copies of the Planetoid files
// against the registry's sizes and sha256, and that loading from them gives
// the dataset the files on disk give.
func TestEmbeddedPlanetoid(t *testing.T) {
	for _, name := range []string{"cora", "citeseer", "pubmed"} {
		e, err := Lookup(name)
		if err != nil || !e.Embedded {
			t.Fatalf("%s: %v, embedded %v", name, err, e.Embedded)
		}
		for _, f := range e.Files {
			data, err := embeddedFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := sum(data); int64(len(data)) != f.Size || got != f.SHA256 {
				t.Errorf("%s: %d bytes, sha256 %s; registry %d, %s", f.Name, len(data), got, f.Size, f.SHA256)
			}
		}
	}
	entries, err := embeddedFiles.ReadDir("embedded")
	if err != nil || len(entries) != 24 {
		t.Errorf("%d embedded files (%v), want the 24 Planetoid files", len(entries), err)
	}
}
