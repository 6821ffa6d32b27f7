package tabular

import (
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error reporting a malformed table.
var ErrFormat = errors.New("malformed table")

// Error is a malformed table: it names the file and, where known, the line
// (CSV) or the column and row (Parquet), and wraps ErrFormat and the cause.
type Error struct {
	File   string
	Line   int64  // 1-based CSV line; 0 if not applicable
	Column string // Parquet column; empty if not applicable
	Row    int64  // 0-based Parquet row; -1 if unknown
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s: line %d: %v", e.File, e.Line, e.Err)
	case e.Column != "" && e.Row >= 0:
		return fmt.Sprintf("%s: column %q, row %d: %v", e.File, e.Column, e.Row, e.Err)
	case e.Column != "":
		return fmt.Sprintf("%s: column %q: %v", e.File, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns ErrFormat and the cause.
func (e *Error) Unwrap() []error { return []error{ErrFormat, e.Err} }
