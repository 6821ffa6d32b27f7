package datasets

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxArchiveMembers bounds the members of an extracted archive (OGB's
// zips hold a few dozen).
const maxArchiveMembers = 1 << 12

// extracted reports whether the archive of e has been extracted under root.
func extracted(root string, e *Entry) bool {
	st, err := os.Stat(filepath.Join(root, e.Name, e.Archive.Dir))
	return err == nil && st.IsDir()
}

// extractArchive extracts the zip archive of e from <root>/<name>/raw into
// <root>/<name>/<Archive.Dir>.
func extractArchive(root string, e *Entry) error {
	src := filepath.Join(root, e.Name, "raw", e.Files[0].Name)
	return ExtractZip(src, filepath.Join(root, e.Name), e.Archive.Dir, e.Archive.MaxBytes)
}

// ExtractZip extracts the zip archive at src, whose members must all lie
// in its top-level folder top, into the directory dest, where dest/top
// must not exist yet. Extraction is atomic: members are written into a
// temporary directory beside dest/top, which is renamed into place only
// once every member has been written and checked; on any failure nothing
// is left behind.
//
// Nothing in the archive is trusted: a member with an absolute name, a ".."
// element, a backslash, or outside top is refused, as is any member that is
// not a regular file or a directory (a symbolic link could point anywhere).
// The bytes extracted are bounded by maxBytes in all, each member must hold
// exactly the size it declares (counted as it is written, not believed),
// and a deflated member cannot claim more than deflate can expand to. The
// errors name the archive and the member and wrap ErrFormat.
func ExtractZip(src, dest, top string, maxBytes int64) (err error) {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		return fmt.Errorf("%w: %s: not a readable zip archive: %w", ErrFormat, src, err)
	}
	bad := func(member, format string, args ...any) error {
		return fmt.Errorf("%w: %s: member %q: "+format, append([]any{ErrFormat, src, member}, args...)...)
	}
	if len(zr.File) > maxArchiveMembers {
		return fmt.Errorf("%w: %s: %d members, more than the %d allowed", ErrFormat, src, len(zr.File), maxArchiveMembers)
	}
	// Check every member's name, type and declared size before writing.
	var total uint64
	for _, m := range zr.File {
		if err := checkMemberName(m.Name, top); err != nil {
			return bad(m.Name, "%v", err)
		}
		mode := m.Mode()
		if !mode.IsRegular() && !mode.IsDir() {
			return bad(m.Name, "is a %v, not a file or directory", mode.Type())
		}
		switch {
		case m.Method != zip.Store && m.Method != zip.Deflate:
			return bad(m.Name, "unsupported compression method %d", m.Method)
		case m.Method == zip.Deflate && m.UncompressedSize64 > m.CompressedSize64*maxDeflateRatio+deflateRatioSlack:
			return bad(m.Name, "claims %d bytes from %d deflated bytes, more than deflate can give", m.UncompressedSize64, m.CompressedSize64)
		}
		total += m.UncompressedSize64
		if total > uint64(maxBytes) {
			return bad(m.Name, "the members declare more than the %d bytes the dataset holds", maxBytes)
		}
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	final := filepath.Join(dest, top)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("datasets: extracting %s: %s already exists", src, final)
	}
	tmp, err := os.MkdirTemp(dest, "."+top+".*.tmp")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer func() {
		os.RemoveAll(tmp) // after the rename, only an empty folder
	}()
	var written int64
	for _, m := range zr.File {
		// The name was checked: clean, relative, under top.
		target := filepath.Join(tmp, filepath.FromSlash(path.Clean(m.Name)))
		if m.Mode().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("datasets: %w", err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
		n, err := extractMember(m, target, maxBytes-written)
		written += n
		if err != nil {
			return bad(m.Name, "%v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, top)); err != nil {
		return fmt.Errorf("%w: %s: no folder %s in the archive", ErrFormat, src, top)
	}
	if err := os.Rename(filepath.Join(tmp, top), final); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	return nil
}

// checkMemberName refuses a member name that could land outside top.
func checkMemberName(name, top string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.Contains(name, `\`):
		return errors.New("backslash in the name")
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return errors.New("absolute path")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return errors.New(`".." in the path`)
		}
	}
	clean := path.Clean(name)
	if clean != top && !strings.HasPrefix(clean, top+"/") {
		return fmt.Errorf("outside the archive's folder %s/", top)
	}
	return nil
}

// extractMember writes member m to target, at most limit bytes, and checks
// that it holds the size it declares. It returns the bytes written.
func extractMember(m *zip.File, target string, limit int64) (int64, error) {
	rc, err := m.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return 0, errors.New("appears twice in the archive")
		}
		return 0, err
	}
	want := int64(m.UncompressedSize64)
	n, err := io.Copy(out, io.LimitReader(rc, min(want, limit)+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return n, err
	case n > limit:
		return n, fmt.Errorf("extracts more than the %d bytes left of the dataset's bound", limit)
	case n != want:
		return n, fmt.Errorf("holds %d bytes, declares %d", n, want)
	}
	return n, nil
}
