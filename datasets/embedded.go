package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"path"
)

// embeddedFiles holds the original Planetoid files of Cora, CiteSeer and
// PubMed, each gzipped (gzip -9 -n), so that the first command works on a
// machine without network or data: 5 MB of a binary that trains on them.
// They are the one exception to keeping dataset files out of the
// repository.
//
//go:embed embedded/*.gz
var embeddedFiles embed.FS

// embeddedPrefix starts the path of an embedded file in messages and in
// NodeDataset.Files.
const embeddedPrefix = "embedded:"

// embeddedFile returns the contents of f from the binary's copy, checked
// against the registry's size and sha256. It returns an error wrapping
// ErrMissing if the binary holds no copy of f.
func embeddedFile(f FileSpec) ([]byte, error) {
	gz, err := embeddedFiles.ReadFile(path.Join("embedded", f.Name+".gz"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s%s: %w", ErrMissing, embeddedPrefix, f.Name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("%w: %s%s: %w", ErrFormat, embeddedPrefix, f.Name, err)
	}
	var buf bytes.Buffer
	buf.Grow(int(f.Size))
	if _, err := buf.ReadFrom(io.LimitReader(zr, f.Size+1)); err != nil {
		return nil, fmt.Errorf("%w: %s%s: %w", ErrFormat, embeddedPrefix, f.Name, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if int64(buf.Len()) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, fmt.Errorf("%w: %s%s: %d bytes, sha256 %x; want %d, %s", ErrChecksum, embeddedPrefix, f.Name, buf.Len(), sum, f.Size, f.SHA256)
	}
	return buf.Bytes(), nil
}

// loadEmbedded reads the dataset of e from the binary's copy.
func loadEmbedded(e *Entry) (*NodeDataset, error) {
	byName := make(map[string]FileSpec, len(e.Files))
	for _, f := range e.Files {
		byName[f.Name] = f
	}
	return readPlanetoid(e.Name, func(file string, _ int64) (string, []byte, error) {
		data, err := embeddedFile(byName[file])
		return embeddedPrefix + file, data, err
	})
}
