package datasets

import (
	"fmt"
	"unsafe"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// Split is a partition of node ids into training, validation and test sets.
type Split struct{ Train, Val, Test []int }

// NodeDataset is a node-classification dataset on one graph.
type NodeDataset struct {
	Name string
	// Features is the N×F feature matrix as stored in the files (no
	// normalisation; the protocol says what to apply), with sorted column
	// indices in each row. Exactly one of Features and Dense is set.
	Features *sparse.CSR
	// Dense holds features stored densely (OGB's float vectors), kept
	// dense so that they cost 4 bytes a value rather than CSR's 8.
	Dense *DenseFeatures
	// Labels holds each node's class in [0, NumClasses), or -1 for a node
	// without a label (CiteSeer's isolated test-range nodes).
	Labels     []int
	NumClasses int
	// Graph is the undirected graph, without self-loops or repeated edges.
	Graph *graph.Graph
	// Split is the dataset's split: its public or official one, or the
	// split of seed 0 where the protocol draws one per seed.
	Split Split
	// Splits holds every split of a file that has several (WikiCS's 20);
	// Split is Splits[0]. Nil otherwise.
	Splits []Split
	// ClassNames names the classes; nil if the files do not.
	ClassNames []string
	// NodeIDs holds the identifiers of a user graph's nodes as its files
	// give them: node i is NodeIDs[i]. Nil when the ids are 0..N-1.
	NodeIDs []int64
	// Protocol is the evaluation protocol of the dataset, from its
	// registry entry (UserProtocol for graphs read by LoadDir).
	Protocol Protocol
	// Files lists the paths of the files read.
	Files []string
}

// NumFeatures returns the number of feature columns.
func (ds *NodeDataset) NumFeatures() int {
	switch {
	case ds.Features != nil:
		return ds.Features.Cols
	case ds.Dense != nil:
		return ds.Dense.Cols
	}
	return 0
}

// Bytes returns the memory the dataset's graph, features, labels and splits
// take, as a loader allocates them.
func (ds *NodeDataset) Bytes() int64 {
	const word = int64(unsafe.Sizeof(int(0)))
	var b int64
	if ds.Graph != nil {
		b += ds.Graph.Bytes()
	}
	if f := ds.Features; f != nil {
		b += int64(len(f.Indptr))*word + int64(len(f.Indices))*4 + int64(len(f.Data))*4
	}
	if ds.Dense != nil {
		b += int64(len(ds.Dense.Data)) * 4
	}
	b += int64(len(ds.Labels)) * word
	b += int64(len(ds.NodeIDs)) * 8
	for _, s := range append([]Split{ds.Split}, ds.Splits...) {
		b += int64(len(s.Train)+len(s.Val)+len(s.Test)) * word
	}
	return b
}

// PinSplit makes the k-th of the file's splits the one used for every seed:
// Split becomes Splits[k] and the protocol's split policy FixedSplit. It
// returns an error if the dataset has no split k.
func (ds *NodeDataset) PinSplit(k int) error {
	if k < 0 || k >= len(ds.Splits) {
		return fmt.Errorf("datasets: %s has %d splits; split %d does not exist", ds.Name, len(ds.Splits), k)
	}
	ds.Split = ds.Splits[k]
	ds.Protocol.Split = SplitPolicy{Kind: FixedSplit}
	return nil
}

// DenseFeatures is a row-major matrix of float32 features.
type DenseFeatures struct {
	Rows, Cols int
	Data       []float32 // len Rows·Cols; row i is Data[i·Cols:(i+1)·Cols]
}

// Row returns row i, sharing Data's memory. Row panics if i is out of range.
func (d *DenseFeatures) Row(i int) []float32 {
	if i < 0 || i >= d.Rows {
		panic("datasets: DenseFeatures row out of range")
	}
	return d.Data[i*d.Cols : (i+1)*d.Cols : (i+1)*d.Cols]
}

// NNZ returns the number of non-zero values.
func (d *DenseFeatures) NNZ() int {
	n := 0
	for _, v := range d.Data {
		if v != 0 {
			n++
		}
	}
	return n
}

// CSR returns the matrix as CSR without its zeros.
func (d *DenseFeatures) CSR() *sparse.CSR {
	nnz := d.NNZ()
	m := &sparse.CSR{Rows: d.Rows, Cols: d.Cols, Indptr: make([]int, d.Rows+1),
		Indices: make([]int32, 0, nnz), Data: make([]float32, 0, nnz)}
	for i := range d.Rows {
		for j, v := range d.Data[i*d.Cols : (i+1)*d.Cols] {
			if v != 0 {
				m.Indices = append(m.Indices, int32(j))
				m.Data = append(m.Data, v)
			}
		}
		m.Indptr[i+1] = len(m.Indices)
	}
	return m
}
