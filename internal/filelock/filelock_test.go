//go:build unix

package filelock

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestAcquire checks that a held lock refuses a second holder (flock locks
// belong to the open file, so a second Acquire in this process stands for
// another process) and that Release frees it.
func TestAcquire(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	a, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	b, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	b.Release()
}
