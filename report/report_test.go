package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := WriteCSV(path, []string{"a", "b"}, [][]string{{"1", "x,y"}, {"2", "z"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a,b\n1,\"x,y\"\n2,z\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	err = WriteCSV(path, []string{"a", "b"}, [][]string{{"1"}})
	if err == nil || !strings.Contains(err.Error(), "row 0 has 1 fields") {
		t.Errorf("short row: %v", err)
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("a failed write changed the existing file")
	}
}

func TestPlotsArePNGs(t *testing.T) {
	dir := t.TempDir()
	line := filepath.Join(dir, "line.png")
	bars := filepath.Join(dir, "bars.png")
	c := Chart{Title: "t", XLabel: "x", YLabel: "y"}
	if err := LinePlot(line, c, Series{Name: "a", X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}}); err != nil {
		t.Fatal(err)
	}
	if err := BarPlot(bars, c, []string{"p", "q"}, Bars{Name: "a", Values: []float64{1, 2}}, Bars{Name: "b", Values: []float64{2, 1}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{line, bars} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Errorf("%s is %v", p, b)
		}
	}
	if err := LinePlot(line, c, Series{Name: "bad", X: []float64{1}, Y: nil}); err == nil {
		t.Error("mismatched series accepted")
	}
	if err := BarPlot(bars, c, []string{"p"}, Bars{Name: "bad", Values: []float64{1, 2}}); err == nil {
		t.Error("mismatched bars accepted")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the directory, want the 2 charts and no temporary files", len(entries))
	}
}
