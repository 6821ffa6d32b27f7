package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go"
)

// SynthConfig describes a synthetic node-classification graph, the analogue
// of PyG's FakeDataset with a signal to learn: edges that join nodes of one
// class with probability Homophily, and features that concentrate in a
// block of columns of the node's class.
type SynthConfig struct {
	Nodes     int     // at least 2, at most graph.MaxNodes
	AvgDegree float64 // mean number of neighbours; Nodes·AvgDegree/2 edges are drawn
	Classes   int     // at least 2
	Features  int     // feature columns
	// NNZPerRow is the number of non-zero features a node has (a binary
	// bag of words, a quarter of it in the class's block); ignored with Dense.
	NNZPerRow int
	// Dense gives every node Features float values: 1 on the class's block
	// and 0 elsewhere, plus standard normal noise.
	Dense bool
	// Homophily is the probability that an edge joins two nodes of the
	// same class (else both ends are uniform), in [0, 1].
	Homophily float64
	// Train and Val are the fractions of nodes in the training and
	// validation sets; the rest are for testing.
	Train, Val float64
	Seed       uint64
	// Format is "ogb" (OGB's raw layout of gzipped CSV files) or
	// "parquet" (nodes.parquet, edges.parquet and, for sparse features,
	// features.parquet).
	Format string
}

// Validate reports the first field of c that is out of range, naming it as
// gnsr data synth's flag.
func (c SynthConfig) Validate() error {
	switch {
	case c.Nodes < 2 || c.Nodes > math.MaxInt32:
		return fmt.Errorf("--nodes = %d, need 2 to %d", c.Nodes, math.MaxInt32)
	case !(c.AvgDegree >= 0) || c.AvgDegree > float64(c.Nodes-1):
		return fmt.Errorf("--avg-degree = %v, need 0 to nodes-1 (%d)", c.AvgDegree, c.Nodes-1)
	case float64(c.Nodes)*c.AvgDegree/2 > math.MaxInt32*8:
		return fmt.Errorf("--avg-degree = %v: too many edges", c.AvgDegree)
	case c.Classes < 2 || c.Classes > maxClasses || c.Classes > c.Nodes:
		return fmt.Errorf("--classes = %d, need 2 to min(nodes, %d)", c.Classes, maxClasses)
	case c.Features < 1 || c.Features > maxCSVWidth:
		return fmt.Errorf("--features = %d, need 1 to %d", c.Features, maxCSVWidth)
	case !c.Dense && (c.NNZPerRow < 1 || c.NNZPerRow > c.Features):
		return fmt.Errorf("--nnz-per-row = %d, need 1 to --features (%d), or --dense", c.NNZPerRow, c.Features)
	case c.Dense && int64(c.Nodes)*int64(c.Features) > math.MaxInt32*8:
		return fmt.Errorf("--dense: %d nodes × %d features is too many values", c.Nodes, c.Features)
	case !(c.Homophily >= 0 && c.Homophily <= 1):
		return fmt.Errorf("--homophily = %v, need 0 to 1", c.Homophily)
	case !(c.Train > 0 && c.Val > 0 && c.Train+c.Val < 1):
		return fmt.Errorf("--train = %v and --val = %v: need positive fractions summing to less than 1", c.Train, c.Val)
	case int(c.Train*float64(c.Nodes)) < 1 || int(c.Val*float64(c.Nodes)) < 1 || c.Nodes-int(c.Train*float64(c.Nodes))-int(c.Val*float64(c.Nodes)) < 1:
		return fmt.Errorf("--train = %v and --val = %v leave a set of %d nodes empty", c.Train, c.Val, c.Nodes)
	case c.Format != "ogb" && c.Format != "parquet":
		return fmt.Errorf("--format = %q, need ogb or parquet", c.Format)
	}
	return nil
}

// The streams of the generator: each part draws from its own PCG stream,
// so that changing one setting (the features, say) leaves the others' draws
// as they were.
const (
	streamLabels   = 0x67_6e_73_72_6c_61_62_6c // "gnsrlabl"
	streamEdges    = 0x67_6e_73_72_65_64_67_65 // "gnsredge"
	streamFeatures = 0x67_6e_73_72_66_65_61_74 // "gnsrfeat"
	streamSplit    = 0x67_6e_73_72_73_70_6c_69 // "gnsrspli"
)

// synth is the state of one generation.
type synth struct {
	c       SynthConfig
	labels  []uint16
	members []int32 // nodes by class
	start   []int   // class k's nodes are members[start[k]:start[k+1]]
	edges   int
	split   []uint8 // 0 train, 1 val, 2 test
}

// WriteSynthetic writes the graph c describes into the directory dir, which
// must not exist: the files are written into a temporary directory beside
// it, renamed to dir once complete. The same c always gives the same files.
// It returns the number of edges drawn.
func WriteSynthetic(dir string, c SynthConfig) (edges int, err error) {
	if err := c.Validate(); err != nil {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		return 0, fmt.Errorf("datasets: %s already exists: give a new directory", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	s := newSynth(c)
	if c.Format == "ogb" {
		err = s.writeOGB(tmp)
	} else {
		err = s.writeParquet(tmp)
	}
	if err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return 0, fmt.Errorf("datasets: %w", err)
	}
	return s.edges, nil
}

func newSynth(c SynthConfig) *synth {
	s := &synth{c: c, labels: make([]uint16, c.Nodes), start: make([]int, c.Classes+1)}
	rng := rand.NewPCG(c.Seed, streamLabels)
	for i := range s.labels {
		s.labels[i] = uint16(uniform(rng, uint64(c.Classes)))
		s.start[s.labels[i]+1]++
	}
	for k := range c.Classes {
		s.start[k+1] += s.start[k]
	}
	s.members = make([]int32, c.Nodes)
	next := append([]int(nil), s.start[:c.Classes]...)
	for i, l := range s.labels {
		s.members[next[l]] = int32(i)
		next[l]++
	}
	s.edges = int(math.Round(float64(c.Nodes) * c.AvgDegree / 2))
	// The split: a shuffle of the nodes, cut by the fractions.
	order := make([]int32, c.Nodes)
	for i := range order {
		order[i] = int32(i)
	}
	rng = rand.NewPCG(c.Seed, streamSplit)
	for i := len(order) - 1; i > 0; i-- {
		j := uniform(rng, uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	s.split = make([]uint8, c.Nodes)
	nTrain, nVal := int(c.Train*float64(c.Nodes)), int(c.Val*float64(c.Nodes))
	for k, i := range order {
		switch {
		case k < nTrain:
			s.split[i] = 0
		case k < nTrain+nVal:
			s.split[i] = 1
		default:
			s.split[i] = 2
		}
	}
	return s
}

// eachEdge calls f with each drawn edge in order.
func (s *synth) eachEdge(f func(u, v int32) error) error {
	rng := rand.NewPCG(s.c.Seed, streamEdges)
	n := uint64(s.c.Nodes)
	hom := uint64(s.c.Homophily * (1 << 53))
	for range s.edges {
		u := int32(uniform(rng, n))
		l := s.labels[u]
		same := rng.Uint64()>>11 < hom
		var v int32
		for v = u; v == u; {
			if size := s.start[l+1] - s.start[l]; same && size > 1 {
				v = s.members[s.start[l]+int(uniform(rng, uint64(size)))]
			} else {
				v = int32(uniform(rng, n))
			}
		}
		if err := f(u, v); err != nil {
			return err
		}
	}
	return nil
}

// features fills row (len Features) with node i's features, drawn from rng
// in node order; cols receives the sorted non-zero columns of a sparse row.
func (s *synth) features(rng *rand.PCG, i int, row []float32, cols []int32) []int32 {
	c := s.c
	block := max(1, c.Features/c.Classes)
	lo := (int(s.labels[i]) * block) % c.Features
	if c.Dense {
		for j := range row {
			mean := 0.0
			if j >= lo && j < lo+block {
				mean = 1
			}
			row[j] = float32(mean + normal(rng))
		}
		return nil
	}
	clear(row)
	cols = cols[:0]
	// A quarter of the non-zeros in the class's block (distinct draws from the
	// block, which holds enough), the rest anywhere.
	width := min(block, c.Features-lo)
	inBlock := min(c.NNZPerRow/4, width)
	for len(cols) < c.NNZPerRow {
		j := int(uniform(rng, uint64(c.Features)))
		if len(cols) < inBlock {
			j = lo + int(uniform(rng, uint64(width)))
		}
		if row[j] == 0 {
			row[j] = 1
			cols = append(cols, int32(j))
		}
	}
	slices.Sort(cols)
	return cols
}

// normal returns a standard normal draw (Box–Muller on rng's own output, so
// that the value does not depend on the standard library's algorithms).
func normal(rng *rand.PCG) float64 {
	u1 := (float64(rng.Uint64()>>11) + 0.5) / (1 << 53)
	u2 := float64(rng.Uint64()>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// gzWriter is a buffered gzip file.
type gzWriter struct {
	f  *os.File
	zw *gzip.Writer
	*bufio.Writer
}

func createGz(path string) (*gzWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	return &gzWriter{f: f, zw: zw, Writer: bufio.NewWriterSize(zw, 1<<20)}, nil
}

func (w *gzWriter) Close() error {
	err := w.Flush()
	if e := w.zw.Close(); err == nil {
		err = e
	}
	if e := w.f.Sync(); err == nil {
		err = e
	}
	if e := w.f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("datasets: writing %s: %w", w.f.Name(), err)
	}
	return nil
}

// writeGz writes the gzipped file path with fill's lines.
func writeGz(path string, fill func(w *bufio.Writer) error) error {
	w, err := createGz(path)
	if err != nil {
		return err
	}
	if err := fill(w.Writer); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func (s *synth) writeOGB(dir string) error {
	c := s.c
	p := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	lines := func(path string, vals ...int) error {
		return writeGz(path, func(w *bufio.Writer) error {
			for _, v := range vals {
				w.WriteString(strconv.Itoa(v))
				w.WriteByte('\n')
			}
			return nil
		})
	}
	if err := lines(p(ogbNumNodes), c.Nodes); err != nil {
		return err
	}
	if err := lines(p(ogbNumEdges), s.edges); err != nil {
		return err
	}
	err := writeGz(p(ogbEdges), func(w *bufio.Writer) error {
		var b []byte
		return s.eachEdge(func(u, v int32) error {
			b = strconv.AppendInt(b[:0], int64(u), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(v), 10)
			b = append(b, '\n')
			_, err := w.Write(b)
			return err
		})
	})
	if err != nil {
		return err
	}
	err = writeGz(p(ogbLabels), func(w *bufio.Writer) error {
		for _, l := range s.labels {
			w.WriteString(strconv.Itoa(int(l)))
			w.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = writeGz(p(ogbFeatures), func(w *bufio.Writer) error {
		rng := rand.NewPCG(c.Seed, streamFeatures)
		row, cols := make([]float32, c.Features), make([]int32, 0, c.NNZPerRow)
		var b []byte
		for i := range c.Nodes {
			s.features(rng, i, row, cols)
			b = b[:0]
			for j, v := range row {
				if j > 0 {
					b = append(b, ',')
				}
				if v == 0 {
					b = append(b, '0')
				} else {
					b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
				}
			}
			b = append(b, '\n')
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for set, file := range ogbSplitFiles {
		err := writeGz(p("split/random/"+file), func(w *bufio.Writer) error {
			for i, sp := range s.split {
				if int(sp) == set {
					w.WriteString(strconv.Itoa(i))
					w.WriteByte('\n')
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// The rows of the Parquet tables gnsr data synth writes.
type (
	synthNode struct {
		ID    int64  `parquet:"id"`
		Label int64  `parquet:"label"`
		Split string `parquet:"split,dict"`
	}
	synthDenseNode struct {
		ID       int64     `parquet:"id"`
		Label    int64     `parquet:"label"`
		Split    string    `parquet:"split,dict"`
		Features []float32 `parquet:"features,list"`
	}
	synthEdge struct {
		Src int64 `parquet:"src"`
		Dst int64 `parquet:"dst"`
	}
	synthTriple struct {
		Row   int64   `parquet:"row"`
		Col   int32   `parquet:"col"`
		Value float32 `parquet:"value"`
	}
)

var splitNames = [3]string{"train", "val", "test"}

// writeTable writes a Parquet file of rows of type T, in row groups of at
// most groupRows rows, from fill, which calls add for each row.
func writeTable[T any](path string, groupRows int64, fill func(add func(T) error) error, opts ...parquet.WriterOption) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	opts = append(opts, parquet.MaxRowsPerRowGroup(groupRows), parquet.Compression(&parquet.Snappy))
	w := parquet.NewGenericWriter[T](f, opts...)
	buf := make([]T, 0, 4096)
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	err = fill(func(r T) error {
		if buf = append(buf, r); len(buf) == cap(buf) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if e := w.Close(); err == nil {
		err = e
	}
	if e := f.Sync(); err == nil {
		err = e
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("datasets: writing %s: %w", path, err)
	}
	return nil
}

func (s *synth) writeParquet(dir string) error {
	c := s.c
	rng := rand.NewPCG(c.Seed, streamFeatures)
	row, cols := make([]float32, c.Features), make([]int32, 0, c.NNZPerRow)
	var err error
	if c.Dense {
		// Row groups of at most 64 MB of features, which the writer buffers.
		group := max(1, int64(16<<20)/int64(c.Features))
		err = writeTable(filepath.Join(dir, ParquetNodes), group, func(add func(synthDenseNode) error) error {
			for i := range c.Nodes {
				s.features(rng, i, row, nil)
				if err := add(synthDenseNode{ID: int64(i), Label: int64(s.labels[i]), Split: splitNames[s.split[i]], Features: slices.Clone(row)}); err != nil {
					return err
				}
			}
			return nil
		})
	} else {
		err = writeTable(filepath.Join(dir, ParquetNodes), 1<<20, func(add func(synthNode) error) error {
			for i := range c.Nodes {
				if err := add(synthNode{ID: int64(i), Label: int64(s.labels[i]), Split: splitNames[s.split[i]]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = writeTable(filepath.Join(dir, ParquetFeatures), 1<<20, func(add func(synthTriple) error) error {
				for i := range c.Nodes {
					for _, j := range s.features(rng, i, row, cols) {
						if err := add(synthTriple{Row: int64(i), Col: j, Value: row[j]}); err != nil {
							return err
						}
					}
				}
				return nil
			}, parquet.KeyValueMetadata(ParquetNumFeatures, strconv.Itoa(c.Features)))
		}
	}
	if err != nil {
		return err
	}
	return writeTable(filepath.Join(dir, ParquetEdges), 1<<20, func(add func(synthEdge) error) error {
		return s.eachEdge(func(u, v int32) error { return add(synthEdge{Src: int64(u), Dst: int64(v)}) })
	})
}
