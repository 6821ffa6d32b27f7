package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
)

// WriteCSV writes a header and rows as a CSV file at path, atomically. It
// returns an error if a row's length differs from the header's.
func WriteCSV(path string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	for i, r := range rows {
		if len(r) != len(header) {
			return fmt.Errorf("report: %s: row %d has %d fields, the header %d", path, i, len(r), len(header))
		}
		if err := w.Write(r); err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}
