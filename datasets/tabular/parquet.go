package tabular

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// Limits on what a Parquet file may ask of the reader. Real tables stay far
// below them (writers cut pages at about 1 MB); they bound what a corrupt or
// hostile file can make the reader allocate.
const (
	maxFooterBytes = 16 << 20  // the Thrift footer
	maxHeaderBytes = 1 << 20   // one page header (statistics included)
	maxPageBytes   = 256 << 20 // one page, decompressed
	maxPageValues  = 1 << 24   // values (levels included) of one page
)

// ParquetFile is an open Parquet file whose structure has been checked: its
// footer and every page header are walked before the Parquet library
// decodes them, lengths and counts are checked against the bytes present,
// and only plain, Snappy, gzip and zstd compression is accepted. Columns are
// then read page by page, so memory stays bounded by a page whatever the
// table's size.
type ParquetFile struct {
	path   string
	f      io.ReaderAt
	closer io.Closer
	size   int64
	pf     *parquet.File
}

// OpenParquet opens and checks the Parquet file at path. The caller must
// Close it. Errors for a malformed file are of type *Error.
func OpenParquet(path string) (_ *ParquetFile, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	p, err := NewParquetReader(path, f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	p.closer = f
	return p, nil
}

// NewParquetReader checks the Parquet file of size bytes in r, as
// OpenParquet does; name names it in errors.
func NewParquetReader(name string, r io.ReaderAt, size int64) (_ *ParquetFile, err error) {
	p := &ParquetFile{path: name, f: r, size: size}
	meta, err := p.checkFooter()
	if err != nil {
		return nil, &Error{File: name, Row: -1, Err: err}
	}
	if err := p.checkChunks(meta); err != nil {
		return nil, &Error{File: name, Row: -1, Err: err}
	}
	// The last guard: should the library still panic on some input the
	// checks let through, the error names the file.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &Error{File: name, Row: -1, Err: fmt.Errorf("the Parquet decoder failed: %v", r)}
		}
	}()
	p.pf, err = parquet.OpenFile(r, p.size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &Error{File: name, Row: -1, Err: err}
	}
	return p, nil
}

// Close closes the file OpenParquet opened.
func (p *ParquetFile) Close() error {
	if p.closer == nil {
		return nil
	}
	return p.closer.Close()
}

// NumRows returns the number of rows the file declares (checked against its
// row groups).
func (p *ParquetFile) NumRows() int64 { return p.pf.NumRows() }

// KeyValue returns the value of key in the file's key-value metadata.
func (p *ParquetFile) KeyValue(key string) (string, bool) { return p.pf.Lookup(key) }

// Columns returns the names of the file's top-level columns.
func (p *ParquetFile) Columns() []string {
	var names []string
	for _, path := range p.pf.Schema().Columns() {
		if !slices.Contains(names, path[0]) {
			names = append(names, path[0])
		}
	}
	return names
}

// checkFooter reads the footer and walks its Thrift structure.
func (p *ParquetFile) checkFooter() (*format.FileMetaData, error) {
	if p.size < 12 {
		return nil, fmt.Errorf("%d bytes: too short for a Parquet file", p.size)
	}
	var head, tail [8]byte
	if _, err := p.f.ReadAt(head[:4], 0); err != nil {
		return nil, err
	}
	if _, err := p.f.ReadAt(tail[:], p.size-8); err != nil {
		return nil, err
	}
	if string(head[:4]) != "PAR1" || string(tail[4:]) != "PAR1" {
		return nil, fmt.Errorf("not a plain Parquet file (magic %q ... %q; encrypted files are not supported)", head[:4], tail[4:])
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > p.size-12 || n > maxFooterBytes {
		return nil, fmt.Errorf("footer of %d bytes in a file of %d (limit %d)", n, p.size, maxFooterBytes)
	}
	footer := make([]byte, n)
	if _, err := p.f.ReadAt(footer, p.size-8-n); err != nil {
		return nil, err
	}
	used, err := checkThrift(footer)
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	if used != len(footer) {
		return nil, fmt.Errorf("footer: %d bytes after the metadata", len(footer)-used)
	}
	meta := new(format.FileMetaData)
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), footer, meta); err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	return meta, nil
}

// checkChunks checks each column chunk's extent and walks its page headers.
func (p *ParquetFile) checkChunks(meta *format.FileMetaData) error {
	if meta.NumRows < 0 {
		return fmt.Errorf("footer: %d rows", meta.NumRows)
	}
	var rows int64
	for g, rg := range meta.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > meta.NumRows-rows {
			return fmt.Errorf("row group %d: %d rows, beyond the file's %d", g, rg.NumRows, meta.NumRows)
		}
		rows += rg.NumRows
		for c, cc := range rg.Columns {
			md := cc.MetaData
			where := fmt.Sprintf("row group %d, column %s", g, strings.Join(md.PathInSchema, "."))
			if cc.FilePath != "" {
				return fmt.Errorf("%s: data in another file (%s) is not supported", where, cc.FilePath)
			}
			switch md.Codec {
			case format.Uncompressed, format.Snappy, format.Gzip, format.Zstd:
			default:
				return fmt.Errorf("%s: compression %v is not supported (use none, snappy, gzip or zstd)", where, md.Codec)
			}
			start := md.DataPageOffset
			if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
				start = md.DictionaryPageOffset
			}
			if start < 4 || md.TotalCompressedSize < 0 || md.TotalCompressedSize > p.size-8-start || md.NumValues < 0 {
				return fmt.Errorf("%s: chunk of %d bytes at offset %d (%d values) in a file of %d bytes", where, md.TotalCompressedSize, start, md.NumValues, p.size)
			}
			if err := p.checkPages(where, md.Codec, start, start+md.TotalCompressedSize); err != nil {
				return err
			}
			_ = c
		}
	}
	if rows != meta.NumRows {
		return fmt.Errorf("footer: %d rows, but the row groups hold %d", meta.NumRows, rows)
	}
	return nil
}

// checkPages walks the page headers of the chunk in [start, end).
func (p *ParquetFile) checkPages(where string, codec format.CompressionCodec, start, end int64) error {
	buf := make([]byte, 0, 4096)
	for pos := start; pos < end; {
		n := min(end-pos, maxHeaderBytes)
		if int64(cap(buf)) < n {
			buf = make([]byte, 0, min(n, max(2*int64(cap(buf)), 4096)))
		}
		buf = buf[:min(n, int64(cap(buf)))]
		if _, err := p.f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return err
		}
		hlen, err := checkThrift(buf)
		if errors.Is(err, errThriftTruncated) && int64(len(buf)) < n {
			buf = make([]byte, 0, n) // a header longer than the window: read it whole
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: page header at offset %d: %w", where, pos, err)
		}
		var h format.PageHeader
		if err := thrift.Unmarshal(new(thrift.CompactProtocol), buf[:hlen], &h); err != nil {
			return fmt.Errorf("%s: page header at offset %d: %w", where, pos, err)
		}
		body := pos + int64(hlen)
		if err := checkPageHeader(&h, end-body); err != nil {
			return fmt.Errorf("%s: page at offset %d: %w", where, pos, err)
		}
		if err := p.checkCodec(codec, &h, body); err != nil {
			return fmt.Errorf("%s: page at offset %d: %w", where, pos, err)
		}
		pos = body + int64(h.CompressedPageSize)
	}
	return nil
}

// checkPageHeader checks a page's sizes and counts against the bytes left in
// its chunk and the limits.
func checkPageHeader(h *format.PageHeader, left int64) error {
	switch {
	case h.CompressedPageSize < 0 || int64(h.CompressedPageSize) > left:
		return fmt.Errorf("compressed size %d with %d bytes left in the chunk", h.CompressedPageSize, left)
	case h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes:
		return fmt.Errorf("decompressed size %d (limit %d)", h.UncompressedPageSize, maxPageBytes)
	}
	var values int32
	switch {
	case h.DataPageHeader.Valid:
		values = h.DataPageHeader.V.NumValues
	case h.DataPageHeaderV2.Valid:
		v := h.DataPageHeaderV2.V
		values = v.NumValues
		if v.NumNulls < 0 || v.NumRows < 0 || v.NumNulls > v.NumValues || v.NumRows > v.NumValues ||
			v.RepetitionLevelsByteLength < 0 || v.DefinitionLevelsByteLength < 0 ||
			int64(v.RepetitionLevelsByteLength)+int64(v.DefinitionLevelsByteLength) > int64(h.CompressedPageSize) {
			return fmt.Errorf("data page v2 header with %d values, %d nulls, %d rows and levels of %d+%d bytes in %d",
				v.NumValues, v.NumNulls, v.NumRows, v.RepetitionLevelsByteLength, v.DefinitionLevelsByteLength, h.CompressedPageSize)
		}
	case h.DictionaryPageHeader.Valid:
		// A dictionary's values take a byte each at the least.
		values = h.DictionaryPageHeader.V.NumValues
		if values > h.UncompressedPageSize {
			return fmt.Errorf("dictionary of %d values in %d bytes", values, h.UncompressedPageSize)
		}
	case h.IndexPageHeader.Valid:
	default:
		return fmt.Errorf("page of type %v without its header", h.Type)
	}
	if values < 0 || values > maxPageValues {
		return fmt.Errorf("%d values (limit %d)", values, maxPageValues)
	}
	return nil
}

// checkCodec checks that the compressed data of the page at body does not
// declare more bytes than the page header: Snappy's decoder allocates the
// length its stream declares, and zstd's the content size of its frame.
func (p *ParquetFile) checkCodec(codec format.CompressionCodec, h *format.PageHeader, body int64) error {
	skip := int64(0)
	if v := h.DataPageHeaderV2; v.Valid {
		if v.V.IsCompressed.Valid && !v.V.IsCompressed.V {
			return nil
		}
		skip = int64(v.V.RepetitionLevelsByteLength) + int64(v.V.DefinitionLevelsByteLength)
	}
	n := int64(h.CompressedPageSize) - skip
	var head [18]byte
	m := min(n, int64(len(head)))
	if m <= 0 {
		return nil
	}
	if _, err := p.f.ReadAt(head[:m], body+skip); err != nil && err != io.EOF {
		return err
	}
	declared := int64(-1)
	switch codec {
	case format.Snappy:
		v, k := binary.Uvarint(head[:m])
		if k <= 0 {
			return errors.New("corrupt Snappy block length")
		}
		declared = int64(min(v, 1<<62))
	case format.Zstd:
		declared = zstdContentSize(head[:m])
	}
	if declared > int64(h.UncompressedPageSize) {
		return fmt.Errorf("compressed data declares %d bytes, the page header %d", declared, h.UncompressedPageSize)
	}
	return nil
}

// zstdContentSize returns the content size a zstd frame header declares, or
// -1 if it declares none.
func zstdContentSize(b []byte) int64 {
	if len(b) < 5 || !bytes.Equal(b[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		return -1
	}
	fhd := b[4]
	fcsFlag, single, didFlag := fhd>>6, fhd&0x20 != 0, fhd&3
	pos := 5
	if !single {
		pos++ // window descriptor
	}
	pos += [4]int{0, 1, 2, 4}[didFlag]
	size := [4]int{0, 2, 4, 8}[fcsFlag]
	if fcsFlag == 0 && single {
		size = 1
	}
	if size == 0 || pos+size > len(b) {
		return -1
	}
	var v uint64
	for i := size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[pos+i])
	}
	if size == 2 {
		v += 256
	}
	return int64(min(v, 1<<62))
}

// Kind is the kind of values a column holds, as the loaders need it.
type Kind int

// The column kinds.
const (
	IntKind    Kind = iota + 1 // INT32 or INT64
	FloatKind                  // FLOAT or DOUBLE
	StringKind                 // BYTE_ARRAY
)

func (k Kind) String() string {
	return [...]string{"?", "integers", "floats", "strings"}[max(0, min(int(k), 3))]
}

// column finds the leaf of the top-level column name, checking its kind and
// whether it repeats.
func (p *ParquetFile) column(name string, want Kind, repeated bool) (parquet.LeafColumn, error) {
	var leaf parquet.LeafColumn
	found := 0
	for _, path := range p.pf.Schema().Columns() {
		if path[0] == name {
			found++
			leaf, _ = p.pf.Schema().Lookup(path...)
		}
	}
	switch {
	case found == 0:
		return leaf, &Error{File: p.path, Column: name, Row: -1, Err: fmt.Errorf("no such column (the file has %s)", strings.Join(p.Columns(), ", "))}
	case found > 1:
		return leaf, &Error{File: p.path, Column: name, Row: -1, Err: errors.New("a group of several columns, want one")}
	case repeated != (leaf.MaxRepetitionLevel > 0):
		shape := map[bool]string{true: "a list", false: "one value a row"}
		return leaf, &Error{File: p.path, Column: name, Row: -1, Err: fmt.Errorf("want %s, have %s", shape[repeated], shape[!repeated])}
	case leaf.MaxRepetitionLevel > 1:
		return leaf, &Error{File: p.path, Column: name, Row: -1, Err: errors.New("nested lists are not supported")}
	}
	var k Kind
	switch leaf.Node.Type().Kind() {
	case parquet.Int32, parquet.Int64:
		k = IntKind
	case parquet.Float, parquet.Double:
		k = FloatKind
	case parquet.ByteArray:
		k = StringKind
	}
	if k != want {
		return leaf, &Error{File: p.path, Column: name, Row: -1, Err: fmt.Errorf("holds %v values, want %v", leaf.Node.Type().Kind(), want)}
	}
	return leaf, nil
}

// Has reports whether the file has the top-level column name.
func (p *ParquetFile) Has(name string) bool { return slices.Contains(p.Columns(), name) }

// scan calls fn with each value of the leaf, with its row, row group by row
// group and page by page.
func (p *ParquetFile) scan(name string, leaf parquet.LeafColumn, fn func(row int64, v parquet.Value) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{File: p.path, Column: name, Row: -1, Err: fmt.Errorf("the Parquet decoder failed: %v", r)}
		}
	}()
	buf := make([]parquet.Value, 4096)
	row := int64(-1)
	base := int64(0)
	for _, rg := range p.pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		row = base - 1
		for {
			page, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return &Error{File: p.path, Column: name, Row: max(row, 0), Err: err}
			}
			vr := page.Values()
			for {
				n, err := vr.ReadValues(buf)
				for _, v := range buf[:n] {
					if v.RepetitionLevel() == 0 {
						row++
					}
					if row >= base+rg.NumRows() {
						parquet.Release(page)
						pages.Close()
						return &Error{File: p.path, Column: name, Row: row, Err: fmt.Errorf("more rows than the row group's %d", rg.NumRows())}
					}
					if err := fn(row, v); err != nil {
						parquet.Release(page)
						pages.Close()
						return err
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					parquet.Release(page)
					pages.Close()
					return &Error{File: p.path, Column: name, Row: max(row, 0), Err: err}
				}
			}
			parquet.Release(page)
		}
		pages.Close()
		if row != base+rg.NumRows()-1 {
			return &Error{File: p.path, Column: name, Row: -1, Err: fmt.Errorf("%d rows in a row group of %d", row+1-base, rg.NumRows())}
		}
		base += rg.NumRows()
	}
	return nil
}

// Ints calls fn with the row and value of each row of the integer column
// name; null is set for a null, with v 0.
func (p *ParquetFile) Ints(name string, fn func(row, v int64, null bool) error) error {
	leaf, err := p.column(name, IntKind, false)
	if err != nil {
		return err
	}
	return p.scan(name, leaf, func(row int64, v parquet.Value) error {
		if v.IsNull() {
			return fn(row, 0, true)
		}
		if v.Kind() == parquet.Int32 {
			return fn(row, int64(v.Int32()), false)
		}
		return fn(row, v.Int64(), false)
	})
}

// Floats calls fn with the row and value of each row of the float column
// name; null is set for a null, with v 0.
func (p *ParquetFile) Floats(name string, fn func(row int64, v float64, null bool) error) error {
	leaf, err := p.column(name, FloatKind, false)
	if err != nil {
		return err
	}
	return p.scan(name, leaf, func(row int64, v parquet.Value) error {
		if v.IsNull() {
			return fn(row, 0, true)
		}
		if v.Kind() == parquet.Float {
			return fn(row, float64(v.Float()), false)
		}
		return fn(row, v.Double(), false)
	})
}

// Strings calls fn with the row and bytes of each row of the string column
// name (valid during the call); null is set for a null.
func (p *ParquetFile) Strings(name string, fn func(row int64, v []byte, null bool) error) error {
	leaf, err := p.column(name, StringKind, false)
	if err != nil {
		return err
	}
	return p.scan(name, leaf, func(row int64, v parquet.Value) error {
		return fn(row, v.ByteArray(), v.IsNull())
	})
}

// FloatLists calls fn with each row of the list-of-floats column name (the
// slice is valid during the call); a null or empty list gives an empty one.
// A list longer than maxLen is an error.
func (p *ParquetFile) FloatLists(name string, maxLen int, fn func(row int64, vals []float32) error) error {
	leaf, err := p.column(name, FloatKind, true)
	if err != nil {
		return err
	}
	var cur []float32
	row := int64(-1)
	empty := false // the row began with a null or empty list
	flush := func() error {
		if row < 0 {
			return nil
		}
		return fn(row, cur)
	}
	err = p.scan(name, leaf, func(r int64, v parquet.Value) error {
		if r != row {
			if err := flush(); err != nil {
				return err
			}
			row, cur, empty = r, cur[:0], false
		} else if empty {
			return &Error{File: p.path, Column: name, Row: r, Err: errors.New("a null element in a list")}
		}
		if v.DefinitionLevel() < leaf.MaxDefinitionLevel {
			if v.RepetitionLevel() > 0 {
				return &Error{File: p.path, Column: name, Row: r, Err: errors.New("a null element in a list")}
			}
			empty = true // a null or empty list, unless more follows
			return nil
		}
		if len(cur) >= maxLen {
			return &Error{File: p.path, Column: name, Row: r, Err: fmt.Errorf("a list longer than %d", maxLen)}
		}
		if v.Kind() == parquet.Float {
			cur = append(cur, v.Float())
		} else {
			cur = append(cur, float32(v.Double()))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
