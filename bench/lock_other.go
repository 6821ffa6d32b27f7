//go:build !unix

package bench

import "os"

// lockFile does nothing where flock is unavailable: running two benches on
// the same directory at once is then the user's responsibility.
func lockFile(*os.File) error { return nil }
