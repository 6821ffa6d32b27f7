package tabular

import (
	"errors"
	"fmt"
)

// Limits on the Thrift structures (footer, page headers) of a Parquet file.
// The decoder of the Parquet library allocates a list's declared length
// before reading its elements, so the structures are walked first by
// checkThrift, which reads every element and allows no more than these.
const (
	maxThriftDepth   = 32
	maxThriftStructs = 1 << 17 // structs in one footer or header: row groups × columns, schema elements
)

// Compact protocol types.
const (
	ctStop   = 0
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI16    = 4
	ctI32    = 5
	ctI64    = 6
	ctDouble = 7
	ctBinary = 8
	ctList   = 9
	ctSet    = 10
	ctMap    = 11
	ctStruct = 12
)

var errThriftTruncated = errors.New("truncated Thrift structure")

// thriftScanner walks a Thrift compact-protocol struct without building it.
type thriftScanner struct {
	b       []byte
	pos     int
	structs int
}

// checkThrift checks that b starts with a well-formed compact-protocol
// struct whose every length fits in b, and returns the struct's length.
func checkThrift(b []byte) (int, error) {
	s := &thriftScanner{b: b}
	if err := s.value(ctStruct, 0); err != nil {
		return 0, fmt.Errorf("offset %d: %w", s.pos, err)
	}
	return s.pos, nil
}

func (s *thriftScanner) byte() (byte, error) {
	if s.pos >= len(s.b) {
		return 0, errThriftTruncated
	}
	c := s.b[s.pos]
	s.pos++
	return c, nil
}

func (s *thriftScanner) varint() (uint64, error) {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint longer than 10 bytes")
}

func (s *thriftScanner) skip(n uint64) error {
	if n > uint64(len(s.b)-s.pos) {
		return fmt.Errorf("a length of %d with %d bytes left", n, len(s.b)-s.pos)
	}
	s.pos += int(n)
	return nil
}

// value skips one value of type t.
func (s *thriftScanner) value(t byte, depth int) error {
	if depth > maxThriftDepth {
		return fmt.Errorf("nested deeper than %d", maxThriftDepth)
	}
	switch t {
	case ctTrue, ctFalse:
		return nil // in a struct field, the type is the value
	case ctByte:
		_, err := s.byte()
		return err
	case ctI16, ctI32, ctI64:
		_, err := s.varint()
		return err
	case ctDouble:
		return s.skip(8)
	case ctBinary:
		n, err := s.varint()
		if err != nil {
			return err
		}
		return s.skip(n)
	case ctList, ctSet:
		h, err := s.byte()
		if err != nil {
			return err
		}
		n, et := uint64(h>>4), h&0x0f
		if n == 0x0f {
			if n, err = s.varint(); err != nil {
				return err
			}
		}
		// Every element takes at least a byte (booleans in lists too).
		if n > uint64(len(s.b)-s.pos) {
			return fmt.Errorf("a list of %d elements with %d bytes left", n, len(s.b)-s.pos)
		}
		for range n {
			if et == ctTrue || et == ctFalse {
				if _, err := s.byte(); err != nil {
					return err
				}
				continue
			}
			if err := s.value(et, depth+1); err != nil {
				return err
			}
		}
		return nil
	case ctMap:
		n, err := s.varint()
		if err != nil || n == 0 {
			return err
		}
		if 2*n > uint64(len(s.b)-s.pos) {
			return fmt.Errorf("a map of %d entries with %d bytes left", n, len(s.b)-s.pos)
		}
		kv, err := s.byte()
		if err != nil {
			return err
		}
		for range n {
			if err := s.value(kv>>4, depth+1); err != nil {
				return err
			}
			if err := s.value(kv&0x0f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case ctStruct:
		if s.structs++; s.structs > maxThriftStructs {
			return fmt.Errorf("more than %d structs", maxThriftStructs)
		}
		for {
			h, err := s.byte()
			if err != nil {
				return err
			}
			if h == ctStop {
				return nil
			}
			if h>>4 == 0 { // a field id follows as a zigzag varint
				if _, err := s.varint(); err != nil {
					return err
				}
			}
			if err := s.value(h&0x0f, depth+1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown Thrift type %d", t)
}
