package tabular

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

type testRow struct {
	ID    int64     `parquet:"id"`
	Small int32     `parquet:"small"`
	Label *int64    `parquet:"label,optional"`
	W     float64   `parquet:"w"`
	Split string    `parquet:"split,dict"`
	Feats []float32 `parquet:"feats,list"`
}

func i64p(v int64) *int64 { return &v }

// parquetBytes returns rows of T as a Parquet file.
func parquetBytes[T any](t testing.TB, rows []T, opts ...parquet.WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func testRows(n int) []testRow {
	rows := make([]testRow, n)
	for i := range rows {
		rows[i] = testRow{ID: int64(100 + i), Small: int32(i), W: float64(i) / 2, Split: []string{"train", "test"}[i%2],
			Feats: []float32{float32(i), -1}}
		if i%3 != 0 {
			rows[i].Label = i64p(int64(i % 4))
		}
	}
	rows[1].Feats = nil
	return rows
}

func TestParquet(t *testing.T) {
	rows := testRows(2500)
	// Small row groups and pages, so that reads cross both.
	path := writeFile(t, parquetBytes(t, rows, parquet.MaxRowsPerRowGroup(1000), parquet.PageBufferSize(512),
		parquet.Compression(&parquet.Snappy), parquet.KeyValueMetadata("k", "v")))
	p, err := OpenParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.NumRows() != 2500 || !slices.Equal(p.Columns(), []string{"id", "small", "label", "w", "split", "feats"}) {
		t.Errorf("%d rows, columns %v", p.NumRows(), p.Columns())
	}
	if v, ok := p.KeyValue("k"); !ok || v != "v" {
		t.Errorf("KeyValue = %q, %v", v, ok)
	}
	var n int64
	check := func(what string, ok bool, row int64) {
		if !ok {
			t.Fatalf("%s of row %d", what, row)
		}
	}
	err = p.Ints("id", func(row, v int64, null bool) error {
		check("id", row == n && v == 100+row && !null, row)
		n++
		return nil
	})
	if err != nil || n != 2500 {
		t.Fatalf("id: %v after %d rows", err, n)
	}
	err = p.Ints("small", func(row, v int64, null bool) error { check("small", v == row, row); return nil })
	if err != nil {
		t.Fatal(err)
	}
	err = p.Ints("label", func(row, v int64, null bool) error {
		check("label", null == (row%3 == 0) && (null || v == row%4), row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Floats("w", func(row int64, v float64, null bool) error { check("w", v == float64(row)/2, row); return nil })
	if err != nil {
		t.Fatal(err)
	}
	err = p.Strings("split", func(row int64, v []byte, null bool) error {
		check("split", string(v) == []string{"train", "test"}[row%2], row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	err = p.FloatLists("feats", 10, func(row int64, v []float32) error {
		check("feats", row == n && (row == 1 && len(v) == 0 || slices.Equal(v, []float32{float32(row), -1})), row)
		n++
		return nil
	})
	if err != nil || n != 2500 {
		t.Fatalf("feats: %v after %d rows", err, n)
	}
	// Wrong kinds, shapes and names are errors naming the column.
	for _, tc := range []struct {
		err  error
		want string
	}{
		{p.Ints("split", func(int64, int64, bool) error { return nil }), `column "split": holds BYTE_ARRAY values, want integers`},
		{p.Floats("feats", func(int64, float64, bool) error { return nil }), `column "feats": want one value a row, have a list`},
		{p.FloatLists("w", 10, func(int64, []float32) error { return nil }), `column "w": want a list`},
		{p.Ints("nosuch", func(int64, int64, bool) error { return nil }), `column "nosuch": no such column (the file has id, small`},
		{p.FloatLists("feats", 1, func(int64, []float32) error { return nil }), `row 0: a list longer than 1`},
	} {
		if !errors.Is(tc.err, ErrFormat) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want one mentioning %q", tc.err, tc.want)
		}
	}
	// The callback's error comes back as it is.
	stop := errors.New("stop")
	if err := p.Ints("id", func(int64, int64, bool) error { return stop }); err != stop {
		t.Errorf("callback error: %v", err)
	}
}

func TestParquetCorrupt(t *testing.T) {
	good := parquetBytes(t, testRows(100))
	footer := int(good[len(good)-8]) | int(good[len(good)-7])<<8 | int(good[len(good)-6])<<16
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"no magic", append([]byte("PAR0"), good[4:]...), "not a plain Parquet file"},
		{"footer length", append(slices.Clone(good[:len(good)-8]), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'), "footer of 2147483647 bytes"},
		{"truncated", append(slices.Clone(good[:len(good)-8-footer]), good[len(good)-8-footer+10:]...), "footer"},
	} {
		_, err := OpenParquet(writeFile(t, tc.b))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestCheckThrift checks that lengths beyond the bytes present are refused
// before the Parquet library would allocate them.
func TestCheckThrift(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{[]byte{0x19, 0xfc, 0xff, 0xff, 0xff, 0x07}, "a list of"},      // field 1: list of 2^31 structs
		{[]byte{0x18, 0xff, 0xff, 0xff, 0xff, 0x07}, "a length of"},    // field 1: binary of 2^31 bytes
		{[]byte{0x1b, 0xff, 0xff, 0xff, 0xff, 0x07, 0x55}, "a map of"}, // field 1: map of 2^31 entries
		{[]byte{0x15}, "truncated"},                                    // an i32 without its value
		{bytes.Repeat([]byte{0x1c}, 100), "nested deeper"},             // structs in structs
		{[]byte{0x1d}, "unknown Thrift type"},
	} {
		if _, err := checkThrift(tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("% x: %v, want an error mentioning %q", tc.b, err, tc.want)
		}
	}
	if n, err := checkThrift([]byte{0x15, 0x04, 0x00, 0xff}); err != nil || n != 3 {
		t.Errorf("struct {1: i32 2}: %d, %v", n, err)
	}
}
