package tabular

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// DefaultMaxLine is the longest line a CSVReader accepts by default: room
// for 100,000 numbers of 10 characters.
const DefaultMaxLine = 1 << 20

// CSVReader reads a table of comma-separated fields line by line, through a
// buffer of fixed size: a line longer than the buffer is an error, never an
// allocation. A final newline is optional; a carriage return before the
// newline is dropped. Fields are not quoted (the numeric tables of OGB and
// gnsr never quote).
type CSVReader struct {
	file   string
	br     *bufio.Reader
	closer io.Closer
	line   int64
	cur    []byte
	ends   []int // end offset of each field of cur
	err    error
	done   bool
}

// NewCSVReader returns a reader of the plain or gzipped CSV stream r (gzip
// is recognised by its magic bytes), with lines of at most maxLine bytes
// (DefaultMaxLine if maxLine <= 0). file names the stream in errors.
func NewCSVReader(file string, r io.Reader, maxLine int) (*CSVReader, error) {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	br := bufio.NewReaderSize(r, maxLine)
	c := &CSVReader{file: file}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{File: file, Err: fmt.Errorf("not a readable gzip stream: %w", err)}
		}
		br = bufio.NewReaderSize(zr, maxLine)
	}
	c.br = br
	return c, nil
}

// OpenCSV opens the CSV file at path (gzipped or not) for reading with
// lines of at most maxLine bytes. The caller must Close it.
func OpenCSV(path string, maxLine int) (*CSVReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	c, err := NewCSVReader(path, f, maxLine)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// Close closes the file OpenCSV opened.
func (c *CSVReader) Close() error {
	if c.closer == nil {
		return nil
	}
	return c.closer.Close()
}

// Next advances to the next line, reporting whether there is one; at the end
// of the input or on an error it returns false and Err says which.
func (c *CSVReader) Next() bool {
	if c.done {
		return false
	}
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		c.line++
		c.fail(fmt.Errorf("line longer than %d bytes", c.br.Size()))
		return false
	case err == io.EOF && len(line) == 0:
		c.done = true
		return false
	case err != nil && err != io.EOF:
		c.line++
		c.fail(readErr(err))
		return false
	}
	c.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	c.cur, c.ends = line, c.ends[:0]
	for i, b := range line {
		if b == ',' {
			c.ends = append(c.ends, i)
		}
	}
	c.ends = append(c.ends, len(line))
	return true
}

// readErr describes an error of the underlying stream: a gzip stream cut
// short or corrupt is a format error, anything else an I/O error.
func readErr(err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the stream ends in the middle (a truncated file or gzip member): %w", err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return fmt.Errorf("corrupt gzip data: %w", err)
	}
	return err
}

func (c *CSVReader) fail(err error) {
	c.done = true
	c.err = &Error{File: c.file, Line: c.line, Err: err}
}

// Err returns the error that stopped Next, or nil at a clean end.
func (c *CSVReader) Err() error { return c.err }

// Line returns the 1-based number of the current line.
func (c *CSVReader) Line() int64 { return c.line }

// NumFields returns the number of fields of the current line.
func (c *CSVReader) NumFields() int { return len(c.ends) }

// Field returns field i of the current line, valid until the next call of
// Next. It panics if i is out of range.
func (c *CSVReader) Field(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1] + 1
	}
	return c.cur[start:c.ends[i]]
}

// Errorf returns an *Error at the current line.
func (c *CSVReader) Errorf(format string, args ...any) error {
	return &Error{File: c.file, Line: c.line, Err: fmt.Errorf(format, args...)}
}

// Want checks that the current line has n fields.
func (c *CSVReader) Want(n int) error {
	if len(c.ends) != n {
		return c.Errorf("%d fields, want %d", len(c.ends), n)
	}
	return nil
}

// Int returns field i as an integer in [lo, hi].
func (c *CSVReader) Int(i int, lo, hi int64) (int64, error) {
	f := c.Field(i)
	v, ok := parseInt(f)
	if !ok || v < lo || v > hi {
		return 0, c.Errorf("field %d = %q is not an integer in [%d, %d]", i+1, clip(f), lo, hi)
	}
	return v, nil
}

// Float32 returns field i as a finite float32.
func (c *CSVReader) Float32(i int) (float32, error) {
	f := c.Field(i)
	if len(f) == 1 && f[0] == '0' {
		return 0, nil // the common case of sparse rows, without ParseFloat
	}
	v, err := strconv.ParseFloat(string(f), 32)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, c.Errorf("field %d = %q is not a finite float32", i+1, clip(f))
	}
	return float32(v), nil
}

// parseInt parses an optionally signed decimal integer of at most 18 digits.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		v = v*10 + int64(d-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// clip shortens a field quoted in an error message.
func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:37:37], "..."...)
	}
	return b
}
