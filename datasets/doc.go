// Package datasets reads gnsr's benchmark datasets from their original files,
// and users' graphs from Parquet tables or OGB's raw layout; it finds the
// data root, and downloads and checks the files.
//
// # The registry
//
// The registry is the one place that knows datasets by name. Each Entry
// (Lookup, Known, KnownOf) is data: its Kind (node or image
// classification), Family, files with size, sha256 and download location,
// the loader of its family, and, for graphs, its evaluation Protocol: the
// feature transform (FeatureTransform), the split policy (SplitPolicy: the
// files' split, OGB's official one, a per-seed per-class split, or one of
// the file's several), the training settings (Hyper) and per-architecture
// Overrides, as PyG pairs a dataset with its transforms. Load and
// LoadImages read an entry; the loaded NodeDataset carries its Protocol,
// so that no code elsewhere tests a name.
//
// Data lives under a root directory, one folder a dataset, laid out
// <root>/<name>/raw/<original file names>. Root picks the root from a flag,
// else $GNSR_DATA, else the user cache directory. A Downloader fetches
// missing files and replaces damaged ones (checked against size and
// sha256), Verify checks those present, and Missing says what a load would
// need. Cora, CiteSeer and PubMed are compiled into the package (gzipped)
// and stand in when the root has none of their files. Load checks the size
// of each file present before parsing, so a truncated download is named as
// such.
//
// # Users' graphs
//
// LoadDir reads a graph from a directory: Parquet tables (LoadParquet) or
// OGB's raw layout of gzipped CSV (LoadOGB, which also reads ogbn-arxiv and
// ogbn-products once their zip is extracted by ExtractZip, which lets no
// member out of the dataset's folder). The readers of package tabular read
// them in bounded chunks. Node ids need not be 0..N-1 (NodeIDs keeps them);
// dense features stay dense (DenseFeatures). WriteSynthetic writes a
// synthetic graph with a learnable signal in either layout (gnsr data synth).
//
// A NodeDataset holds its graph as a graph.Graph (built by graph.FromPairs
// from two int32 slices), never as an edge list.
//
// Load and LoadPlanetoid read Cora, CiteSeer and PubMed from the Planetoid
// files (Python 2 pickles of scipy and numpy objects) and assemble them
// exactly as the usual Kipf & Welling loader does, public split included.
// LoadAmazon reads Amazon Computers and Photo from the gnn-benchmark npz
// files (a strict npy/zip reader: no pickles, sizes checked before
// allocation), with RandomSplit giving the benchmark's per-seed split (20
// training and 30 validation nodes a class). LoadWikiCS reads WikiCS's
// data.json with bounded streaming decoding and picks one of its 20 splits.
// Stats summarises a dataset for a quick check against its published
// statistics.
//
// # Images
//
// LoadMNIST reads MNIST from its gzipped IDX files. LoadCIFAR10 reads
// CIFAR-10 from the canonical binary archive cifar-10-binary.tar.gz, and
// LoadCIFAR10JPEG from cifar10-jpeg.tar.gz, a tree of 32×32 JPEGs (whose
// pixels differ slightly from the canonical ones); both stream the gzipped
// tar without extracting it, check every member's size before reading it,
// and give Images of 3×32×32 planes with the class names. Decoding the
// 60,000 JPEGs takes seconds, so LoadCIFAR10JPEG keeps a binary cache of the
// result, tied to the archive's sha256 and checksummed, under
// <root>/cifar10-jpeg/cache; LoadCIFAR10JPEGWith puts it elsewhere (for a
// read-only data root) or turns it off. An invalid or stale cache is
// ignored and rewritten, never trusted.
//
// An Augmenter turns images into batches of normalised float32 values, with
// the usual CIFAR training augmentation (random crop of the image padded by
// 4 pixels, horizontal flip) drawn from a generator the caller seeds;
// CIFAR10Normalization gives the standard per-channel statistics and
// ComputeNormalization computes them for any training set.
//
// # Reading pickles safely
//
// A pickle is a program for a stack machine that may call any Python
// callable it names. This package never executes anything: before decoding,
// it checks the whole opcode stream, accepting only the opcodes of protocols
// 0 to 3 without persistent ids, extensions or text strings, only the classes
// a Planetoid file uses (scipy.sparse.csr.csr_matrix,
// numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype,
// collections.defaultdict and __builtin__.list), length fields that fit in
// the file, and a balanced stack. Those classes are
// mapped to small Go types of this package; any other class is an error
// naming it and the file. Array sizes are checked against the bytes present
// before anything is allocated, so a corrupt or hostile file gives an error
// and never a panic or an outsized allocation.
//
// # Files that lie
//
// Every loader checks declared sizes against the data present before
// allocating: array shapes against their bytes, counts against what a file
// can hold (gzip expands at most 1032 times), and feature widths against the
// stored entries. A width beyond entries + rows, which no entry uses but
// every model would pay for in weights, is refused: a Planetoid shape
// patched to 10^8 columns, or an npz attr_shape of 2·10^9, is an error
// naming the file and the field.
//
// Errors start with "datasets:", name the file involved, and wrap one of the
// package's sentinel errors (ErrFormat, ErrChecksum, ...) or the underlying
// I/O error, for use with errors.Is.
package datasets
