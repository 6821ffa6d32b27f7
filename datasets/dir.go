package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/gnsr/gnsr/datasets/tabular"
	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// The files of the Parquet layout of a user's graph.
const (
	ParquetNodes    = "nodes.parquet"
	ParquetEdges    = "edges.parquet"
	ParquetFeatures = "features.parquet"
	// ParquetNumFeatures is the key-value metadata of features.parquet
	// that gives the number of feature columns (else the largest col + 1).
	ParquetNumFeatures = "num_features"
)

// LoadDir reads a user's node-classification graph from dir, in one of two
// layouts:
//
//   - OGB's raw layout (dir/raw/edge.csv.gz, ...; see LoadOGB), as OGB's
//     zips hold it and gnsr data synth --format ogb writes it;
//   - Parquet tables (see LoadParquet), as gnsr data synth --format
//     parquet writes them.
//
// The dataset's protocol is UserProtocol: the split of the files, raw
// features. Errors name the file and the line, or the column and the row,
// and wrap ErrFormat or ErrMissing.
func LoadDir(dir string) (*NodeDataset, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("datasets: %s is not a directory", dir)
	}
	var ds *NodeDataset
	switch {
	case exists(filepath.Join(dir, filepath.FromSlash(ogbEdges))):
		ds, err = LoadOGB(dir, "")
	case exists(filepath.Join(dir, ParquetEdges)):
		ds, err = LoadParquet(dir)
	default:
		return nil, fmt.Errorf("%w: %s holds neither OGB's raw layout (raw/edge.csv.gz, ...) nor Parquet tables (%s, %s)",
			ErrMissing, dir, ParquetNodes, ParquetEdges)
	}
	if err != nil {
		return nil, err
	}
	ds.Protocol = UserProtocol()
	return ds, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LoadParquet reads a graph from Parquet tables in dir:
//
//	nodes.parquet     id (integer), label (integer; null or -1: none),
//	                  split (string: train, val or valid, test; null or
//	                  empty: none), and optionally features (a list of
//	                  floats, the same length in every row)
//	edges.parquet     src, dst (integers, node ids), optionally weight
//	                  (float; an edge of weight 0 is no edge; the models
//	                  treat the graph as unweighted)
//	features.parquet  sparse features as triples: row (a node id), col
//	                  (integer), value (float); the file's key-value
//	                  metadata num_features gives the width (default: the
//	                  largest col + 1). Read when nodes.parquet has no
//	                  features column.
//
// Node ids need not be 0..N-1: node i is the i-th row of nodes.parquet,
// and NodeIDs keeps the ids when they are not 0..N-1. The edges are
// symmetrised without self-loops and repeats. Columns may be INT32 or INT64
// and FLOAT or DOUBLE, nullable or not. The tables are read page by page
// (tabular.ParquetFile); every id, label, split name and column index is
// checked, and errors name the file, the column and the row.
func LoadParquet(dir string) (*NodeDataset, error) {
	r := &parquetReader{dir: dir}
	if err := r.nodes(); err != nil {
		return nil, err
	}
	// Features before edges: the edges' pairs are the one transient array
	// of the size of the data, best read when nothing else is garbage.
	if r.csr == nil && r.dense == nil {
		if err := r.triples(); err != nil {
			return nil, err
		}
	}
	if err := r.edges(); err != nil {
		return nil, err
	}
	ds := &NodeDataset{
		Name: filepath.Base(dir), Features: r.csr, Dense: r.dense, Labels: r.labels, NumClasses: r.classes,
		Graph: r.graph, Split: r.split, NodeIDs: r.ids, Protocol: UserProtocol(), Files: r.files,
	}
	if r.identity {
		ds.NodeIDs = nil
	}
	return ds, nil
}

type parquetReader struct {
	dir      string
	files    []string
	n        int
	ids      []int64 // node i's id
	identity bool    // ids[i] == i for every i
	sorted   []int64 // ids in increasing order, unless identity
	perm     []int32 // sorted[k] is the id of node perm[k]
	labels   []int
	classes  int
	split    Split
	graph    *graph.Graph
	csr      *sparse.CSR
	dense    *DenseFeatures
}

// open opens one table of the layout.
func (r *parquetReader) open(name string) (*tabular.ParquetFile, error) {
	path := filepath.Join(r.dir, name)
	p, err := tabular.OpenParquet(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s, a table of the Parquet layout: %w", ErrMissing, path, err)
		}
		return nil, formatErr(err)
	}
	r.files = append(r.files, path)
	return p, nil
}

// colErr returns an ErrFormat error at a column and row of a table.
func (r *parquetReader) colErr(file, column string, row int64, format string, args ...any) error {
	return formatErr(&tabular.Error{File: filepath.Join(r.dir, file), Column: column, Row: row, Err: fmt.Errorf(format, args...)})
}

// prealloc bounds the capacity reserved for rows a table declares by the
// table's size: a count is not believed beyond what the file could hold.
func prealloc(p *tabular.ParquetFile, path string) int {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return int(min(p.NumRows(), st.Size(), graph.MaxNodes))
}

func (r *parquetReader) nodes() error {
	p, err := r.open(ParquetNodes)
	if err != nil {
		return err
	}
	defer p.Close()
	path := filepath.Join(r.dir, ParquetNodes)
	r.ids = make([]int64, 0, prealloc(p, path))
	r.identity = true
	err = p.Ints("id", func(row, v int64, null bool) error {
		if null {
			return r.colErr(ParquetNodes, "id", row, "a null id")
		}
		if len(r.ids) >= graph.MaxNodes {
			return r.colErr(ParquetNodes, "id", row, "more than %d nodes", graph.MaxNodes)
		}
		r.identity = r.identity && v == int64(len(r.ids))
		r.ids = append(r.ids, v)
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	r.n = len(r.ids)
	if r.n == 0 {
		return r.colErr(ParquetNodes, "id", -1, "no nodes")
	}
	if !r.identity {
		r.perm = make([]int32, r.n)
		for i := range r.perm {
			r.perm[i] = int32(i)
		}
		slices.SortFunc(r.perm, func(a, b int32) int {
			switch x, y := r.ids[a], r.ids[b]; {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
		r.sorted = make([]int64, r.n)
		for k, i := range r.perm {
			r.sorted[k] = r.ids[i]
			if k > 0 && r.sorted[k] == r.sorted[k-1] {
				return r.colErr(ParquetNodes, "id", int64(i), "id %d appears twice", r.ids[i])
			}
		}
	}
	r.labels = make([]int, r.n)
	err = p.Ints("label", func(row, v int64, null bool) error {
		if null {
			v = -1
		}
		if v < -1 || v >= maxClasses {
			return r.colErr(ParquetNodes, "label", row, "label %d is out of range: a class in [0, %d), or -1 or null for none", v, maxClasses)
		}
		r.labels[row] = int(v)
		r.classes = max(r.classes, int(v)+1)
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	if r.classes == 0 {
		return r.colErr(ParquetNodes, "label", -1, "no labelled node")
	}
	if err := r.splits(p); err != nil {
		return err
	}
	if !p.Has("features") {
		return nil
	}
	return r.listFeatures(p)
}

// splits reads the split column.
func (r *parquetReader) splits(p *tabular.ParquetFile) error {
	sets := map[string]*[]int{"train": &r.split.Train, "val": &r.split.Val, "valid": &r.split.Val, "validation": &r.split.Val, "test": &r.split.Test}
	err := p.Strings("split", func(row int64, v []byte, null bool) error {
		if null || len(v) == 0 {
			return nil
		}
		set, ok := sets[string(v)]
		if !ok {
			return r.colErr(ParquetNodes, "split", row, "%q is not a split (train, val, test, or empty for none)", clipBytes(v))
		}
		if r.labels[row] < 0 {
			return r.colErr(ParquetNodes, "split", row, "node %d is in the %s set but has no label", r.ids[row], v)
		}
		*set = append(*set, int(row))
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	for name, s := range map[string][]int{"train": r.split.Train, "val": r.split.Val, "test": r.split.Test} {
		if len(s) == 0 {
			return r.colErr(ParquetNodes, "split", -1, "no %s node", name)
		}
	}
	return nil
}

func clipBytes(b []byte) string {
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}

// listFeatures reads the features list column of nodes.parquet.
func (r *parquetReader) listFeatures(p *tabular.ParquetFile) error {
	var d *DenseFeatures
	err := p.FloatLists("features", maxCSVWidth, func(row int64, vals []float32) error {
		if d == nil {
			if len(vals) == 0 {
				return r.colErr(ParquetNodes, "features", row, "an empty feature list")
			}
			d = &DenseFeatures{Rows: r.n, Cols: len(vals), Data: make([]float32, r.n*len(vals))}
		}
		if len(vals) != d.Cols {
			return r.colErr(ParquetNodes, "features", row, "%d features, want %d as in row 0", len(vals), d.Cols)
		}
		for j, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return r.colErr(ParquetNodes, "features", row, "feature %d is %v, want a finite number", j, v)
			}
		}
		copy(d.Row(int(row)), vals)
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	r.dense = d
	return nil
}

// index returns the node of id, or -1 if there is none.
func (r *parquetReader) index(id int64) int32 {
	if r.identity {
		if id < 0 || id >= int64(r.n) {
			return -1
		}
		return int32(id)
	}
	k, ok := slices.BinarySearch(r.sorted, id)
	if !ok {
		return -1
	}
	return r.perm[k]
}

// endpoints reads the node column name of table file, mapping ids to nodes.
func (r *parquetReader) endpoints(p *tabular.ParquetFile, file, name string, capacity int) ([]int32, error) {
	out := make([]int32, 0, capacity)
	err := p.Ints(name, func(row, v int64, null bool) error {
		if null {
			return r.colErr(file, name, row, "a null node id")
		}
		u := r.index(v)
		if u < 0 {
			return r.colErr(file, name, row, "node id %d is not in %s", v, ParquetNodes)
		}
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, formatErr(err)
	}
	return out, nil
}

func (r *parquetReader) edges() error {
	p, err := r.open(ParquetEdges)
	if err != nil {
		return err
	}
	defer p.Close()
	c := prealloc(p, filepath.Join(r.dir, ParquetEdges))
	src, err := r.endpoints(p, ParquetEdges, "src", c)
	if err != nil {
		return err
	}
	dst, err := r.endpoints(p, ParquetEdges, "dst", c)
	if err != nil {
		return err
	}
	if p.Has("weight") {
		err := p.Floats("weight", func(row int64, v float64, null bool) error {
			switch {
			case null || math.IsNaN(v) || math.IsInf(v, 0):
				return r.colErr(ParquetEdges, "weight", row, "weight %v, want a finite number", v)
			case v == 0:
				src[row] = dst[row] // no edge: a self-loop, which the graph drops
			}
			return nil
		})
		if err != nil {
			return formatErr(err)
		}
	}
	r.graph, err = graph.FromPairs(r.n, src, dst)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFormat, filepath.Join(r.dir, ParquetEdges), err)
	}
	return nil
}

// triples reads the sparse features of features.parquet.
func (r *parquetReader) triples() error {
	p, err := r.open(ParquetFeatures)
	if err != nil {
		if errors.Is(err, ErrMissing) {
			return fmt.Errorf("%w: %s has no features column and %s is absent: %w", ErrMissing, ParquetNodes, ParquetFeatures, err)
		}
		return err
	}
	defer p.Close()
	width := -1
	if s, ok := p.KeyValue(ParquetNumFeatures); ok {
		w, err := strconv.Atoi(s)
		if err != nil || w < 0 || w > math.MaxInt32 {
			return r.colErr(ParquetFeatures, "", -1, "key-value metadata %s = %q is not a width", ParquetNumFeatures, s)
		}
		width = w
	}
	// The rows first: counts per node, and whether the triples come in
	// node order (gnsr data synth writes them so), in which case their
	// columns and values are read straight into the CSR arrays.
	parts := &sparseParts{rows: r.n, indptr: make([]int, r.n+1)}
	var rowOf []int32
	inOrder, last := true, int32(0)
	nnz := 0
	capacity := prealloc(p, filepath.Join(r.dir, ParquetFeatures))
	err = p.Ints("row", func(row, v int64, null bool) error {
		u := int32(-1)
		if !null {
			u = r.index(v)
		}
		if u < 0 {
			return r.colErr(ParquetFeatures, "row", row, "node id %d is not in %s", v, ParquetNodes)
		}
		if inOrder && u < last {
			inOrder = false
			rowOf = make([]int32, nnz, max(capacity, nnz+1))
			// Rows so far were in order: rebuild their owners from counts.
			k := 0
			for i := 0; i <= int(last); i++ {
				for range parts.indptr[i+1] {
					rowOf[k] = int32(i)
					k++
				}
			}
		}
		if !inOrder {
			rowOf = append(rowOf, u)
		}
		last = u
		parts.indptr[u+1]++
		nnz++
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	for i := range r.n {
		parts.indptr[i+1] += parts.indptr[i]
	}
	parts.indices = make([]int32, 0, nnz)
	maxCol := int64(-1)
	err = p.Ints("col", func(row, v int64, null bool) error {
		hi := int64(math.MaxInt32 - 1)
		if width >= 0 {
			hi = int64(width) - 1
		}
		if null || v < 0 || v > hi {
			return r.colErr(ParquetFeatures, "col", row, "column %d is outside [0, %d]", v, hi)
		}
		maxCol = max(maxCol, v)
		parts.indices = append(parts.indices, int32(v))
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	parts.data = make([]float32, 0, nnz)
	err = p.Floats("value", func(row int64, v float64, null bool) error {
		if null || math.IsNaN(v) || math.IsInf(float64(float32(v)), 0) {
			return r.colErr(ParquetFeatures, "value", row, "value %v, want a finite float32", v)
		}
		parts.data = append(parts.data, float32(v))
		return nil
	})
	if err != nil {
		return formatErr(err)
	}
	if len(parts.indices) != nnz || len(parts.data) != nnz {
		return r.colErr(ParquetFeatures, "", -1, "%d rows, %d columns and %d values", nnz, len(parts.indices), len(parts.data))
	}
	if width < 0 {
		width = int(maxCol + 1)
	}
	parts.cols = width
	if err := checkWidth(width, r.n, nnz); err != nil {
		return r.colErr(ParquetFeatures, "col", -1, "%s: %v", ParquetNumFeatures, err)
	}
	if !inOrder {
		// A counting sort of the triples by node, stable so that repeats
		// keep file order.
		next := slices.Clone(parts.indptr[:r.n])
		idx, val := make([]int32, nnz), make([]float32, nnz)
		for k, u := range rowOf {
			idx[next[u]], val[next[u]] = parts.indices[k], parts.data[k]
			next[u]++
		}
		parts.indices, parts.data = idx, val
	}
	parts.sortRows()
	r.csr, err = parts.mergeRepeats()
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFormat, filepath.Join(r.dir, ParquetFeatures), err)
	}
	return nil
}
