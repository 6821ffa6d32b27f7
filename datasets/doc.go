// Package datasets reads gnsr's benchmark datasets from their original files,
// finds the data root, and downloads and checks the files.
//
// Data lives under a root directory, one folder a dataset, laid out
// <root>/<name>/raw/<original file names>. Root picks the root from a flag,
// else $GNSR_DATA, else the user cache directory. Known lists the datasets
// the package knows about and Files gives their files with size, sha256 and
// download location; a Downloader fetches missing files and Verify checks
// those present.
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
// Errors start with "datasets:", name the file involved, and wrap one of the
// package's sentinel errors (ErrFormat, ErrChecksum, ...) or the underlying
// I/O error, for use with errors.Is.
package datasets
