package datasets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// planetoidVal is the size of the public validation set.
const planetoidVal = 500

// LoadPlanetoid reads cora, citeseer or pubmed from the Planetoid files
// <root>/<name>/raw/ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index} and
// assembles them as the loader of Kipf & Welling (and
// ../shared/peers/common.py) does:
//
//   - the features are allx stacked over tx, where tx is first spread over
//     the whole range of test indices, so that test-range nodes missing
//     from test.index (CiteSeer has 15) get empty rows and no label;
//   - the rows at the test indices are then reordered, row test.index[i]
//     taking the stacked row of the i-th smallest test index, and the
//     one-hot labels likewise;
//   - a node's label is the position of the first maximum of its one-hot
//     row, or -1 if the row has no positive entry;
//   - the edges are the adjacency dict's pairs without self-loops, with
//     pairs naming a node beyond the feature rows dropped;
//   - the split is the public one: the first len(y) nodes for training, the
//     next 500 for validation, and test.index, in file order, for testing.
//
// Missing files give an error wrapping ErrMissing that says how to get
// them; unreadable or inconsistent files one wrapping ErrFormat.
func LoadPlanetoid(root, name string) (*NodeDataset, error) {
	e, err := lookup(name)
	if err != nil || e.Family != Planetoid {
		return nil, fmt.Errorf("%w %q: Planetoid datasets are %s", ErrUnknownDataset, name, strings.Join(familyNames(Planetoid), ", "))
	}
	return loadPlanetoidEntry(root, e)
}

// loadPlanetoidEntry reads the Planetoid files of e from the data root.
func loadPlanetoidEntry(root string, e *Entry) (*NodeDataset, error) {
	dir := filepath.Join(root, e.Name, "raw")
	ds, err := readPlanetoid(e.Name, func(file string, limit int64) (string, []byte, error) {
		path := filepath.Join(dir, file)
		data, err := readFile(path, e.Name, limit)
		return path, data, err
	})
	if err != nil {
		return nil, err
	}
	ds.Protocol = e.Protocol
	return ds, nil
}

// planetoidReader returns the path (for messages) and the contents of one
// Planetoid file of at most limit bytes.
type planetoidReader func(file string, limit int64) (path string, data []byte, err error)

// readPlanetoid assembles the Planetoid dataset name from the files read.
func readPlanetoid(name string, read planetoidReader) (*NodeDataset, error) {
	exts := planetoidExts()
	paths := make([]string, len(exts))
	// Decode the seven pickles: x, y, tx, ty, allx, ally, graph.
	var objs [7]any
	for i := range objs {
		path, data, err := read("ind."+name+"."+exts[i], maxPickleBytes)
		if err != nil {
			return nil, err
		}
		paths[i] = path
		if objs[i], err = readPickle(path, data); err != nil {
			return nil, err
		}
	}
	path, data, err := read("ind."+name+"."+exts[7], maxTestIndexBytes)
	if err != nil {
		return nil, err
	}
	paths[7] = path
	testIdx, err := parseTestIndex(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, paths[7], err)
	}
	p := &planetoidFiles{paths: paths, testIdx: testIdx}
	if err := p.convert(objs); err != nil {
		return nil, err
	}
	ds, err := p.assemble()
	if err != nil {
		return nil, err
	}
	ds.Name = name
	ds.Files = paths
	return ds, nil
}

// maxTestIndexBytes bounds the text file of test indices.
const maxTestIndexBytes = 64 << 20

// readFile reads a dataset file of at most limit bytes.
func readFile(path, name string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingFile(path, name, err)
		}
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the limit of %d", ErrFormat, path, st.Size(), limit)
	}
	// Size the buffer from Stat, but let the read decide: the file may
	// change, and special files report no size.
	var buf bytes.Buffer
	buf.Grow(int(st.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, fmt.Errorf("datasets: reading %s: %w", path, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w: %s: more than %d bytes", ErrFormat, path, limit)
	}
	return buf.Bytes(), nil
}

// parseTestIndex parses one non-negative integer a line, as Python's int()
// would accept them (surrounding white space allowed, nothing else).
func parseTestIndex(data []byte) ([]int, error) {
	var idx []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := string(bytes.TrimSpace(sc.Bytes()))
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > maxDim {
			return nil, fmt.Errorf("line %d: %q is not a node index", line, s)
		}
		idx = append(idx, v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("no test indices")
	}
	return idx, nil
}

// planetoidFiles holds the converted contents of the eight files.
type planetoidFiles struct {
	paths        []string
	x, tx, allx  *sparseParts
	y, ty, ally  labelMatrix
	adjU, adjV   []int // (node, neighbour) pairs in dict order
	graphNodes   int   // keys in the adjacency dict
	testIdx      []int
	features     int
	numClasses   int
	trainCount   int
	stackedRows  int
	extOfTx      []int // stacked test-range row j-len(allx) → tx row, or -1
	sortedTest   []int
	finalToStack []int // final row → stacked row
}

type labelMatrix struct {
	rows, cols int
	vals       []float64
}

// label returns the class of row i: the first maximum, or -1 if the row
// has no positive entry.
func (m labelMatrix) label(i int) int {
	row := m.vals[i*m.cols : (i+1)*m.cols]
	best := -1
	for j, v := range row {
		if v > 0 && (best < 0 || v > row[best]) {
			best = j
		}
	}
	return best
}

func (p *planetoidFiles) bad(i int, format string, args ...any) error {
	return fmt.Errorf("%w: %s: "+format, append([]any{ErrFormat, p.paths[i]}, args...)...)
}

// convert turns the decoded pickles into Go values and checks that their
// shapes agree.
func (p *planetoidFiles) convert(objs [7]any) error {
	var err error
	sparse := []struct {
		i   int
		dst **sparseParts
	}{{0, &p.x}, {2, &p.tx}, {4, &p.allx}}
	for _, s := range sparse {
		if *s.dst, err = asCSR("the pickled object", objs[s.i]); err != nil {
			return p.bad(s.i, "%w", err)
		}
	}
	dense := []struct {
		i   int
		dst *labelMatrix
	}{{1, &p.y}, {3, &p.ty}, {5, &p.ally}}
	for _, d := range dense {
		m := d.dst
		if m.rows, m.cols, m.vals, err = asMatrix("the pickled object", objs[d.i]); err != nil {
			return p.bad(d.i, "%w", err)
		}
	}
	p.graphNodes, err = asAdjacency("the adjacency dict", objs[6], func(u, v int) {
		p.adjU, p.adjV = append(p.adjU, u), append(p.adjV, v)
	})
	if err != nil {
		return p.bad(6, "%w", err)
	}

	p.features = p.allx.cols
	// A width the stored entries do not back would size the models from
	// nothing in the files: a shape patched to 10^8 columns asks gigabytes
	// of weights. Checked first, so that the error names allx.
	if err := checkWidth(p.features, p.allx.rows+p.tx.rows, len(p.allx.indices)+len(p.tx.indices)); err != nil {
		return p.bad(4, "csr_matrix shape: %w", err)
	}
	for _, s := range sparse {
		if m := *s.dst; m.cols != p.features {
			return p.bad(s.i, "%d feature columns, but allx has %d", m.cols, p.features)
		}
	}
	p.numClasses = p.ally.cols
	for _, d := range dense {
		if d.dst.cols != p.numClasses {
			return p.bad(d.i, "%d label columns, but ally has %d", d.dst.cols, p.numClasses)
		}
	}
	if p.numClasses == 0 {
		return p.bad(5, "no classes")
	}
	for i := range sparse {
		f, l := *sparse[i].dst, *dense[i].dst
		if f.rows != l.rows {
			return p.bad(dense[i].i, "%d rows, but %s has %d", l.rows, filepath.Base(p.paths[sparse[i].i]), f.rows)
		}
	}
	p.trainCount = p.y.rows
	return nil
}

// assemble builds the dataset as the Kipf & Welling loader does.
func (p *planetoidFiles) assemble() (*NodeDataset, error) {
	const ti = 7 // test.index
	if len(p.testIdx) != p.tx.rows {
		return nil, p.bad(ti, "%d test indices for %d rows of tx", len(p.testIdx), p.tx.rows)
	}
	p.sortedTest = slices.Clone(p.testIdx)
	slices.Sort(p.sortedTest)
	for i := 1; i < len(p.sortedTest); i++ {
		if p.sortedTest[i] == p.sortedTest[i-1] {
			return nil, p.bad(ti, "test index %d appears twice", p.sortedTest[i])
		}
	}
	// tx is spread over the test range [lo, hi], leaving empty rows for
	// indices not listed (for Cora and PubMed the range has no holes).
	lo, hi := p.sortedTest[0], p.sortedTest[len(p.sortedTest)-1]
	span := hi - lo + 1
	// A hole-free range needs no more rows than tx has; holes are
	// isolated nodes, which the adjacency dict lists. This bounds the
	// allocation a corrupt test index could cause.
	if span > p.tx.rows && span > p.graphNodes {
		return nil, p.bad(ti, "test indices span %d nodes (%d to %d), more than the %d rows of tx and the %d nodes of the graph", span, lo, hi, p.tx.rows, p.graphNodes)
	}
	p.stackedRows = p.allx.rows + span
	n := p.stackedRows
	if hi >= n {
		return nil, p.bad(ti, "test index %d is beyond the %d nodes", hi, n)
	}
	if p.trainCount+planetoidVal > n {
		return nil, p.bad(1, "%d training and %d validation nodes but only %d nodes", p.trainCount, planetoidVal, n)
	}
	p.extOfTx = make([]int, span)
	for j := range p.extOfTx {
		p.extOfTx[j] = -1
	}
	for i, t := range p.sortedTest {
		p.extOfTx[t-lo] = i
	}
	p.finalToStack = make([]int, n)
	for r := range p.finalToStack {
		p.finalToStack[r] = r
	}
	for i, t := range p.testIdx {
		p.finalToStack[t] = p.sortedTest[i]
	}

	feats, err := p.gatherFeatures()
	if err != nil {
		return nil, err
	}
	labels := make([]int, n)
	for r := range labels {
		if m, row := p.labelSource(p.finalToStack[r]); row >= 0 {
			labels[r] = m.label(row)
		} else {
			labels[r] = -1
		}
	}
	g, err := p.graph(n)
	if err != nil {
		return nil, err
	}
	split := Split{
		Train: make([]int, p.trainCount),
		Val:   make([]int, planetoidVal),
		Test:  slices.Clone(p.testIdx),
	}
	for i := range split.Train {
		split.Train[i] = i
	}
	for i := range split.Val {
		split.Val[i] = p.trainCount + i
	}
	return &NodeDataset{
		Features:   feats,
		Labels:     labels,
		NumClasses: p.numClasses,
		Graph:      g,
		Split:      split,
	}, nil
}

// rowSource returns the matrix and row holding stacked row s, or row -1 for
// an empty row.
func (p *planetoidFiles) rowSource(s int) (*sparseParts, int) {
	if s < p.allx.rows {
		return p.allx, s
	}
	return p.tx, p.extOfTx[s-p.allx.rows]
}

func (p *planetoidFiles) labelSource(s int) (labelMatrix, int) {
	if s < p.allx.rows {
		return p.ally, s
	}
	return p.ty, p.extOfTx[s-p.allx.rows]
}

// gatherFeatures gathers the final feature rows into one CSR matrix.
func (p *planetoidFiles) gatherFeatures() (*sparse.CSR, error) {
	n := p.stackedRows
	indptr := make([]int, n+1)
	for r := 0; r < n; r++ {
		m, row := p.rowSource(p.finalToStack[r])
		if row >= 0 {
			indptr[r+1] = m.indptr[row+1] - m.indptr[row]
		}
		indptr[r+1] += indptr[r]
	}
	indices := make([]int32, indptr[n])
	data := make([]float32, indptr[n])
	sorted := true
	for r := 0; r < n; r++ {
		m, row := p.rowSource(p.finalToStack[r])
		if row < 0 {
			continue
		}
		a, b := m.indptr[row], m.indptr[row+1]
		copy(indices[indptr[r]:], m.indices[a:b])
		copy(data[indptr[r]:], m.data[a:b])
		for k := a + 1; k < b; k++ {
			sorted = sorted && m.indices[k-1] < m.indices[k]
		}
	}
	if !sorted {
		// scipy allows unsorted and repeated columns; sum repeats and sort,
		// as converting to lil and back does in the reference loader.
		rows, cols := make([]int, len(indices)), make([]int, len(indices))
		for r := 0; r < n; r++ {
			for k := indptr[r]; k < indptr[r+1]; k++ {
				rows[k], cols[k] = r, int(indices[k])
			}
		}
		m, err := sparse.FromCOO(n, p.features, rows, cols, data)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: assembling features: %w", p.paths[4], err)
		}
		return m, nil
	}
	m, err := sparse.NewCSR(n, p.features, indptr, indices, data)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: assembling features: %w", p.paths[4], err)
	}
	return m, nil
}

// graph returns the undirected graph on the first n nodes: the adjacency
// pairs without self-loops, those naming a node beyond n dropped.
func (p *planetoidFiles) graph(n int) (*graph.Graph, error) {
	src := make([]int32, 0, len(p.adjU))
	dst := make([]int32, 0, len(p.adjU))
	for k, u := range p.adjU {
		v := p.adjV[k]
		if u < 0 || v < 0 {
			return nil, p.bad(6, "negative node id in edge (%d, %d)", u, v)
		}
		if u >= n || v >= n {
			continue
		}
		src, dst = append(src, int32(u)), append(dst, int32(v))
	}
	g, err := graph.FromPairs(n, src, dst)
	if err != nil {
		return nil, p.bad(6, "%w", err)
	}
	return g, nil
}
