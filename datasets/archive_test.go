package datasets

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name string
	body string
	mode os.FileMode // 0: a regular file
	raw  *zip.FileHeader
}

func archiveOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		if m.raw != nil {
			w, err := zw.CreateRaw(m.raw)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(m.body))
			continue
		}
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		if m.mode != 0 {
			h.SetMode(m.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExtractZip checks that a well-formed archive is extracted, and that
// every member that could land outside the dataset's folder, or that lies
// about its size, is refused with nothing left behind.
func TestExtractZip(t *testing.T) {
	good := []member{{name: "products/"}, {name: "products/raw/a.csv.gz", body: "aaaa"}, {name: "products/b", body: "bb"}}
	for _, tc := range []struct {
		name string
		ms   []member
		max  int64
		want string // "" for success
	}{
		{"good", good, 100, ""},
		{"absolute path", append(good, member{name: "/etc/evil", body: "x"}), 100, "absolute path"},
		{"dot-dot", append(good, member{name: "products/../../evil", body: "x"}), 100, `".." in the path`},
		{"leading dot-dot", append(good, member{name: "../evil", body: "x"}), 100, `".."`},
		{"backslash", append(good, member{name: `products\..\evil`, body: "x"}), 100, "backslash"},
		{"outside the folder", append(good, member{name: "other/evil", body: "x"}), 100, "outside the archive's folder products/"},
		{"symbolic link", append(good, member{name: "products/link", body: "/etc", mode: os.ModeSymlink | 0o777}), 100, "not a file or directory"},
		{"larger than the dataset", good, 5, "more than the 5 bytes"},
		{"duplicate", append(good, member{name: "products/b", body: "cc"}), 100, "appears twice"},
		{"size lie", append(good, member{body: "0123456789", raw: &zip.FileHeader{Name: "products/lie", Method: zip.Store,
			CompressedSize64: 10, UncompressedSize64: 5, CRC32: crc32.ChecksumIEEE([]byte("01234"))}}), 100, "products/lie"},
		{"deflate ratio lie", append(good, member{body: "\x03\x00", raw: &zip.FileHeader{Name: "products/bomb", Method: zip.Deflate,
			CompressedSize64: 2, UncompressedSize64: 1 << 40}}), 1 << 50, "more than deflate can give"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "products.zip")
			if err := os.WriteFile(src, archiveOf(t, tc.ms...), 0o644); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(dir, "out")
			err := ExtractZip(src, dest, "products", tc.max)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if b, err := os.ReadFile(filepath.Join(dest, "products", "raw", "a.csv.gz")); err != nil || string(b) != "aaaa" {
					t.Errorf("extracted %q, %v", b, err)
				}
				if err := ExtractZip(src, dest, "products", tc.max); err == nil || !strings.Contains(err.Error(), "already exists") {
					t.Errorf("second extraction: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), src) {
				t.Errorf("error %v, want one naming %s and mentioning %q", err, src, tc.want)
			}
			if names := dirNames(t, dest); len(names) != 0 {
				t.Errorf("a refused archive left %v", names)
			}
			if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
				t.Error("a member escaped")
			}
		})
	}
}
