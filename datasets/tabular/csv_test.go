package tabular

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// readAll returns the fields of every line, as ints where they parse.
func readAll(t *testing.T, data []byte, maxLine int) ([][]string, error) {
	t.Helper()
	c, err := NewCSVReader("t.csv", bytes.NewReader(data), maxLine)
	if err != nil {
		return nil, err
	}
	var lines [][]string
	for c.Next() {
		var fs []string
		for i := range c.NumFields() {
			fs = append(fs, string(c.Field(i)))
		}
		lines = append(lines, fs)
	}
	return lines, c.Err()
}

func TestCSVReader(t *testing.T) {
	const text = "1,2\r\n3,-4\n\n5"
	want := [][]string{{"1", "2"}, {"3", "-4"}, {""}, {"5"}}
	for _, data := range [][]byte{[]byte(text), gz(text)} {
		got, err := readAll(t, data, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("%v, %v", got, err)
		}
		for i := range want {
			if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
				t.Errorf("line %d: %q, want %q", i+1, got[i], want[i])
			}
		}
	}
	c, _ := NewCSVReader("t.csv", strings.NewReader("7,0,1.5,x,99999999999999999999,nan\n"), 0)
	c.Next()
	if v, err := c.Int(0, 0, 10); v != 7 || err != nil {
		t.Errorf("Int = %d, %v", v, err)
	}
	if _, err := c.Int(0, 0, 6); err == nil || !strings.Contains(err.Error(), "t.csv: line 1: field 1 = \"7\" is not an integer in [0, 6]") {
		t.Errorf("Int out of range: %v", err)
	}
	if v, err := c.Float32(2); v != 1.5 || err != nil {
		t.Errorf("Float32 = %v, %v", v, err)
	}
	for _, i := range []int{3, 5} {
		if _, err := c.Float32(i); !errors.Is(err, ErrFormat) {
			t.Errorf("Float32(%d): %v", i, err)
		}
	}
	if _, err := c.Int(4, -1<<62, 1<<62); err == nil {
		t.Error("a 20-digit integer parsed")
	}
	if err := c.Want(2); err == nil || !strings.Contains(err.Error(), "6 fields, want 2") {
		t.Errorf("Want: %v", err)
	}
}

func TestCSVReaderErrors(t *testing.T) {
	long := strings.Repeat("1,", 40) + "1\n"
	if _, err := readAll(t, []byte("1\n"+long), 16); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "line 2: line longer than") {
		t.Errorf("long line: %v", err)
	}
	cut := gz("1,2\n3,4\n5,6\n")
	if _, err := readAll(t, cut[:len(cut)-6], 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "ends in the middle") {
		t.Errorf("cut gzip: %v", err)
	}
	bad := gz("1,2\n")
	bad[len(bad)-5] ^= 0xff // the CRC
	if _, err := readAll(t, bad, 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "corrupt gzip") {
		t.Errorf("bad CRC: %v", err)
	}
	if _, err := readAll(t, []byte{0x1f, 0x8b, 0}, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("bad gzip header: %v", err)
	}
}
