package datasets

import (
	"bytes"
	"testing"
)

// FuzzNPZ feeds arbitrary bytes to the npz reader, as a whole archive and
// as a single npy member. Nothing may panic or allocate beyond the package's
// limits; what is accepted must be consistent.
func FuzzNPZ(f *testing.F) {
	s := newSynthNPZ()
	f.Add(s.bytes(false, nil))
	f.Add(s.bytes(true, nil))
	f.Add(s.bytes(false, map[string][]byte{"class_names": nil}))
	f.Add(s.arrays["labels"])
	f.Add(s.arrays["class_names"])
	f.Add(npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }", f32s(1)))
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if a, err := readNPY(bytes.NewReader(data), int64(len(data))); err == nil && a.num != nil {
			_, _ = ints[int]("fuzz", a.num, 0, maxDim)
			if a.num.n > 0 {
				a.num.floatAt(a.num.n - 1)
			}
		}
		z, err := openNPZ("fuzz.npz", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		ds, err := readBenchmarkNPZWithSplit(z, func(labels []int, classes int) (Split, error) {
			return RandomSplit(labels, classes, 0, 0, 1)
		})
		if err != nil {
			return
		}
		if err := ds.Features.Validate(); err != nil {
			t.Fatal(err)
		}
		checkEdges(t, edgesOf(ds.Graph), len(ds.Labels))
		Stats(ds)
	})
}

// FuzzWikiCS feeds arbitrary bytes to the WikiCS decoder: it must return an
// error or a consistent dataset, never panic.
func FuzzWikiCS(f *testing.F) {
	f.Add(marshalWikiCS(f, synthWikiCS()))
	f.Add([]byte(`{"features": [[1, 0]], "labels": [0], "links": [[0]], "train_masks": [[1]], "val_masks": [[0]], "test_mask": [0]}`))
	f.Add([]byte(`{"x": [[[{"y": 1}]]], "labels": [0,, 1]}`))
	f.Add([]byte(`{"test_mask": [true], "labels": [1e400]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, split := range []int{0, 1} {
			ds, err := readWikiCS("fuzz.json", bytes.NewReader(data), split)
			if err != nil {
				continue
			}
			if err := ds.Features.Validate(); err != nil {
				t.Fatal(err)
			}
			n := len(ds.Labels)
			if ds.Features.Rows != n {
				t.Fatalf("%d feature rows, %d labels", ds.Features.Rows, n)
			}
			checkEdges(t, edgesOf(ds.Graph), n)
			for _, set := range [][]int{ds.Split.Train, ds.Split.Val, ds.Split.Test} {
				for _, u := range set {
					if u < 0 || u >= n {
						t.Fatalf("split node %d of %d", u, n)
					}
				}
			}
			_ = Stats(ds).String()
		}
	})
}
