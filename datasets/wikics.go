package datasets

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gnsr/gnsr/graph"
	"github.com/gnsr/gnsr/sparse"
)

// WikiCSSplits is the number of training/validation splits in the WikiCS
// file; LoadWikiCS takes a split index in [0, WikiCSSplits).
const WikiCSSplits = 20

// Limits on what a WikiCS file may ask of the reader. The real file (82.5 MB,
// 11,701 nodes of 300 features, 20 splits) stays far below them; they bound
// the memory and time a corrupt or hostile file can take.
const (
	maxWikiCSBytes    = 512 << 20
	maxWikiCSNodes    = 1 << 24
	maxWikiCSFeatures = 1 << 16
	maxWikiCSMasks    = 1 << 10
	maxWikiCSLinks    = 1 << 28
	maxJSONDepth      = 64 // nesting of values skipped under unknown keys
)

// LoadWikiCS reads WikiCS from <root>/wikics/raw/data.json, the file of
// github.com/pmernyei/wiki-cs-dataset, with training and validation sets
// from split (in [0, WikiCSSplits)), as PyTorch Geometric's WikiCS dataset
// does:
//
//   - the features are the dense "features" rows as float32 (each value
//     rounded from float64, as torch.tensor does), stored as CSR without
//     their zeros;
//   - the labels are "labels", and NumClasses is the largest label plus one;
//   - the edges are the "links" adjacency lists, symmetrised, without
//     self-loops and duplicates;
//   - Split.Train and Split.Val are the nodes set in train_masks[split] and
//     val_masks[split], and Split.Test those set in test_mask. The early
//     stopping masks (stopping_masks) are checked but not used.
//
// Masks hold JSON booleans (0 and 1 are accepted too). Keys other than
// these are skipped. The file is decoded as a token stream without building
// it in memory, and its size, node count, feature count and nesting are
// bounded, so a corrupt or hostile file gives an error and never a panic or
// an outsized allocation. A missing file gives an error wrapping
// ErrMissing; a malformed one an error wrapping ErrFormat that names the
// file and the field.
func LoadWikiCS(root string, split int) (*NodeDataset, error) {
	if split < 0 || split >= WikiCSSplits {
		return nil, fmt.Errorf("datasets: WikiCS split %d is out of range [0, %d)", split, WikiCSSplits)
	}
	path := filepath.Join(root, "wikics", "raw", "data.json")
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missingFile(path, "wikics", err)
		}
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	if st.Size() > maxWikiCSBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the limit of %d", ErrFormat, path, st.Size(), maxWikiCSBytes)
	}
	// The limit holds should the file grow while it is read.
	ds, err := readWikiCS(path, bufio.NewReaderSize(io.LimitReader(f, maxWikiCSBytes), 1<<16), split)
	if err != nil {
		return nil, err
	}
	ds.Name, ds.Protocol = "wikics", wikicsProtocol
	ds.Files = []string{path}
	return ds, nil
}

// wikiCS holds what the decoder has read so far.
type wikiCS struct {
	dec   *json.Decoder
	file  string
	split int
	seen  map[string]bool

	rows, cols   int // features: rows read, values per row (-1 until known)
	indptr       []int
	indices      []int32
	data         []float32
	labels       []int
	linkPtr      []int // links of node u are linkTo[linkPtr[u]:linkPtr[u+1]]
	linkTo       []int32
	maskLens     map[string][]int // field → length of each mask
	trains, vals [][]int          // the nodes of each training and validation mask
	tst          []bool
}

// readWikiCS decodes a WikiCS data.json from r. file is used in error
// messages only.
func readWikiCS(file string, r io.Reader, split int) (*NodeDataset, error) {
	w := &wikiCS{dec: json.NewDecoder(r), file: file, split: split, seen: map[string]bool{}, cols: -1,
		maskLens: map[string][]int{}}
	w.dec.UseNumber()
	if err := w.top(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, file, err)
	}
	return w.assemble()
}

func (w *wikiCS) bad(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s: "+format, append([]any{ErrFormat, w.file, field}, args...)...)
}

// token returns the next token, with the offset in syntax errors.
func (w *wikiCS) token() (json.Token, error) {
	t, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("offset %d: %w", w.dec.InputOffset(), err)
	}
	return t, nil
}

// open consumes the opening delimiter d.
func (w *wikiCS) open(field string, d json.Delim) error {
	t, err := w.token()
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if t != d {
		return fmt.Errorf("%s: want %v, have %v", field, d, t)
	}
	return nil
}

// list calls item for each element of a JSON array, with its index, and
// consumes the closing bracket.
func (w *wikiCS) list(field string, limit int, item func(i int) error) (int, error) {
	if err := w.open(field, '['); err != nil {
		return 0, err
	}
	n := 0
	for ; w.dec.More(); n++ {
		if n >= limit {
			return 0, fmt.Errorf("%s: more than %d entries", field, limit)
		}
		if err := item(n); err != nil {
			return 0, err
		}
	}
	if _, err := w.token(); err != nil { // the closing ] (Token checks the syntax)
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	return n, nil
}

// number returns the next token, which must be a number.
func (w *wikiCS) number(field string, i int) (json.Number, error) {
	t, err := w.token()
	if err != nil {
		return "", fmt.Errorf("%s[%d]: %w", field, i, err)
	}
	n, ok := t.(json.Number)
	if !ok {
		return "", fmt.Errorf("%s[%d]: want a number, have %v", field, i, t)
	}
	return n, nil
}

// integer returns the next token, which must be an integer in [lo, hi].
func (w *wikiCS) integer(field string, i int, lo, hi int64) (int64, error) {
	n, err := w.number(field, i)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s[%d] = %s is not an integer in [%d, %d]", field, i, n, lo, hi)
	}
	return v, nil
}

// top decodes the top-level object.
func (w *wikiCS) top() error {
	if err := w.open("the top level", '{'); err != nil {
		return err
	}
	for w.dec.More() {
		t, err := w.token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return fmt.Errorf("offset %d: want a key, have %v", w.dec.InputOffset(), t)
		}
		if w.seen[key] {
			return fmt.Errorf("key %q appears twice", key)
		}
		w.seen[key] = true
		switch key {
		case "features":
			err = w.features()
		case "labels":
			_, err = w.list("labels", maxWikiCSNodes, func(i int) error {
				v, err := w.integer("labels", i, 0, maxClasses-1)
				w.labels = append(w.labels, int(v))
				return err
			})
		case "links":
			err = w.links()
		case "train_masks", "val_masks", "stopping_masks":
			err = w.masks(key)
		case "test_mask":
			var n int
			w.tst, n, err = w.mask("test_mask", true)
			w.maskLens[key] = []int{n}
		default:
			err = w.skip(key)
		}
		if err != nil {
			return err
		}
	}
	if _, err := w.token(); err != nil { // the closing }
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return fmt.Errorf("offset %d: data after the top-level object", w.dec.InputOffset())
	}
	for _, k := range []string{"features", "labels", "links", "train_masks", "val_masks", "test_mask"} {
		if !w.seen[k] {
			return fmt.Errorf("no %q key", k)
		}
	}
	return nil
}

func (w *wikiCS) features() error {
	w.indptr = append(w.indptr[:0], 0)
	var err error
	w.rows, err = w.list("features", maxWikiCSNodes, func(i int) error {
		field := "features[" + strconv.Itoa(i) + "]"
		n, err := w.list(field, maxWikiCSFeatures, func(j int) error {
			num, err := w.number(field, j)
			if err != nil {
				return err
			}
			v, err := strconv.ParseFloat(string(num), 64)
			if err != nil || math.IsInf(float64(float32(v)), 0) {
				return fmt.Errorf("%s[%d] = %s is not a float32", field, j, num)
			}
			if v != 0 {
				w.indices = append(w.indices, int32(j))
				w.data = append(w.data, float32(v))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if w.cols < 0 {
			w.cols = n
		} else if n != w.cols {
			return fmt.Errorf("%s has %d values, want %d as features[0]", field, n, w.cols)
		}
		w.indptr = append(w.indptr, len(w.data))
		return nil
	})
	return err
}

func (w *wikiCS) links() error {
	w.linkPtr = append(w.linkPtr[:0], 0)
	_, err := w.list("links", maxWikiCSNodes, func(i int) error {
		field := "links[" + strconv.Itoa(i) + "]"
		_, err := w.list(field, maxWikiCSLinks, func(j int) error {
			if len(w.linkTo) >= maxWikiCSLinks {
				return fmt.Errorf("links: more than %d in all", maxWikiCSLinks)
			}
			v, err := w.integer(field, j, 0, maxWikiCSNodes-1)
			w.linkTo = append(w.linkTo, int32(v))
			return err
		})
		w.linkPtr = append(w.linkPtr, len(w.linkTo))
		return err
	})
	return err
}

// masks decodes a list of masks, keeping the nodes of each training and
// validation mask.
func (w *wikiCS) masks(key string) error {
	var lens []int
	_, err := w.list(key, maxWikiCSMasks, func(i int) error {
		keep := key != "stopping_masks"
		m, n, err := w.mask(key+"["+strconv.Itoa(i)+"]", keep)
		if err != nil {
			return err
		}
		lens = append(lens, n)
		switch {
		case key == "train_masks":
			w.trains = append(w.trains, setNodes(m))
		case key == "val_masks":
			w.vals = append(w.vals, setNodes(m))
		}
		return nil
	})
	w.maskLens[key] = lens
	return err
}

// mask decodes one mask of booleans (or 0 and 1) and returns its length,
// and its values if keep is set: only the masks used cost memory.
func (w *wikiCS) mask(field string, keep bool) ([]bool, int, error) {
	var m []bool
	n, err := w.list(field, maxWikiCSNodes, func(j int) error {
		t, err := w.token()
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", field, j, err)
		}
		var v bool
		switch x := t.(type) {
		case bool:
			v = x
		case json.Number:
			if x != "0" && x != "1" {
				return fmt.Errorf("%s[%d] = %s, want a boolean", field, j, x)
			}
			v = x == "1"
		default:
			return fmt.Errorf("%s[%d] = %v, want a boolean", field, j, t)
		}
		if keep {
			m = append(m, v)
		}
		return nil
	})
	return m, n, err
}

// skip consumes one value of any shape under an unknown key.
func (w *wikiCS) skip(key string) error {
	depth := 0
	for {
		t, err := w.token()
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("%s: nested deeper than %d", key, maxJSONDepth)
			}
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// assemble checks that the fields agree and builds the dataset.
func (w *wikiCS) assemble() (*NodeDataset, error) {
	n := w.rows
	if n == 0 {
		return nil, w.bad("features", "no nodes")
	}
	if len(w.labels) != n {
		return nil, w.bad("labels", "%d labels for %d nodes (rows of features)", len(w.labels), n)
	}
	if got := len(w.linkPtr) - 1; got != n {
		return nil, w.bad("links", "%d adjacency lists for %d nodes", got, n)
	}
	for _, key := range []string{"train_masks", "val_masks", "stopping_masks", "test_mask"} {
		lens, ok := w.maskLens[key]
		if !ok {
			continue // stopping_masks is optional
		}
		if key != "test_mask" && key != "stopping_masks" && w.split >= len(lens) {
			return nil, w.bad(key, "split %d is out of range: the file has %d masks", w.split, len(lens))
		}
		for i, l := range lens {
			if l != n {
				field := key
				if key != "test_mask" {
					field += "[" + strconv.Itoa(i) + "]"
				}
				return nil, w.bad(field, "%d entries for %d nodes", l, n)
			}
		}
	}
	if len(w.trains) != len(w.vals) {
		return nil, w.bad("val_masks", "%d masks for %d training masks", len(w.vals), len(w.trains))
	}
	src := make([]int32, len(w.linkTo))
	for u := 0; u < n; u++ {
		for k := w.linkPtr[u]; k < w.linkPtr[u+1]; k++ {
			if b := w.linkTo[k]; int(b) >= n {
				return nil, w.bad(fmt.Sprintf("links[%d][%d]", u, k-w.linkPtr[u]), "node %d does not exist (%d nodes)", b, n)
			}
			src[k] = int32(u)
		}
	}
	g, err := graph.FromPairs(n, src, w.linkTo)
	if err != nil {
		return nil, w.bad("links", "%w", err)
	}
	feats, err := sparse.NewCSR(n, w.cols, w.indptr, w.indices, w.data)
	if err != nil {
		return nil, w.bad("features", "%w", err)
	}
	classes := 0
	for _, l := range w.labels {
		classes = max(classes, l+1)
	}
	test := setNodes(w.tst)
	splits := make([]Split, len(w.trains))
	for k := range splits {
		splits[k] = Split{Train: w.trains[k], Val: w.vals[k], Test: test}
	}
	return &NodeDataset{
		Features:   feats,
		Labels:     w.labels,
		NumClasses: classes,
		Graph:      g,
		Split:      splits[w.split],
		Splits:     splits,
	}, nil
}

// setNodes returns the nodes set in a mask, in increasing order.
func setNodes(m []bool) []int {
	var nodes []int
	for i, v := range m {
		if v {
			nodes = append(nodes, i)
		}
	}
	return nodes
}
