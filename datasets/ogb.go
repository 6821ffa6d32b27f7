package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/gnsr/gnsr/datasets/tabular"
	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// The files of OGB's raw layout of a node-property dataset.
const (
	ogbNumNodes = "raw/num-node-list.csv.gz"
	ogbNumEdges = "raw/num-edge-list.csv.gz"
	ogbEdges    = "raw/edge.csv.gz"
	ogbFeatures = "raw/node-feat.csv.gz"
	ogbLabels   = "raw/node-label.csv.gz"
)

// ogbSplitFiles are the files of a split folder, in Split's order.
var ogbSplitFiles = [3]string{"train.csv.gz", "valid.csv.gz", "test.csv.gz"}

// maxCSVWidth bounds the columns of a feature row.
const maxCSVWidth = 1 << 16

// loadOGBEntry reads an OGB dataset of the registry, extracting its archive
// on first use.
func loadOGBEntry(root string, e *Entry) (*NodeDataset, error) {
	if !extracted(root, e) {
		zip := filepath.Join(root, e.Name, "raw", e.Files[0].Name)
		if _, err := os.Stat(zip); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, missingFile(zip, e.Name, err)
			}
			return nil, fmt.Errorf("datasets: %w", err)
		}
		if err := extractArchive(root, e); err != nil {
			return nil, err
		}
	}
	return LoadOGB(filepath.Join(root, e.Name, e.Archive.Dir), e.Protocol.Split.Name)
}

// LoadOGB reads a node-classification dataset in OGB's raw layout from dir
// (the folder an OGB nodeproppred zip extracts to, or one that gnsr data
// synth writes):
//
//	raw/num-node-list.csv.gz   one line: the number of nodes N
//	raw/num-edge-list.csv.gz   one line: the number of edges E
//	raw/edge.csv.gz            E lines "src,dst" of node indices in [0, N)
//	raw/node-feat.csv.gz       N lines of F comma-separated floats
//	raw/node-label.csv.gz      N lines of one class each (-1 or nan: none)
//	split/<split>/train.csv.gz, valid.csv.gz, test.csv.gz: one node a line
//
// Files may be plain CSV despite the .gz suffix. The edges are symmetrised
// (arxiv stores citations one way, products each pair once), without
// self-loops and repeats. Features whose rows are mostly non-zero (OGB's
// float vectors) are kept dense in Dense; mostly-zero ones (gnsr data synth
// with --nnz-per-row) as CSR in Features. An empty split names the only
// folder under split/. The protocol is UserProtocol with the split as an
// OfficialSplit; Load attaches the registry's for OGB's own datasets.
//
// The declared counts are checked against the lines present, and no count
// drives an allocation beyond what its file's bytes can hold (a gzip stream
// expands at most 1032 times). Errors name the file and line and wrap
// ErrFormat, or ErrMissing for an absent file.
func LoadOGB(dir, split string) (*NodeDataset, error) {
	r := &ogbReader{dir: dir}
	if err := r.read(split); err != nil {
		return nil, err
	}
	p := UserProtocol()
	p.Split = SplitPolicy{Kind: OfficialSplit, Name: r.split}
	ds := &NodeDataset{
		Name: filepath.Base(dir), Features: r.csr, Dense: r.dense, Labels: r.labels, NumClasses: r.classes,
		Graph: r.graph, Split: r.sets, Protocol: p, Files: r.files,
	}
	return ds, nil
}

type ogbReader struct {
	dir     string
	split   string
	files   []string
	n       int
	graph   *graph.Graph
	labels  []int
	classes int
	csr     *sparse.CSR
	dense   *DenseFeatures
	sets    Split
}

func (r *ogbReader) path(name string) string { return filepath.Join(r.dir, filepath.FromSlash(name)) }

// open opens one file of the layout.
func (r *ogbReader) open(name string, maxLine int) (*tabular.CSVReader, int64, error) {
	p := r.path(name)
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s, a file of OGB's raw layout: %w", ErrMissing, p, err)
		}
		return nil, 0, fmt.Errorf("datasets: %w", err)
	}
	c, err := tabular.OpenCSV(p, maxLine)
	if err != nil {
		return nil, 0, formatErr(err)
	}
	r.files = append(r.files, p)
	return c, st.Size(), nil
}

// formatErr wraps an error of the tabular readers into the package's.
func formatErr(err error) error {
	if errors.Is(err, ErrFormat) {
		return err
	}
	if errors.Is(err, tabular.ErrFormat) {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return fmt.Errorf("datasets: %w", err)
}

// maxLines bounds the lines of at least minLen bytes (newline included) a
// file of size bytes can hold once decompressed.
func maxLines(size int64, minLen int) int64 {
	return (size*maxDeflateRatio + deflateRatioSlack) / int64(minLen)
}

func (r *ogbReader) read(split string) error {
	n, err := r.count(ogbNumNodes, graph.MaxNodes)
	if err != nil {
		return err
	}
	r.n = int(n)
	e, err := r.count(ogbNumEdges, math.MaxInt32*8)
	if err != nil {
		return err
	}
	if err := r.readLabels(); err != nil {
		return err
	}
	// Edges last: their pairs are the one transient array of the size of
	// the data, so they come when nothing else is garbage, and the peak is
	// features + pairs + graph whatever the garbage collector does.
	if err := r.features(); err != nil {
		return err
	}
	if err := r.edges(e); err != nil {
		return err
	}
	return r.splits(split)
}

// count reads a file of one count in [0, hi].
func (r *ogbReader) count(name string, hi int64) (int64, error) {
	c, _, err := r.open(name, 0)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if !c.Next() {
		if err := c.Err(); err != nil {
			return 0, formatErr(err)
		}
		return 0, fmt.Errorf("%w: %s: empty, want one count", ErrFormat, r.path(name))
	}
	if err := c.Want(1); err != nil {
		return 0, formatErr(err)
	}
	v, err := c.Int(0, 0, hi)
	if err != nil {
		return 0, formatErr(err)
	}
	if c.Next() {
		return 0, formatErr(c.Errorf("a second line: this reader takes a single graph"))
	}
	if err := c.Err(); err != nil {
		return 0, formatErr(err)
	}
	return v, nil
}

func (r *ogbReader) edges(declared int64) error {
	c, size, err := r.open(ogbEdges, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	if lim := maxLines(size, 4); declared > lim {
		return fmt.Errorf("%w: %s: %d edges declared, more than the %d bytes of %s can hold (at most %d)", ErrFormat, r.path(ogbNumEdges), declared, size, ogbEdges, lim)
	}
	src, dst := make([]int32, 0, declared), make([]int32, 0, declared)
	hi := int64(r.n) - 1
	for c.Next() {
		if int64(len(src)) == declared {
			return formatErr(c.Errorf("more edges than the %d of %s", declared, ogbNumEdges))
		}
		if err := c.Want(2); err != nil {
			return formatErr(err)
		}
		u, err := c.Int(0, 0, hi)
		if err != nil {
			return formatErr(fmt.Errorf("%w (node ids are 0..%d)", err, hi))
		}
		v, err := c.Int(1, 0, hi)
		if err != nil {
			return formatErr(fmt.Errorf("%w (node ids are 0..%d)", err, hi))
		}
		src, dst = append(src, int32(u)), append(dst, int32(v))
	}
	if err := c.Err(); err != nil {
		return formatErr(err)
	}
	if int64(len(src)) != declared {
		return fmt.Errorf("%w: %s: %d edges, but %s declares %d", ErrFormat, r.path(ogbEdges), len(src), ogbNumEdges, declared)
	}
	r.graph, err = graph.FromPairs(r.n, src, dst)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFormat, r.path(ogbEdges), err)
	}
	return nil
}

func (r *ogbReader) readLabels() error {
	c, size, err := r.open(ogbLabels, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	if lim := maxLines(size, 2); int64(r.n) > lim {
		return fmt.Errorf("%w: %s: %d nodes declared, more than the %d bytes of %s can label (at most %d)",
			ErrFormat, r.path(ogbNumNodes), r.n, size, ogbLabels, lim)
	}
	r.labels = make([]int, 0, r.n)
	for c.Next() {
		if len(r.labels) == r.n {
			return formatErr(c.Errorf("more labels than the %d nodes", r.n))
		}
		if err := c.Want(1); err != nil {
			return formatErr(err)
		}
		if f := c.Field(0); string(f) == "nan" || string(f) == "" {
			r.labels = append(r.labels, -1)
			continue
		}
		l, err := c.Int(0, -1, maxClasses-1)
		if err != nil {
			return formatErr(fmt.Errorf("%w: a class in [0, %d), or -1 or nan for none", err, maxClasses))
		}
		r.labels = append(r.labels, int(l))
		r.classes = max(r.classes, int(l)+1)
	}
	if err := c.Err(); err != nil {
		return formatErr(err)
	}
	if len(r.labels) != r.n {
		return fmt.Errorf("%w: %s: %d labels for the %d nodes of %s", ErrFormat, r.path(ogbLabels), len(r.labels), r.n, ogbNumNodes)
	}
	if r.classes == 0 {
		return fmt.Errorf("%w: %s: no labelled node", ErrFormat, r.path(ogbLabels))
	}
	return nil
}

// features reads node-feat.csv.gz into CSR rows until the density is known,
// then keeps them dense if most values are non-zero.
func (r *ogbReader) features() error {
	c, size, err := r.open(ogbFeatures, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	b := newFeatureBuilder(r.n, maxLines(size, 2))
	for c.Next() {
		if b.rows == r.n {
			return formatErr(c.Errorf("more feature rows than the %d nodes", r.n))
		}
		if b.rows == 0 {
			if c.NumFields() > maxCSVWidth {
				return formatErr(c.Errorf("%d features, more than the %d allowed", c.NumFields(), maxCSVWidth))
			}
			if err := b.setWidth(c.NumFields()); err != nil {
				return formatErr(c.Errorf("%v", err))
			}
		}
		if err := c.Want(b.cols); err != nil {
			return formatErr(err)
		}
		row := b.row()
		for j := range row {
			if row[j], err = c.Float32(j); err != nil {
				return formatErr(err)
			}
		}
		b.add(row)
	}
	if err := c.Err(); err != nil {
		return formatErr(err)
	}
	if b.rows != r.n {
		return fmt.Errorf("%w: %s: %d feature rows for the %d nodes of %s", ErrFormat, r.path(ogbFeatures), b.rows, r.n, ogbNumNodes)
	}
	r.csr, r.dense = b.finish()
	return nil
}

// featureBuilder collects feature rows, as CSR while they are mostly zero
// and densely once they are not.
type featureBuilder struct {
	n, cols  int
	maxVals  int64 // values the file can hold
	rows     int
	buf      []float32 // the row being read
	indptr   []int
	indices  []int32
	data     []float32
	dense    []float32 // non-nil once dense
	decided  bool
	decideAt int
}

// denseSample is the number of rows read before choosing the storage.
const denseSample = 1024

func newFeatureBuilder(n int, maxVals int64) *featureBuilder {
	return &featureBuilder{n: n, maxVals: maxVals, indptr: make([]int, 1, n+1), decideAt: min(n, denseSample)}
}

func (b *featureBuilder) setWidth(cols int) error {
	if int64(b.n)*int64(cols) > b.maxVals {
		return fmt.Errorf("%d rows of %d features are more values than the file's bytes can hold", b.n, cols)
	}
	b.cols, b.buf = cols, make([]float32, cols)
	return nil
}

// row returns the buffer to read the next row into.
func (b *featureBuilder) row() []float32 {
	if b.dense != nil {
		return b.dense[b.rows*b.cols : (b.rows+1)*b.cols]
	}
	return b.buf
}

// add appends the row just read.
func (b *featureBuilder) add(row []float32) {
	b.rows++
	if b.dense != nil {
		return
	}
	for j, v := range row {
		if v != 0 {
			b.indices, b.data = append(b.indices, int32(j)), append(b.data, v)
		}
	}
	b.indptr = append(b.indptr, len(b.data))
	if !b.decided && b.rows >= b.decideAt {
		b.decide()
	}
}

// decide picks the storage from the rows read so far: dense at 4 bytes a
// value when more than half are non-zero (CSR costs 8 a non-zero), CSR
// otherwise, with room reserved for the expected entries. Reserved room
// that is never written is never touched, so it costs no resident memory.
func (b *featureBuilder) decide() {
	b.decided = true
	nnz := len(b.data)
	if 2*int64(nnz) > int64(b.rows)*int64(b.cols) {
		b.dense = make([]float32, b.n*b.cols)
		for i := range b.rows {
			for k := b.indptr[i]; k < b.indptr[i+1]; k++ {
				b.dense[i*b.cols+int(b.indices[k])] = b.data[k]
			}
		}
		b.indptr, b.indices, b.data = nil, nil, nil
		return
	}
	want := int64(float64(nnz)/float64(b.rows)*float64(b.n)*1.25) + 16
	want = min(want, b.maxVals, int64(b.n)*int64(b.cols))
	if want > int64(cap(b.data)) {
		b.indices = append(make([]int32, 0, want), b.indices...)
		b.data = append(make([]float32, 0, want), b.data...)
	}
	b.indptr = append(make([]int, 0, b.n+1), b.indptr...)
}

// finish returns the features: one of the results is nil.
func (b *featureBuilder) finish() (*sparse.CSR, *DenseFeatures) {
	if !b.decided && b.rows > 0 {
		b.decide()
	}
	if b.dense != nil {
		return nil, &DenseFeatures{Rows: b.n, Cols: b.cols, Data: b.dense}
	}
	return &sparse.CSR{Rows: b.rows, Cols: b.cols, Indptr: b.indptr, Indices: b.indices, Data: b.data}, nil
}

// splits reads the split folder's three files.
func (r *ogbReader) splits(split string) error {
	if split == "" {
		entries, err := os.ReadDir(r.path("split"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: %s: no split folder (split/<name>/{train,valid,test}.csv.gz): %w", ErrMissing, r.path("split"), err)
			}
			return fmt.Errorf("datasets: %w", err)
		}
		var dirs []string
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, e.Name())
			}
		}
		if len(dirs) != 1 {
			return fmt.Errorf("%w: %s: %d split folders %v, want exactly one", ErrFormat, r.path("split"), len(dirs), dirs)
		}
		split = dirs[0]
	}
	r.split = split
	mark := make([]uint8, r.n) // 1 + the set holding each node
	sets := [3]*[]int{&r.sets.Train, &r.sets.Val, &r.sets.Test}
	for s, file := range ogbSplitFiles {
		name := "split/" + split + "/" + file
		c, size, err := r.open(name, 0)
		if err != nil {
			return err
		}
		nodes := make([]int, 0, min(int64(r.n), maxLines(size, 2)))
		for c.Next() {
			if err := c.Want(1); err != nil {
				c.Close()
				return formatErr(err)
			}
			v, err := c.Int(0, 0, int64(r.n)-1)
			if err != nil {
				c.Close()
				return formatErr(fmt.Errorf("%w (node ids are 0..%d)", err, r.n-1))
			}
			if m := mark[v]; m != 0 {
				c.Close()
				return formatErr(c.Errorf("node %d is already in %s", v, ogbSplitFiles[m-1]))
			}
			mark[v] = uint8(s + 1)
			if r.labels[v] < 0 {
				c.Close()
				return formatErr(c.Errorf("node %d has no label", v))
			}
			nodes = append(nodes, int(v))
		}
		err = c.Err()
		c.Close()
		if err != nil {
			return formatErr(err)
		}
		if len(nodes) == 0 {
			return fmt.Errorf("%w: %s: an empty set", ErrFormat, r.path(name))
		}
		slices.Sort(nodes)
		*sets[s] = nodes
	}
	return nil
}
