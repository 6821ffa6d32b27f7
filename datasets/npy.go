package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Limits on what an npz archive may ask of the reader. The gnn-benchmark
// files stay far below them (the largest member, Computers' attr_indices, is
// 14.7 MB); they bound the memory a corrupt or hostile archive can make the
// reader allocate.
const (
	maxNPZBytes       = 1 << 30 // largest npz file read
	maxNPYBytes       = 1 << 30 // largest member, header included
	maxNPZTotal       = 2 << 30 // all members read from one archive
	maxNPYHeader      = 1 << 16 // numpy itself refuses headers beyond 10,000 bytes
	maxUnicodeChars   = 1 << 10 // characters in one <U element
	maxDeflateRatio   = 1032    // deflate cannot expand more than this
	deflateRatioSlack = 1 << 10 // for the stream's own few bytes
)

// errObjectArray is wrapped by parseNPYHeader's error for an array of Python
// objects (dtype |O), whose data is a pickle. Such arrays are never decoded;
// callers that can do without them skip them.
var errObjectArray = errors.New("numpy object array (dtype |O) is not supported")

// npyArray is one array of an npz archive: either numeric (num is set) or
// fixed-width unicode (str is set).
type npyArray struct {
	num *ndarray
	str []string
}

// npyHeader is the parsed header of a .npy file.
type npyHeader struct {
	dt      *dtype // nil for unicode
	uchars  int    // characters per element of a <U array
	fortran bool
	shape   []int
}

// itemSize returns the bytes of one element.
func (h *npyHeader) itemSize() int {
	if h.dt == nil {
		return 4 * h.uchars
	}
	return h.dt.size
}

// npzReader reads members of an npz archive. It reads only the members asked
// for, checking each one's declared sizes before reading it.
type npzReader struct {
	file  string // for error messages
	size  int64
	zr    *zip.Reader
	files map[string]*zip.File
	total uint64 // bytes of members read so far
}

// openNPZ indexes the npz archive in r, of size bytes. file is used in error
// messages only.
func openNPZ(file string, r io.ReaderAt, size int64) (*npzReader, error) {
	if size > maxNPZBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the limit of %d", ErrFormat, file, size, maxNPZBytes)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not a readable npz (zip) archive: %w", ErrFormat, file, err)
	}
	z := &npzReader{file: file, size: size, zr: zr, files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		if _, dup := z.files[f.Name]; dup {
			return nil, fmt.Errorf("%w: %s: member %s appears twice", ErrFormat, file, f.Name)
		}
		z.files[f.Name] = f
	}
	return z, nil
}

// has reports whether the archive holds the array key.
func (z *npzReader) has(key string) bool {
	_, ok := z.files[key+".npy"]
	return ok
}

// bad returns an ErrFormat error naming the archive and the array key.
func (z *npzReader) bad(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s: "+format, append([]any{ErrFormat, z.file, key}, args...)...)
}

// wrap returns an ErrFormat error naming the archive around err, which
// names the array.
func (z *npzReader) wrap(err error) error {
	return fmt.Errorf("%w: %s: %w", ErrFormat, z.file, err)
}

// array reads and parses the array key (member key.npy).
func (z *npzReader) array(key string) (*npyArray, error) {
	f, ok := z.files[key+".npy"]
	if !ok {
		return nil, z.bad(key, "no such array in the archive")
	}
	// Check the declared sizes before reading anything: a stored member is
	// as large as its bytes in the file, and deflate expands at most
	// maxDeflateRatio times, so a member cannot claim more than the file
	// could hold.
	usize, csize := f.UncompressedSize64, f.CompressedSize64
	switch {
	case csize > uint64(z.size):
		return nil, z.bad(key, "member claims %d compressed bytes in a file of %d", csize, z.size)
	case usize > maxNPYBytes:
		return nil, z.bad(key, "member of %d bytes exceeds the limit of %d", usize, maxNPYBytes)
	case f.Method == zip.Store && usize != csize:
		return nil, z.bad(key, "stored member with %d compressed and %d uncompressed bytes", csize, usize)
	case f.Method == zip.Deflate && usize > csize*maxDeflateRatio+deflateRatioSlack:
		return nil, z.bad(key, "member claims %d bytes from %d deflated bytes, more than deflate can give", usize, csize)
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return nil, z.bad(key, "unsupported zip compression method %d", f.Method)
	case z.total+usize > maxNPZTotal:
		return nil, z.bad(key, "members read exceed %d bytes in all", uint64(maxNPZTotal))
	}
	z.total += usize
	rc, err := f.Open()
	if err != nil {
		return nil, z.bad(key, "%w", err)
	}
	defer rc.Close()
	a, err := readNPY(rc, int64(usize))
	if err != nil {
		return nil, z.bad(key, "%w", err)
	}
	return a, nil
}

// readNPY reads a .npy stream of exactly size bytes. The header is read and
// checked against size before the data is allocated, and the stream is read
// to its end, so that the zip reader verifies its CRC-32.
func readNPY(r io.Reader, size int64) (*npyArray, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, fmt.Errorf("reading the npy preamble: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not an npy array: bad magic %q", pre[:6])
	}
	var hlen, pos int64
	switch pre[6] {
	case 1:
		hlen, pos = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, fmt.Errorf("reading the npy preamble: %w", err)
		}
		hlen, pos = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, fmt.Errorf("npy format version %d.%d is not supported (want 1, 2 or 3)", pre[6], pre[7])
	}
	if hlen > maxNPYHeader || pos+hlen > size {
		return nil, fmt.Errorf("npy header of %d bytes in a member of %d bytes (limit %d)", hlen, size, maxNPYHeader)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("reading the npy header: %w", err)
	}
	h, err := parseNPYHeader(hb)
	if err != nil {
		return nil, err
	}
	// The element count must match the bytes declared. Multiply only while
	// the product stays within them, so that no shape, however large,
	// overflows or allocates.
	dataLen := size - pos - hlen
	n, err := elementCount(h.shape, h.itemSize(), dataLen)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, dataLen)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("reading %d bytes of array data: %w", dataLen, err)
	}
	// Reading to the end makes the zip reader check the CRC-32.
	var one [1]byte
	if _, err := io.ReadFull(r, one[:]); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("data beyond the %d bytes the header declares", dataLen)
		}
		return nil, fmt.Errorf("after the array data: %w", err)
	}
	if h.dt == nil {
		strs, err := decodeUnicode(raw, n, h.uchars)
		if err != nil {
			return nil, err
		}
		return &npyArray{str: strs}, nil
	}
	if h.fortran && len(h.shape) > 1 {
		return nil, fmt.Errorf("fortran-ordered arrays of %d dimensions are not supported", len(h.shape))
	}
	return &npyArray{num: &ndarray{shape: h.shape, dt: h.dt, raw: raw, n: n, ready: true}}, nil
}

// elementCount returns the product of shape after checking that that many
// elements of itemSize bytes fill exactly dataLen bytes.
func elementCount(shape []int, itemSize int, dataLen int64) (int, error) {
	limit := dataLen / int64(itemSize)
	n := int64(1)
	for _, d := range shape {
		if d == 0 {
			n = 0
			break
		}
	}
	if n != 0 {
		for _, d := range shape {
			if n > limit/int64(d) {
				return 0, fmt.Errorf("shape %v of %d-byte elements needs more than the %d data bytes present", shape, itemSize, dataLen)
			}
			n *= int64(d)
		}
	}
	if n*int64(itemSize) != dataLen {
		return 0, fmt.Errorf("shape %v of %d-byte elements needs %d data bytes, has %d", shape, itemSize, n*int64(itemSize), dataLen)
	}
	return int(n), nil
}

// decodeUnicode decodes n fixed-width UTF-32LE strings of chars characters
// each, dropping the trailing NULs that pad them, as numpy does.
func decodeUnicode(raw []byte, n, chars int) ([]string, error) {
	out := make([]string, n)
	var sb []byte
	for i := range out {
		sb = sb[:0]
		end := chars
		for end > 0 && binary.LittleEndian.Uint32(raw[(i*chars+end-1)*4:]) == 0 {
			end--
		}
		for c := 0; c < end; c++ {
			r := binary.LittleEndian.Uint32(raw[(i*chars+c)*4:])
			if r > utf8.MaxRune || !utf8.ValidRune(rune(r)) {
				return nil, fmt.Errorf("string %d holds the invalid code point %#x", i, r)
			}
			sb = utf8.AppendRune(sb, rune(r))
		}
		out[i] = string(sb)
	}
	return out, nil
}

// parseNPYHeader parses the header of a .npy file: a Python dict literal
// with exactly the keys descr, fortran_order and shape, padded with spaces
// and ended by a newline. It is parsed by a small strict grammar (strings
// without escapes, True/False, tuples of non-negative integers), never
// evaluated. Only the little-endian dtypes <f4, <f8, <i4, <i8, |u1, |b1 and
// <U<n> are accepted.
func parseNPYHeader(b []byte) (*npyHeader, error) {
	p := &headerParser{b: b}
	h, err := p.dict()
	if err != nil {
		return nil, fmt.Errorf("npy header %q: %w", truncate(b, 120), err)
	}
	return h, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

type headerParser struct {
	b   []byte
	pos int
}

func (p *headerParser) space() {
	for p.pos < len(p.b) && p.b[p.pos] == ' ' {
		p.pos++
	}
}

// eat consumes c after optional spaces, reporting whether it was there.
func (p *headerParser) eat(c byte) bool {
	p.space()
	if p.pos < len(p.b) && p.b[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *headerParser) expect(c byte) error {
	if !p.eat(c) {
		return fmt.Errorf("want %q at offset %d", c, p.pos)
	}
	return nil
}

// str parses a quoted string without escapes.
func (p *headerParser) str() (string, error) {
	p.space()
	if p.pos >= len(p.b) || (p.b[p.pos] != '\'' && p.b[p.pos] != '"') {
		return "", fmt.Errorf("want a string at offset %d", p.pos)
	}
	q := p.b[p.pos]
	end := bytes.IndexByte(p.b[p.pos+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.pos)
	}
	s := p.b[p.pos+1 : p.pos+1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.pos += end + 2
	return string(s), nil
}

// word consumes one of words, returning its index.
func (p *headerParser) word(words ...string) (int, error) {
	p.space()
	for i, w := range words {
		if bytes.HasPrefix(p.b[p.pos:], []byte(w)) {
			p.pos += len(w)
			return i, nil
		}
	}
	return 0, fmt.Errorf("want one of %q at offset %d", words, p.pos)
}

// shape parses a tuple of non-negative integers: (), (n,) or (n, m, ...),
// optionally with Python 2's L suffixes.
func (p *headerParser) shape() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var dims []int
	for {
		// Here the tuple is empty or its last integer had a comma.
		if p.eat(')') {
			return dims, nil
		}
		if len(dims) >= maxNDim {
			return nil, fmt.Errorf("more than %d dimensions", maxNDim)
		}
		p.space()
		start := p.pos
		for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
			p.pos++
		}
		d, err := strconv.Atoi(string(p.b[start:p.pos]))
		if err != nil || d > maxDim || (p.pos-start > 1 && p.b[start] == '0') {
			return nil, fmt.Errorf("dimension %q at offset %d is not an integer in [0, %d]", p.b[start:p.pos], start, maxDim)
		}
		if p.pos < len(p.b) && p.b[p.pos] == 'L' {
			p.pos++
		}
		dims = append(dims, d)
		if !p.eat(',') {
			if err := p.expect(')'); err != nil {
				return nil, err
			}
			if len(dims) == 1 {
				// (5) is the integer 5, not a tuple; numpy writes (5,).
				return nil, fmt.Errorf("shape (%d) is not a tuple", dims[0])
			}
			return dims, nil
		}
	}
}

func (p *headerParser) dict() (*npyHeader, error) {
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	h := &npyHeader{}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		switch key {
		case "descr":
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			if err := h.setDescr(s); err != nil {
				return nil, err
			}
		case "fortran_order":
			w, err := p.word("False", "True")
			if err != nil {
				return nil, err
			}
			h.fortran = w == 1
		case "shape":
			if h.shape, err = p.shape(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unexpected key %q", key)
		}
		if !p.eat(',') {
			if err := p.expect('}'); err != nil {
				return nil, err
			}
			break
		}
	}
	if len(seen) != 3 {
		return nil, fmt.Errorf("want the keys descr, fortran_order and shape, have %d of them", len(seen))
	}
	// Only spaces may pad the dict, and a newline must end it.
	p.space()
	if p.pos != len(p.b)-1 || p.b[p.pos] != '\n' {
		return nil, fmt.Errorf("want spaces and a final newline after the dict at offset %d", p.pos)
	}
	return h, nil
}

// setDescr checks the dtype string against the whitelist.
func (h *npyHeader) setDescr(s string) error {
	switch s {
	case "<f4", "<f8", "<i4", "<i8", "|u1", "<u1", "|b1":
		size, _ := strconv.Atoi(s[2:])
		order := s[0]
		if size == 1 {
			order = '|'
		}
		h.dt = &dtype{kind: s[1], size: size, order: order}
		return nil
	case "|O", "<O", "|O8", "<O8":
		return errObjectArray
	}
	if len(s) > 2 && s[:2] == "<U" {
		n, err := strconv.Atoi(s[2:])
		if err == nil && n >= 1 && n <= maxUnicodeChars && s[2] != '0' {
			h.uchars = n
			return nil
		}
	}
	return fmt.Errorf("dtype %q is not supported (want <f4, <f8, <i4, <i8, |u1, |b1 or <U1 to <U%d)", s, maxUnicodeChars)
}
