//go:build !unix

package filelock

import "os"

// lockFile does nothing where flock is unavailable: keeping two processes
// apart is then the user's responsibility.
func lockFile(*os.File) error { return nil }
