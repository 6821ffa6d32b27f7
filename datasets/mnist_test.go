package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// idxBytes returns an IDX file of unsigned bytes with the given dimensions
// and data (not checked against each other, so that tests can lie).
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// writeMNIST writes a small MNIST-like root (n training and m test images
// of 2×3 pixels) and returns it; files overrides individual files' bytes.
func writeMNIST(t *testing.T, n, m int, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "mnist", "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		prefix string
		n      int
	}{{"train", n}, {"t10k", m}} {
		px := make([]byte, s.n*6)
		lb := make([]byte, s.n)
		for i := range px {
			px[i] = byte(i * 7)
		}
		for i := range lb {
			lb[i] = byte(i % 10)
		}
		def := map[string][]byte{
			s.prefix + "-images-idx3-ubyte.gz": gz(idxBytes([]int{s.n, 2, 3}, px)),
			s.prefix + "-labels-idx1-ubyte.gz": gz(idxBytes([]int{s.n}, lb)),
		}
		for name, data := range def {
			if o, ok := files[name]; ok {
				data = o
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func TestLoadMNISTSynthetic(t *testing.T) {
	root := writeMNIST(t, 12, 5, nil)
	ds, err := LoadMNIST(root)
	if err != nil {
		t.Fatal(err)
	}
	tr := ds.Train
	if tr.N != 12 || tr.C != 1 || tr.H != 2 || tr.W != 3 || len(tr.Pixels) != 72 || len(tr.Labels) != 12 || tr.NumClasses != 10 {
		t.Fatalf("train = %d×%d×%d×%d, %d pixels, %d labels, %d classes", tr.N, tr.C, tr.H, tr.W, len(tr.Pixels), len(tr.Labels), tr.NumClasses)
	}
	if ds.Test.N != 5 || tr.Labels[11] != 1 || tr.Image(1)[0] != 42 {
		t.Fatalf("test N = %d, label 11 = %d, image 1 = %v", ds.Test.N, tr.Labels[11], tr.Image(1))
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	good := gz(idxBytes([]int{4, 2, 3}, make([]byte, 24)))
	truncated := good[:len(good)-10]
	corrupt := slices.Clone(good)
	corrupt[len(corrupt)/2] ^= 0xff
	badCRC := slices.Clone(good)
	badCRC[len(badCRC)-8] ^= 1
	// A header claiming 2²⁹ bytes in a file of a few dozen: rejected by the
	// gzip trailer's size before anything is allocated.
	liar := gz(idxBytes([]int{1 << 19, 32, 32}, make([]byte, 24)))
	const img = "train-images-idx3-ubyte.gz"
	for _, c := range []struct {
		name string
		file string
		data []byte
		want []string
	}{
		{"truncated", img, truncated, []string{img}},
		{"corrupt", img, corrupt, []string{img}},
		{"checksum", img, badCRC, []string{img}},
		{"not gzip", img, idxBytes([]int{4, 2, 3}, make([]byte, 24)), []string{img, "gzip"}},
		{"empty", img, nil, []string{img, "too short"}},
		{"liar", img, liar, []string{img, "gzip trailer"}},
		{"short data", img, gz(idxBytes([]int{4, 2, 3}, make([]byte, 23))), []string{img}},
		{"long data", img, gz(idxBytes([]int{4, 2, 3}, make([]byte, 25))), []string{img}},
		{"magic", img, gz(append([]byte{0, 0, 9, 3}, make([]byte, 36)...)), []string{img, "type code"}},
		{"dims", img, gz(idxBytes([]int{24}, make([]byte, 24))), []string{img, "dimensions"}},
		{"trailing", img, append(slices.Clone(good), 0), []string{img}},
		{"label count", "train-labels-idx1-ubyte.gz", gz(idxBytes([]int{3}, make([]byte, 3))), []string{"3 labels for the 4 images"}},
		{"label value", "train-labels-idx1-ubyte.gz", gz(idxBytes([]int{4}, []byte{1, 2, 10, 3})), []string{"not a digit"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := writeMNIST(t, 4, 2, map[string][]byte{c.file: c.data})
			_, err := LoadMNIST(root)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	root := writeMNIST(t, 4, 2, nil)
	os.Remove(filepath.Join(root, "mnist", "raw", "t10k-labels-idx1-ubyte.gz"))
	if _, err := LoadMNIST(root); !errors.Is(err, ErrMissing) {
		t.Fatalf("missing file: err = %v, want ErrMissing", err)
	}
}

// TestIDXLiarAllocates checks that a header claiming far more data than the
// file holds is rejected without allocating it.
func TestIDXLiarAllocates(t *testing.T) {
	liar := gz(idxBytes([]int{1 << 19, 32, 32}, make([]byte, 24)))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for range 10 {
		if _, _, err := decodeIDXGzip(liar, 3); err == nil {
			t.Fatal("accepted")
		}
	}
	runtime.ReadMemStats(&ms1)
	if d := ms1.TotalAlloc - ms0.TotalAlloc; d > 10<<20 {
		t.Fatalf("allocated %d bytes rejecting 10 lying headers", d)
	}
}

// FuzzIDX decodes arbitrary bytes, both as a gzip stream and gzipped, as
// IDX files: nothing may panic, and accepted data must match the header.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(idxBytes([]int{3}, []byte{1, 2, 3}))
	f.Add(idxBytes([]int{1 << 30, 1 << 30, 4}, nil))
	f.Add(idxBytes([]int{1, 1, 1, 1}, []byte{7}))
	f.Add(gz(idxBytes([]int{2, 1, 1}, []byte{5, 6})))
	f.Add([]byte{0, 0, 8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, gz(data)} {
			dims, px, err := decodeIDXGzip(in, 0)
			if err != nil {
				continue
			}
			size := 1
			for _, d := range dims {
				size *= d
			}
			if size != len(px) {
				t.Fatalf("dims %v but %d bytes", dims, len(px))
			}
		}
	})
}

func TestMNISTStats(t *testing.T) {
	root := dataRoot(t)
	ds, err := LoadMNIST(root)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.N != 60000 || ds.Test.N != 10000 || ds.Train.H != 28 || ds.Train.W != 28 || ds.Train.C != 1 {
		t.Fatalf("train %d×%d×%d×%d, test %d", ds.Train.N, ds.Train.C, ds.Train.H, ds.Train.W, ds.Test.N)
	}
	counts := make([]int, 10)
	for _, y := range ds.Train.Labels {
		counts[y]++
	}
	want := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	if !slices.Equal(counts, want) {
		t.Fatalf("train label counts %v, want %v", counts, want)
	}
}
