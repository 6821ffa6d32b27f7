package datasets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/gnsr/gnsr/graph"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pickleWriter writes protocol-2 pickles opcode by opcode, the way Python 2
// pickles numpy and scipy objects, for tests that must not depend on real
// data.
type pickleWriter struct {
	bytes.Buffer
	memo int
}

func (w *pickleWriter) proto() { w.Write([]byte{0x80, 2}) }
func (w *pickleWriter) stop()  { w.WriteByte('.') }
func (w *pickleWriter) mark()  { w.WriteByte('(') }
func (w *pickleWriter) global(module, name string) {
	w.WriteString("c" + module + "\n" + name + "\n")
	w.put()
}

// put memoises the top of the stack, as pickle.dumps does after most pushes.
func (w *pickleWriter) put() {
	if w.memo < 256 {
		w.Write([]byte{'q', byte(w.memo)})
	} else {
		w.WriteByte('r')
		binary.Write(&w.Buffer, binary.LittleEndian, uint32(w.memo))
	}
	w.memo++
}

func (w *pickleWriter) int(n int) {
	switch {
	case n >= 0 && n < 1<<8:
		w.Write([]byte{'K', byte(n)})
	case n >= 0 && n < 1<<16:
		w.Write([]byte{'M', byte(n), byte(n >> 8)})
	default:
		w.WriteByte('J')
		binary.Write(&w.Buffer, binary.LittleEndian, int32(n))
	}
}

func (w *pickleWriter) str(s string) {
	if len(s) < 256 {
		w.Write([]byte{'U', byte(len(s))})
	} else {
		w.WriteByte('T')
		binary.Write(&w.Buffer, binary.LittleEndian, int32(len(s)))
	}
	w.WriteString(s)
}

// tuple packs the top n items, or those above a MARK if n < 0.
func (w *pickleWriter) tuple(n int) {
	switch n {
	case 0:
		w.WriteByte(')')
	case 1, 2, 3:
		w.WriteByte(0x85 + byte(n-1))
	default:
		w.WriteByte('t')
	}
}

func (w *pickleWriter) ints(xs ...int) {
	if len(xs) > 3 {
		w.mark()
	}
	for _, x := range xs {
		w.int(x)
	}
	w.tuple(len(xs))
}

// dtypeSpec is a numpy dtype as pickled: name and byte order.
type dtypeSpec struct {
	name  string // "i4", "f4", ...
	order string // "<", ">" or "|"
}

// ndarray writes numpy's pickle of an array with the given raw bytes.
func (w *pickleWriter) ndarray(dt dtypeSpec, shape []int, fortran bool, raw []byte) {
	w.global("numpy.core.multiarray", "_reconstruct")
	w.global("numpy", "ndarray")
	w.ints(0)
	w.str("b")
	w.tuple(3)
	w.WriteByte('R')
	w.put()
	w.mark()
	w.int(1)
	w.ints(shape...)
	w.global("numpy", "dtype")
	w.str(dt.name)
	w.int(0)
	w.int(1)
	w.tuple(3)
	w.WriteByte('R')
	w.put()
	w.mark()
	w.int(3)
	w.str(dt.order)
	w.WriteString("NNN")
	w.int(-1)
	w.int(-1)
	w.int(0)
	w.tuple(-1)
	w.WriteByte('b')
	if fortran {
		w.WriteByte(0x88)
	} else {
		w.WriteByte(0x89)
	}
	w.str(string(raw))
	w.tuple(-1)
	w.WriteByte('b')
}

// encode returns the little-endian bytes of xs as dtype name ("i4", "i8",
// "f4", "f8").
func encode[T int | int32 | float32 | float64](name string, order binary.AppendByteOrder, xs []T) []byte {
	var b []byte
	for _, x := range xs {
		switch name {
		case "i4":
			b = order.AppendUint32(b, uint32(int32(x)))
		case "i8":
			b = order.AppendUint64(b, uint64(int64(x)))
		case "f4":
			b = order.AppendUint32(b, math.Float32bits(float32(x)))
		case "f8":
			b = order.AppendUint64(b, math.Float64bits(float64(x)))
		default:
			panic(name)
		}
	}
	return b
}

// csrPickle returns the pickle of a rows×cols scipy csr_matrix, with int32
// index arrays and float32 data as in the Planetoid files.
func csrPickle(rows, cols int, indptr, indices []int, data []float32) []byte {
	var w pickleWriter
	w.proto()
	w.csr(dtypeSpec{"i4", "<"}, dtypeSpec{"f4", "<"}, rows, cols, indptr, indices, data)
	w.stop()
	return w.Bytes()
}

func (w *pickleWriter) csr(idx, val dtypeSpec, rows, cols int, indptr, indices []int, data []float32) {
	order := func(d dtypeSpec) binary.AppendByteOrder {
		if d.order == ">" {
			return binary.BigEndian
		}
		return binary.LittleEndian
	}
	w.global("scipy.sparse.csr", "csr_matrix")
	w.tuple(0)
	w.WriteByte(0x81)
	w.put()
	w.WriteByte('}')
	w.put()
	w.mark()
	w.str("format")
	w.str("csr")
	w.str("_shape")
	w.ints(rows, cols)
	w.str("indptr")
	w.ndarray(idx, []int{len(indptr)}, false, encode(idx.name, order(idx), indptr))
	w.str("_cs_matrix__has_sorted_indices")
	w.WriteByte(0x88)
	w.str("indices")
	w.ndarray(idx, []int{len(indices)}, false, encode(idx.name, order(idx), indices))
	w.str("maxprint")
	w.int(50)
	w.str("data")
	w.ndarray(val, []int{len(data)}, false, encode(val.name, order(val), data))
	w.WriteByte('u')
	w.WriteByte('b')
}

// matrixPickle returns the pickle of a C-ordered 2-D int32 numpy array.
func matrixPickle(rows, cols int, vals []int) []byte {
	var w pickleWriter
	w.proto()
	w.ndarray(dtypeSpec{"i4", "<"}, []int{rows, cols}, false, encode("i4", binary.LittleEndian, vals))
	w.stop()
	return w.Bytes()
}

// oneHot returns the row-major one-hot matrix of labels; -1 gives a zero row.
func oneHot(labels []int, classes int) []int {
	m := make([]int, len(labels)*classes)
	for i, l := range labels {
		if l >= 0 {
			m[i*classes+l] = 1
		}
	}
	return m
}

// adjEntry is one key of an adjacency dict with its neighbour list.
type adjEntry struct {
	node int
	nbrs []int
}

// graphPickle returns the pickle of a defaultdict(list), written as
// Python 2 does: SETITEMS batches of up to 1000 pairs, APPENDS batches.
func graphPickle(entries []adjEntry) []byte {
	var w pickleWriter
	w.proto()
	w.global("collections", "defaultdict")
	w.global("__builtin__", "list")
	w.tuple(1)
	w.WriteByte('R')
	w.put()
	for start := 0; start < len(entries); start += 1000 {
		w.mark()
		for _, e := range entries[start:min(start+1000, len(entries))] {
			w.int(e.node)
			w.WriteByte(']')
			w.put()
			switch len(e.nbrs) {
			case 0:
			case 1:
				w.int(e.nbrs[0])
				w.WriteByte('a')
			default:
				w.mark()
				for _, v := range e.nbrs {
					w.int(v)
				}
				w.WriteByte('e')
			}
		}
		w.WriteByte('u')
	}
	w.stop()
	return w.Bytes()
}

// synthPlanetoid is a small Planetoid-style dataset before assembly, in the
// files' own terms.
type synthPlanetoid struct {
	features   int
	classes    int
	allx       [][]float32 // dense rows of allx
	ally       []int
	tx         [][]float32 // dense rows of tx, in sorted-test-index order
	ty         []int
	train      int // rows of x and y: the first train rows of allx
	testIdx    []int
	graph      []adjEntry
	numStacked int
}

// newSynthPlanetoid makes a random dataset whose test range has holes,
// like CiteSeer's, and whose test index is shuffled.
func newSynthPlanetoid(seed uint64) *synthPlanetoid {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &synthPlanetoid{features: 7, classes: 3, train: 6}
	nAll := 510
	span := 12
	for i := 0; i < nAll; i++ {
		s.allx = append(s.allx, randRow(r, s.features))
		s.ally = append(s.ally, r.IntN(s.classes))
	}
	holes := map[int]bool{3: true, 8: true}
	for j := 0; j < span; j++ {
		if !holes[j] {
			s.testIdx = append(s.testIdx, nAll+j)
			s.tx = append(s.tx, randRow(r, s.features))
			s.ty = append(s.ty, r.IntN(s.classes))
		}
	}
	r.Shuffle(len(s.testIdx), func(i, j int) { s.testIdx[i], s.testIdx[j] = s.testIdx[j], s.testIdx[i] })
	s.numStacked = nAll + span
	for u := 0; u < s.numStacked; u++ {
		e := adjEntry{node: u}
		for k := r.IntN(4); k > 0; k-- {
			e.nbrs = append(e.nbrs, r.IntN(s.numStacked+3)) // some beyond N, some self-loops
		}
		if u%97 == 0 {
			e.nbrs = append(e.nbrs, u, u+1, u+1) // a self-loop and a duplicate
		}
		s.graph = append(s.graph, e)
	}
	return s
}

func randRow(r *rand.Rand, f int) []float32 {
	row := make([]float32, f)
	for j := range row {
		if r.IntN(3) == 0 {
			row[j] = float32(r.IntN(5)+1) / 4
		}
	}
	return row
}

func denseToCSR(rows [][]float32, cols int) []byte {
	indptr := []int{0}
	var indices []int
	var data []float32
	for _, row := range rows {
		for j, v := range row {
			if v != 0 {
				indices = append(indices, j)
				data = append(data, v)
			}
		}
		indptr = append(indptr, len(indices))
	}
	return csrPickle(len(rows), cols, indptr, indices, data)
}

// files returns the contents of the eight Planetoid files by extension.
func (s *synthPlanetoid) files() map[string][]byte {
	var idx strings.Builder
	for _, t := range s.testIdx {
		fmt.Fprintln(&idx, t)
	}
	return map[string][]byte{
		"x":          denseToCSR(s.allx[:s.train], s.features),
		"y":          matrixPickle(s.train, s.classes, oneHot(s.ally[:s.train], s.classes)),
		"tx":         denseToCSR(s.tx, s.features),
		"ty":         matrixPickle(len(s.ty), s.classes, oneHot(s.ty, s.classes)),
		"allx":       denseToCSR(s.allx, s.features),
		"ally":       matrixPickle(len(s.ally), s.classes, oneHot(s.ally, s.classes)),
		"graph":      graphPickle(s.graph),
		"test.index": []byte(idx.String()),
	}
}

// write writes the files to <root>/<name>/raw.
func (s *synthPlanetoid) write(root, name string) error {
	dir := filepath.Join(root, name, "raw")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for ext, b := range s.files() {
		if err := os.WriteFile(filepath.Join(dir, "ind."+name+"."+ext), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// reference assembles s literally as common.py's load_planetoid does, with
// dense matrices: stack, spread tx over the test range, then
// feats[test_idx] = feats[test_sorted] on a copy.
func (s *synthPlanetoid) reference() (feats [][]float32, labels []int, edges map[[2]int]bool) {
	sorted := append([]int(nil), s.testIdx...)
	for i := range sorted { // insertion sort: independent of the code under test
		for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	lo := sorted[0]
	span := sorted[len(sorted)-1] - lo + 1
	txExt := make([][]float32, span)
	tyExt := make([]int, span)
	for j := range txExt {
		txExt[j] = make([]float32, s.features)
		tyExt[j] = -1
	}
	for i, t := range sorted {
		txExt[t-lo] = s.tx[i]
		tyExt[t-lo] = s.ty[i]
	}
	stacked := append(append([][]float32(nil), s.allx...), txExt...)
	stackedY := append(append([]int(nil), s.ally...), tyExt...)
	feats = append([][]float32(nil), stacked...)
	labels = append([]int(nil), stackedY...)
	for i, t := range s.testIdx {
		feats[t] = stacked[sorted[i]]
		labels[t] = stackedY[sorted[i]]
	}
	n := len(feats)
	edges = make(map[[2]int]bool)
	for _, e := range s.graph {
		for _, v := range e.nbrs {
			if e.node != v && e.node < n && v < n {
				edges[[2]int{min(e.node, v), max(e.node, v)}] = true
			}
		}
	}
	return feats, labels, edges
}

// dataRoot returns $GNSR_DATA or skips the test.
func dataRoot(t testing.TB) string {
	t.Helper()
	root := os.Getenv(EnvDataRoot)
	if root == "" {
		t.Skip("GNSR_DATA not set: set it to a data root holding <dataset>/raw/ (e.g. GNSR_DATA=/work/shared/datasets) to run the tests on real data")
	}
	return root
}

// edgesOf returns the undirected edges of g, each once as {u, v} with u < v,
// sorted: the form the loaders' tests compare.
func edgesOf(g *graph.Graph) [][2]int {
	var es [][2]int
	for u := range g.NumNodes() {
		for _, v := range g.Neighbors(u) {
			if int(v) > u {
				es = append(es, [2]int{u, int(v)})
			}
		}
	}
	return es
}

func mustGraph(tb testing.TB, n int, edges [][2]int) *graph.Graph {
	tb.Helper()
	g, err := graph.FromEdges(n, edges)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
