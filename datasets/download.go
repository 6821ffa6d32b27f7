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
	// Replacing, if not nil, is called before a present file that does
	// not match the registry is downloaded again, with its path and why.
	Replacing func(path, why string)
	// NoEmbedded makes Download fetch files even where the binary holds a
	// copy (for tests of the network path).
	NoEmbedded bool
	// Offline forbids network access: a file that would have to be
	// fetched is an error saying where to put it by hand.
	Offline bool
}

// EnvOffline is the environment variable that, set to anything, tells gnsr's
// commands not to download.
const EnvOffline = "GNSR_OFFLINE"

// Download makes the files of the named dataset present and intact under
// <root>/<name>/raw, creating the directory if needed, and extracts an
// archive the dataset comes as. A file already present with the expected
// size and sha256 (where known) is left alone; one that differs is
// downloaded again and replaced. A file of which the binary holds a copy
// (Cora, CiteSeer, PubMed) is written from that copy, without network.
//
// Each file is streamed to a temporary file in the same directory while
// being hashed, and renamed into place only once its size and sha256 match
// the expected ones and it has been synced to disk. Where the registry does
// not know a file's size, the body must have the length the server
// announces. On any failure (an HTTP error, no network, a short body, a
// wrong size or hash, a cancelled ctx) the temporary file is removed, the
// file under the final name is left as it was, and the error names the file
// and says where to put it by hand; a mismatch wraps ErrChecksum and gives
// the expected and received sha256. Download stops at the first failure.
func (d *Downloader) Download(ctx context.Context, root, name string) error {
	spec, err := lookup(name)
	if err != nil {
		return err
	}
	if spec.Note != "" {
		missing, err := Missing(root, name)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			return nil
		}
		return fmt.Errorf("%w: downloading %s: %s", ErrNotSupported, name, spec.Note)
	}
	dir := filepath.Join(root, name, "raw")
	for _, f := range spec.Files {
		if spec.Archive != nil && extracted(root, spec) {
			// The archive's files are there; the archive itself may
			// have been deleted to save space.
			if _, err := os.Stat(filepath.Join(dir, f.Name)); errors.Is(err, fs.ErrNotExist) {
				continue
			}
		}
		url := f.URL
		if d.URL != nil {
			url = d.URL(name, f)
		}
		if err := d.fetch(ctx, dir, url, spec, f); err != nil {
			return err
		}
	}
	if spec.Archive != nil && !extracted(root, spec) {
		return extractArchive(root, spec)
	}
	return nil
}

// fetch makes f present and intact in dir, downloading it from url unless
// the binary holds a copy.
func (d *Downloader) fetch(ctx context.Context, dir, url string, e *Entry, f FileSpec) (err error) {
	path := filepath.Join(dir, f.Name)
	if st, err := checkFile(path, f); err != nil {
		return err
	} else if st.OK {
		return nil
	} else if st.Present && d.Replacing != nil {
		d.Replacing(path, st.Mismatch())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	if e.Embedded && !d.NoEmbedded {
		data, err := embeddedFile(f)
		if err != nil {
			return err
		}
		return atomicfile.Write(path, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
	}
	if url == "" {
		return fmt.Errorf("%w: %s has no download location", ErrNotSupported, f.Name)
	}
	if d.Offline {
		return fmt.Errorf("%w: %s (downloads are off, %s is set: fetch %s elsewhere and put it there, or point --data-dir or %s at a root holding it)",
			ErrMissing, path, EnvOffline, url, EnvDataRoot)
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
		return fmt.Errorf("datasets: downloading %s from %s: %w (no network? fetch the file elsewhere and put it at %s, or point --data-dir or %s at a root holding it)",
			f.Name, url, err, path, EnvDataRoot)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("datasets: downloading %s from %s: %s", f.Name, url, resp.Status)
	}
	want := f
	if want.Size == 0 && resp.ContentLength > 0 {
		// Sources that publish no size or hash (OGB) are at least checked
		// against what the server announces, so a cut connection is caught.
		want.Size = resp.ContentLength
	}
	if want.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != want.Size {
		return fmt.Errorf("%w: %s from %s: server announces %d bytes, want %d", ErrChecksum, f.Name, url, resp.ContentLength, want.Size)
	}

	// The file appears under its name only once it is complete and its
	// size and sha256 are right. Errors of the copy come back as they are;
	// those of the file system get the package prefix.
	var copyErr error
	err = atomicfile.Write(path, func(tmp io.Writer) error {
		copyErr = copyChecked(tmp, resp.Body, url, want, d.Progress)
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

// Mismatch says how a present file differs from the expected one; empty if
// it does not.
func (s FileStatus) Mismatch() string {
	switch {
	case !s.Present || s.OK:
		return ""
	case s.Spec.Size > 0 && s.Size != s.Spec.Size:
		return fmt.Sprintf("%d bytes, want %d", s.Size, s.Spec.Size)
	}
	return fmt.Sprintf("sha256 %s, want %s", s.SHA256, s.Spec.SHA256)
}

// checkFile returns the status of the file at path against f.
func checkFile(path string, f FileSpec) (FileStatus, error) {
	st := FileStatus{Spec: f, Path: path}
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("datasets: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return st, fmt.Errorf("datasets: reading %s: %w", path, err)
	}
	st.Present, st.Size, st.SHA256 = true, n, hex.EncodeToString(h.Sum(nil))
	st.OK = (f.Size == 0 || n == f.Size) && (f.SHA256 == "" || st.SHA256 == f.SHA256)
	return st, nil
}

// Verify checks the files of the named dataset under <root>/<name>/raw
// against their expected sizes and sha256 digests. A missing or mismatched
// file is reported in its FileStatus, not as an error; errors are for an
// unknown dataset or a file that cannot be read. Download replaces a
// mismatched file.
func Verify(root, name string) ([]FileStatus, error) {
	spec, err := lookup(name)
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, len(spec.Files))
	for i, f := range spec.Files {
		if out[i], err = checkFile(filepath.Join(root, name, "raw", f.Name), f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Missing returns the files Load or LoadImages would need to download
// before reading the named dataset from root: none for a dataset whose
// files are all present, whose binary copy stands in for an absent set, or
// whose archive is already extracted. Present files are not read (Verify
// checks them).
func Missing(root, name string) ([]FileSpec, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	if e.Archive != nil && extracted(root, e) {
		return nil, nil
	}
	var missing []FileSpec
	for _, f := range e.Files {
		_, err := os.Stat(filepath.Join(root, name, "raw", f.Name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, f)
		case err != nil:
			return nil, fmt.Errorf("datasets: %w", err)
		}
	}
	if e.Embedded && len(missing) == len(e.Files) {
		return nil, nil
	}
	return missing, nil
}
