package datasets

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gnsr/gnsr/datasets/tabular"
	"github.com/parquet-go/parquet-go"
)

// patchPlanetoidWidth copies the Cora files of src to a new root with the
// feature count of x, tx and allx patched from 1433 to cols: the pickled
// shape's BININT2 1433 becomes a BININT of cols (pickles hold no lengths
// that this shifts).
func patchPlanetoidWidth(t *testing.T, src string, cols int32) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "cora", "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := []byte{'M', 0x99, 0x05} // BININT2 1433
	repl := binary.LittleEndian.AppendUint32([]byte{'J'}, uint32(cols))
	for _, ext := range planetoidExts() {
		name := "ind.cora." + ext
		b, err := os.ReadFile(filepath.Join(src, "cora", "raw", name))
		if err != nil {
			t.Fatal(err)
		}
		if ext == "x" || ext == "tx" || ext == "allx" {
			if bytes.Count(b, old) != 1 {
				t.Fatalf("%s: the shape's 1433 appears %d times", name, bytes.Count(b, old))
			}
			b = bytes.Replace(b, old, repl, 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// patchNPZ copies the npz at src to dst with the array key replaced.
func patchNPZ(t *testing.T, src, dst, key string, arr []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Name == key+".npy" {
			w, err := zw.Create(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(arr)
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeTestParquet writes rows of T to path.
func writeTestParquet[T any](t *testing.T, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// smallParquet writes a Parquet graph of 6 nodes with the given tables.
func smallParquet(t *testing.T, nodes any, edges []synthEdge) string {
	t.Helper()
	dir := t.TempDir()
	switch n := nodes.(type) {
	case []synthDenseNode:
		writeTestParquet(t, filepath.Join(dir, ParquetNodes), n)
	case []struct {
		ID    int64  `parquet:"id"`
		Split string `parquet:"split"`
	}:
		writeTestParquet(t, filepath.Join(dir, ParquetNodes), n)
	}
	writeTestParquet(t, filepath.Join(dir, ParquetEdges), edges)
	return dir
}

func denseNodes(labels ...int64) []synthDenseNode {
	ns := make([]synthDenseNode, len(labels))
	for i, l := range labels {
		ns[i] = synthDenseNode{ID: int64(10 * i), Label: l, Split: splitNames[i%3], Features: []float32{float32(i), 1}}
	}
	return ns
}

// gzipFile writes b gzipped to path.
func gzipFile(t *testing.T, path string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput is the table of files that lie: each must give an error
// that names the file and the field (or line, or column and row), wraps
// ErrFormat, and allocates nothing the file cannot back.
func TestBadInput(t *testing.T) {
	edges := []synthEdge{{0, 10}, {10, 20}, {30, 40}, {40, 50}}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) (load func() error)
		want  []string
	}{
		{"planetoid width patched to 10^8 (synthetic)", func(t *testing.T) func() error {
			s := newSynthPlanetoid(1)
			files := s.files()
			for _, ext := range []string{"x", "tx", "allx"} {
				files[ext] = bytes.Replace(files[ext], []byte{'K', 7}, binary.LittleEndian.AppendUint32([]byte{'J'}, 100_000_000), 1)
			}
			root := t.TempDir()
			dir := filepath.Join(root, "cora", "raw")
			os.MkdirAll(dir, 0o755)
			for ext, b := range files {
				os.WriteFile(filepath.Join(dir, "ind.cora."+ext), b, 0o644)
			}
			return func() error { _, err := LoadPlanetoid(root, "cora"); return err }
		}, []string{"ind.cora.allx", "csr_matrix shape", "100000000 feature columns", "cannot back"}},
		{"npz attr_shape [7650, 2000000000] (synthetic)", func(t *testing.T) func() error {
			b := newSynthNPZ().bytes(true, map[string][]byte{"attr_shape": npyFile("<i8", []int{2}, i64s(6, 2_000_000_000))})
			root := t.TempDir()
			path := filepath.Join(root, "amazon-photo", "raw", "amazon_electronics_photo.npz")
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, b, 0o644)
			return func() error { _, err := LoadAmazon(root, "amazon-photo"); return err }
		}, []string{"amazon_electronics_photo.npz", "attr_shape", "2000000000 feature columns"}},
		{"parquet: missing column", func(t *testing.T) func() error {
			dir := smallParquet(t, []struct {
				ID    int64  `parquet:"id"`
				Split string `parquet:"split"`
			}{{0, "train"}, {10, "val"}}, edges)
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{ParquetNodes, `column "label"`, "no such column", "id, split"}},
		{"parquet: ids out of range", func(t *testing.T) func() error {
			dir := smallParquet(t, denseNodes(0, 1, 0, 1, 0, 1), append(edges, synthEdge{50, 99}))
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{ParquetEdges, `column "dst", row 4`, "node id 99 is not in nodes.parquet"}},
		{"parquet: labels out of range", func(t *testing.T) func() error {
			dir := smallParquet(t, denseNodes(0, 1, 0, 70000, 0, 1), edges)
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{ParquetNodes, `column "label", row 3`, "label 70000 is out of range"}},
		{"ogb: ids out of range", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{edges: "0,1\n1,7\n"})
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"edge.csv.gz: line 2", "field 2 = \"7\" is not an integer in [0, 3]"}},
		{"ogb: labels out of range", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{labels: "0\n1\n-4\n1\n"})
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"node-label.csv.gz: line 3", "\"-4\""}},
		{"csv: wrong field count", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{edges: "0,1\n1,2,3\n"})
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"edge.csv.gz: line 2", "3 fields, want 2"}},
		{"csv: a gzip member cut short", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{})
			path := filepath.Join(dir, "raw", "node-feat.csv.gz")
			b, _ := os.ReadFile(path)
			os.WriteFile(path, b[:len(b)-12], 0o644) // the trailer and some data
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"node-feat.csv.gz", "ends in the middle"}},
		{"ogb: more edges than declared", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{numEdges: "1\n"})
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"edge.csv.gz: line 2", "more edges than the 1"}},
		{"ogb: a count the file cannot hold", func(t *testing.T) func() error {
			dir := writeOGB(t, ogbFixture{numEdges: "2000000000\n"})
			return func() error { _, err := LoadDir(dir); return err }
		}, []string{"num-edge-list.csv.gz", "2000000000 edges declared, more than the 32 bytes of raw/edge.csv.gz can hold"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.setup(t)()
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v, want one wrapping ErrFormat", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			t.Log(err)
		})
	}
}

// TestBadInputReal reproduces the two lying files on the real data:
// Cora's pickles with the feature count patched to 100,000,000, and Amazon
// Photo's npz with attr_shape [7650, 2000000000].
func TestBadInputReal(t *testing.T) {
	src := dataRoot(t)
	root := patchPlanetoidWidth(t, src, 100_000_000)
	start := time.Now()
	_, err := LoadPlanetoid(root, "cora")
	t.Logf("patched Cora refused in %v: %v", time.Since(start), err)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "ind.cora.allx: csr_matrix shape: 100000000 feature columns") {
		t.Errorf("patched Cora: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "amazon-photo", "raw", "amazon_electronics_photo.npz")
	patchNPZ(t, filepath.Join(src, "amazon-photo", "raw", "amazon_electronics_photo.npz"), dst,
		"attr_shape", npyFile("<i8", []int{2}, i64s(7650, 2_000_000_000)))
	start = time.Now()
	_, err = LoadAmazon(filepath.Dir(filepath.Dir(filepath.Dir(dst))), "amazon-photo")
	t.Logf("patched Photo refused in %v: %v", time.Since(start), err)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "amazon_electronics_photo.npz: attr_shape: 2000000000 feature columns") {
		t.Errorf("patched Photo: %v", err)
	}
}

// TestTabularErrors checks that the readers' errors are tabular errors.
func TestTabularErrors(t *testing.T) {
	dir := writeOGB(t, ogbFixture{edges: "0,x\n"})
	_, err := LoadDir(dir)
	var te *tabular.Error
	if !errors.As(err, &te) || te.Line != 1 || !strings.HasSuffix(te.File, "edge.csv.gz") {
		t.Errorf("error %v, want a *tabular.Error at line 1 of edge.csv.gz", err)
	}
}

// gzipTo writes s gzipped to w.
func gzipTo(w *bytes.Buffer, s string) {
	zw := gzip.NewWriter(w)
	zw.Write([]byte(s))
	zw.Close()
}
