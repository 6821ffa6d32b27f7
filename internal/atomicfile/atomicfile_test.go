package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name  string
		write func(io.Writer) error
		err   error
		want  string
	}{
		{"failed write keeps the old file", func(w io.Writer) error { w.Write([]byte("half")); return boom }, boom, "old"},
		{"replaces", func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }, nil, "new"},
	}
	for _, test := range tests {
		if err := Write(path, test.write); !errors.Is(err, test.err) {
			t.Errorf("%s: error %v, want %v", test.name, err, test.err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != test.want {
			t.Errorf("%s: file %q (%v), want %q", test.name, got, err, test.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("%s: %d entries in the directory, want 1 (temporary file left over?)", test.name, len(entries))
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", fi.Mode().Perm(), err)
	}
	if err := Write(filepath.Join(dir, "missing", "f"), func(io.Writer) error { return nil }); err == nil {
		t.Error("no error for a missing directory")
	}
}
