package datasets

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tarEntry is one member of a test archive.
type tarEntry struct {
	name string
	data []byte
	typ  byte // tar.TypeReg if 0
}

// tarGzOf returns the gzipped tar of entries, in order.
func tarGzOf(entries []tarEntry) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: e.typ, ModTime: time.Unix(1e9, 0)}
		switch e.typ {
		case 0:
			h.Typeflag = tar.TypeReg
		case tar.TypeDir:
			h.Mode, h.Size = 0o755, 0
		case tar.TypeSymlink:
			h.Linkname, h.Size = "elsewhere", 0
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if h.Size > 0 {
			tw.Write(e.data)
		}
	}
	tw.Close()
	return gz(b.Bytes())
}

// cifarClassNames are CIFAR-10's classes, in index order.
var cifarClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifarRecords returns n records of batch b with known labels and pixels.
func cifarRecords(b, n int) []byte {
	out := make([]byte, 0, n*cifarRecord)
	for i := range n {
		out = append(out, byte((b*3+i)%10))
		for j := range cifarPixels {
			out = append(out, byte(b*31+i*7+j*13))
		}
	}
	return out
}

// cifarBinaryEntries returns the members of a small binary archive: batch
// b holds counts[b] records; members are in the canonical archive's
// (unordered) order, with its directory and readme.
func cifarBinaryEntries(counts [6]int) []tarEntry {
	e := []tarEntry{{name: "cifar-10-batches-bin/", typ: tar.TypeDir}}
	meta := strings.Join(cifarClassNames, "\n") + "\n\n"
	for _, b := range []int{0, -1, 2, 3, 5, -2, 4, 1} {
		switch b {
		case -1:
			e = append(e, tarEntry{name: "cifar-10-batches-bin/batches.meta.txt", data: []byte(meta)})
		case -2:
			e = append(e, tarEntry{name: "cifar-10-batches-bin/readme.html", data: []byte("<html>")})
		default:
			e = append(e, tarEntry{name: "cifar-10-batches-bin/" + cifarBatchNames()[b], data: cifarRecords(b, counts[b])})
		}
	}
	return e
}

// writeArchive writes data as <root>/<dataset>/raw/<file> in a new root.
func writeArchive(t *testing.T, dataset, file string, data []byte) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, dataset, "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func writeCIFARBinary(t *testing.T, data []byte) string {
	return writeArchive(t, "cifar10", "cifar-10-binary.tar.gz", data)
}

func TestLoadCIFAR10Synthetic(t *testing.T) {
	counts := [6]int{3, 1, 2, 4, 2, 5}
	for _, prefix := range []string{"", "./"} {
		entries := cifarBinaryEntries(counts)
		for i := range entries {
			entries[i].name = prefix + entries[i].name
		}
		ds, err := LoadCIFAR10(writeCIFARBinary(t, tarGzOf(entries)))
		if err != nil {
			t.Fatal(err)
		}
		// The training set is batches 1 to 5 in order, whatever the order
		// of the members.
		var want []byte
		for b := range 5 {
			want = append(want, cifarRecords(b, counts[b])...)
		}
		checkCIFARImages(t, "train", &ds.Train, want)
		checkCIFARImages(t, "test", &ds.Test, cifarRecords(5, counts[5]))
	}
}

// checkCIFARImages checks im against the records it was read from.
func checkCIFARImages(t *testing.T, split string, im *Images, records []byte) {
	t.Helper()
	n := len(records) / cifarRecord
	if im.N != n || im.C != 3 || im.H != 32 || im.W != 32 || im.NumClasses != 10 ||
		len(im.Labels) != n || len(im.Pixels) != n*cifarPixels || !slices.Equal(im.Classes, cifarClassNames) {
		t.Fatalf("%s: N %d C %d H %d W %d classes %d %q, %d labels, %d pixels; want %d images",
			split, im.N, im.C, im.H, im.W, im.NumClasses, im.Classes, len(im.Labels), len(im.Pixels), n)
	}
	for i := range n {
		rec := records[i*cifarRecord : (i+1)*cifarRecord]
		if im.Labels[i] != rec[0] || !bytes.Equal(im.Image(i), rec[1:]) {
			t.Fatalf("%s image %d: label %d, want %d; pixels equal: %v", split, i, im.Labels[i], rec[0], bytes.Equal(im.Image(i), rec[1:]))
		}
	}
}

func TestLoadCIFAR10Errors(t *testing.T) {
	counts := [6]int{2, 1, 1, 1, 1, 2}
	good := cifarBinaryEntries(counts)
	with := func(edit func([]tarEntry) []tarEntry) []byte {
		return tarGzOf(edit(slices.Clone(good)))
	}
	replace := func(name string, data []byte) []byte {
		return with(func(e []tarEntry) []tarEntry {
			for i := range e {
				if strings.HasSuffix(e[i].name, "/"+name) {
					e[i].data = data
				}
			}
			return e
		})
	}
	drop := func(name string) []byte {
		return with(func(e []tarEntry) []tarEntry {
			return slices.DeleteFunc(e, func(x tarEntry) bool { return strings.HasSuffix(x.name, "/"+name) })
		})
	}
	badLabel := cifarRecords(2, 3)
	badLabel[2*cifarRecord] = 10
	gzipped := tarGzOf(good)
	flipped := slices.Clone(gzipped)
	flipped[len(flipped)/2] ^= 0x55
	trailing := append(slices.Clone(gzipped), "junk"...)
	for _, tc := range []struct {
		name string
		data []byte
		want []string // in the error, besides the archive's name
	}{
		{"missing batch", drop("data_batch_4.bin"), []string{"missing member cifar-10-batches-bin/data_batch_4.bin"}},
		{"missing test batch", drop("test_batch.bin"), []string{"test_batch.bin"}},
		{"missing meta", drop("batches.meta.txt"), []string{"batches.meta.txt"}},
		{"label 10", replace("data_batch_3.bin", badLabel), []string{"data_batch_3.bin", "label 10 of record 2"}},
		{"short record", replace("data_batch_1.bin", cifarRecords(0, 2)[:2*cifarRecord-1]), []string{"data_batch_1.bin", "6145 bytes"}},
		{"empty batch", replace("data_batch_2.bin", nil), []string{"data_batch_2.bin", "0 bytes"}},
		{"nine classes", replace("batches.meta.txt", []byte(strings.Join(cifarClassNames[:9], "\n"))), []string{"batches.meta.txt", "9 class names"}},
		{"duplicate", with(func(e []tarEntry) []tarEntry { return append(e, e[1]) }), []string{"duplicate member"}},
		{"symlink", with(func(e []tarEntry) []tarEntry {
			e[1] = tarEntry{name: e[1].name, typ: tar.TypeSymlink}
			return e
		}), []string{"not a regular file"}},
		{"too many records", gz(tarHeaderOnly("cifar-10-batches-bin/data_batch_1.bin", (cifarBatch+1)*cifarRecord)), []string{"data_batch_1.bin", "30733073 bytes"}},
		{"flipped byte", flipped, nil},
		{"trailing junk", trailing, nil},
		{"not gzip", []byte("cifar-10-batches-bin/data_batch_1.bin"), []string{"gzip"}},
		{"empty file", nil, []string{"gzip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCIFAR10(writeCIFARBinary(t, tc.data))
			checkFormatErr(t, err, append(tc.want, "cifar-10-binary.tar.gz"))
		})
	}
	if _, err := LoadCIFAR10(t.TempDir()); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "cifar-10-binary.tar.gz") {
		t.Errorf("missing archive: %v", err)
	}
}

// tarHeaderOnly returns the tar header of a member claiming size bytes,
// without the data.
func tarHeaderOnly(name string, size int64) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// checkFormatErr checks that err wraps ErrFormat and mentions each of want.
func checkFormatErr(t *testing.T, err error, want []string) {
	t.Helper()
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("error %v, want one wrapping ErrFormat", err)
	}
	if !strings.HasPrefix(err.Error(), "datasets: ") {
		t.Errorf("error %q lacks the datasets: prefix", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// TestCIFARTruncated checks that every prefix of both kinds of archive is an
// error naming the archive, never a panic or a shorter dataset.
func TestCIFARTruncated(t *testing.T) {
	bin := tarGzOf(cifarBinaryEntries([6]int{2, 1, 1, 1, 1, 2}))
	jpg := jpegArchive(t, syntheticJPEGSet(t, 1, 1), nil)
	for _, tc := range []struct {
		name string
		data []byte
		load func([]byte) error
	}{
		{"binary", bin, func(b []byte) error { _, err := LoadCIFAR10(writeCIFARBinary(t, b)); return err }},
		{"jpeg", jpg, func(b []byte) error {
			_, err := LoadCIFAR10JPEGWith(writeArchive(t, "cifar10-jpeg", "cifar10-jpeg.tar.gz", b), CIFAR10JPEGOptions{NoCache: true})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := max(len(tc.data)/40, 1)
			for n := 0; n < len(tc.data); n += step {
				checkFormatErr(t, tc.load(tc.data[:n]), []string{".tar.gz"})
			}
			for _, cut := range []int{1, 2, 4, 5, 8} {
				checkFormatErr(t, tc.load(tc.data[:len(tc.data)-cut]), []string{".tar.gz"})
			}
			if err := tc.load(tc.data); err != nil {
				t.Fatalf("whole archive: %v", err)
			}
		})
	}
}

// jpegImage is one image of a synthetic JPEG archive.
type jpegImage struct {
	member string // e.g. train/cat/0001.jpg
	img    image.Image
	split  int    // 0 train, 1 test
	class  string // directory name
}

// smoothImage returns a 32×32 image that JPEG keeps nearly intact: a flat
// colour with a gentle gradient.
func smoothImage(r, g, b uint8, w, h int, gray bool) image.Image {
	if gray {
		m := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.SetGray(x, y, color.Gray{r + uint8(x+y)})
			}
		}
		return m
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, color.RGBA{r + uint8(x), g + uint8(y), b, 255})
		}
	}
	return m
}

// syntheticJPEGSet returns perClass training and testPer test images a
// class for the ten CIFAR classes, the last test image of each split gray.
func syntheticJPEGSet(t *testing.T, perClass, testPer int) []jpegImage {
	t.Helper()
	var out []jpegImage
	for si, split := range []string{"train", "test"} {
		n := []int{perClass, testPer}[si]
		for c, class := range cifarClassNames {
			for k := range n {
				gray := c == 9 && k == n-1
				img := smoothImage(uint8(20*c+5), uint8(100+10*k), uint8(200-15*c), 32, 32, gray)
				out = append(out, jpegImage{member: fmt.Sprintf("%s/%s/%04d.jpg", split, class, k), img: img, split: si, class: class})
			}
		}
	}
	return out
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegArchive returns the gzipped tar of imgs in a shuffled order, with
// the directory entries first, as tar writes them; extra members follow.
func jpegArchive(t testing.TB, imgs []jpegImage, extra []tarEntry) []byte {
	t.Helper()
	var e []tarEntry
	dirs := map[string]bool{}
	for _, im := range imgs {
		for _, d := range []string{im.member[:strings.Index(im.member, "/")+1], filepath.Dir(im.member) + "/"} {
			if !dirs[d] {
				dirs[d] = true
				e = append(e, tarEntry{name: d, typ: tar.TypeDir})
			}
		}
	}
	files := make([]tarEntry, len(imgs))
	for i, im := range imgs {
		files[i] = tarEntry{name: im.member, data: encodeJPEG(t, im.img)}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
	return tarGzOf(append(append(e, files...), extra...))
}

func writeJPEGRoot(t *testing.T, data []byte) string {
	return writeArchive(t, "cifar10-jpeg", "cifar10-jpeg.tar.gz", data)
}

// checkJPEGDataset checks ds against the images it was made from: order by
// split, class and name, labels, shape, and pixels within JPEG's error.
func checkJPEGDataset(t *testing.T, ds *ImageDataset, imgs []jpegImage) {
	t.Helper()
	for si, im := range []*Images{&ds.Train, &ds.Test} {
		var want []jpegImage
		for _, x := range imgs {
			if x.split == si {
				want = append(want, x)
			}
		}
		slices.SortFunc(want, func(a, b jpegImage) int { return strings.Compare(a.member, b.member) })
		if im.N != len(want) || im.C != 3 || im.H != 32 || im.W != 32 || im.NumClasses != 10 ||
			len(im.Pixels) != im.N*3072 || len(im.Labels) != im.N || !slices.Equal(im.Classes, cifarClassNames) {
			t.Fatalf("split %d: N %d C %d H %d W %d classes %d %q, want %d images", si, im.N, im.C, im.H, im.W, im.NumClasses, im.Classes, len(want))
		}
		for i, w := range want {
			if got := im.Classes[im.Labels[i]]; got != w.class {
				t.Errorf("split %d image %d (%s): class %s", si, i, w.member, got)
			}
			var sum, worst int
			px := im.Image(i)
			for c := range 3 {
				for y := range 32 {
					for x := range 32 {
						r, g, b, _ := w.img.At(x, y).RGBA()
						v := int([3]uint32{r, g, b}[c] >> 8)
						d := max(int(px[c*1024+y*32+x])-v, v-int(px[c*1024+y*32+x]))
						sum += d
						worst = max(worst, d)
					}
				}
			}
			if mean := float64(sum) / 3072; mean > 3 || worst > 24 {
				t.Errorf("split %d image %d (%s): mean error %.2f, worst %d", si, i, w.member, mean, worst)
			}
		}
	}
}

func TestLoadCIFAR10JPEGSynthetic(t *testing.T) {
	imgs := syntheticJPEGSet(t, 3, 2)
	root := writeJPEGRoot(t, jpegArchive(t, imgs, nil))
	ds, st, err := loadCIFAR10JPEG(root, CIFAR10JPEGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st != cacheWritten {
		t.Errorf("first load: cache status %d, want written", st)
	}
	checkJPEGDataset(t, ds, imgs)
	if _, err := os.Stat(filepath.Join(root, "cifar10-jpeg", "cache", "cifar10-jpeg.v1.bin")); err != nil {
		t.Errorf("no cache in the data root: %v", err)
	}
	again, st, err := loadCIFAR10JPEG(root, CIFAR10JPEGOptions{})
	if err != nil || st != cacheHit {
		t.Fatalf("second load: status %d, %v; want a cache hit", st, err)
	}
	checkSameDataset(t, again, ds)
	pub, err := LoadCIFAR10JPEG(root)
	if err != nil {
		t.Fatal(err)
	}
	checkSameDataset(t, pub, ds)
}

func checkSameDataset(t *testing.T, got, want *ImageDataset) {
	t.Helper()
	for i, p := range [][2]*Images{{&got.Train, &want.Train}, {&got.Test, &want.Test}} {
		g, w := p[0], p[1]
		if g.N != w.N || g.C != w.C || g.H != w.H || g.W != w.W || g.NumClasses != w.NumClasses ||
			!slices.Equal(g.Classes, w.Classes) || !bytes.Equal(g.Labels, w.Labels) || !bytes.Equal(g.Pixels, w.Pixels) {
			t.Fatalf("split %d differs", i)
		}
	}
	if &got.Train.Classes[0] == &got.Test.Classes[0] {
		t.Error("the splits share their Classes slice")
	}
}

// TestLoadCIFAR10JPEGLayouts checks a leading directory and "./" names.
func TestLoadCIFAR10JPEGLayouts(t *testing.T) {
	for _, prefix := range []string{"./", "cifar10/", "./CIFAR-10-images/"} {
		imgs := syntheticJPEGSet(t, 1, 1)
		for i := range imgs {
			imgs[i].member = prefix + imgs[i].member
		}
		ds, err := LoadCIFAR10JPEGWith(writeJPEGRoot(t, jpegArchive(t, imgs, nil)), CIFAR10JPEGOptions{NoCache: true})
		if err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		for i := range imgs {
			imgs[i].member = strings.TrimPrefix(imgs[i].member, prefix)
		}
		checkJPEGDataset(t, ds, imgs)
	}
}

func TestLoadCIFAR10JPEGErrors(t *testing.T) {
	base := syntheticJPEGSet(t, 1, 1)
	edit := func(f func([]jpegImage) []jpegImage) []byte {
		return jpegArchive(t, f(slices.Clone(base)), nil)
	}
	extra := func(e ...tarEntry) []byte { return jpegArchive(t, base, e) }
	big := encodeJPEG(t, smoothImage(1, 2, 3, 33, 32, false))
	huge := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xc0\x00\x11\x08\xff\xff\xff\xff\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
	good := jpegArchive(t, base, nil)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"wrong size", extra(tarEntry{name: "train/cat/9999.jpg", data: big}), []string{"train/cat/9999.jpg", "33×32 image, want 32×32"}},
		{"huge claim", extra(tarEntry{name: "test/dog/0005.jpg", data: huge}), []string{"test/dog/0005.jpg", "65535×65535"}},
		{"not a JPEG", extra(tarEntry{name: "train/cat/x.jpg", data: []byte("GIF89a")}), []string{"train/cat/x.jpg", "JPEG"}},
		{"truncated JPEG", extra(tarEntry{name: "train/cat/x.jpg", data: encodeJPEG(t, base[0].img)[:300]}), []string{"train/cat/x.jpg", "JPEG"}},
		{"oversized member", extra(tarEntry{name: "train/cat/x.jpg", data: make([]byte, 64<<10+1)}), []string{"train/cat/x.jpg", "65537 bytes"}},
		{"empty member", extra(tarEntry{name: "train/cat/x.jpg"}), []string{"train/cat/x.jpg", "0 bytes"}},
		{"readme", extra(tarEntry{name: "README.md", data: []byte("hi")}), []string{"README.md", "not a member"}},
		{"png", extra(tarEntry{name: "train/cat/x.png", data: []byte("png")}), []string{"train/cat/x.png"}},
		{"val split", extra(tarEntry{name: "val/cat/0000.jpg", data: encodeJPEG(t, base[0].img)}), []string{"val/cat/0000.jpg", `split "val"`}},
		{"mixed prefix", extra(tarEntry{name: "a/train/cat/x.jpg", data: encodeJPEG(t, base[0].img)}, tarEntry{name: "b/train/cat/y.jpg", data: encodeJPEG(t, base[0].img)}), []string{"b/train/cat/y.jpg", "not under a/"}},
		{"symlink", extra(tarEntry{name: "train/cat/link.jpg", typ: tar.TypeSymlink}), []string{"train/cat/link.jpg", "not a regular file"}},
		{"duplicate", extra(tarEntry{name: "train/cat/0000.jpg", data: encodeJPEG(t, base[0].img)}), []string{"train/cat/0000.jpg", "duplicate"}},
		{"extra test class", extra(tarEntry{name: "test/zebra/0000.jpg", data: encodeJPEG(t, base[0].img)}), []string{"test classes", "zebra"}},
		{"nine classes", edit(func(s []jpegImage) []jpegImage {
			return slices.DeleteFunc(s, func(x jpegImage) bool { return x.class == "truck" })
		}), []string{"9 classes", "want 10"}},
		{"no test images", edit(func(s []jpegImage) []jpegImage {
			return slices.DeleteFunc(s, func(x jpegImage) bool { return x.split == 1 })
		}), []string{"no test images"}},
		{"flipped byte", flipped, nil},
		{"trailing junk", append(slices.Clone(good), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), []string{"gzip"}},
		{"not gzip", []byte("train/cat/0000.jpg"), []string{"gzip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCIFAR10JPEGWith(writeJPEGRoot(t, tc.data), CIFAR10JPEGOptions{NoCache: true})
			checkFormatErr(t, err, append(tc.want, "cifar10-jpeg.tar.gz"))
		})
	}
	if _, err := LoadCIFAR10JPEG(t.TempDir()); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "cifar10-jpeg.tar.gz") {
		t.Errorf("missing archive: %v", err)
	}
}

// TestDecodeErrorDeterministic checks that, of several bad images decoded in
// parallel, the error always names the first in order.
func TestDecodeErrorDeterministic(t *testing.T) {
	imgs := syntheticJPEGSet(t, 60, 1) // 600 training images: several chunks
	var extra []tarEntry
	for _, m := range []string{"train/truck/zz.jpg", "train/bird/zz.jpg", "train/dog/zz.jpg"} {
		extra = append(extra, tarEntry{name: m, data: []byte("bad")})
	}
	data := jpegArchive(t, imgs, extra)
	for range 5 {
		_, err := readImageArchive(bytes.NewReader(data), 10)
		if err == nil || !strings.HasPrefix(err.Error(), "train/bird/zz.jpg: ") {
			t.Fatalf("error %v, want one naming train/bird/zz.jpg", err)
		}
	}
}

func TestCIFAR10JPEGCache(t *testing.T) {
	imgs := syntheticJPEGSet(t, 2, 1)
	archive := jpegArchive(t, imgs, nil)
	cachePath := func(dir string) string { return filepath.Join(dir, "cifar10-jpeg.v1.bin") }

	t.Run("cache dir", func(t *testing.T) {
		root, dir := writeJPEGRoot(t, archive), filepath.Join(t.TempDir(), "a", "b")
		opt := CIFAR10JPEGOptions{CacheDir: dir}
		ds, st, err := loadCIFAR10JPEG(root, opt)
		if err != nil || st != cacheWritten {
			t.Fatalf("status %d, %v", st, err)
		}
		if _, err := os.Stat(cachePath(dir)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "cifar10-jpeg", "cache")); err == nil {
			t.Error("cache written into the data root despite CacheDir")
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("cache dir holds %v", names)
		}
		again, st, err := loadCIFAR10JPEG(root, opt)
		if err != nil || st != cacheHit {
			t.Fatalf("status %d, %v", st, err)
		}
		checkSameDataset(t, again, ds)
	})

	t.Run("stale", func(t *testing.T) {
		root, dir := writeJPEGRoot(t, archive), t.TempDir()
		opt := CIFAR10JPEGOptions{CacheDir: dir}
		if _, st, err := loadCIFAR10JPEG(root, opt); err != nil || st != cacheWritten {
			t.Fatalf("status %d, %v", st, err)
		}
		// Another archive of the same size would fool a size check: change
		// one image instead and keep the name.
		other := slices.Clone(imgs)
		other[0].img = smoothImage(250, 0, 0, 32, 32, false)
		p := filepath.Join(root, "cifar10-jpeg", "raw", "cifar10-jpeg.tar.gz")
		if err := os.WriteFile(p, jpegArchive(t, other, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		ds, st, err := loadCIFAR10JPEG(root, opt)
		if err != nil || st != cacheWritten {
			t.Fatalf("after changing the archive: status %d, %v; want a rewritten cache", st, err)
		}
		checkJPEGDataset(t, ds, other)
		if _, st, _ := loadCIFAR10JPEG(root, opt); st != cacheHit {
			t.Errorf("rewritten cache not used: status %d", st)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		root, dir := writeJPEGRoot(t, archive), t.TempDir()
		opt := CIFAR10JPEGOptions{CacheDir: dir}
		want, _, err := loadCIFAR10JPEG(root, opt)
		if err != nil {
			t.Fatal(err)
		}
		good, err := os.ReadFile(cachePath(dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			data []byte
		}{
			{"pixel", flipAt(good, len(good)-100)},
			{"label", flipAt(good, imgCacheFixed+80)},
			{"header", flipAt(good, 13)},
			{"crc", flipAt(good, len(good)-1)},
			{"truncated", good[:len(good)-1]},
			{"empty", nil},
			{"longer", append(slices.Clone(good), 0)},
		} {
			if err := os.WriteFile(cachePath(dir), c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			ds, st, err := loadCIFAR10JPEG(root, opt)
			if err != nil || st != cacheWritten {
				t.Fatalf("%s: status %d, %v; want the cache ignored and rewritten", c.name, st, err)
			}
			checkSameDataset(t, ds, want)
			if again, _ := os.ReadFile(cachePath(dir)); !bytes.Equal(again, good) {
				t.Errorf("%s: rewritten cache differs", c.name)
			}
		}
	})

	t.Run("unwritable", func(t *testing.T) {
		root := writeJPEGRoot(t, archive)
		// A file where the directory should be defeats even root.
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o644)
		var got error
		ds, st, err := loadCIFAR10JPEG(root, CIFAR10JPEGOptions{CacheDir: filepath.Join(file, "cache"), CacheError: func(e error) { got = e }})
		if err != nil || st != cacheWriteFailed || got == nil || !strings.Contains(got.Error(), "cifar10-jpeg.v1.bin") {
			t.Fatalf("status %d, %v; cache error %v", st, err, got)
		}
		checkJPEGDataset(t, ds, imgs)
	})

	t.Run("read-only root", func(t *testing.T) {
		root := writeJPEGRoot(t, archive)
		dir := filepath.Join(root, "cifar10-jpeg")
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		ds, st, err := loadCIFAR10JPEG(root, CIFAR10JPEGOptions{})
		if err != nil || st != cacheWriteFailed {
			t.Fatalf("status %d, %v", st, err)
		}
		checkJPEGDataset(t, ds, imgs)
		if _, err := os.Stat(filepath.Join(dir, "cache")); err == nil {
			t.Error("cache written under a read-only directory")
		}
	})

	t.Run("no cache", func(t *testing.T) {
		root := writeJPEGRoot(t, archive)
		if _, st, err := loadCIFAR10JPEG(root, CIFAR10JPEGOptions{NoCache: true}); err != nil || st != cacheOff {
			t.Fatalf("status %d, %v", st, err)
		}
		if _, err := os.Stat(filepath.Join(root, "cifar10-jpeg", "cache")); err == nil {
			t.Error("cache written with NoCache")
		}
	})
}

func flipAt(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 1
	return b
}

// TestImageCacheLyingHeader checks that a header claiming far more than
// the file holds is rejected before allocation.
func TestImageCacheLyingHeader(t *testing.T) {
	ds, err := readImageArchive(bytes.NewReader(jpegArchive(t, syntheticJPEGSet(t, 1, 1), nil)), 10)
	if err != nil {
		t.Fatal(err)
	}
	fp := fingerprint{size: 7}
	var b bytes.Buffer
	if err := writeImageCache(&b, ds, fp); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	if _, err := readImageCache(bytes.NewReader(good), int64(len(good)), fp); err != nil {
		t.Fatalf("valid cache: %v", err)
	}
	if _, err := readImageCache(bytes.NewReader(good), int64(len(good)), fingerprint{size: 8}); err == nil {
		t.Error("cache of another source accepted")
	}
	lying := slices.Clone(good)
	copy(lying[28:], []byte{0xa0, 0x86, 0x01, 0}) // train N = 100,000
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := readImageCache(bytes.NewReader(lying), int64(len(lying)), fp); err == nil {
			t.Error("lying header accepted")
		}
	})
	if allocs > 30 {
		t.Errorf("%v allocations for a lying header", allocs)
	}
}

func TestCIFAR10Registry(t *testing.T) {
	fs, err := Files("cifar10")
	if err != nil || len(fs) != 1 {
		t.Fatalf("Files(cifar10) = %v, %v", fs, err)
	}
	want := FileSpec{Name: "cifar-10-binary.tar.gz", URL: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		Size: 170052171, SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"}
	if fs[0] != want {
		t.Errorf("cifar10 file %+v, want %+v", fs[0], want)
	}
}

// TestCIFAR10JPEGReal loads the real archive twice, decoding then from the
// cache (in a temporary directory: the shared data root stays untouched).
func TestCIFAR10JPEGReal(t *testing.T) {
	root := dataRoot(t)
	if testing.Short() {
		t.Skip("decoding 60,000 JPEGs takes seconds; skipped with -short")
	}
	opt := CIFAR10JPEGOptions{CacheDir: t.TempDir()}
	start := time.Now()
	ds, st, err := loadCIFAR10JPEG(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if st != cacheWritten {
		t.Errorf("first load: cache status %d, want written", st)
	}
	start = time.Now()
	cached, st, err := loadCIFAR10JPEG(root, opt)
	if err != nil || st != cacheHit {
		t.Fatalf("second load: status %d, %v", st, err)
	}
	t.Logf("first load (decode + write cache) %v, cached load %v", first, time.Since(start))
	checkSameDataset(t, cached, ds)
	for _, s := range []struct {
		name     string
		im       *Images
		perClass int
	}{{"train", &ds.Train, 5000}, {"test", &ds.Test, 1000}} {
		im := s.im
		if im.N != 10*s.perClass || im.C != 3 || im.H != 32 || im.W != 32 || im.NumClasses != 10 || !slices.Equal(im.Classes, cifarClassNames) {
			t.Fatalf("%s: N %d, %d×%d×%d, %d classes %q", s.name, im.N, im.C, im.H, im.W, im.NumClasses, im.Classes)
		}
		counts := make([]int, 10)
		for _, y := range im.Labels {
			counts[y]++
		}
		for c, k := range counts {
			if k != s.perClass {
				t.Errorf("%s: class %d has %d images, want %d", s.name, c, k, s.perClass)
			}
		}
	}
	// JPEG moves the statistics a little from the canonical values.
	got, want := ComputeNormalization(&ds.Train), CIFAR10Normalization()
	t.Logf("train mean %v std %v", got.Mean, got.Std)
	for c := range 3 {
		if d := got.Mean[c] - want.Mean[c]; d > 0.01 || d < -0.01 {
			t.Errorf("channel %d mean %v, want about %v", c, got.Mean[c], want.Mean[c])
		}
		if d := got.Std[c] - want.Std[c]; d > 0.01 || d < -0.01 {
			t.Errorf("channel %d std %v, want about %v", c, got.Std[c], want.Std[c])
		}
	}
}

func BenchmarkDecodeCIFAR10JPEG(b *testing.B) {
	root := dataRoot(b)
	f, err := os.Open(filepath.Join(root, "cifar10-jpeg", "raw", "cifar10-jpeg.tar.gz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		f.Seek(0, io.SeekStart)
		if _, err := readImageArchive(f, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// ExampleLoadCIFAR10JPEGWith loads a tiny archive in the layout of
// cifar10-jpeg.tar.gz, caching the decoded images in a separate directory
// as one would for a read-only data root.
func ExampleLoadCIFAR10JPEGWith() {
	root, err := os.MkdirTemp("", "gnsr-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)
	var entries []tarEntry
	for _, split := range []string{"train", "test"} {
		for c, class := range cifarClassNames {
			var b bytes.Buffer
			jpeg.Encode(&b, smoothImage(uint8(20*c), 0, 0, 32, 32, false), nil)
			entries = append(entries, tarEntry{name: split + "/" + class + "/0000.jpg", data: b.Bytes()})
		}
	}
	os.MkdirAll(filepath.Join(root, "cifar10-jpeg", "raw"), 0o755)
	os.WriteFile(filepath.Join(root, "cifar10-jpeg", "raw", "cifar10-jpeg.tar.gz"), tarGzOf(entries), 0o644)

	ds, err := LoadCIFAR10JPEGWith(root, CIFAR10JPEGOptions{CacheDir: filepath.Join(root, "my-cache")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d train, %d test images of %d×%d×%d\n", ds.Train.N, ds.Test.N, ds.Train.C, ds.Train.H, ds.Train.W)
	fmt.Println(ds.Train.Classes[ds.Train.Labels[3]])
	// Output:
	// 10 train, 10 test images of 3×32×32
	// cat
}

func BenchmarkDecodeJPEG32(b *testing.B) {
	data := encodeJPEG(b, smoothImage(10, 100, 200, 32, 32, false))
	dst := make([]uint8, 3072)
	for b.Loop() {
		if err := decodeJPEG32(dst, data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestYCbCrToRGB checks the inlinable conversion against image/color's on
// every input.
func TestYCbCrToRGB(t *testing.T) {
	for v := range 1 << 24 {
		y, cb, cr := uint8(v>>16), uint8(v>>8), uint8(v)
		r, g, b := ycbcrToRGB(y, cb, cr)
		if wr, wg, wb := color.YCbCrToRGB(y, cb, cr); r != wr || g != wg || b != wb {
			t.Fatalf("ycbcrToRGB(%d, %d, %d) = %d, %d, %d; want %d, %d, %d", y, cb, cr, r, g, b, wr, wg, wb)
		}
	}
}
