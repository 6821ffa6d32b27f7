package report

import (
	"fmt"
	"io"

	"github.com/gnsr/gnsr/internal/atomicfile"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced and then renamed over path, so that readers see
// either the old file or the whole new one.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes path through write with atomicfile.Write.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}
