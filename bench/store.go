package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gnsr/gnsr/internal/filelock"
	"github.com/gnsr/gnsr/report"
)

// errLocked is returned when another process holds a store's lock.
var errLocked = errors.New("bench: another gnsr bench is writing this table")

// Store is the results of one table: <dir>/<table>.jsonl, one Record a
// line, or one shard's file of it (OpenShard). A Store is not safe for
// concurrent use; two processes on the same file are kept apart by a lock
// file (on Unix).
type Store struct {
	path    string
	f       *os.File // opened for appending; nil for a memory store
	mem     bool     // NewMemStore: nothing is written
	lock    *filelock.Lock
	recs    []Record
	index   map[Key]int // into recs
	dropped int         // bytes of a cut-short last line dropped on opening
}

// Path returns the JSON Lines file of the table in dir.
func Path(dir, table string) string { return filepath.Join(dir, table+".jsonl") }

// NewMemStore returns a store that keeps its records in memory only, for
// a plan whose records are not kept (gnsr tune without --out).
func NewMemStore() *Store { return &Store{path: "(memory)", mem: true, index: map[Key]int{}} }

// OpenShard opens the file of shard sh of table in dir for writing, as
// Open does (<table>.shard-<i>-of-<n>.jsonl, or <table>.jsonl for the
// whole plan), and reads every other file of the table there (TableFiles)
// without changing it: their runs count as recorded (Get and Records
// return them, Append skips them), so that no run is made twice, whichever
// shard or whole-plan process recorded it, and the final phase of a
// sharded plan sees the tuning runs of every shard. A last line cut short
// in another file (a shard still writing it) is ignored.
func OpenShard(dir, table string, sh Shard) (*Store, error) {
	s, err := Open(dir, sh.Name(table))
	if err != nil {
		return nil, err
	}
	files, err := TableFiles(dir, table)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, f := range files {
		if f.Path == s.path {
			continue
		}
		recs, _, err := ReadRecords(f.Path)
		if err != nil {
			s.Close()
			return nil, err
		}
		for _, r := range recs {
			s.add(r)
		}
	}
	return s, nil
}

// Open opens the store of table in dir, creating the directory and an empty
// file as needed, and reads the records already there. A last line that does
// not parse (a run killed while writing it) is dropped, and the file is
// rewritten atomically without it; Dropped says how many bytes went. Any
// other line that does not parse is an error: the file was damaged some
// other way, and deciding what to keep is left to a person. A key recorded
// twice keeps its first record.
func Open(dir, table string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	s := &Store{path: Path(dir, table), index: map[Key]int{}}
	lock, err := filelock.Acquire(filepath.Join(dir, "."+table+".lock"))
	if err != nil {
		if errors.Is(err, filelock.ErrLocked) {
			return nil, fmt.Errorf("%w: %s", errLocked, s.path)
		}
		return nil, fmt.Errorf("bench: %w", err)
	}
	s.lock = lock
	data, err := os.ReadFile(s.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	recs, fixed, dropped, err := parseRecords(s.path, data)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.dropped = dropped
	if fixed != nil {
		if err := report.WriteFileAtomic(s.path, fixed); err != nil {
			s.Close()
			return nil, fmt.Errorf("bench: repairing the last line of %s: %w", s.path, err)
		}
	}
	for _, r := range recs {
		s.add(r)
	}
	s.f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("bench: %w", err)
	}
	return s, nil
}

// ReadRecords reads the records of a JSON Lines file without changing it,
// ignoring a cut-short last line as Open does (dropped is its length in
// bytes). A missing file gives no records and no error.
func ReadRecords(path string) (recs []Record, dropped int, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("bench: %w", err)
	}
	recs, _, dropped, err = parseRecords(path, data)
	return recs, dropped, err
}

// parseRecords parses JSON Lines. Only the last line may fail to parse; it
// is then dropped. fixed is what the file should hold (nil if it is fine as
// it is): without the dropped line, or with the newline a complete last
// record lost; dropped is the number of bytes dropped.
func parseRecords(path string, data []byte) (recs []Record, fixed []byte, dropped int, err error) {
	for off, n := 0, 1; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		last := end < 0 || off+end+1 == len(data)
		if end < 0 {
			end = len(data) - off
		}
		if line := bytes.TrimSpace(data[off : off+end]); len(line) > 0 {
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				if last {
					return recs, data[:off:off], len(data) - off, nil
				}
				return nil, nil, 0, fmt.Errorf("bench: %s:%d: %w (only a last line cut short by a killed run is dropped; fix or remove this one by hand)", path, n, err)
			}
			recs = append(recs, r)
		}
		off += end + 1
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// A complete record whose newline was lost: keep it, and end the
		// line so that the next append starts a new one.
		return recs, append(data[:len(data):len(data)], '\n'), 0, nil
	}
	return recs, nil, 0, nil
}

func (s *Store) add(r Record) {
	if _, ok := s.index[r.Key]; ok {
		return
	}
	s.index[r.Key] = len(s.recs)
	s.recs = append(s.recs, r)
}

// Path returns the file the store writes.
func (s *Store) Path() string { return s.path }

// Dropped returns how many bytes of a cut-short last line Open dropped.
func (s *Store) Dropped() int { return s.dropped }

// Records returns the records in file order (after them, for OpenShard,
// those of the table's other files); the slice must not be changed.
func (s *Store) Records() []Record { return s.recs }

// Get returns the record of k, if there is one.
func (s *Store) Get(k Key) (Record, bool) {
	i, ok := s.index[k]
	if !ok {
		return Record{}, false
	}
	return s.recs[i], true
}

// Append writes r as one line and syncs the file before returning, so a
// record that Append returned for survives a crash. A record whose key is
// already stored is not written again. Append on a closed store returns
// an error.
func (s *Store) Append(r Record) error {
	if _, ok := s.index[r.Key]; ok {
		return nil
	}
	if s.mem {
		s.add(r)
		return nil
	}
	if s.f == nil {
		return fmt.Errorf("bench: %s: the store is closed", s.path)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	// One write call per line, so a kill leaves at most one partial line.
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("bench: appending to %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("bench: syncing %s: %w", s.path, err)
	}
	s.add(r)
	return nil
}

// Close closes the file and releases the lock.
func (s *Store) Close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	if s.lock != nil {
		s.lock.Release()
		s.lock = nil
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
