package datasets

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/internal/atomicfile"
)

// The decoded-image cache, little-endian throughout:
//
//	magic "gnsrIMG\x00", version uint32 (1)
//	C, H, W, NumClasses, train N, test N   uint32 each
//	source size uint64, source sha256 [32]byte
//	NumClasses × (name length byte, name)
//	train labels, test labels, train pixels, test pixels
//	CRC-32C (Castagnoli) of everything above, uint32
//
// The header fixes the file's exact size, so a reader checks it against
// the file's before allocating anything, and rejects a stale cache (another
// source archive) before reading the payload.
const (
	imgCacheMagic   = "gnsrIMG\x00"
	imgCacheVersion = 1
	imgCacheFixed   = 8 + 4 + 6*4 + 8 + sha256.Size
	imgCacheMaxC    = 4
	imgCacheMaxSide = 1024

	cifar10JPEGCacheName = "cifar10-jpeg.v1.bin"
)

// fingerprint identifies a source archive: its size and sha256.
type fingerprint struct {
	size int64
	sum  [sha256.Size]byte
}

// cacheStatus says what loadCIFAR10JPEG did with the cache.
type cacheStatus int

const (
	cacheOff         cacheStatus = iota // NoCache: none read or written
	cacheHit                            // read from a valid cache
	cacheWritten                        // decoded, cache (re)written
	cacheWriteFailed                    // decoded, cache not written
)

// loadCIFAR10JPEG is LoadCIFAR10JPEGWith, also saying how the cache was
// used.
func loadCIFAR10JPEG(root string, opt CIFAR10JPEGOptions) (*ImageDataset, cacheStatus, error) {
	p := filepath.Join(root, "cifar10-jpeg", "raw", "cifar10-jpeg.tar.gz")
	f, err := openArchive(p, "cifar10-jpeg")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	cachePath := ""
	if !opt.NoCache {
		dir := opt.CacheDir
		if dir == "" {
			dir = filepath.Join(root, "cifar10-jpeg", "cache")
		}
		cachePath = filepath.Join(dir, cifar10JPEGCacheName)
		if _, err := os.Stat(cachePath); err == nil {
			fp, err := fingerprintFile(f)
			if err != nil {
				return nil, 0, fmt.Errorf("datasets: reading %s: %w", p, err)
			}
			// Any problem with the cache just means decoding again.
			if ds, err := readImageCacheFile(cachePath, fp); err == nil {
				return ds, cacheHit, nil
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, 0, fmt.Errorf("datasets: reading %s: %w", p, err)
			}
		}
	}
	// Hash the archive as it is decoded, for the cache's fingerprint.
	h := sha256.New()
	var n countWriter
	src := io.TeeReader(f, io.MultiWriter(h, &n))
	ds, err := readImageArchive(&srcReader{r: src}, cifarClasses)
	if err != nil {
		return nil, 0, archiveErr(p, err)
	}
	if cachePath == "" {
		return ds, cacheOff, nil
	}
	// The reader has consumed the gzip stream to its end; this reads
	// nothing unless the file grew meanwhile.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return nil, 0, fmt.Errorf("datasets: reading %s: %w", p, err)
	}
	fp := fingerprint{size: int64(n)}
	h.Sum(fp.sum[:0])
	err = readOnlyDir(filepath.Dir(cachePath))
	if err == nil {
		err = writeFileAtomic(cachePath, func(w io.Writer) error { return writeImageCache(w, ds, fp) })
	}
	if err != nil {
		if opt.CacheError != nil {
			opt.CacheError(err)
		}
		return ds, cacheWriteFailed, nil
	}
	return ds, cacheWritten, nil
}

// readOnlyDir returns an error if dir, or the nearest existing directory
// above it, has no write permission bit set. Root may write there anyway,
// but a data root made read-only on purpose (dr-xr-xr-x) is better left
// alone than filled with caches.
func readOnlyDir(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err == nil {
			if st.IsDir() && st.Mode().Perm()&0o222 == 0 {
				return fmt.Errorf("datasets: not writing the cache in %s: %s is read-only (%v)", dir, d, st.Mode().Perm())
			}
			return nil
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

type countWriter int64

func (c *countWriter) Write(b []byte) (int, error) {
	*c += countWriter(len(b))
	return len(b), nil
}

// fingerprintFile hashes f from its start and rewinds it.
func fingerprintFile(f *os.File) (fingerprint, error) {
	var fp fingerprint
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fp, err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fp, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fp, err
	}
	fp.size = n
	h.Sum(fp.sum[:0])
	return fp, nil
}

// readImageCacheFile reads the cache at p if it was made from the source
// fp.
func readImageCacheFile(p string, fp fingerprint) (*ImageDataset, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readImageCache(bufio.NewReaderSize(f, 64<<10), st.Size(), fp)
}

// readImageCache reads a cache of size bytes from r, made from the source
// fp. The header's counts are bounded and must add up to size exactly
// before the payload is allocated, so a lying header costs nothing; the
// CRC and the labels are checked before the dataset is returned.
func readImageCache(r io.Reader, size int64, fp fingerprint) (*ImageDataset, error) {
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	tr := io.TeeReader(r, crc)
	var fixed [imgCacheFixed]byte
	if _, err := io.ReadFull(tr, fixed[:]); err != nil {
		return nil, fmt.Errorf("cache header: %w", gzipErr(err))
	}
	if string(fixed[:8]) != imgCacheMagic {
		return nil, errors.New("not an image cache")
	}
	le := binary.LittleEndian
	if v := le.Uint32(fixed[8:]); v != imgCacheVersion {
		return nil, fmt.Errorf("cache version %d, want %d", v, imgCacheVersion)
	}
	var d [6]int64 // C, H, W, classes, train N, test N
	for i := range d {
		d[i] = int64(le.Uint32(fixed[12+4*i:]))
	}
	c, h, w, k, ntr, nte := d[0], d[1], d[2], d[3], d[4], d[5]
	if c < 1 || c > imgCacheMaxC || h < 1 || h > imgCacheMaxSide || w < 1 || w > imgCacheMaxSide ||
		k < 1 || k > maxImgClasses || ntr > maxSplitN || nte > maxSplitN {
		return nil, fmt.Errorf("cache header out of range: C, H, W, classes, N = %v", d)
	}
	var got fingerprint
	got.size = int64(le.Uint64(fixed[36:]))
	copy(got.sum[:], fixed[44:])
	if got != fp {
		return nil, errors.New("cache made from another source archive")
	}
	classes := make([]string, k)
	var nameLen [1]byte
	names := int64(0)
	for i := range classes {
		if _, err := io.ReadFull(tr, nameLen[:]); err != nil {
			return nil, fmt.Errorf("cache class names: %w", gzipErr(err))
		}
		name := make([]byte, nameLen[0])
		if _, err := io.ReadFull(tr, name); err != nil {
			return nil, fmt.Errorf("cache class names: %w", gzipErr(err))
		}
		classes[i] = string(name)
		names += 1 + int64(len(name))
	}
	sz := c * h * w // ≤ 2²², times N ≤ 10⁵: no overflow
	if want := imgCacheFixed + names + (ntr+nte)*(1+sz) + 4; size != want {
		return nil, fmt.Errorf("cache is %d bytes, its header implies %d", size, want)
	}
	ds := &ImageDataset{}
	ims := [2]*Images{&ds.Train, &ds.Test}
	for i, n := range []int64{ntr, nte} {
		*ims[i] = Images{N: int(n), C: int(c), H: int(h), W: int(w), NumClasses: int(k),
			Labels: make([]uint8, n), Pixels: make([]uint8, n*sz), Classes: classes}
	}
	ds.Test.Classes = append([]string(nil), classes...)
	for _, b := range [][]uint8{ds.Train.Labels, ds.Test.Labels, ds.Train.Pixels, ds.Test.Pixels} {
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("cache payload: %w", gzipErr(err))
		}
	}
	var trailer [5]byte
	if n, err := io.ReadFull(r, trailer[:]); n != 4 || err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("cache checksum: %d bytes where 4 end the file", n)
	}
	if le.Uint32(trailer[:]) != crc.Sum32() {
		return nil, errors.New("cache checksum mismatch")
	}
	for _, im := range ims {
		for i, y := range im.Labels {
			if int64(y) >= k {
				return nil, fmt.Errorf("cache label %d of image %d is not below %d", y, i, k)
			}
		}
	}
	return ds, nil
}

// writeImageCache writes ds, made from the source fp, in the cache format.
func writeImageCache(w io.Writer, ds *ImageDataset, fp fingerprint) error {
	tr, te := &ds.Train, &ds.Test
	if tr.C != te.C || tr.H != te.H || tr.W != te.W || tr.NumClasses != te.NumClasses ||
		len(tr.Classes) != tr.NumClasses || tr.C < 1 || tr.C > imgCacheMaxC ||
		tr.H < 1 || tr.H > imgCacheMaxSide || tr.W < 1 || tr.W > imgCacheMaxSide ||
		tr.NumClasses < 1 || tr.NumClasses > maxImgClasses || tr.N > maxSplitN || te.N > maxSplitN {
		return errors.New("image cache: dataset shape cannot be cached")
	}
	crc := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 64<<10)
	le := binary.LittleEndian
	hdr := append(make([]byte, 0, imgCacheFixed), imgCacheMagic...)
	hdr = le.AppendUint32(hdr, imgCacheVersion)
	for _, v := range []int{tr.C, tr.H, tr.W, tr.NumClasses, tr.N, te.N} {
		hdr = le.AppendUint32(hdr, uint32(v))
	}
	hdr = le.AppendUint64(hdr, uint64(fp.size))
	hdr = append(hdr, fp.sum[:]...)
	for _, name := range tr.Classes {
		if len(name) > maxClassName {
			return fmt.Errorf("image cache: class name of %d bytes", len(name))
		}
		hdr = append(append(hdr, byte(len(name))), name...)
	}
	sz := tr.C * tr.H * tr.W
	for _, b := range [][]uint8{hdr, tr.Labels[:tr.N], te.Labels[:te.N], tr.Pixels[:tr.N*sz], te.Pixels[:te.N*sz]} {
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(le.AppendUint32(nil, crc.Sum32()))
	return err
}

// writeFileAtomic writes the file p through write with atomicfile.Write,
// creating its directory if needed.
func writeFileAtomic(p string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("datasets: writing %s: %w", p, err)
	}
	if err := atomicfile.Write(p, write); err != nil {
		return fmt.Errorf("datasets: writing %s: %w", p, err)
	}
	return nil
}
