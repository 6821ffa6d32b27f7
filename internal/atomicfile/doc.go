// Package atomicfile writes files so that a reader, or a crash, sees either
// the old file or the whole new one, never part of one.
package atomicfile
