package datasets

import (
	"encoding/binary"
	"testing"
)

// FuzzReadPickle feeds arbitrary bytes to the pickle reader and, when they
// decode, to every conversion. Nothing may panic or allocate beyond the
// package's limits.
func FuzzReadPickle(f *testing.F) {
	s := newSynthPlanetoid(5)
	for _, ext := range []string{"x", "y", "graph"} {
		f.Add(s.files()[ext])
	}
	f.Add(csrPickle(2, 3, []int{0, 2, 3}, []int{0, 2, 1}, []float32{1, 2, 3}))
	f.Add(graphPickle([]adjEntry{{0, []int{1, 2}}, {1, []int{0}}, {2, nil}}))
	var w pickleWriter
	w.proto()
	w.ndarray(dtypeSpec{"f8", ">"}, []int{2, 2}, true, encode("f8", binary.BigEndian, []float64{1, 2, 3, 4}))
	w.stop()
	f.Add(w.Bytes())
	f.Add(malicious("os", "system", "true"))
	f.Add([]byte("(lp0\nI1\naI2\na."))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := readPickle("fuzz", data)
		if err != nil {
			return
		}
		convertAll(v)
	})
}

// FuzzParseTestIndex checks the test-index parser on arbitrary text.
func FuzzParseTestIndex(f *testing.F) {
	f.Add([]byte("1708\n1709\n"))
	f.Add([]byte(" 3 \r\n-1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := parseTestIndex(data)
		if err != nil {
			return
		}
		for _, i := range idx {
			if i < 0 || i > maxDim {
				t.Fatalf("index %d accepted", i)
			}
		}
	})
}
