package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/internal/atomicfile"
)

// Downloader fetches dataset files from their download locations. The zero
// value is ready to use.
type Downloader struct {
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
	// URL, if not nil, gives the location to fetch a file of a dataset
	// from in place of f.URL, for mirrors and tests.
	URL func(dataset string, f FileSpec) string
	// Progress, if not nil, is called as a file arrives with the bytes
	// received so far and the expected total (0 if unknown). It is called
	// from the goroutine that called Download.
	Progress func(file string, done, total int64)
}

// Download fetches each file of the named dataset that is missing from
// <root>/<name>/raw, creating the directory if needed. Files already present
// are left alone; Verify checks them.
//
// Each file is streamed to a temporary file in the same directory while
// being hashed, and renamed into place only once its size and sha256 match
// the expected ones and it has been synced to disk. On any failure (an HTTP
// error, a short body, a wrong size or hash, a cancelled ctx) the temporary
// file is removed, no file is left under the final name, and the error names
// the file; a mismatch wraps ErrChecksum and gives the expected and received
// sha256. Download stops at the first failure.
func (d *Downloader) Download(ctx context.Context, root, name string) error {
	spec, err := lookup(name)
	if err != nil {
		return err
	}
	if spec.note != "" {
		return fmt.Errorf("%w: downloading %s: %s", ErrNotSupported, name, spec.note)
	}
	dir := filepath.Join(root, name, "raw")
	for _, f := range spec.files {
		url := f.URL
		if d.URL != nil {
			url = d.URL(name, f)
		}
		if err := d.fetch(ctx, dir, url, f); err != nil {
			return err
		}
	}
	return nil
}

// fetch downloads f from url into dir unless it is already there.
func (d *Downloader) fetch(ctx context.Context, dir, url string, f FileSpec) (err error) {
	path := filepath.Join(dir, f.Name)
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("datasets: %w", err)
	}
	if url == "" {
		return fmt.Errorf("%w: %s has no download location", ErrNotSupported, f.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.Name, err)
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("datasets: downloading %s: %w", f.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("datasets: downloading %s from %s: %s", f.Name, url, resp.Status)
	}
	if f.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != f.Size {
		return fmt.Errorf("%w: %s from %s: server announces %d bytes, want %d", ErrChecksum, f.Name, url, resp.ContentLength, f.Size)
	}

	// The file appears under its name only once it is complete and its
	// size and sha256 are right. Errors of the copy come back as they are;
	// those of the file system get the package prefix.
	var copyErr error
	err = atomicfile.Write(path, func(tmp io.Writer) error {
		copyErr = copyChecked(tmp, resp.Body, url, f, d.Progress)
		return copyErr
	})
	if err != nil && err != copyErr {
		return fmt.Errorf("datasets: %w", err)
	}
	return err
}

// copyChecked copies the download body of f from url to tmp, checking its
// size and sha256 against f's.
func copyChecked(tmp io.Writer, respBody io.Reader, url string, f FileSpec, progress func(file string, done, total int64)) error {
	h := sha256.New()
	var body io.Reader = respBody
	if f.Size > 0 {
		// One byte more than expected is enough to detect a long body
		// without letting a server fill the disk.
		body = io.LimitReader(body, f.Size+1)
	}
	w := io.MultiWriter(tmp, h, &progressWriter{file: f.Name, total: f.Size, fn: progress})
	n, err := io.Copy(w, body)
	if err != nil {
		return fmt.Errorf("datasets: downloading %s from %s: %w", f.Name, url, err)
	}
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("%w: %s from %s: got %d bytes, want %d", ErrChecksum, f.Name, url, n, f.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); f.SHA256 != "" && got != f.SHA256 {
		return fmt.Errorf("%w: %s from %s: sha256 %s, want %s", ErrChecksum, f.Name, url, got, f.SHA256)
	}
	return nil
}

type progressWriter struct {
	file        string
	done, total int64
	fn          func(file string, done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.fn != nil {
		p.fn(p.file, p.done, p.total)
	}
	return len(b), nil
}

// FileStatus is the state of one dataset file under the data root.
type FileStatus struct {
	Spec    FileSpec // the expected file
	Path    string
	Present bool
	Size    int64  // size on disk; 0 if absent
	SHA256  string // digest of the file on disk; empty if absent
	// OK reports whether the file is present with the expected size and
	// sha256, where those are known.
	OK bool
}

// Verify checks the files of the named dataset under <root>/<name>/raw
// against their expected sizes and sha256 digests. A missing or mismatched
// file is reported in its FileStatus, not as an error; errors are for an
// unknown dataset or a file that cannot be read.
func Verify(root, name string) ([]FileStatus, error) {
	spec, err := lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, len(spec.files))
	for i, f := range spec.files {
		st := FileStatus{Spec: f, Path: filepath.Join(root, name, "raw", f.Name)}
		fh, err := os.Open(st.Path)
		if errors.Is(err, fs.ErrNotExist) {
			out[i] = st
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		h := sha256.New()
		n, err := io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("datasets: reading %s: %w", st.Path, err)
		}
		st.Present, st.Size, st.SHA256 = true, n, hex.EncodeToString(h.Sum(nil))
		st.OK = (f.Size == 0 || n == f.Size) && (f.SHA256 == "" || st.SHA256 == f.SHA256)
		out[i] = st
	}
	return out, nil
}
