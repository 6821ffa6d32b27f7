// Package filelock keeps two processes apart: an exclusive advisory lock
// on a file (flock), taken without waiting and dropped by the kernel when
// the process dies, so a killed process never leaves a stale lock. Where
// flock is unavailable (not unix), Acquire always succeeds.
package filelock

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is wrapped by Acquire's error when another process holds the
// lock.
var ErrLocked = errors.New("filelock: held by another process")

// Lock is a held lock.
type Lock struct {
	f *os.File
}

// Acquire creates the file path if it is missing and takes an exclusive
// lock on it, without waiting: if another process holds it, the error wraps
// ErrLocked.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("filelock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Release drops the lock; releasing it again, or a nil Lock, does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
