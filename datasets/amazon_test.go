package datasets

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The statistics of ../shared/datasets/SOURCES.md for the Amazon datasets.
var amazonStats = []struct {
	name                    string
	nodes, stored, selfLoop int
	edges, feats, nnz       int
	counts                  []int
	firstName               string
}{
	{"amazon-computers", 13752, 287209, 0, 245861, 767, 3675081,
		[]int{436, 2142, 1414, 542, 5158, 308, 487, 818, 2156, 291}, "Desktops"},
	{"amazon-photo", 7650, 143663, 1, 119081, 745, 1979909,
		[]int{369, 1686, 703, 915, 882, 823, 1941, 331}, "Film Photography"},
}

func TestLoadAmazonReal(t *testing.T) {
	root := dataRoot(t)
	for _, want := range amazonStats {
		t.Run(want.name, func(t *testing.T) {
			start := time.Now()
			ds, err := Load(root, want.name)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loaded %s in %v", want.name, time.Since(start))
			s := Stats(ds)
			if s.Nodes != want.nodes || s.Edges != want.edges || s.Features != want.feats || s.FeatureNNZ != want.nnz ||
				s.Classes != len(want.counts) || !slices.Equal(s.ClassCounts, want.counts) || s.Unlabeled != 0 {
				t.Errorf("stats %+v, want %+v", s, want)
			}
			if err := ds.Features.Validate(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < ds.Features.Rows; i++ {
				row := ds.Features.Indices[ds.Features.Indptr[i]:ds.Features.Indptr[i+1]]
				if !slices.IsSorted(row) || len(slices.Compact(slices.Clone(row))) != len(row) {
					t.Fatalf("feature row %d not sorted and unique", i)
				}
			}
			for _, v := range ds.Features.Data {
				if v != 1 {
					t.Fatalf("feature value %v, want binary features", v)
				}
			}
			checkEdges(t, edgesOf(ds.Graph), want.nodes)
			if len(ds.ClassNames) != len(want.counts) || ds.ClassNames[0] != want.firstName {
				t.Errorf("class names %q", ds.ClassNames)
			}
			if len(ds.Files) != 1 || filepath.Base(ds.Files[0]) != "amazon_electronics_"+strings.TrimPrefix(want.name, "amazon-")+".npz" {
				t.Errorf("Files = %v", ds.Files)
			}
			checkSplit(t, ds.Split, ds.Labels, ds.NumClasses, BenchmarkTrainPerClass, BenchmarkValPerClass)
			s0, err := RandomSplit(ds.Labels, ds.NumClasses, BenchmarkTrainPerClass, BenchmarkValPerClass, 0)
			if err != nil || !splitsEqual(s0, ds.Split) {
				t.Errorf("Split is not RandomSplit's for seed 0 (%v)", err)
			}

			// The stored adjacency entries and self-loops, from the raw arrays.
			f, err := os.Open(ds.Files[0])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			z, err := openNPZ(ds.Files[0], f, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			adj, err := readCSRArrays(z, "adj")
			if err != nil {
				t.Fatal(err)
			}
			loops := 0
			for u := 0; u < adj.rows; u++ {
				for k := adj.indptr[u]; k < adj.indptr[u+1]; k++ {
					if int(adj.indices[k]) == u {
						loops++
					}
				}
			}
			if len(adj.indices) != want.stored || loops != want.selfLoop {
				t.Errorf("%d stored adjacency entries with %d self-loops, want %d and %d", len(adj.indices), loops, want.stored, want.selfLoop)
			}
		})
	}
}

func checkEdges(t *testing.T, es [][2]int, n int) {
	t.Helper()
	for i, e := range es {
		if e[0] < 0 || e[0] >= e[1] || e[1] >= n {
			t.Fatalf("edge %v", e)
		}
		if i > 0 && (es[i-1][0] > e[0] || es[i-1][0] == e[0] && es[i-1][1] >= e[1]) {
			t.Fatalf("edges not sorted and unique at %d: %v, %v", i, es[i-1], e)
		}
	}
}

func splitsEqual(a, b Split) bool {
	return slices.Equal(a.Train, b.Train) && slices.Equal(a.Val, b.Val) && slices.Equal(a.Test, b.Test)
}

// checkSplit checks a per-class split: sizes, sortedness, disjointness and
// that it covers every labelled node.
func checkSplit(t *testing.T, s Split, labels []int, classes, train, val int) {
	t.Helper()
	in := make([]int, len(labels))
	perClass := func(set []int, name string, want int) {
		counts := make([]int, classes)
		for _, u := range set {
			in[u]++
			counts[labels[u]]++
		}
		if !slices.IsSorted(set) {
			t.Errorf("%s not sorted", name)
		}
		if want >= 0 {
			for c, k := range counts {
				if k != want {
					t.Errorf("%s has %d nodes of class %d, want %d", name, k, c, want)
				}
			}
		}
	}
	perClass(s.Train, "train", train)
	perClass(s.Val, "val", val)
	perClass(s.Test, "test", -1)
	for u, k := range in {
		if want := min(labels[u]+1, 1); k != want {
			t.Fatalf("node %d (label %d) is in %d sets, want %d", u, labels[u], k, want)
		}
	}
}

func TestRandomSplit(t *testing.T) {
	// 3 classes of 60, 55 and 50 nodes, interleaved, and some unlabelled.
	var labels []int
	for i := 0; i < 200; i++ {
		switch {
		case i%7 == 6:
			labels = append(labels, -1)
		default:
			labels = append(labels, i%3)
		}
	}
	counts := make([]int, 3)
	for _, l := range labels {
		if l >= 0 {
			counts[l]++
		}
	}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 10; seed++ {
		s, err := RandomSplit(labels, 3, 20, 30, seed)
		if err != nil {
			t.Fatal(err)
		}
		checkSplit(t, s, labels, 3, 20, 30)
		if want := counts[0] + counts[1] + counts[2] - 150; len(s.Test) != want {
			t.Errorf("seed %d: %d test nodes, want %d", seed, len(s.Test), want)
		}
		again, _ := RandomSplit(labels, 3, 20, 30, seed)
		if !splitsEqual(s, again) {
			t.Errorf("seed %d: two draws differ", seed)
		}
		key := intsDigest(append(slices.Clone(s.Train), s.Val...))
		if seen[key] {
			t.Errorf("seed %d repeats an earlier seed's split", seed)
		}
		seen[key] = true
	}
	// Pin seed 0, so that a change to the draw (which would change every
	// published number) is noticed.
	s, _ := RandomSplit(labels, 3, 2, 1, 0)
	if want := []int{21, 45, 46, 122, 170, 190}; !slices.Equal(s.Train, want) {
		t.Errorf("seed 0 training nodes %v, want %v", s.Train, want)
	}

	for _, tc := range []struct {
		name        string
		labels      []int
		classes     int
		train, val  int
		errContains string
	}{
		{"too few", []int{0, 0, 1}, 2, 1, 1, "class 1 has 1 nodes"},
		{"empty class", []int{0, 0}, 2, 1, 0, "class 1 has 0 nodes"},
		{"label too large", []int{0, 2}, 2, 0, 0, "label 2 of node 1"},
		{"label below -1", []int{-2}, 1, 0, 0, "label -2 of node 0"},
		{"negative count", []int{0}, 1, -1, 0, "-1 training"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RandomSplit(tc.labels, tc.classes, tc.train, tc.val, 0)
			if err == nil || !strings.Contains(err.Error(), tc.errContains) || !strings.HasPrefix(err.Error(), "datasets:") {
				t.Errorf("err = %v, want one containing %q", err, tc.errContains)
			}
		})
	}
}

func TestParseNPYHeader(t *testing.T) {
	for _, tc := range []struct {
		header string
		shape  []int
		err    string
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", []int{3}, ""},
		{`{"descr": "<i8", "fortran_order": False, "shape": (2, 3)}`, []int{2, 3}, ""},
		{"{'shape': (), 'descr': '|b1', 'fortran_order': True}", []int{}, ""},
		{"{'descr': '<U19', 'fortran_order': False, 'shape': (10L,), }", []int{10}, ""},
		{"{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", nil, `dtype ">f4" is not supported`},
		{"{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", nil, "not supported"},
		{"{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", nil, "object array"},
		{"{'descr': '<U0', 'fortran_order': False, 'shape': (3,), }", nil, "not supported"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", nil, "not a tuple"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", nil, "not an integer"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", nil, "not an integer"},
		{"{'descr': '<f4', 'fortran_order': False}", nil, "want the keys"},
		{"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", nil, "twice"},
		{"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", nil, "False"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", nil, "unexpected key"},
		{"{'descr': '<\\x66', 'fortran_order': False, 'shape': (3,)}", nil, "escapes"},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x", nil, "final newline"},
		{"__import__('os').system('true')", nil, "want '{'"},
	} {
		h, err := parseNPYHeader([]byte(tc.header + "\n"))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.header, err)
		case tc.err == "" && !slices.Equal(h.shape, tc.shape):
			t.Errorf("%s: shape %v, want %v", tc.header, h.shape, tc.shape)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one containing %q", tc.header, err, tc.err)
		}
	}
}

// loadSynthNPZ writes archive as amazon-photo's file under a new root and
// loads it.
func loadSynthNPZ(t *testing.T, archive []byte) (*NodeDataset, string, error) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "amazon-photo", "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "amazon_electronics_photo.npz")
	if err := os.WriteFile(path, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadAmazon(root, "amazon-photo")
	return ds, path, err
}

func TestLoadAmazonSynthetic(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		s := newSynthNPZ()
		// A class needs 50 nodes for the benchmark split; check the
		// assembly on a bigger label-only case below.
		_, _, err := loadSynthNPZ(t, s.bytes(deflate, nil))
		if err == nil || !strings.Contains(err.Error(), "class 0 has 3 nodes") {
			t.Fatalf("deflate %v: err = %v, want the split to fail on tiny classes", deflate, err)
		}
		z, err := openNPZ("synth.npz", bytes.NewReader(s.bytes(deflate, nil)), int64(len(s.bytes(deflate, nil))))
		if err != nil {
			t.Fatal(err)
		}
		ds, err := readBenchmarkNPZWithSplit(z, func(labels []int, classes int) (Split, error) {
			return RandomSplit(labels, classes, 1, 1, 0)
		})
		if err != nil {
			t.Fatalf("deflate %v: %v", deflate, err)
		}
		wantEdges := [][2]int{{0, 1}, {0, 4}, {1, 2}, {2, 5}, {4, 5}}
		if !slices.Equal(edgesOf(ds.Graph), wantEdges) {
			t.Errorf("edges %v, want %v", edgesOf(ds.Graph), wantEdges)
		}
		f := ds.Features
		if !slices.Equal(f.Indptr, []int{0, 2, 2, 4, 5, 6, 7}) ||
			!slices.Equal(f.Indices, []int32{0, 3, 1, 2, 3, 0, 2}) ||
			!slices.Equal(f.Data, []float32{1, 1, 3, 1, 1, 1, 1}) || f.Cols != 4 {
			t.Errorf("features %+v", f)
		}
		if !slices.Equal(ds.Labels, []int{0, 1, 1, 0, 1, 0}) || ds.NumClasses != 2 ||
			!slices.Equal(ds.ClassNames, []string{"Cams", "Lenses"}) {
			t.Errorf("labels %v, %d classes %q", ds.Labels, ds.NumClasses, ds.ClassNames)
		}
		if st := Stats(ds); st.Isolated != 1 || st.Edges != 5 || st.FeatureNNZ != 7 {
			t.Errorf("stats %+v", st)
		}

		// A width the entries cannot back is refused before it sizes
		// anything (the lying attr_shape of the issue, in small).
		wide := s.bytes(deflate, map[string][]byte{"attr_shape": npyFile("<i8", []int{2}, i64s(6, maxDim))})
		if z, err = openNPZ("wide.npz", bytes.NewReader(wide), int64(len(wide))); err != nil {
			t.Fatal(err)
		}
		_, err = readBenchmarkNPZWithSplit(z, func([]int, int) (Split, error) { return Split{}, nil })
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "wide.npz: attr_shape: 2147483647 feature columns") {
			t.Errorf("wide attr_shape: %v", err)
		}
		// Columns beyond what the data fill, within the bound, take the
		// per-row sort.
		wide = s.bytes(deflate, map[string][]byte{"attr_shape": npyFile("<i8", []int{2}, i64s(6, 14))})
		if z, err = openNPZ("wide.npz", bytes.NewReader(wide), int64(len(wide))); err != nil {
			t.Fatal(err)
		}
		dw, err := readBenchmarkNPZWithSplit(z, func([]int, int) (Split, error) { return Split{}, nil })
		if err != nil {
			t.Fatal(err)
		}
		if g := dw.Features; g.Cols != 14 || !slices.Equal(g.Indptr, f.Indptr) || !slices.Equal(g.Indices, f.Indices) || !slices.Equal(g.Data, f.Data) {
			t.Errorf("wide features %+v, want those of %+v", g, f)
		}
	}
}

func TestLoadAmazonNamesOptional(t *testing.T) {
	s := newSynthNPZ()
	for name, names := range map[string][]byte{
		"missing": nil,
		"object":  npyFile("|O", []int{2}, []byte("\x80\x02]q\x00.")),
	} {
		archive := s.bytes(false, map[string][]byte{"class_names": names})
		z, err := openNPZ("synth.npz", bytes.NewReader(archive), int64(len(archive)))
		if err == nil {
			var ds *NodeDataset
			ds, err = readBenchmarkNPZWithSplit(z, func([]int, int) (Split, error) { return Split{}, nil })
			if err == nil && (ds.ClassNames != nil || ds.NumClasses != 2) {
				t.Errorf("%s: class names %q, %d classes", name, ds.ClassNames, ds.NumClasses)
			}
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoadAmazonErrors(t *testing.T) {
	s := newSynthNPZ()
	good := s.bytes(false, nil)
	corruptCRC := slices.Clone(good)
	// Flip a byte of adj_indices' data: the CRC-32 no longer matches.
	i := bytes.Index(corruptCRC, i32s(1, 4, 0, 1, 3, 5, 2))
	corruptCRC[i] ^= 0xff
	// A stored member whose local and central headers claim 4 GiB.
	lying := npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }", f32s(1))
	huge := npyWithHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (2147483647, 2147483647, 4), }", nil)
	bigHeader := []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f")

	for _, tc := range []struct {
		name    string
		archive []byte
		field   string // must appear in the error with the file
		msg     string
	}{
		{"truncated zip", good[:len(good)/2], "", "not a readable npz"},
		{"not a zip", []byte("hello"), "", "not a readable npz"},
		{"empty file", nil, "", "not a readable npz"},
		{"corrupt data", corruptCRC, "adj_indices", "checksum"},
		{"missing array", s.bytes(false, map[string][]byte{"labels": nil}), "labels", "no such array"},
		{"indptr length", s.bytes(false, map[string][]byte{"attr_indptr": npyFile("<i4", []int{6}, i32s(0, 2, 2, 5, 6, 7))}),
			"attr_indptr", "6 entries for 6 rows"},
		{"indptr end", s.bytes(false, map[string][]byte{"attr_indptr": npyFile("<i4", []int{7}, i32s(0, 2, 2, 5, 6, 7, 7))}),
			"attr_indptr", "want 0 to 8"},
		{"indptr decreases", s.bytes(false, map[string][]byte{"adj_indptr": npyFile("<i4", []int{7}, i32s(0, 3, 2, 4, 5, 6, 7))}),
			"adj_indptr", "decreases at row 1"},
		{"indptr beyond", s.bytes(false, map[string][]byte{"adj_indptr": npyFile("<i4", []int{7}, i32s(0, 9, 2, 4, 5, 6, 7))}),
			"adj_indptr", "adj_indptr[1] is outside [0, 7]"},
		{"index out of range", s.bytes(false, map[string][]byte{"adj_indices": npyFile("<i4", []int{7}, i32s(1, 4, 0, 1, 6, 5, 2))}),
			"adj_indices", "adj_indices[4] is outside [0, 5]"},
		{"negative index", s.bytes(false, map[string][]byte{"attr_indices": npyFile("<i4", []int{8}, i32s(3, 0, 1, 2, 1, -1, 0, 2))}),
			"attr_indices", "attr_indices[5] is outside"},
		{"data length", s.bytes(false, map[string][]byte{"attr_data": npyFile("<f4", []int{7}, f32s(1, 1, 1, 1, 1, 1, 1))}),
			"attr_data", "7 values for 8 indices"},
		{"NaN data", s.bytes(false, map[string][]byte{"attr_data": npyFile("<f4", []int{8}, f32s(1, 1, 1, 1, 1, float32(nan()), 1, 1))}),
			"attr_data", "finite"},
		{"label count", s.bytes(false, map[string][]byte{"labels": npyFile("<i8", []int{5}, i64s(0, 1, 1, 0, 1))}),
			"labels", "5 labels for 6 nodes"},
		{"label beyond names", s.bytes(false, map[string][]byte{"labels": npyFile("<i8", []int{6}, i64s(0, 1, 2, 0, 1, 0))}),
			"labels", "labels[2] is outside [0, 1]"},
		{"float labels", s.bytes(false, map[string][]byte{"labels": npyFile("<f8", []int{6}, make([]byte, 48))}),
			"labels", "want integers"},
		{"2-D labels", s.bytes(false, map[string][]byte{"labels": npyFile("<i8", []int{6, 1}, i64s(0, 1, 1, 0, 1, 0))}),
			"labels", "want 1 dimensions"},
		{"non-square adjacency", s.bytes(false, map[string][]byte{"adj_shape": npyFile("<i8", []int{2}, i64s(6, 7))}),
			"adj_shape", "want a square one"},
		{"attr rows", s.bytes(false, map[string][]byte{"attr_shape": npyFile("<i8", []int{2}, i64s(5, 4)),
			"attr_indptr": npyFile("<i4", []int{6}, i32s(0, 2, 2, 5, 6, 8))}),
			"attr_shape", "5 feature rows for 6 nodes"},
		{"shape of 3", s.bytes(false, map[string][]byte{"attr_shape": npyFile("<i8", []int{3}, i64s(6, 4, 1))}),
			"attr_shape", "3 entries, want 2"},
		{"big-endian", s.bytes(false, map[string][]byte{"adj_indices": npyFile(">i4", []int{7}, i32s(1, 4, 0, 1, 3, 5, 2))}),
			"adj_indices", `dtype ">i4"`},
		{"lying header", s.bytes(false, map[string][]byte{"adj_data": lying}), "adj_data", "shape [1073741824] of 4-byte elements needs more than the 4 data bytes"},
		{"huge shape", s.bytes(true, map[string][]byte{"adj_data": huge}), "adj_data", "needs more than the 0 data bytes"},
		{"huge header length", s.bytes(false, map[string][]byte{"adj_data": bigHeader}), "adj_data", "npy header of 2147483647 bytes"},
		{"short data", s.bytes(false, map[string][]byte{"adj_data": npyFile("<f4", []int{7}, f32s(1, 1, 1))}),
			"adj_data", "needs more than the 12 data bytes"},
		{"extra data", s.bytes(false, map[string][]byte{"adj_data": npyFile("<f4", []int{6}, f32s(1, 1, 1, 1, 1, 1, 1))}),
			"adj_data", "needs 24 data bytes, has 28"},
		{"not npy", s.bytes(false, map[string][]byte{"labels": []byte("PK\x03\x04 not an array")}), "labels", "bad magic"},
		{"object labels", s.bytes(false, map[string][]byte{"labels": npyFile("|O", []int{6}, nil)}), "labels", "object array"},
		{"numeric class names", s.bytes(false, map[string][]byte{"class_names": npyFile("<i8", []int{2}, i64s(1, 2))}),
			"class_names", "strings"},
		{"bad code point", s.bytes(false, map[string][]byte{"class_names": npyFile("<U1", []int{2}, i32s(0x41, 0xD800))}),
			"class_names", "invalid code point"},
		{"duplicate member", zipMembers([]npzMember{{"labels.npy", nil}, {"labels.npy", nil}}, false), "", "labels.npy appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadSynthNPZ(t, tc.archive)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path+": "+tc.field) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v\nwant ErrFormat naming %s, %s and %q", err, path, tc.field, tc.msg)
			}
		})
	}
}

// TestNPZDeclaredSizes checks the zip directory's sizes against the file
// before anything is read: a member may not claim more than the file holds,
// nor (stored) differ from its compressed size.
func TestNPZDeclaredSizes(t *testing.T) {
	s := newSynthNPZ()
	good := s.bytes(false, nil)
	// Patch the central directory entry of labels.npy: its uncompressed size
	// field sits 24 bytes after the entry's signature, and the name 46.
	patch := func(off int, v uint32) []byte {
		b := slices.Clone(good)
		i := bytes.Index(b, []byte("labels.npy"))
		i = bytes.Index(b[i+1:], []byte("labels.npy")) + i + 1 // the central entry
		binary.LittleEndian.PutUint32(b[i-46+off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		msg  string
	}{
		{"uncompressed larger", patch(24, 1<<31), "exceeds the limit"},
		{"stored sizes differ", patch(24, 100), "stored member with"},
		{"compressed beyond file", patch(20, 1<<30), "compressed bytes in a file of"},
	} {
		_, path, err := loadSynthNPZ(t, tc.b)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path+": labels") || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want one about labels containing %q", tc.name, err, tc.msg)
		}
	}
}

func TestLoadAmazonMissing(t *testing.T) {
	root := t.TempDir()
	_, err := LoadAmazon(root, "amazon-computers")
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "amazon_electronics_computers.npz") {
		t.Errorf("err = %v", err)
	}
	if _, err := LoadAmazon(root, "cora"); !errors.Is(err, ErrUnknownDataset) {
		t.Errorf("LoadAmazon(cora) = %v", err)
	}
}

func nan() float64 { return math.NaN() }
