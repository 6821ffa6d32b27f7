package datasets

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadPickleCSR(t *testing.T) {
	indptr := []int{0, 1, 3, 3}
	indices := []int{2, 0, 1}
	data := []float32{1.5, -2, 0.25}
	for _, tc := range []struct {
		name     string
		idx, val dtypeSpec
	}{
		{"int32/float32 little-endian", dtypeSpec{"i4", "<"}, dtypeSpec{"f4", "<"}},
		{"int64/float64 little-endian", dtypeSpec{"i8", "<"}, dtypeSpec{"f8", "<"}},
		{"int32/float32 big-endian", dtypeSpec{"i4", ">"}, dtypeSpec{"f4", ">"}},
		{"int64/float64 big-endian", dtypeSpec{"i8", ">"}, dtypeSpec{"f8", ">"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w pickleWriter
			w.proto()
			w.csr(tc.idx, tc.val, 3, 4, indptr, indices, data)
			w.stop()
			v, err := readPickle("m.pkl", w.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			m, err := asCSR("m", v)
			if err != nil {
				t.Fatal(err)
			}
			if m.rows != 3 || m.cols != 4 || !slices.Equal(m.indptr, indptr) || !slices.Equal(m.data, data) {
				t.Errorf("got %+v", m)
			}
			for k, c := range m.indices {
				if int(c) != indices[k] {
					t.Errorf("indices = %v, want %v", m.indices, indices)
				}
			}
		})
	}
}

func TestReadPickleMatrix(t *testing.T) {
	// [[1 2 3] [4 5 6]] in C order and in Fortran order.
	var w pickleWriter
	w.proto()
	w.ndarray(dtypeSpec{"i4", "<"}, []int{2, 3}, true, encode("i4", binary.LittleEndian, []int{1, 4, 2, 5, 3, 6}))
	w.stop()
	for name, b := range map[string][]byte{"C order": matrixPickle(2, 3, []int{1, 2, 3, 4, 5, 6}), "Fortran order": w.Bytes()} {
		v, err := readPickle("y", b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, c, got, err := asMatrix("y", v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := []float64{1, 2, 3, 4, 5, 6}; r != 2 || c != 3 || !slices.Equal(got, want) {
			t.Errorf("%s: got %d×%d %v, want 2×3 %v", name, r, c, got, want)
		}
	}
}

func TestReadPickleDefaultDict(t *testing.T) {
	entries := []adjEntry{{0, []int{1, 2}}, {1, []int{0}}, {2, nil}, {0, []int{5}}}
	v, err := readPickle("g", graphPickle(entries))
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int
	keys, err := asAdjacency("g", v, func(u, w int) { got = append(got, [2]int{u, w}) })
	if err != nil || keys != 3 {
		t.Fatal(keys, err)
	}
	// As in Python, the repeated key 0 keeps its first position and its
	// last value.
	want := [][2]int{{0, 5}, {1, 0}}
	if !slices.Equal(got, want) {
		t.Errorf("pairs = %v, want %v", got, want)
	}
}

// malicious returns a pickle that calls module.name(arg), as an attacker's
// file would.
func malicious(module, name, arg string) []byte {
	var w pickleWriter
	w.proto()
	w.global(module, name)
	w.str(arg)
	w.tuple(1)
	w.WriteByte('R')
	w.stop()
	return w.Bytes()
}

func TestReadPickleRejects(t *testing.T) {
	valid := csrPickle(1, 1, []int{0, 1}, []int{0}, []float32{1})
	ndarr := func(dt dtypeSpec, shape []int, raw []byte) []byte {
		var w pickleWriter
		w.proto()
		w.ndarray(dt, shape, false, raw)
		w.stop()
		return w.Bytes()
	}
	hugeString := append([]byte{0x80, 2, 'T', 0xff, 0xff, 0xff, 0x7f}, "abc."...)
	for _, tc := range []struct {
		name string
		data []byte
		want string // in the error message
	}{
		{"os.system", malicious("os", "system", "echo pwned"), "os.system"},
		{"posix.system", malicious("posix", "system", "echo pwned"), "posix.system"},
		{"builtin eval", malicious("__builtin__", "eval", "1+1"), "__builtin__.eval"},
		{"builtins exec", malicious("builtins", "exec", "1"), "builtins.exec"},
		{"copy_reg reconstructor", malicious("copy_reg", "_reconstructor", "x"), "copy_reg._reconstructor"},
		{"builtin object", malicious("__builtin__", "object", "x"), "__builtin__.object"},
		{"OrderedDict", malicious("collections", "OrderedDict", "x"), "collections.OrderedDict"},
		{"numpy load", malicious("numpy", "load", "/etc/passwd"), "numpy.load"},
		{"empty", nil, "no STOP"},
		{"protocol 4", []byte{0x80, 4, 'N', '.'}, "protocol 4"},
		{"frame", []byte{0x80, 2, 0x95, 0, 0, 0, 0, 0, 0, 0, 1, 'N', '.'}, "opcode not supported"},
		{"persistent id", []byte{0x80, 2, 'N', 'Q', '.'}, "opcode not supported"},
		{"ext1", []byte{0x80, 2, 0x82, 1, '.'}, "opcode not supported"},
		{"inst", []byte("(ios\nsystem\n."), "opcode not supported"},
		{"protocol 0 string", []byte("S'abc'\n."), "protocol 0 string"},
		{"lying BINSTRING length", hugeString, "only 4 left"},
		{"negative BINSTRING length", []byte{0x80, 2, 'T', 0xff, 0xff, 0xff, 0xff, '.'}, "negative length"},
		{"lying BINUNICODE length", []byte{0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff, '.'}, "only 1 left"},
		{"empty LONG1", []byte{0x80, 2, 0x8a, 0, '.'}, "long integer of 0 bytes"},
		{"huge LONG4", append([]byte{0x80, 2, 0x8b, 0, 0, 0, 1}, make([]byte, 1<<24)...), "long integer"},
		{"odd SETITEMS", []byte{0x80, 2, '}', '(', 'K', 1, 'u', '.'}, "odd number"},
		{"odd DICT", []byte{0x80, 2, '(', 'K', 1, 'd', '.'}, "odd number"},
		{"APPEND on empty stack", []byte{0x80, 2, 'a', '.'}, "needs 2 stack items"},
		{"unbalanced MARK", []byte{0x80, 2, '(', 'N', '.'}, "open MARKs"},
		{"POP_MARK without MARK", []byte{0x80, 2, '1', 'N', '.'}, "no MARK"},
		{"deep MARKs", append(append([]byte{0x80, 2}, []byte(strings.Repeat("(", 100))...), '.'), "deeper"},
		{"trailing bytes", append(slices.Clone(valid), 'N'), "after the STOP"},
		{"unterminated GLOBAL", []byte("\x80\x02cnumpy"), "no newline"},
		{"shape lies", ndarr(dtypeSpec{"f8", "<"}, []int{1 << 30, 1 << 30}, make([]byte, 8)), "needs more than the 8 bytes"},
		{"shape overflows", ndarr(dtypeSpec{"f8", "<"}, []int{math.MaxInt32, math.MaxInt32, math.MaxInt32, 4}, make([]byte, 16)), "needs more than"},
		{"short data", ndarr(dtypeSpec{"i4", "<"}, []int{3}, make([]byte, 11)), "needs more than the 11 bytes"},
		{"long data", ndarr(dtypeSpec{"i4", "<"}, []int{3}, make([]byte, 13)), "needs 12 bytes, has 13"},
		{"negative dimension", ndarr(dtypeSpec{"i4", "<"}, []int{-1}, nil), "dimension -1"},
		{"object dtype", ndarr(dtypeSpec{"O8", "|"}, []int{1}, make([]byte, 8)), `dtype "O8"`},
		{"native byte order", ndarr(dtypeSpec{"i4", "="}, []int{1}, make([]byte, 4)), "byte order"},
		{"REDUCE on ndarray", malicious("numpy", "ndarray", "x"), "Callable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := readPickle("/data/evil.pkl", tc.data)
			if err == nil {
				t.Fatalf("no error, got %T", v)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error does not wrap ErrFormat: %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "datasets:") || !strings.Contains(msg, "/data/evil.pkl") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want the prefix datasets:, the file name and %q", msg, tc.want)
			}
		})
	}
}

// TestReadPickleConversionErrors checks pickles that decode but are not
// what a Planetoid file holds.
func TestReadPickleConversionErrors(t *testing.T) {
	badIndex := csrPickle(2, 2, []int{0, 1, 2}, []int{0, 2}, []float32{1, 1})
	badIndptr := csrPickle(2, 2, []int{0, 2, 1}, []int{0, 1}, []float32{1, 1})
	badLen := csrPickle(3, 2, []int{0, 1, 2}, []int{0, 1}, []float32{1, 1})
	var strKeys pickleWriter
	strKeys.proto()
	strKeys.global("collections", "defaultdict")
	strKeys.global("__builtin__", "list")
	strKeys.tuple(1)
	strKeys.WriteByte('R')
	strKeys.mark()
	strKeys.str("a")
	strKeys.WriteByte(']')
	strKeys.WriteByte('u')
	strKeys.stop()
	for _, tc := range []struct {
		name    string
		data    []byte
		convert func(v any) error
		want    string
	}{
		{"column out of range", badIndex, csrConv, "indices[1] is outside [0, 1]"},
		{"indptr decreases", badIndptr, csrConv, "indptr"},
		{"indptr length", badLen, csrConv, "3×2 with 3 indptr entries"},
		{"matrix as csr", matrixPickle(1, 1, []int{1}), csrConv, "want a scipy csr_matrix"},
		{"csr as matrix", badIndex, matConv, "want a numpy array"},
		{"string keys", strKeys.Bytes(), adjConv, "want an integer"},
		{"csr as graph", badIndex, adjConv, "want a dict of lists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := readPickle("f", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.convert(v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func csrConv(v any) error { _, err := asCSR("x", v); return err }
func matConv(v any) error { _, _, _, err := asMatrix("y", v); return err }
func adjConv(v any) error { _, err := asAdjacency("graph", v, func(int, int) {}); return err }

// convertAll runs every conversion on v, as the fuzz target does; none may
// panic.
func convertAll(v any) {
	csrConv(v)
	matConv(v)
	adjConv(v)
}

// TestReadPickleTruncated checks that every proper prefix of a pickle gives
// an error, never a panic or a value.
func TestReadPickleTruncated(t *testing.T) {
	s := newSynthPlanetoid(3)
	files := s.files()
	inputs := map[string][]byte{"tx": files["tx"], "ty": files["ty"], "graph": files["graph"]}
	if root := os.Getenv(EnvDataRoot); root != "" {
		for _, ext := range []string{"x", "y", "graph"} {
			b, err := os.ReadFile(filepath.Join(root, "cora", "raw", "ind.cora."+ext))
			if err != nil {
				t.Fatal(err)
			}
			inputs["cora."+ext] = b
		}
	}
	for name, data := range inputs {
		if _, err := readPickle(name, data); err != nil {
			t.Fatalf("%s: complete pickle: %v", name, err)
		}
		// Every prefix of the small ones; of the large adjacency dicts,
		// every prefix near the ends and a sample in between.
		step := max(1, len(data)/4000)
		for n := 0; n < len(data); n++ {
			if n > 300 && n < len(data)-300 && n%step != 0 {
				continue
			}
			if v, err := readPickle(name, data[:n]); err == nil {
				t.Fatalf("%s: prefix of %d bytes decoded to %T", name, n, v)
			} else if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), name) {
				t.Fatalf("%s: prefix of %d bytes: %v", name, n, err)
			}
		}
	}
}

// TestReadPickleCorrupted flips bytes of small pickles: the reader may
// succeed or fail, but must not panic.
func TestReadPickleCorrupted(t *testing.T) {
	inputs := [][]byte{
		csrPickle(2, 3, []int{0, 2, 3}, []int{0, 2, 1}, []float32{1, 2, 3}),
		graphPickle([]adjEntry{{0, []int{1, 2}}, {1, []int{0}}, {2, []int{0}}}),
		matrixPickle(2, 2, []int{1, 0, 0, 1}),
	}
	for _, data := range inputs {
		for i := range data {
			for _, x := range []byte{0x00, 0xff, 0x01, 0x80, '(', '.', 'K'} {
				b := slices.Clone(data)
				b[i] = x
				if v, err := readPickle("c", b); err == nil {
					convertAll(v)
				}
			}
		}
	}
}

// TestLookupClass pins the allowlist, including classes that gopickle
// would otherwise resolve itself before consulting FindClass.
func TestLookupClass(t *testing.T) {
	allowed := []string{
		"scipy.sparse.csr.csr_matrix", "numpy.core.multiarray._reconstruct", "numpy.ndarray",
		"numpy.dtype", "collections.defaultdict", "__builtin__.list",
	}
	for _, c := range allowed {
		i := strings.LastIndexByte(c, '.')
		if lookupClass(c[:i], c[i+1:]) == nil {
			t.Errorf("%s not allowed", c)
		}
	}
	for _, c := range [][2]string{
		{"copy_reg", "_reconstructor"}, {"__builtin__", "object"}, {"collections", "OrderedDict"},
		{"builtins", "list"}, {"numpy.core", "multiarray._reconstruct"}, {"scipy.sparse", "csr.csr_matrix"},
		{"numpy", "core.multiarray._reconstruct"}, {"os", "system"},
	} {
		if lookupClass(c[0], c[1]) != nil {
			t.Errorf("%s.%s allowed", c[0], c[1])
		}
	}
}

// TestReadPickleBytes reads array data given as protocol-3 bytes.
func TestReadPickleBytes(t *testing.T) {
	for _, op := range []byte{'B', 'C'} {
		var w pickleWriter
		w.proto()
		raw := encode("i8", binary.LittleEndian, []int{7, -3})
		w.ndarray(dtypeSpec{"i8", "<"}, []int{1, 2}, false, raw)
		w.stop()
		b := w.Bytes()
		// Swap the final SHORT_BINSTRING holding the data for bytes.
		i := len(b) - len(raw) - 5 // 'U', length, data, TUPLE, BUILD, STOP
		if b[i] != 'U' {
			t.Fatalf("layout: %q", b[i])
		}
		var head []byte
		if op == 'B' {
			head = binary.LittleEndian.AppendUint32([]byte{'B'}, uint32(len(raw)))
		} else {
			head = []byte{'C', byte(len(raw))}
		}
		b = append(append(append(slices.Clone(b[:i]), head...), raw...), b[len(b)-3:]...)
		v, err := readPickle("b", b)
		if err != nil {
			t.Fatalf("%c: %v", op, err)
		}
		_, _, got, err := asMatrix("b", v)
		if err != nil || !slices.Equal(got, []float64{7, -3}) {
			t.Errorf("%c: got %v, %v", op, got, err)
		}
	}
}
