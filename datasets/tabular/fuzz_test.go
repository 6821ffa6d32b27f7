package tabular

import (
	"bytes"
	"errors"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// FuzzCSVReader reads arbitrary bytes (plain or gzipped) as CSV: no input
// may panic, every error must be a format error naming the line, and every
// field must parse or be refused.
func FuzzCSVReader(f *testing.F) {
	for _, s := range []string{"0,1\n1,2\n", "0.5,1e-3,-2\n3,nan,x\n", "1\r\n\r\n", "9999999999999999999\n"} {
		f.Add([]byte(s))
		f.Add(gz(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewCSVReader("fuzz.csv", bytes.NewReader(data), 256)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not a format error", err)
			}
			return
		}
		for lines := 0; c.Next(); lines++ {
			if c.Line() != int64(lines+1) {
				t.Fatalf("line %d after %d lines", c.Line(), lines)
			}
			for i := range c.NumFields() {
				if len(c.Field(i)) > 256 {
					t.Fatalf("field of %d bytes through a 256-byte buffer", len(c.Field(i)))
				}
				c.Int(i, -1<<40, 1<<40)
				c.Float32(i)
			}
		}
		if err := c.Err(); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 {
				t.Fatalf("error %v does not name a line", err)
			}
		}
	})
}

// FuzzParquet opens arbitrary bytes as Parquet and reads every column as
// each kind: no input may panic or allocate beyond what it holds (run it
// under a memory limit to see that), and every error must be a format error
// or the callback's.
func FuzzParquet(f *testing.F) {
	f.Add(parquetBytes(f, testRows(20)))
	f.Add(parquetBytes(f, testRows(50), parquet.Compression(&parquet.Snappy), parquet.PageBufferSize(64)))
	f.Add(parquetBytes(f, testRows(30), parquet.Compression(&parquet.Zstd), parquet.DataPageVersion(2), parquet.DataPageStatistics(true)))
	f.Add(parquetBytes(f, testRows(30), parquet.Compression(&parquet.Gzip), parquet.MaxRowsPerRowGroup(7)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := NewParquetReader("fuzz.parquet", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not a format error", err)
			}
			return
		}
		for _, col := range p.Columns() {
			checkErr := func(err error) {
				if err != nil && !errors.Is(err, ErrFormat) {
					t.Fatalf("column %s: error %v is not a format error", col, err)
				}
			}
			checkErr(p.Ints(col, func(row, v int64, null bool) error { return nil }))
			checkErr(p.Floats(col, func(row int64, v float64, null bool) error { return nil }))
			checkErr(p.Strings(col, func(row int64, v []byte, null bool) error { return nil }))
			checkErr(p.FloatLists(col, 1<<10, func(row int64, v []float32) error { return nil }))
		}
	})
}
