package datasets

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// CIFAR-10 shapes and the limits of the archive readers. Sizes are checked
// against these before anything is allocated for them.
const (
	cifarSide    = 32
	cifarPixels  = 3 * cifarSide * cifarSide // one image, C×H×W
	cifarRecord  = 1 + cifarPixels           // label byte, then the pixels
	cifarBatch   = 10000                     // records a batch file holds at most
	cifarClasses = 10
	cifarMetaMax = 4 << 10 // largest batches.meta.txt read

	maxJPEGMember = 64 << 10 // largest image member read (the real ones are ~1 KiB)
	maxJPEGTotal  = 1 << 30  // largest sum of image members an archive may hold
	maxSplitN     = 100000   // most images a split may hold
	maxImgClasses = 256      // labels are bytes
	maxTarTrailer = 1 << 20  // most bytes read after the tar's end-of-archive marker
	maxClassName  = 255      // longest class directory name (a byte in the cache)
	jpegChunk     = 256      // images a decoding goroutine takes at a time
	jpegBlock     = 1 << 20  // bytes of the blocks holding the undecoded images
	cifarBinDir   = "cifar-10-batches-bin/"
	cifarMetaName = "batches.meta.txt"
)

// cifarBatchNames returns the batch members of the binary archive, training
// batches first, in the order their records are concatenated.
func cifarBatchNames() [6]string {
	return [...]string{
		"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
		"data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
	}
}

// LoadCIFAR10 reads CIFAR-10 from the canonical binary distribution
// <root>/cifar10/raw/cifar-10-binary.tar.gz: the members
// cifar-10-batches-bin/data_batch_1.bin to data_batch_5.bin (50,000 training
// images) and test_batch.bin (10,000 test images), each a sequence of
// 3,073-byte records (a label byte, then the 1,024 red, 1,024 green and
// 1,024 blue bytes of a 32×32 image, rows top to bottom), and
// batches.meta.txt, the ten class names, one a line. The archive is streamed;
// nothing is extracted to disk.
//
// Images are 3×32×32 (the records already hold C×H×W planes), NumClasses is
// 10 and Classes holds the names. Each batch member's size must be a
// multiple of 3,073 bytes and at most 10,000 records before it is read; each
// label must be below 10. A missing archive gives an error wrapping
// ErrMissing; a truncated or corrupt archive, a missing member or a bad
// record one wrapping ErrFormat that names the archive and the member.
func LoadCIFAR10(root string) (*ImageDataset, error) {
	p := filepath.Join(root, "cifar10", "raw", "cifar-10-binary.tar.gz")
	f, err := openArchive(p, "cifar10")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ds, err := readCIFARBinary(&srcReader{r: f})
	if err != nil {
		return nil, archiveErr(p, err)
	}
	return ds, nil
}

// openArchive opens a dataset archive, mapping a missing file to ErrMissing.
func openArchive(p, name string) (*os.File, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingFile(p, name, err)
		}
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return f, nil
}

// srcReader marks errors of the underlying file, so that an I/O error is not
// reported as a malformed archive.
type srcReader struct{ r io.Reader }

type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (s *srcReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		err = &readError{err}
	}
	return n, err
}

// archiveErr names the archive p in err, wrapping ErrFormat unless err is
// an I/O error of the file itself.
func archiveErr(p string, err error) error {
	if re, ok := errors.AsType[*readError](err); ok {
		return fmt.Errorf("datasets: reading %s: %w", p, re.err)
	}
	return fmt.Errorf("%w: %s: %w", ErrFormat, p, err)
}

// tarGz reads a gzip-compressed tar stream.
type tarGz struct {
	zr *gzip.Reader
	tr *tar.Reader
}

func newTarGz(r io.Reader) (*tarGz, error) {
	zr, err := gzip.NewReader(r) // buffered by gzip unless r is an io.ByteReader
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", gzipErr(err))
	}
	return &tarGz{zr: zr, tr: tar.NewReader(zr)}, nil
}

// nextMember returns the next member's header, or io.EOF after the last.
func nextMember(tr *tar.Reader) (*tar.Header, error) {
	h, err := tr.Next()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("tar: %w", gzipErr(err))
	}
	return h, nil
}

// finish reads the rest of the gzip stream after the tar's end-of-archive
// marker: tar writers pad to a record size, and only reaching the end of
// the stream checks the gzip checksum, which is what catches a corrupted
// byte inside a member's data. Anything but a valid gzip ending (a second
// member is allowed) after at most maxTarTrailer bytes is an error.
func (t *tarGz) finish() error {
	n, err := io.Copy(io.Discard, io.LimitReader(t.zr, maxTarTrailer+1))
	if err != nil {
		return fmt.Errorf("after the tar archive: %w", gzipErr(err))
	}
	if n > maxTarTrailer {
		return fmt.Errorf("more than %d bytes after the end of the tar archive", maxTarTrailer)
	}
	return nil
}

func runEnd(end func() error) error {
	if end == nil {
		return nil
	}
	return end()
}

// memberName returns a tar member's name without a leading "./".
func memberName(h *tar.Header) string { return strings.TrimPrefix(h.Name, "./") }

// skippable reports whether a member carries no file data: a directory or
// a pax global header.
func skippable(h *tar.Header) bool {
	return h.Typeflag == tar.TypeDir || h.Typeflag == tar.TypeXGlobalHeader
}

// readMember reads a member of declared size into a buffer grown as the data
// arrives, so that a lying size costs at most twice the bytes present.
func readMember(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, 64<<10))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(size, 2*int64(cap(buf)))-int64(len(buf))))
		}
		end := int(min(int64(cap(buf)), size))
		n, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, fmt.Errorf("%d of %d bytes: %w", len(buf), size, gzipErr(err))
		}
	}
	return buf, nil
}

// cifarBatchData is one batch member, read and split into labels and pixels.
type cifarBatchData struct {
	labels, pixels []uint8
}

// readCIFARBinary reads the canonical CIFAR-10 binary archive (gzipped tar)
// from r. Errors name the member but not the archive.
func readCIFARBinary(r io.Reader) (*ImageDataset, error) {
	t, err := newTarGz(r)
	if err != nil {
		return nil, err
	}
	return readCIFARTar(t.tr, t.finish)
}

// readCIFARTar reads the members of the binary archive from tr, then calls
// end, if not nil, to check what follows the tar stream.
func readCIFARTar(tr *tar.Reader, end func() error) (*ImageDataset, error) {
	names := cifarBatchNames()
	var batches [len(names)]*cifarBatchData
	var classes []string
	for {
		h, err := nextMember(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		name := memberName(h)
		base, ok := strings.CutPrefix(name, cifarBinDir)
		if !ok || skippable(h) {
			continue
		}
		bi := slices.Index(names[:], base)
		if bi < 0 && base != cifarMetaName {
			continue // readme.html
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: not a regular file (type %q)", name, h.Typeflag)
		}
		if bi < 0 {
			if classes != nil {
				return nil, fmt.Errorf("%s: duplicate member", name)
			}
			if classes, err = readCIFARMeta(tr, h.Size); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if batches[bi] != nil {
			return nil, fmt.Errorf("%s: duplicate member", name)
		}
		if batches[bi], err = readCIFARBatch(tr, h.Size); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := runEnd(end); err != nil {
		return nil, err
	}
	for i, b := range batches {
		if b == nil {
			return nil, fmt.Errorf("missing member %s%s", cifarBinDir, names[i])
		}
	}
	if classes == nil {
		return nil, fmt.Errorf("missing member %s%s", cifarBinDir, cifarMetaName)
	}
	train := batches[:5]
	n := 0
	for _, b := range train {
		n += len(b.labels)
	}
	ds := &ImageDataset{
		Train: Images{N: n, C: 3, H: cifarSide, W: cifarSide, Pixels: make([]uint8, 0, n*cifarPixels),
			Labels: make([]uint8, 0, n), NumClasses: cifarClasses, Classes: classes},
		Test: Images{N: len(batches[5].labels), C: 3, H: cifarSide, W: cifarSide, Pixels: batches[5].pixels,
			Labels: batches[5].labels, NumClasses: cifarClasses, Classes: slices.Clone(classes)},
	}
	for i, b := range train {
		ds.Train.Pixels = append(ds.Train.Pixels, b.pixels...)
		ds.Train.Labels = append(ds.Train.Labels, b.labels...)
		train[i] = nil // let the collector have it
	}
	return ds, nil
}

// readCIFARBatch reads a batch member of the given size.
func readCIFARBatch(r io.Reader, size int64) (*cifarBatchData, error) {
	if size <= 0 || size%cifarRecord != 0 || size/cifarRecord > cifarBatch {
		return nil, fmt.Errorf("%d bytes is not 1 to %d records of %d bytes", size, cifarBatch, cifarRecord)
	}
	raw, err := readMember(r, size)
	if err != nil {
		return nil, err
	}
	n := len(raw) / cifarRecord
	b := &cifarBatchData{labels: make([]uint8, n)}
	for i := range n {
		rec := raw[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return nil, fmt.Errorf("label %d of record %d is not below %d", rec[0], i, cifarClasses)
		}
		b.labels[i] = rec[0]
		// Compact the pixels in place: the destination never overtakes the
		// source, which stays i+1 bytes ahead.
		copy(raw[i*cifarPixels:], rec[1:])
	}
	b.pixels = raw[: n*cifarPixels : n*cifarPixels]
	return b, nil
}

// readCIFARMeta reads batches.meta.txt: the ten class names, one a line,
// followed by blank lines.
func readCIFARMeta(r io.Reader, size int64) ([]string, error) {
	if size > cifarMetaMax {
		return nil, fmt.Errorf("%d bytes exceeds the limit of %d", size, cifarMetaMax)
	}
	b, err := readMember(r, size)
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != cifarClasses {
		return nil, fmt.Errorf("%d class names, want %d", len(names), cifarClasses)
	}
	return names, nil
}

// LoadCIFAR10JPEG reads CIFAR-10 (JPEG) from <root>/cifar10-jpeg/raw/
// cifar10-jpeg.tar.gz, using and refreshing the decoded cache in
// <root>/cifar10-jpeg/cache; it is LoadCIFAR10JPEGWith with zero options.
func LoadCIFAR10JPEG(root string) (*ImageDataset, error) {
	return LoadCIFAR10JPEGWith(root, CIFAR10JPEGOptions{})
}

// CIFAR10JPEGOptions configures LoadCIFAR10JPEGWith. The zero value caches
// in the data root.
type CIFAR10JPEGOptions struct {
	// CacheDir is the directory of the decoded cache; "" means
	// <root>/cifar10-jpeg/cache. Point it at a writable directory when the
	// data root is read-only.
	CacheDir string
	// NoCache turns the cache off: the archive is decoded on every load,
	// and no cache is read or written.
	NoCache bool
	// CacheError, if not nil, is called with the error when the cache
	// cannot be written (a read-only data root, a full disk). The load
	// succeeds regardless; without CacheError the failure is silent.
	CacheError func(error)
}

// LoadCIFAR10JPEGWith reads CIFAR-10 (JPEG) from the archive
// <root>/cifar10-jpeg/raw/cifar10-jpeg.tar.gz: members
// train/<class>/<name>.jpg and test/<class>/<name>.jpg (a common leading
// directory is allowed), 32×32 JPEGs, 50,000 and 10,000 of them. The
// archive is streamed; nothing is extracted to disk. A class's index is the
// position of its directory name among the sorted names (airplane,
// automobile, bird, cat, deer, dog, frog, horse, ship, truck), which Classes
// holds; both splits must have the same ten classes. Within a split, images
// are ordered by class, then by member name. Each JPEG is decoded with
// image/jpeg to 3×32×32 RGB planes (grayscale ones are replicated), on
// GOMAXPROCS goroutines; its size (at most 64 KiB) and then its dimensions
// are checked before it is decoded, and a split may hold at most 100,000
// images.
//
// Decoding takes seconds, so the result is cached, unless opt.NoCache, in
// opt.CacheDir (by default <root>/cifar10-jpeg/cache) as
// cifar10-jpeg.v1.bin: the labels and pixels, tied to the archive's size
// and sha256 and protected by a CRC-32C. A later load uses the cache only if
// it is intact and matches the archive (whose sha256 it computes, a fraction
// of the decoding time); otherwise it decodes again and rewrites the cache.
// The cache is written atomically (temporary file, sync, rename). It is
// not written under a directory without write permission (a data root
// made read-only on purpose, even for root), and failing to write it is not
// an error: see opt.CacheError.
//
// A missing archive gives an error wrapping ErrMissing; a truncated or
// corrupt archive, an unexpected member or an image that cannot be decoded
// or is not 32×32 one wrapping ErrFormat that names the archive and the
// member.
func LoadCIFAR10JPEGWith(root string, opt CIFAR10JPEGOptions) (*ImageDataset, error) {
	ds, _, err := loadCIFAR10JPEG(root, opt)
	return ds, err
}

// readImageArchive reads a gzipped tar of <split>/<class>/<name>.jpg
// members from r and decodes them; wantClasses, if positive, is the number of
// classes required. Errors name the member but not the archive.
func readImageArchive(r io.Reader, wantClasses int) (*ImageDataset, error) {
	t, err := newTarGz(r)
	if err != nil {
		return nil, err
	}
	return readImageTar(t.tr, t.finish, wantClasses)
}

// readImageTar reads the image members from tr, calls end, if not nil, to
// check what follows the tar stream, then decodes the images.
func readImageTar(tr *tar.Reader, end func() error, wantClasses int) (*ImageDataset, error) {
	var (
		splits [2][]jpegMember // train, test
		block  []byte          // holds the latest members' bytes, back to back
		total  int64           // bytes of all members
		prefix *string         // the common leading directory, once seen
	)
	for {
		h, err := nextMember(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if skippable(h) {
			continue
		}
		name := memberName(h)
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: not a regular file (type %q)", name, h.Typeflag)
		}
		parts := strings.Split(name, "/")
		if len(parts) == 4 {
			if prefix == nil {
				prefix = &parts[0]
			}
			if parts[0] != *prefix {
				return nil, fmt.Errorf("%s: not under %s/ like the members before it", name, *prefix)
			}
			parts = parts[1:]
		}
		if len(parts) != 3 || parts[1] == "" || len(parts[1]) > maxClassName || !isJPEGName(parts[2]) {
			return nil, fmt.Errorf("%s: not a member train/<class>/<name>.jpg or test/<class>/<name>.jpg", name)
		}
		si := slices.Index([]string{"train", "test"}, parts[0])
		if si < 0 {
			return nil, fmt.Errorf("%s: split %q is neither train nor test", name, parts[0])
		}
		if len(splits[si]) >= maxSplitN {
			return nil, fmt.Errorf("%s: more than %d %s images", name, maxSplitN, parts[0])
		}
		if h.Size <= 0 || h.Size > maxJPEGMember {
			return nil, fmt.Errorf("%s: %d bytes, want 1 to %d", name, h.Size, maxJPEGMember)
		}
		if total += h.Size; total > maxJPEGTotal {
			return nil, fmt.Errorf("%s: images exceed %d bytes in all", name, maxJPEGTotal)
		}
		// Members go into blocks, new ones as needed, each twice the size
		// of the last up to jpegBlock bytes: one growing buffer would copy
		// itself over and over, and small archives need small blocks.
		size := int(h.Size)
		if cap(block)-len(block) < size {
			block = make([]byte, 0, min(max(2*cap(block), maxJPEGMember), jpegBlock))
		}
		data := block[len(block) : len(block)+size : len(block)+size]
		block = block[:len(block)+size]
		if n, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("%s: %d of %d bytes: %w", name, n, h.Size, gzipErr(err))
		}
		splits[si] = append(splits[si], jpegMember{name: name, class: parts[1], file: parts[2], data: data})
	}
	if err := runEnd(end); err != nil {
		return nil, err
	}
	classes, err := archiveClasses(splits, wantClasses)
	if err != nil {
		return nil, err
	}
	ds := &ImageDataset{}
	for si, dst := range []*Images{&ds.Train, &ds.Test} {
		im, err := decodeSplit(splits[si], classes)
		if err != nil {
			return nil, err
		}
		im.Classes = slices.Clone(classes)
		*dst = *im
	}
	return ds, nil
}

// jpegMember is an image member, before decoding.
type jpegMember struct {
	name, class, file string
	data              []byte
}

func isJPEGName(s string) bool {
	ext := strings.ToLower(path.Ext(s))
	return len(s) > len(ext) && (ext == ".jpg" || ext == ".jpeg")
}

// archiveClasses returns the sorted class names of the training split,
// checking that the test split has the same ones and that neither is empty.
func archiveClasses(splits [2][]jpegMember, want int) ([]string, error) {
	var sets [2][]string
	for si, s := range splits {
		if len(s) == 0 {
			return nil, fmt.Errorf("no %s images", [2]string{"train", "test"}[si])
		}
		for _, m := range s {
			sets[si] = append(sets[si], m.class)
		}
		slices.Sort(sets[si])
		sets[si] = slices.Compact(sets[si])
	}
	classes := sets[0]
	if !slices.Equal(classes, sets[1]) {
		return nil, fmt.Errorf("test classes %q differ from train classes %q", sets[1], classes)
	}
	if len(classes) > maxImgClasses {
		return nil, fmt.Errorf("%d classes, more than %d", len(classes), maxImgClasses)
	}
	if want > 0 && len(classes) != want {
		return nil, fmt.Errorf("%d classes %q, want %d", len(classes), classes, want)
	}
	return classes, nil
}

// decodeSplit sorts a split's members by class and name and decodes them
// into 3×32×32 images, in parallel. Each goroutine takes the next chunk of
// jpegChunk images and fills its own slots, so the result does not depend on
// the scheduling; so does the error, the one of the first failing image: a
// chunk handed out is always finished, and chunks are handed out in order,
// so every image before a failure is decoded.
func decodeSplit(ms []jpegMember, classes []string) (*Images, error) {
	slices.SortFunc(ms, func(a, b jpegMember) int {
		return cmp.Or(strings.Compare(a.class, b.class), strings.Compare(a.file, b.file))
	})
	for i := 1; i < len(ms); i++ {
		if ms[i].class == ms[i-1].class && ms[i].file == ms[i-1].file {
			return nil, fmt.Errorf("%s: duplicate member", ms[i].name)
		}
	}
	n := len(ms)
	im := &Images{N: n, C: 3, H: cifarSide, W: cifarSide, Pixels: make([]uint8, n*cifarPixels),
		Labels: make([]uint8, n), NumClasses: len(classes)}
	ci := 0
	for i, m := range ms {
		for classes[ci] != m.class { // both are sorted by class
			ci++
		}
		im.Labels[i] = uint8(ci)
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  = n // index of the first failure
		ferr   error
		wg     sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), (n+jpegChunk-1)/jpegChunk)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				lo := int(next.Add(jpegChunk)) - jpegChunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+jpegChunk, n); i++ {
					if err := decodeJPEG32(im.Pixels[i*cifarPixels:(i+1)*cifarPixels], ms[i].data); err != nil {
						mu.Lock()
						if i < first {
							first, ferr = i, fmt.Errorf("%s: %w", ms[i].name, err)
						}
						mu.Unlock()
						failed.Store(true)
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if ferr != nil {
		return nil, ferr
	}
	return im, nil
}

// decodeJPEG32 decodes a 32×32 JPEG into dst as R, G and B planes. The
// dimensions are checked before the image is decoded, so that a small file
// claiming a huge image costs nothing.
func decodeJPEG32(dst []uint8, data []byte) error {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return jpegErr(err)
	}
	if cfg.Width != cifarSide || cfg.Height != cifarSide {
		return fmt.Errorf("%d×%d image, want %d×%d", cfg.Width, cfg.Height, cifarSide, cifarSide)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return jpegErr(err)
	}
	b := img.Bounds()
	if b.Dx() != cifarSide || b.Dy() != cifarSide { // cannot differ from the config
		return fmt.Errorf("decoded to %v, want %d×%d", b, cifarSide, cifarSide)
	}
	const plane = cifarSide * cifarSide
	r, g, bl := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	switch m := img.(type) {
	case *image.YCbCr:
		// The chroma offsets by shifts, as COffset computes them for an
		// image at the origin (which image/jpeg's are): calling COffset and
		// color.YCbCrToRGB for each pixel took a fifth of the decoding
		// time.
		sx, sy, ok := chromaShifts(m.SubsampleRatio)
		if !ok || b.Min != (image.Point{}) {
			return errors.New("JPEG with an unsupported chroma subsampling")
		}
		cw := (cifarSide-1)>>sx + 1
		for y := range cifarSide {
			yrow := m.Y[y*m.YStride:][:cifarSide]
			crow := (y >> sy) * m.CStride
			cb, cr := m.Cb[crow:][:cw], m.Cr[crow:][:cw]
			k := y * cifarSide
			ro, gro, bo := r[k:][:cifarSide], g[k:][:cifarSide], bl[k:][:cifarSide]
			for x, yy := range yrow {
				ro[x], gro[x], bo[x] = ycbcrToRGB(yy, cb[x>>sx], cr[x>>sx])
			}
		}
	case *image.Gray:
		for y := range cifarSide {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:cifarSide]
			copy(r[y*cifarSide:], row)
			copy(g[y*cifarSide:], row)
			copy(bl[y*cifarSide:], row)
		}
	default: // RGB (Adobe) and CMYK JPEGs
		for y := range cifarSide {
			for x := range cifarSide {
				c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
				k := y*cifarSide + x
				r[k], g[k], bl[k] = c.R, c.G, c.B
			}
		}
	}
	return nil
}

// ycbcrToRGB is color.YCbCrToRGB, which the compiler does not inline, in
// a form it does: the same JFIF formulae in 16.16 fixed point, clamped.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy := int32(y) * 0x10101
	cb1, cr1 := int32(cb)-128, int32(cr)-128
	return clamp16(yy + 91881*cr1), clamp16(yy - 22554*cb1 - 46802*cr1), clamp16(yy + 116130*cb1)
}

// clamp16 returns v>>16 clamped to [0, 255].
func clamp16(v int32) uint8 {
	return uint8(min(max(v>>16, 0), 255))
}

// chromaShifts returns the horizontal and vertical chroma subsampling of
// ratio as shifts.
func chromaShifts(ratio image.YCbCrSubsampleRatio) (sx, sy uint, ok bool) {
	switch ratio {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	case image.YCbCrSubsampleRatio411:
		return 2, 0, true
	case image.YCbCrSubsampleRatio410:
		return 2, 1, true
	}
	return 0, 0, false
}

// jpegErr says that a premature end is a truncated image.
func jpegErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("JPEG truncated: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("JPEG: %w", err)
}
