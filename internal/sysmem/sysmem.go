// Package sysmem reads how much memory a process may still allocate on
// this machine: the kernel's estimate of available memory, or what is
// left under the process's cgroup limit if that is lower.
package sysmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrUnknown is wrapped by the error Available returns where the machine
// says nothing about its memory (no /proc/meminfo: not Linux).
var ErrUnknown = errors.New("sysmem: available memory unknown")

// Available returns the bytes of memory the process may still allocate:
// MemAvailable of /proc/meminfo, or the room left under the cgroup's
// memory limit (v2 memory.max less memory.current, or v1's
// memory.limit_in_bytes less memory.usage_in_bytes) where that is lower.
// It returns an error wrapping ErrUnknown if /proc/meminfo cannot be read.
func Available() (int64, error) { return availableIn("/") }

// availableIn is Available with the files under root.
func availableIn(root string) (int64, error) {
	meminfo := filepath.Join(root, "proc", "meminfo")
	b, err := os.ReadFile(meminfo)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	avail, err := memAvailable(b)
	if err != nil {
		return 0, fmt.Errorf("sysmem: %s: %w", meminfo, err)
	}
	cg := filepath.Join(root, "sys", "fs", "cgroup")
	for _, f := range [][2]string{
		{"memory.max", "memory.current"},
		{"memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"},
	} {
		limit, ok1 := readBytes(filepath.Join(cg, f[0]))
		used, ok2 := readBytes(filepath.Join(cg, f[1]))
		if ok1 && ok2 {
			avail = min(avail, max(limit-used, 0))
			break
		}
	}
	return avail, nil
}

// memAvailable returns the MemAvailable line of a /proc/meminfo, in bytes.
func memAvailable(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || kb < 0 {
				return 0, fmt.Errorf("MemAvailable %q is not a number of kB", f[1])
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no MemAvailable line")
}

// readBytes reads a cgroup file holding a number of bytes; "max" (no
// limit), a missing file or anything else unreadable reports false.
func readBytes(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v < 0 || v >= math.MaxInt64/2 {
		return 0, false // "max", or v1's "no limit" near MaxInt64
	}
	return v, true
}
