package datasets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"image"
	"image/jpeg"
	"testing"
)

// checkImages fails t unless ds is consistent: sizes, labels and class
// names agree.
func checkImages(t *testing.T, ds *ImageDataset) {
	t.Helper()
	for _, im := range []*Images{&ds.Train, &ds.Test} {
		if im.N < 0 || len(im.Labels) != im.N || len(im.Pixels) != im.N*im.C*im.H*im.W ||
			len(im.Classes) != im.NumClasses {
			t.Fatalf("inconsistent images: N %d, %d labels, %d pixels of %d×%d×%d, %d classes %q",
				im.N, len(im.Labels), len(im.Pixels), im.C, im.H, im.W, im.NumClasses, im.Classes)
		}
		for i, y := range im.Labels {
			if int(y) >= im.NumClasses {
				t.Fatalf("label %d of image %d, %d classes", y, i, im.NumClasses)
			}
		}
	}
}

// untar returns the tar stream inside a gzipped one, for seeds that reach
// past gzip's checksum.
func untar(b []byte) []byte {
	var out bytes.Buffer
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	if _, err := out.ReadFrom(zr); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// FuzzCIFARBinary feeds arbitrary bytes to the binary CIFAR-10 reader, as a
// gzipped tar and as a plain one. Nothing may panic, and a lying member
// size may not allocate more than the data present. Seeds are small: the
// fuzzer spends its time minimising large inputs.
func FuzzCIFARBinary(f *testing.F) {
	good := tarGzOf(cifarBinaryEntries([6]int{1, 1, 1, 1, 1, 1}))
	if _, err := readCIFARBinary(bytes.NewReader(good)); err != nil {
		f.Fatal(err) // the seed must reach the end
	}
	f.Add(good)
	f.Add(tarHeaderOnly("cifar-10-batches-bin/data_batch_1.bin", 10000*cifarRecord))
	f.Add(gz(tarHeaderOnly("cifar-10-batches-bin/test_batch.bin", 1<<40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ds, err := readCIFARBinary(bytes.NewReader(data)); err == nil {
			checkImages(t, ds)
		}
		if ds, err := readCIFARTar(tar.NewReader(bytes.NewReader(data)), nil); err == nil {
			checkImages(t, ds)
		}
	})
}

// FuzzImageArchive feeds arbitrary bytes to the JPEG archive reader, as a
// gzipped tar and as a plain one, with any number of classes.
func FuzzImageArchive(f *testing.F) {
	var entries []tarEntry
	for i, m := range []string{"train/a/0.jpg", "test/a/1.jpg"} {
		var img image.Image = image.NewGray(image.Rect(0, 0, 32, 32))
		if i == 1 {
			img = image.NewRGBA(image.Rect(0, 0, 32, 32))
		}
		var b bytes.Buffer
		jpeg.Encode(&b, img, &jpeg.Options{Quality: 1})
		entries = append(entries, tarEntry{name: m, data: b.Bytes()})
	}
	good := tarGzOf(entries)
	if _, err := readImageArchive(bytes.NewReader(good), 1); err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(untar(good))
	huge := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
	f.Add(tarGzOf([]tarEntry{{name: "train/a/0.jpg", data: huge}, {name: "test/a/0.jpg", data: huge}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if ds, err := readImageArchive(bytes.NewReader(data), 0); err == nil {
			checkImages(t, ds)
		}
		if ds, err := readImageTar(tar.NewReader(bytes.NewReader(data)), nil, 0); err == nil {
			checkImages(t, ds)
		}
	})
}

// FuzzCIFARCache feeds arbitrary bytes to the cache reader, with the
// fingerprint the bytes claim (so that the fuzzer is not stopped there).
// What it accepts must be consistent and written back byte for byte.
func FuzzCIFARCache(f *testing.F) {
	fp := fingerprint{size: 3}
	fp.sum[0] = 1
	tiny := &ImageDataset{
		Train: Images{N: 2, C: 1, H: 1, W: 2, Pixels: []uint8{1, 2, 3, 4}, Labels: []uint8{0, 1}, NumClasses: 2, Classes: []string{"a", "b"}},
		Test:  Images{N: 1, C: 1, H: 1, W: 2, Pixels: []uint8{5, 6}, Labels: []uint8{1}, NumClasses: 2, Classes: []string{"a", "b"}},
	}
	var b bytes.Buffer
	if err := writeImageCache(&b, tiny, fp); err != nil {
		f.Fatal(err)
	}
	if _, err := readImageCache(bytes.NewReader(b.Bytes()), int64(b.Len()), fp); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	lying := bytes.Clone(b.Bytes())
	copy(lying[28:], []byte{0xa0, 0x86, 0x01, 0}) // train N = 100,000
	f.Add(lying)
	f.Fuzz(func(t *testing.T, data []byte) {
		var fp fingerprint
		if len(data) >= imgCacheFixed {
			fp.size = int64(uint64(data[36]) | uint64(data[37])<<8 | uint64(data[38])<<16 | uint64(data[39])<<24 |
				uint64(data[40])<<32 | uint64(data[41])<<40 | uint64(data[42])<<48 | uint64(data[43])<<56)
			copy(fp.sum[:], data[44:])
		}
		ds, err := readImageCache(bytes.NewReader(data), int64(len(data)), fp)
		if err != nil {
			return
		}
		checkImages(t, ds)
		var out bytes.Buffer
		if err := writeImageCache(&out, ds, fp); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatal("cache accepted but not written back identically")
		}
	})
}
