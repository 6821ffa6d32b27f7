package datasets

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ogbFixture holds the files of a small graph in OGB's raw layout; empty
// fields take a default: 4 nodes, edges 0–1 and 1–2, 2 dense features.
type ogbFixture struct {
	numNodes, numEdges, edges, feats, labels string
	split                                    string // folder name, default "time"
	train, valid, test                       string
}

func (f ogbFixture) files() map[string]string {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&f.numNodes, "4\n")
	def(&f.edges, "0,1\n1,2\n")
	def(&f.numEdges, strconv.Itoa(strings.Count(f.edges, "\n"))+"\n")
	def(&f.feats, "0.5,1\n0.25,0\n-1,2\n3,4\n")
	def(&f.labels, "0\n1\n0\n1\n")
	def(&f.split, "time")
	def(&f.train, "0\n")
	def(&f.valid, "1\n")
	def(&f.test, "2\n3\n")
	return map[string]string{
		ogbNumNodes: f.numNodes, ogbNumEdges: f.numEdges, ogbEdges: f.edges, ogbFeatures: f.feats, ogbLabels: f.labels,
		"split/" + f.split + "/train.csv.gz": f.train, "split/" + f.split + "/valid.csv.gz": f.valid,
		"split/" + f.split + "/test.csv.gz": f.test,
	}
}

// writeOGB writes the fixture, gzipped, into a new directory.
func writeOGB(t *testing.T, f ogbFixture) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range f.files() {
		gzipFile(t, filepath.Join(dir, filepath.FromSlash(name)), []byte(content))
	}
	return dir
}

// arxivLike returns a fixture shaped as ogbn-arxiv: directed citations
// (one reciprocal pair, a self-citation), 128-wide dense features, 40
// classes, a time split.
func arxivLike() (ogbFixture, [][2]int) {
	const n = 50
	var edges, feats, labels strings.Builder
	want := map[[2]int]bool{}
	for i := range n {
		for _, j := range []int{(i + 1) % n, (i * 7) % n} {
			fmt.Fprintf(&edges, "%d,%d\n", i, j)
			if i != j {
				want[[2]int{min(i, j), max(i, j)}] = true
			}
		}
		for k := range 128 {
			if k > 0 {
				feats.WriteByte(',')
			}
			fmt.Fprintf(&feats, "%g", float32(i*128+k)/1000-1.5)
		}
		feats.WriteByte('\n')
		fmt.Fprintf(&labels, "%d\n", i%40)
	}
	var tr, va, te strings.Builder
	for i := range n {
		b := &te
		switch {
		case i < 30:
			b = &tr
		case i < 38:
			b = &va
		}
		fmt.Fprintf(b, "%d\n", n-1-i) // the files' order is not sorted
	}
	var es [][2]int
	for e := range want {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b [2]int) int { return (a[0]-b[0])*n + a[1] - b[1] })
	return ogbFixture{numNodes: strconv.Itoa(n) + "\n", edges: edges.String(), feats: feats.String(), labels: labels.String(),
		train: tr.String(), valid: va.String(), test: te.String()}, es
}

// TestLoadOGBArxivLike checks statistics, split sizes and the
// symmetrisation of directed citations.
func TestLoadOGBArxivLike(t *testing.T) {
	f, want := arxivLike()
	ds, err := LoadOGB(writeOGB(t, f), "time")
	if err != nil {
		t.Fatal(err)
	}
	st := Stats(ds)
	if st.Nodes != 50 || st.Features != 128 || !st.Dense || st.Classes != 40 || st.Train != 30 || st.Val != 8 || st.Test != 12 {
		t.Errorf("stats %+v", st)
	}
	if got := edgesOf(ds.Graph); !slices.Equal(got, want) {
		t.Errorf("edges %v, want %v", got, want)
	}
	for u := range ds.Graph.NumNodes() {
		for _, v := range ds.Graph.Neighbors(u) {
			if !slices.Contains(ds.Graph.Neighbors(int(v)), int32(u)) {
				t.Fatalf("edge %d–%d stored one way", u, v)
			}
		}
	}
	if !slices.IsSorted(ds.Split.Train) || ds.Split.Train[0] != 20 || ds.Protocol.Split.Name != "time" {
		t.Errorf("train %v, split %+v", ds.Split.Train, ds.Protocol.Split)
	}
	if got := ds.Dense.Row(3)[5]; got != float32(3*128+5)/1000-1.5 {
		t.Errorf("feature (3, 5) = %v", got)
	}
	// The default split folder is the only one.
	if ds2, err := LoadOGB(writeOGB(t, f), ""); err != nil || ds2.Protocol.Split.Name != "time" {
		t.Errorf("LoadOGB without a split name: %v", err)
	}
}

// TestLoadOGBProductsLike checks a graph stored with both directions and
// repeats (products' edge.csv lists each pair once; OGB adds the inverse):
// the graph is the same either way.
func TestLoadOGBProductsLike(t *testing.T) {
	one := ogbFixture{split: "sales_ranking", edges: "0,1\n1,2\n2,3\n"}
	both := one
	both.edges = "0,1\n1,0\n1,2\n2,1\n2,3\n3,2\n3,2\n"
	a, err := LoadOGB(writeOGB(t, one), "sales_ranking")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOGB(writeOGB(t, both), "")
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{0, 1}, {1, 2}, {2, 3}}
	if !slices.Equal(edgesOf(a.Graph), want) || !slices.Equal(edgesOf(b.Graph), want) {
		t.Errorf("edges %v and %v, want %v", edgesOf(a.Graph), edgesOf(b.Graph), want)
	}
}

// TestLoadOGBSparse checks that mostly-zero feature rows are kept as CSR.
func TestLoadOGBSparse(t *testing.T) {
	ds, err := LoadOGB(writeOGB(t, ogbFixture{feats: "0,0,0,1\n0,0,0,0\n2,0,0,0\n0,0,0,0\n"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Features == nil || ds.Dense != nil || ds.Features.NNZ() != 2 || ds.Features.Cols != 4 {
		t.Errorf("features %+v, dense %v", ds.Features, ds.Dense != nil)
	}
}

func TestLoadOGBErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    ogbFixture
		want string
	}{
		{"two graphs", ogbFixture{numNodes: "4\n5\n"}, "a second line"},
		{"few labels", ogbFixture{labels: "0\n1\n"}, "2 labels for the 4 nodes"},
		{"few feature rows", ogbFixture{feats: "1,2\n"}, "1 feature rows for the 4 nodes"},
		{"ragged features", ogbFixture{feats: "1,2\n1\n1,2\n1,2\n"}, "line 2: 1 fields, want 2"},
		{"NaN feature", ogbFixture{feats: "1,2\nnan,1\n1,2\n1,2\n"}, "not a finite float32"},
		{"node in two sets", ogbFixture{test: "1\n3\n"}, "node 1 is already in valid.csv.gz"},
		{"unlabelled split node", ogbFixture{labels: "0\n1\nnan\n1\n"}, "node 2 has no label"},
		{"fewer edges than declared", ogbFixture{numEdges: "3\n"}, "2 edges, but raw/num-edge-list.csv.gz declares 3"},
		{"empty set", ogbFixture{valid: "\n"}, "valid.csv.gz: line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadOGB(writeOGB(t, tc.f), "")
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	dir := writeOGB(t, ogbFixture{})
	os.Remove(filepath.Join(dir, "raw", "node-feat.csv.gz"))
	if _, err := LoadOGB(dir, ""); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "node-feat.csv.gz") {
		t.Errorf("missing file: %v", err)
	}
}

// zipOf returns a zip archive of the files, each under top/.
func zipOf(t *testing.T, top string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.Create(top + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		// The files are gzipped inside OGB's zips.
		var gz bytes.Buffer
		gzipTo(&gz, files[name])
		w.Write(gz.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDownloadOGB serves a products-like zip (OGB publishes no size or
// hash for products.zip: the download is checked against the announced
// length) and checks that Download extracts it and Load reads it with the
// registry's protocol; then that a cut transfer leaves nothing behind.
func TestDownloadOGB(t *testing.T) {
	f, _ := arxivLike()
	f.split = "sales_ranking"
	archive := zipOf(t, "products", f.files())
	cut := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(archive)))
		if cut {
			w.Write(archive[:len(archive)/2])
			panic(http.ErrAbortHandler)
		}
		w.Write(archive)
	}))
	defer srv.Close()
	root := t.TempDir()
	d := &Downloader{URL: func(dataset string, f FileSpec) string {
		if f.URL != "https://snap.stanford.edu/ogb/data/nodeproppred/products.zip" {
			t.Errorf("canonical URL %s", f.URL)
		}
		return srv.URL + "/" + f.Name
	}}
	if m, _ := Missing(root, "ogbn-products"); len(m) != 1 {
		t.Errorf("Missing = %v", m)
	}
	if err := d.Download(context.Background(), root, "ogbn-products"); err != nil {
		t.Fatal(err)
	}
	if m, _ := Missing(root, "ogbn-products"); len(m) != 0 {
		t.Errorf("Missing after download = %v", m)
	}
	ds, err := Load(root, "ogbn-products")
	if err != nil {
		t.Fatal(err)
	}
	h := ds.Protocol.Hyper
	if len(ds.Labels) != 50 || ds.Protocol.Split.Name != "sales_ranking" || h.Layers != 3 || h.Hidden != 256 || h.Epochs != 300 {
		t.Errorf("%d nodes, protocol %+v", len(ds.Labels), ds.Protocol)
	}
	// A second download finds everything in place.
	srv.Close()
	if err := d.Download(context.Background(), root, "ogbn-products"); err != nil {
		t.Errorf("second download: %v", err)
	}

	cut = true
	srv2 := httptest.NewServer(srv.Config.Handler)
	defer srv2.Close()
	root2 := t.TempDir()
	d.URL = func(string, FileSpec) string { return srv2.URL + "/products.zip" }
	if err := d.Download(context.Background(), root2, "ogbn-products"); err == nil {
		t.Fatal("a cut download succeeded")
	}
	if names := dirNames(t, filepath.Join(root2, "ogbn-products", "raw")); len(names) != 0 {
		t.Errorf("a cut download left %v", names)
	}
	if _, err := os.Stat(filepath.Join(root2, "ogbn-products", "products")); err == nil {
		t.Error("a cut download was extracted")
	}
}
