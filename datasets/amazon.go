package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// The per-class sizes of the random splits of the gnn-benchmark protocol
// (Shchur et al., Pitfalls of Graph Neural Network Evaluation, 2018): 20
// training and 30 validation nodes a class, all other nodes for testing.
const (
	BenchmarkTrainPerClass = 20
	BenchmarkValPerClass   = 30
)

// maxClasses bounds the number of classes a file may declare.
const maxClasses = 1 << 16

// LoadAmazon reads amazon-computers or amazon-photo from the gnn-benchmark
// file <root>/<name>/raw/amazon_electronics_{computers,photo}.npz, as
// PyTorch Geometric's Amazon dataset does:
//
//   - the features are the stored binary bag-of-words matrix (attr_*), with
//     each row's columns sorted and repeated columns summed;
//   - the edges are the stored entries of the directed adjacency matrix
//     (adj_*), whatever their values, symmetrised, without self-loops and
//     duplicates;
//   - the labels are the labels array and the class names the class_names
//     array (left nil if the archive stores them as Python objects);
//   - the files have no split: Split is RandomSplit(labels, classes,
//     BenchmarkTrainPerClass, BenchmarkValPerClass, 0). A trainer that
//     follows the protocol draws a new split for each seed with RandomSplit.
//
// The archive is read without executing anything: each array's npy header is
// parsed by a strict grammar, only plain little-endian dtypes are accepted,
// and each member's declared sizes are checked against its header and the
// file before any data is allocated. A missing file gives an error wrapping
// ErrMissing; a malformed or inconsistent one an error wrapping ErrFormat
// that names the file and the array.
func LoadAmazon(root, name string) (*NodeDataset, error) {
	e, err := lookup(name)
	if err != nil || e.Family != Amazon {
		return nil, fmt.Errorf("%w %q: Amazon datasets are %s", ErrUnknownDataset, name, strings.Join(familyNames(Amazon), ", "))
	}
	return readAmazon(root, name, e.Files[0].Name)
}

func loadAmazonEntry(root string, e *Entry) (*NodeDataset, error) {
	return readAmazon(root, e.Name, e.Files[0].Name)
}

// readAmazon reads the npz file of the Amazon dataset name.
func readAmazon(root, name, file string) (*NodeDataset, error) {
	path := filepath.Join(root, name, "raw", file)
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
	z, err := openNPZ(path, f, st.Size())
	if err != nil {
		return nil, err
	}
	ds, err := readBenchmarkNPZ(z)
	if err != nil {
		return nil, err
	}
	ds.Name, ds.Protocol = name, amazonProtocol
	ds.Files = []string{path}
	return ds, nil
}

// readBenchmarkNPZ assembles a dataset from an npz archive in the
// gnn-benchmark layout, with the benchmark split of seed 0.
func readBenchmarkNPZ(z *npzReader) (*NodeDataset, error) {
	return readBenchmarkNPZWithSplit(z, func(labels []int, classes int) (Split, error) {
		return RandomSplit(labels, classes, BenchmarkTrainPerClass, BenchmarkValPerClass, 0)
	})
}

// readBenchmarkNPZWithSplit is readBenchmarkNPZ with the split drawn by
// split, so that tests can assemble datasets too small for the benchmark's.
func readBenchmarkNPZWithSplit(z *npzReader, split func(labels []int, classes int) (Split, error)) (*NodeDataset, error) {
	adj, err := readCSRArrays(z, "adj")
	if err != nil {
		return nil, err
	}
	if adj.rows != adj.cols {
		return nil, z.bad("adj_shape", "adjacency matrix is %d×%d, want a square one", adj.rows, adj.cols)
	}
	n := adj.rows
	attr, err := readCSRArrays(z, "attr")
	if err != nil {
		return nil, err
	}
	if attr.rows != n {
		return nil, z.bad("attr_shape", "%d feature rows for %d nodes", attr.rows, n)
	}
	if err := checkWidth(attr.cols, attr.rows, len(attr.indices)); err != nil {
		return nil, z.bad("attr_shape", "%w", err)
	}
	var names []string
	if z.has("class_names") {
		a, err := z.array("class_names")
		switch {
		case errors.Is(err, errObjectArray):
			// Pickled Python strings: never decoded, the names are optional.
		case err != nil:
			return nil, err
		case a.str == nil || len(a.str) > maxClasses:
			return nil, z.bad("class_names", "want at most %d strings", maxClasses)
		default:
			names = a.str
		}
	}
	la, err := numArray(z, "labels", 1)
	if err != nil {
		return nil, err
	}
	if la.n != n {
		return nil, z.bad("labels", "%d labels for %d nodes", la.n, n)
	}
	maxLabel := int64(maxClasses - 1)
	if names != nil {
		maxLabel = int64(len(names)) - 1
	}
	labels, err := ints[int]("labels", la, 0, maxLabel)
	if err != nil {
		return nil, z.wrap(err)
	}
	classes := len(names)
	for _, l := range labels {
		classes = max(classes, l+1)
	}
	if classes == 0 {
		return nil, z.bad("labels", "no classes")
	}
	feats, err := attr.sorted()
	if err != nil {
		return nil, z.bad("attr_indices", "%w", err)
	}
	sp, err := split(labels, classes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, z.file, err)
	}
	g, err := adj.graph()
	if err != nil {
		return nil, z.bad("adj_indices", "%w", err)
	}
	return &NodeDataset{
		Features:   feats,
		Labels:     labels,
		NumClasses: classes,
		Graph:      g,
		Split:      sp,
		ClassNames: names,
	}, nil
}

// numArray reads the numeric array key and checks its number of dimensions.
func numArray(z *npzReader, key string, ndim int) (*ndarray, error) {
	a, err := z.array(key)
	if err != nil {
		return nil, err
	}
	if a.num == nil {
		return nil, z.bad(key, "want a numeric array, have strings")
	}
	if len(a.num.shape) != ndim {
		return nil, z.bad(key, "shape %v, want %d dimensions", a.num.shape, ndim)
	}
	return a.num, nil
}

// readCSRArrays reads and checks the CSR matrix stored as the arrays
// <prefix>_shape, _indptr, _indices and _data.
func readCSRArrays(z *npzReader, prefix string) (*sparseParts, error) {
	key := func(s string) string { return prefix + "_" + s }
	sa, err := numArray(z, key("shape"), 1)
	if err != nil {
		return nil, err
	}
	if sa.n != 2 {
		return nil, z.bad(key("shape"), "%d entries, want 2", sa.n)
	}
	shape, err := ints[int](key("shape"), sa, 0, maxDim)
	if err != nil {
		return nil, z.wrap(err)
	}
	p := &sparseParts{rows: shape[0], cols: shape[1]}
	ip, err := numArray(z, key("indptr"), 1)
	if err != nil {
		return nil, err
	}
	if ip.n != p.rows+1 {
		return nil, z.bad(key("indptr"), "%d entries for %d rows, want rows+1 = %d", ip.n, p.rows, p.rows+1)
	}
	ix, err := numArray(z, key("indices"), 1)
	if err != nil {
		return nil, err
	}
	dv, err := numArray(z, key("data"), 1)
	if err != nil {
		return nil, err
	}
	if ix.n != dv.n {
		return nil, z.bad(key("data"), "%d values for %d indices", dv.n, ix.n)
	}
	if p.indptr, err = ints[int](key("indptr"), ip, 0, int64(ix.n)); err != nil {
		return nil, z.wrap(err)
	}
	if p.indptr[0] != 0 || p.indptr[p.rows] != ix.n {
		return nil, z.bad(key("indptr"), "runs from %d to %d, want 0 to %d (the number of indices)", p.indptr[0], p.indptr[p.rows], ix.n)
	}
	for i := 0; i < p.rows; i++ {
		if p.indptr[i+1] < p.indptr[i] {
			return nil, z.bad(key("indptr"), "decreases at row %d (%d > %d)", i, p.indptr[i], p.indptr[i+1])
		}
	}
	if p.cols == 0 && ix.n > 0 {
		return nil, z.bad(key("indices"), "%d entries in a matrix without columns", ix.n)
	}
	if p.indices, err = ints[int32](key("indices"), ix, 0, int64(p.cols)-1); err != nil {
		return nil, z.wrap(err)
	}
	p.data = make([]float32, dv.n)
	for k := range p.data {
		v := dv.floatAt(k)
		if math.IsNaN(v) || math.IsInf(float64(float32(v)), 0) {
			return nil, z.bad(key("data"), "value %d is %v, want a finite float32", k, v)
		}
		p.data[k] = float32(v)
	}
	return p, nil
}

// sorted returns p as a CSR matrix with sorted, unique columns in each row,
// summing repeated columns as scipy's sum_duplicates does. It consumes p.
func (p *sparseParts) sorted() (*sparse.CSR, error) {
	nnz := len(p.indices)
	if p.cols > nnz+p.rows {
		// The column count is not backed by data: buckets for it could
		// take any amount of memory.
		p.sortRows()
		return p.mergeRepeats()
	}
	// Two stable counting sorts, by column and then by row, as transposing
	// twice does: linear time, and repeats stay in file order so that their
	// sum is deterministic.
	colPtr := make([]int, p.cols+1)
	for _, c := range p.indices {
		colPtr[c+1]++
	}
	for c := 0; c < p.cols; c++ {
		colPtr[c+1] += colPtr[c]
	}
	rowOf := make([]int32, nnz)
	valOf := make([]float32, nnz)
	for i := 0; i < p.rows; i++ {
		for k := p.indptr[i]; k < p.indptr[i+1]; k++ {
			c := p.indices[k]
			rowOf[colPtr[c]], valOf[colPtr[c]] = int32(i), p.data[k]
			colPtr[c]++
		}
	}
	// colPtr[c] now ends column c; walk the columns back into the rows.
	next := slices.Clone(p.indptr[:p.rows])
	for c, k := 0, 0; c < p.cols; c++ {
		for ; k < colPtr[c]; k++ {
			i := rowOf[k]
			p.indices[next[i]], p.data[next[i]] = int32(c), valOf[k]
			next[i]++
		}
	}
	return p.mergeRepeats()
}

// sortRows sorts the columns of each row, keeping repeats in file order.
func (p *sparseParts) sortRows() {
	// Each entry sorts as column<<32 | position in the row.
	var keys []uint64
	var vals []float32
	for i := 0; i < p.rows; i++ {
		a, b := p.indptr[i], p.indptr[i+1]
		keys, vals = keys[:0], append(vals[:0], p.data[a:b]...)
		for k := a; k < b; k++ {
			keys = append(keys, uint64(p.indices[k])<<32|uint64(k-a))
		}
		slices.Sort(keys)
		for j, key := range keys {
			p.indices[a+j], p.data[a+j] = int32(key>>32), vals[uint32(key)]
		}
	}
}

// mergeRepeats sums repeated columns of rows whose columns are sorted and
// returns the matrix.
func (p *sparseParts) mergeRepeats() (*sparse.CSR, error) {
	out, start := 0, 0
	for i := 0; i < p.rows; i++ {
		a, b := p.indptr[i], p.indptr[i+1]
		p.indptr[i] = start
		for k := a; k < b; k++ {
			if out > start && p.indices[out-1] == p.indices[k] {
				p.data[out-1] += p.data[k]
				continue
			}
			p.indices[out], p.data[out] = p.indices[k], p.data[k]
			out++
		}
		start = out
	}
	p.indptr[p.rows] = out
	return sparse.NewCSR(p.rows, p.cols, p.indptr, p.indices[:out:out], p.data[:out:out])
}

// graph returns the undirected graph of the stored entries of the square
// matrix p, whatever their values, without self-loops or duplicates.
func (p *sparseParts) graph() (*graph.Graph, error) {
	src := make([]int32, len(p.indices))
	for u := 0; u < p.rows; u++ {
		for k := p.indptr[u]; k < p.indptr[u+1]; k++ {
			src[k] = int32(u)
		}
	}
	return graph.FromPairs(p.rows, src, p.indices)
}

// splitStream is the second word of the PCG state of RandomSplit, fixed so
// that the seed alone picks the split.
const splitStream = 0x676e7372_73706c74 // "gnsrsplt"

// RandomSplit draws a split by the gnn-benchmark protocol: for each class
// in turn, trainPerClass of its nodes for training and valPerClass others for
// validation, chosen uniformly at random, and all remaining labelled nodes
// for testing. Nodes labelled -1 are in no set. The draw is a Fisher–Yates
// shuffle of each class's nodes (in increasing id order) driven by a PCG
// generator (math/rand/v2) seeded with (seed, a fixed constant), so the same
// seed always gives the same split, on any platform; each set is returned
// sorted.
//
// It returns an error if a label is below -1 or not below numClasses, if a
// count is negative, or if a class has fewer than trainPerClass+valPerClass
// nodes.
func RandomSplit(labels []int, numClasses int, trainPerClass, valPerClass int, seed uint64) (Split, error) {
	if numClasses < 0 || trainPerClass < 0 || valPerClass < 0 {
		return Split{}, fmt.Errorf("datasets: RandomSplit of %d classes with %d training and %d validation nodes a class", numClasses, trainPerClass, valPerClass)
	}
	byClass := make([][]int, numClasses)
	for i, l := range labels {
		if l < -1 || l >= numClasses {
			return Split{}, fmt.Errorf("datasets: RandomSplit: label %d of node %d is outside [-1, %d)", l, i, numClasses)
		}
		if l >= 0 {
			byClass[l] = append(byClass[l], i)
		}
	}
	need := trainPerClass + valPerClass
	for c, nodes := range byClass {
		if len(nodes) < need {
			return Split{}, fmt.Errorf("datasets: RandomSplit: class %d has %d nodes, fewer than the %d training and %d validation nodes asked for", c, len(nodes), trainPerClass, valPerClass)
		}
	}
	rng := rand.NewPCG(seed, splitStream)
	var s Split
	for _, nodes := range byClass {
		// Our own shuffle on PCG's specified output, so that the split does
		// not depend on how the standard library maps it to a range.
		for i := len(nodes) - 1; i > 0; i-- {
			j := uniform(rng, uint64(i+1))
			nodes[i], nodes[j] = nodes[j], nodes[i]
		}
		s.Train = append(s.Train, nodes[:trainPerClass]...)
		s.Val = append(s.Val, nodes[trainPerClass:need]...)
		s.Test = append(s.Test, nodes[need:]...)
	}
	slices.Sort(s.Train)
	slices.Sort(s.Val)
	slices.Sort(s.Test)
	return s, nil
}

// uniform returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method.
func uniform(rng *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(rng.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(rng.Uint64(), n)
		}
	}
	return hi
}
