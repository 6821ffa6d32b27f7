package datasets

import "fmt"

// checkWidth checks a declared number of feature columns against what a file
// stores: rows rows holding nnz entries. Columns no entry uses carry no
// information, and every column costs each model a row of weights, so a
// width beyond nnz+rows is not backed by the file: a corrupt or patched
// header. (The largest column index is checked against the width where the
// entries are read.)
func checkWidth(cols, rows, nnz int) error {
	if cols < 0 || int64(cols) > int64(nnz)+int64(rows) {
		return fmt.Errorf("%d feature columns for %d stored entries in %d rows: a width the file cannot back (at most entries + rows = %d)",
			cols, nnz, rows, int64(nnz)+int64(rows))
	}
	return nil
}
