package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
)

// Images is a set of images with one class label each.
type Images struct {
	N, C, H, W int
	// Pixels holds the images in N×C×H×W order, one byte a value.
	Pixels []uint8
	// Labels holds each image's class in [0, NumClasses).
	Labels     []uint8
	NumClasses int
	// Classes names each class, len NumClasses; nil if the files name
	// none.
	Classes []string
}

// Image returns the C·H·W pixels of image i, sharing Pixels' memory.
// Image panics if i is out of range.
func (im *Images) Image(i int) []uint8 {
	sz := im.C * im.H * im.W
	return im.Pixels[i*sz : (i+1)*sz]
}

// ImageDataset is an image-classification dataset with its standard
// training and test sets.
type ImageDataset struct {
	Train, Test Images
}

// Limits of the IDX reader: a file is rejected, before anything is
// allocated for its data, if its header claims more than these.
const (
	maxIDXCompressed = 256 << 20 // largest .gz file read
	maxIDXBytes      = 1 << 30   // largest decompressed payload
	maxIDXDims       = 4
	// idxDeflateRatio bounds the decompressed size by the compressed one:
	// deflate cannot expand data by more than about 1032:1.
	idxDeflateRatio = 1032
)

// LoadMNIST reads MNIST from the four gzipped IDX files of
// <root>/mnist/raw: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (60,000 training
// and 10,000 test images of 1×28×28 pixels, 10 classes).
//
// Each file's header (magic 0x00000803 for images, 0x00000801 for labels,
// and the dimensions) is checked against the size the gzip trailer records
// and against limits before its data is allocated, and the data must end
// exactly where the header says. Missing files give an error wrapping
// ErrMissing; truncated, corrupt or inconsistent files one wrapping
// ErrFormat, naming the file.
func LoadMNIST(root string) (*ImageDataset, error) {
	dir := filepath.Join(root, "mnist", "raw")
	ds := &ImageDataset{}
	for _, s := range []struct {
		prefix string
		dst    *Images
	}{{"train", &ds.Train}, {"t10k", &ds.Test}} {
		imgPath := filepath.Join(dir, s.prefix+"-images-idx3-ubyte.gz")
		lblPath := filepath.Join(dir, s.prefix+"-labels-idx1-ubyte.gz")
		imgDims, pixels, err := readIDXFile(imgPath, 3)
		if err != nil {
			return nil, err
		}
		lblDims, labels, err := readIDXFile(lblPath, 1)
		if err != nil {
			return nil, err
		}
		if lblDims[0] != imgDims[0] {
			return nil, fmt.Errorf("%w: %s has %d labels for the %d images of %s", ErrFormat, lblPath, lblDims[0], imgDims[0], imgPath)
		}
		for i, y := range labels {
			if y >= 10 {
				return nil, fmt.Errorf("%w: %s: label %d of image %d is not a digit", ErrFormat, lblPath, y, i)
			}
		}
		*s.dst = Images{N: imgDims[0], C: 1, H: imgDims[1], W: imgDims[2], Pixels: pixels, Labels: labels, NumClasses: 10}
	}
	return ds, nil
}

// readIDXFile reads a gzipped IDX file of unsigned bytes with ndim
// dimensions.
func readIDXFile(path string, ndim int) ([]int, []uint8, error) {
	comp, err := readFile(path, "mnist", maxIDXCompressed)
	if err != nil {
		return nil, nil, err
	}
	dims, data, err := decodeIDXGzip(comp, ndim)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrFormat, path, err)
	}
	return dims, data, nil
}

// decodeIDXGzip decodes a gzip stream (one member) holding an IDX file of
// unsigned bytes with ndim dimensions (ndim 0 accepts any of 1 to
// maxIDXDims). Only after the header agrees with the size in the gzip
// trailer and with the limits is the data buffer allocated; the stream is
// then read through a reader limited to the claimed size, and must end
// there, with a valid checksum and nothing after it.
func decodeIDXGzip(comp []byte, ndim int) ([]int, []uint8, error) {
	if len(comp) < 18 {
		return nil, nil, fmt.Errorf("%d bytes is too short for a gzip stream", len(comp))
	}
	// ISIZE: the uncompressed size modulo 2³², the last four bytes.
	isize := binary.LittleEndian.Uint32(comp[len(comp)-4:])
	br := bytes.NewReader(comp)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	zr.Multistream(false)
	var magic [4]byte
	if _, err := io.ReadFull(zr, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("IDX header: %w", gzipErr(err))
	}
	dims, _, err := parseIDXMagic(magic, ndim)
	if err != nil {
		return nil, nil, err
	}
	hdr := make([]byte, 4*len(dims))
	if _, err := io.ReadFull(zr, hdr); err != nil {
		return nil, nil, fmt.Errorf("IDX header: %w", gzipErr(err))
	}
	size, err := idxSize(hdr, dims)
	if err != nil {
		return nil, nil, err
	}
	total := int64(4+len(hdr)) + size
	if uint32(total) != isize {
		return nil, nil, fmt.Errorf("IDX header claims %d bytes of data (dimensions %v), but the gzip trailer records %d bytes in all (mod 2³²)", size, dims, isize)
	}
	if total > idxDeflateRatio*int64(len(comp)) {
		return nil, nil, fmt.Errorf("IDX header claims %d bytes of data, more than %d compressed bytes can hold", size, len(comp))
	}
	data := make([]uint8, size)
	if _, err := io.ReadFull(io.LimitReader(zr, size), data); err != nil {
		return nil, nil, fmt.Errorf("IDX data (%d bytes claimed): %w", size, gzipErr(err))
	}
	// Reading past the end checks the gzip checksum and length.
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || !errors.Is(err, io.EOF) {
		if n != 0 {
			return nil, nil, fmt.Errorf("more data than the IDX header's %d bytes", size)
		}
		return nil, nil, fmt.Errorf("after the IDX data: %w", gzipErr(err))
	}
	if br.Len() != 0 {
		return nil, nil, fmt.Errorf("%d bytes after the gzip stream", br.Len())
	}
	return dims, data, nil
}

// gzipErr turns a premature end into a message that says so.
func gzipErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// parseIDXMagic checks the magic number: two zero bytes, the type code 0x08
// (unsigned byte) and the number of dimensions. It returns a dims slice of
// that length, to be filled by idxSize.
func parseIDXMagic(m [4]byte, ndim int) ([]int, int64, error) {
	if m[0] != 0 || m[1] != 0 {
		return nil, 0, fmt.Errorf("bad IDX magic %#08x", binary.BigEndian.Uint32(m[:]))
	}
	if m[2] != 0x08 {
		return nil, 0, fmt.Errorf("IDX type code %#02x, want 0x08 (unsigned byte)", m[2])
	}
	n := int(m[3])
	if ndim > 0 && n != ndim {
		return nil, 0, fmt.Errorf("IDX magic %#08x has %d dimensions, want %d (magic %#08x)", binary.BigEndian.Uint32(m[:]), n, ndim, 0x800+ndim)
	}
	if n < 1 || n > maxIDXDims {
		return nil, 0, fmt.Errorf("IDX file with %d dimensions, want 1 to %d", n, maxIDXDims)
	}
	return make([]int, n), 0, nil
}

// idxSize reads the big-endian dimensions into dims and returns their
// product, rejecting a product beyond maxIDXBytes without overflow.
func idxSize(hdr []byte, dims []int) (int64, error) {
	size := int64(1)
	for i := range dims {
		d := int64(binary.BigEndian.Uint32(hdr[4*i:]))
		if d > maxIDXBytes {
			return 0, fmt.Errorf("IDX dimension %d is %d, over the limit of %d", i, d, maxIDXBytes)
		}
		dims[i] = int(d)
		size *= d // both factors are at most 2³⁰, so no overflow
		if size > maxIDXBytes {
			return 0, fmt.Errorf("IDX dimensions %v exceed the limit of %d bytes", dims[:i+1], maxIDXBytes)
		}
	}
	return size, nil
}
