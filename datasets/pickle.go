package datasets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what a pickle may ask of the reader. The Planetoid files stay far
// below them (PubMed's adjacency dict, the largest in opcodes, has about
// 180,000 opcodes and 50,000 containers); they bound the memory a corrupt or
// hostile file can make the decoder allocate to a small multiple of its size.
const (
	maxPickleBytes      = 1 << 30 // largest pickle file read
	maxPickleOps        = 1 << 22 // opcodes in one pickle
	maxPickleContainers = 1 << 20 // marks, tuples, lists and dicts in one pickle
	maxMarkDepth        = 64      // nesting of MARK opcodes
	maxLineLen          = 1 << 12 // newline-terminated opcode arguments
	maxLongBytes        = 16      // LONG1/LONG4 payloads; big integers are never needed
	maxNDim             = 32      // numpy's own limit
	maxDim              = math.MaxInt32
)

// readPickle decodes the pickle in data. It first checks the whole opcode
// stream with scanPickle, so the decoder only ever sees well-formed input that
// names allowed classes, then decodes it with gopickle, mapping the allowed
// classes to this file's Go types. file is used in error messages only.
func readPickle(file string, data []byte) (v any, err error) {
	if len(data) > maxPickleBytes {
		return nil, fmt.Errorf("%w: %s: pickle of %d bytes exceeds the limit of %d", ErrFormat, file, len(data), maxPickleBytes)
	}
	if err := scanPickle(data); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, file, err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (any, error) {
		if c := lookupClass(module, name); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("pickle refers to class %s.%s, which is not allowed", module, name)
	}
	// scanPickle rules out every input known to make gopickle panic; this
	// is the last guard should one remain.
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: %s: pickle decoder failed: %v", ErrFormat, file, r)
		}
	}()
	v, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFormat, file, err)
	}
	return v, nil
}

// lookupClass returns the Go stand-in of an allowed Python global, or nil.
func lookupClass(module, name string) any {
	switch [2]string{module, name} {
	case [2]string{"scipy.sparse.csr", "csr_matrix"}:
		return csrMatrixClass{}
	case [2]string{"numpy.core.multiarray", "_reconstruct"}:
		return reconstructFunc{}
	case [2]string{"numpy", "ndarray"}:
		return ndarrayClass{}
	case [2]string{"numpy", "dtype"}:
		return dtypeClass{}
	case [2]string{"collections", "defaultdict"}:
		return defaultDictClass{}
	case [2]string{"__builtin__", "list"}:
		return listClass{}
	}
	return nil
}

// pickleScanner walks a pickle's opcodes without building anything,
// tracking only how many items each MARK level of the stack holds.
type pickleScanner struct {
	data       []byte
	pos        int   // next byte to read
	at         int   // offset of the current opcode
	op         byte  // current opcode
	levels     []int // items on the stack above each MARK; levels[0] is the bottom
	containers int
}

// scanPickle checks that data is a single complete pickle of protocol 0 to 3
// that uses only the opcodes and classes the Planetoid files need, whose
// length fields fit in data, and whose stack operations are balanced. gopickle
// allocates a length field's worth of memory before reading, panics on some
// malformed input (an odd number of dict items, an empty LONG1) and resolves
// a few classes itself before consulting FindClass; this pass rules all of
// that out.
func scanPickle(data []byte) error {
	s := &pickleScanner{data: data, levels: []int{0}}
	for ops := 0; ; ops++ {
		if s.pos >= len(data) {
			return fmt.Errorf("truncated pickle: no STOP opcode in %d bytes", len(data))
		}
		if ops >= maxPickleOps {
			return fmt.Errorf("more than %d opcodes", maxPickleOps)
		}
		s.at, s.op = s.pos, data[s.pos]
		s.pos++
		stop, err := s.step()
		if err != nil {
			return fmt.Errorf("offset %d, opcode %q: %w", s.at, s.op, err)
		}
		if stop {
			if s.pos != len(data) {
				return fmt.Errorf("%d bytes after the STOP opcode at offset %d", len(data)-s.pos, s.at)
			}
			return nil
		}
	}
}

func (s *pickleScanner) step() (stop bool, err error) {
	switch s.op {
	case '(': // MARK
		if len(s.levels) > maxMarkDepth {
			return false, fmt.Errorf("MARK nested deeper than %d", maxMarkDepth)
		}
		if err := s.container(); err != nil {
			return false, err
		}
		s.levels = append(s.levels, 0)
	case '.': // STOP
		if len(s.levels) != 1 || s.levels[0] != 1 {
			return false, fmt.Errorf("STOP with %d open MARKs and %d items on the stack, want none and 1", len(s.levels)-1, s.levels[len(s.levels)-1])
		}
		return true, nil
	case '0': // POP: gopickle pops the MARK when nothing is above it
		if s.levels[len(s.levels)-1] == 0 {
			_, err = s.popMark()
			return false, err
		}
		s.levels[len(s.levels)-1]--
	case '1': // POP_MARK
		_, err = s.popMark()
	case '2': // DUP
		err = s.need(1)
		s.push()
	case 'N', 0x88, 0x89, ')': // NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE
		s.push()
	case '}', ']': // EMPTY_DICT, EMPTY_LIST
		err = s.container()
		s.push()
	case 'S', 'V': // STRING, UNICODE
		// gopickle does not undo their escapes, so raw array data in them
		// would come out wrong; Python 2 writes protocol 2 strings in binary.
		return false, fmt.Errorf("protocol 0 string opcodes are not supported")
	case 'F', 'I', 'L', 'g': // FLOAT, INT, LONG, GET
		_, err = s.line()
		s.push()
	case 'J', 'j': // BININT, LONG_BINGET
		_, err = s.take(4)
		s.push()
	case 'K', 'h': // BININT1, BINGET
		_, err = s.take(1)
		s.push()
	case 'M': // BININT2
		_, err = s.take(2)
		s.push()
	case 'G': // BINFLOAT
		_, err = s.take(8)
		s.push()
	case 'T': // BINSTRING: signed 32-bit length
		var b []byte
		if b, err = s.take(4); err == nil {
			n := int32(binary.LittleEndian.Uint32(b))
			if n < 0 {
				return false, fmt.Errorf("negative length %d", n)
			}
			_, err = s.take(int(n))
		}
		s.push()
	case 'X', 'B': // BINUNICODE, BINBYTES: unsigned 32-bit length
		var b []byte
		if b, err = s.take(4); err == nil {
			_, err = s.take(int(binary.LittleEndian.Uint32(b)))
		}
		s.push()
	case 'U', 'C': // SHORT_BINSTRING, SHORT_BINBYTES
		var b []byte
		if b, err = s.take(1); err == nil {
			_, err = s.take(int(b[0]))
		}
		s.push()
	case 0x8a, 0x8b: // LONG1, LONG4
		var b []byte
		n := 0
		if s.op == 0x8a {
			if b, err = s.take(1); err == nil {
				n = int(b[0])
			}
		} else if b, err = s.take(4); err == nil {
			n = int(int32(binary.LittleEndian.Uint32(b)))
		}
		if err != nil {
			return false, err
		}
		if n < 1 || n > maxLongBytes { // gopickle panics on n = 0
			return false, fmt.Errorf("unsupported long integer of %d bytes", n)
		}
		_, err = s.take(n)
		s.push()
	case 'c': // GLOBAL
		var module, name []byte
		if module, err = s.line(); err != nil {
			return false, err
		}
		if name, err = s.line(); err != nil {
			return false, err
		}
		if lookupClass(string(module), string(name)) == nil {
			return false, fmt.Errorf("pickle refers to class %s.%s, which is not allowed", module, name)
		}
		s.push()
	case 'p': // PUT
		if _, err = s.line(); err != nil {
			return false, err
		}
		err = s.need(1)
	case 'q': // BINPUT
		if _, err = s.take(1); err != nil {
			return false, err
		}
		err = s.need(1)
	case 'r': // LONG_BINPUT
		if _, err = s.take(4); err != nil {
			return false, err
		}
		err = s.need(1)
	case 'R', 0x81, 'b', 'a': // REDUCE, NEWOBJ, BUILD, APPEND: two items become one
		err = s.pop(2)
		s.push()
	case 's': // SETITEM
		err = s.pop(3)
		s.push()
	case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
		if err = s.container(); err != nil {
			return false, err
		}
		err = s.pop(int(s.op-0x85) + 1)
		s.push()
	case 't', 'l', 'd': // TUPLE, LIST, DICT
		if err = s.container(); err != nil {
			return false, err
		}
		var n int
		if n, err = s.popMark(); err != nil {
			return false, err
		}
		if s.op == 'd' && n%2 != 0 {
			return false, fmt.Errorf("DICT with an odd number (%d) of items", n)
		}
		s.push()
	case 'e', 'u': // APPENDS, SETITEMS: the list or dict stays below the MARK
		var n int
		if n, err = s.popMark(); err != nil {
			return false, err
		}
		if s.op == 'u' && n%2 != 0 {
			return false, fmt.Errorf("SETITEMS with an odd number (%d) of items", n)
		}
		err = s.need(1)
	case 0x80: // PROTO
		var b []byte
		if b, err = s.take(1); err == nil && b[0] > 3 {
			err = fmt.Errorf("unsupported pickle protocol %d (want 0 to 3)", b[0])
		}
	default:
		return false, fmt.Errorf("opcode not supported by this reader")
	}
	return false, err
}

// take consumes n argument bytes, failing if fewer remain.
func (s *pickleScanner) take(n int) ([]byte, error) {
	if n < 0 || n > len(s.data)-s.pos {
		return nil, fmt.Errorf("argument of %d bytes but only %d left: truncated or corrupt pickle", n, len(s.data)-s.pos)
	}
	b := s.data[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

// line consumes a newline-terminated argument and returns it without the
// newline.
func (s *pickleScanner) line() ([]byte, error) {
	rest := s.data[s.pos:]
	if len(rest) > maxLineLen+1 {
		rest = rest[:maxLineLen+1]
	}
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		return nil, fmt.Errorf("no newline within %d bytes: truncated or corrupt pickle", len(rest))
	}
	s.pos += i + 1
	return rest[:i], nil
}

func (s *pickleScanner) container() error {
	s.containers++
	if s.containers > maxPickleContainers {
		return fmt.Errorf("more than %d containers", maxPickleContainers)
	}
	return nil
}

func (s *pickleScanner) push() { s.levels[len(s.levels)-1]++ }

// need checks that the current MARK level holds at least n items.
func (s *pickleScanner) need(n int) error {
	if have := s.levels[len(s.levels)-1]; have < n {
		return fmt.Errorf("needs %d stack items, has %d", n, have)
	}
	return nil
}

func (s *pickleScanner) pop(n int) error {
	if err := s.need(n); err != nil {
		return err
	}
	s.levels[len(s.levels)-1] -= n
	return nil
}

// popMark removes the top MARK level and returns how many items it held.
func (s *pickleScanner) popMark() (int, error) {
	if len(s.levels) < 2 {
		return 0, fmt.Errorf("no MARK on the stack")
	}
	n := s.levels[len(s.levels)-1]
	s.levels = s.levels[:len(s.levels)-1]
	return n, nil
}

// The Go stand-ins of the allowed Python globals. They are distinct types so
// that the decoder's results can be told apart by type switches.
type (
	csrMatrixClass   struct{} // scipy.sparse.csr.csr_matrix
	reconstructFunc  struct{} // numpy.core.multiarray._reconstruct
	ndarrayClass     struct{} // numpy.ndarray
	dtypeClass       struct{} // numpy.dtype
	defaultDictClass struct{} // collections.defaultdict
	listClass        struct{} // __builtin__.list
)

// PyNew implements NEWOBJ for csr_matrix: an empty matrix that BUILD fills.
func (csrMatrixClass) PyNew(args ...any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("csr_matrix.__new__ with %d arguments, want 0", len(args))
	}
	return &csrMatrix{}, nil
}

// Call implements numpy's _reconstruct(ndarray, (0,), 'b'): an empty array
// that BUILD fills through __setstate__.
func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_reconstruct with %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("_reconstruct of %T, want numpy.ndarray", args[0])
	}
	return &ndarray{}, nil
}

// Call implements numpy.dtype(name, align, copy).
func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("numpy.dtype with %d arguments, want 1 to 3", len(args))
	}
	name, ok := pyString(args[0])
	if !ok {
		return nil, fmt.Errorf("numpy.dtype of %T, want a type string", args[0])
	}
	return parseDtype(name)
}

// Call implements defaultdict(list) and defaultdict().
func (defaultDictClass) Call(args ...any) (any, error) {
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == nil:
	case len(args) == 1:
		if _, ok := args[0].(listClass); !ok {
			return nil, fmt.Errorf("defaultdict with factory %T, want list", args[0])
		}
	default:
		return nil, fmt.Errorf("defaultdict with %d arguments, want at most 1", len(args))
	}
	return &intDict{vals: make(map[int]any)}, nil
}

// pyString returns the bytes of a Python 2 str, unicode or bytes value.
// Python 2 strs arrive as Go strings holding the raw bytes, as latin-1
// decoding would give in Python 3.
func pyString(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// pyInt returns an integer value. Python bools are not accepted.
func pyInt(v any) (int, bool) {
	i, ok := v.(int)
	return i, ok
}

// dtype is a numpy scalar type: kind 'b' (bool), 'i', 'u' or 'f', a size in
// bytes, and a byte order.
type dtype struct {
	kind  byte
	size  int
	order byte // '<', '>' or '|'; 0 until __setstate__
}

func parseDtype(name string) (*dtype, error) {
	if len(name) >= 2 {
		size, err := strconv.Atoi(name[1:])
		if err == nil {
			switch k := name[0]; {
			case k == 'b' && size == 1,
				(k == 'i' || k == 'u') && (size == 1 || size == 2 || size == 4 || size == 8),
				k == 'f' && (size == 4 || size == 8):
				return &dtype{kind: k, size: size}, nil
			}
		}
	}
	return nil, fmt.Errorf("numpy dtype %q is not supported (want b1, i1-i8, u1-u8, f4 or f8)", name)
}

func (d *dtype) String() string {
	return fmt.Sprintf("%c%c%d", d.order, d.kind, d.size)
}

// PySetState implements numpy.dtype.__setstate__ for the state tuple
// (version, byteorder, subarray, names, fields, elsize, alignment, flags).
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) < 2 {
		return fmt.Errorf("numpy.dtype state %T, want a tuple of at least 2", state)
	}
	if d.order != 0 {
		return fmt.Errorf("numpy.dtype state set twice")
	}
	order, ok := pyString((*t)[1])
	if !ok || len(order) != 1 {
		return fmt.Errorf("numpy.dtype byte order %v, want '<', '>' or '|'", (*t)[1])
	}
	switch o := order[0]; {
	case o == '<' || o == '>':
	case o == '|' && d.size == 1:
	default:
		// numpy writes '<' or '>' for multi-byte types; '=' would leave
		// the writer's byte order unknown.
		return fmt.Errorf("numpy.dtype byte order %q for a %d-byte type", o, d.size)
	}
	for i := 2; i < len(*t) && i < 5; i++ {
		if (*t)[i] != nil {
			return fmt.Errorf("structured or subarray numpy dtypes are not supported")
		}
	}
	d.order = order[0]
	return nil
}

// ndarray is a numpy array as __setstate__ gave it: shape, type, memory
// order and the raw bytes, which are checked to match the shape and type.
type ndarray struct {
	shape   []int
	dt      *dtype
	fortran bool
	raw     []byte
	n       int // number of elements
	ready   bool
}

// PySetState implements ndarray.__setstate__ for the state tuple
// ([version,] shape, dtype, is_fortran, rawdata).
func (a *ndarray) PySetState(state any) error {
	if a.ready {
		return fmt.Errorf("numpy.ndarray state set twice")
	}
	t, ok := state.(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy.ndarray state %T, want a tuple", state)
	}
	items := []any(*t)
	if len(items) == 5 {
		items = items[1:] // the version number
	}
	if len(items) != 4 {
		return fmt.Errorf("numpy.ndarray state of %d items, want 4 or 5", len(*t))
	}
	shapeT, ok := items[0].(*types.Tuple)
	if !ok || len(*shapeT) > maxNDim {
		return fmt.Errorf("numpy.ndarray shape %v, want a tuple of at most %d integers", items[0], maxNDim)
	}
	shape := make([]int, len(*shapeT))
	zero := false
	for i, v := range *shapeT {
		d, ok := pyInt(v)
		if !ok || d < 0 || d > maxDim {
			return fmt.Errorf("numpy.ndarray dimension %v, want an integer in [0, %d]", v, maxDim)
		}
		shape[i] = d
		zero = zero || d == 0
	}
	dt, ok := items[1].(*dtype)
	if !ok {
		return fmt.Errorf("numpy.ndarray dtype %T, want numpy.dtype", items[1])
	}
	if dt.order == 0 {
		return fmt.Errorf("numpy.ndarray dtype %c%d without a byte order", dt.kind, dt.size)
	}
	switch f := items[2].(type) {
	case bool:
		a.fortran = f
	case int:
		a.fortran = f != 0
	default:
		return fmt.Errorf("numpy.ndarray fortran flag %T, want a bool", items[2])
	}
	var raw []byte
	switch r := items[3].(type) {
	case string:
		raw = []byte(r)
	case []byte:
		raw = r
	default:
		return fmt.Errorf("numpy.ndarray data %T, want raw bytes (object arrays are not supported)", items[3])
	}
	// The element count must match the bytes present. Multiply only while
	// the product stays within what the data could hold, so that no
	// dimensions, however large, overflow.
	limit := len(raw) / dt.size
	n := 0
	if !zero {
		n = 1
		for _, d := range shape {
			if n > limit/d {
				return fmt.Errorf("numpy.ndarray of shape %v and dtype %v needs more than the %d bytes present", shape, dt, len(raw))
			}
			n *= d
		}
	}
	if n*dt.size != len(raw) {
		return fmt.Errorf("numpy.ndarray of shape %v and dtype %v needs %d bytes, has %d", shape, dt, n*dt.size, len(raw))
	}
	a.shape, a.dt, a.raw, a.n, a.ready = shape, dt, raw, n, true
	return nil
}

// order returns the byte order of the array's elements.
func (a *ndarray) order() binary.ByteOrder {
	if a.dt.order == '>' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// intAt returns element k (in memory order) of an integer or bool array.
// The second result is false for a uint64 beyond MaxInt64.
func (a *ndarray) intAt(k int) (int64, bool) {
	b := a.raw[k*a.dt.size : (k+1)*a.dt.size]
	o := a.order()
	var u uint64
	switch a.dt.size {
	case 1:
		u = uint64(b[0])
		if a.dt.kind == 'i' {
			return int64(int8(b[0])), true
		}
	case 2:
		u = uint64(o.Uint16(b))
		if a.dt.kind == 'i' {
			return int64(int16(u)), true
		}
	case 4:
		u = uint64(o.Uint32(b))
		if a.dt.kind == 'i' {
			return int64(int32(u)), true
		}
	case 8:
		u = o.Uint64(b)
		if a.dt.kind == 'i' {
			return int64(u), true
		}
	}
	return int64(u), u <= math.MaxInt64
}

// floatAt returns element k (in memory order) of any supported array.
func (a *ndarray) floatAt(k int) float64 {
	if a.dt.kind != 'f' {
		i, ok := a.intAt(k)
		if !ok {
			return math.MaxUint64
		}
		return float64(i)
	}
	b := a.raw[k*a.dt.size : (k+1)*a.dt.size]
	if a.dt.size == 4 {
		return float64(math.Float32frombits(a.order().Uint32(b)))
	}
	return math.Float64frombits(a.order().Uint64(b))
}

// asArray checks that v is a built ndarray with the given number of
// dimensions.
func asArray(what string, v any, ndim int) (*ndarray, error) {
	a, ok := v.(*ndarray)
	if !ok || !a.ready {
		return nil, fmt.Errorf("%s is %T, want a numpy array", what, v)
	}
	if len(a.shape) != ndim {
		return nil, fmt.Errorf("%s has shape %v, want %d dimensions", what, a.shape, ndim)
	}
	return a, nil
}

// ints returns the elements of a 1-D integer array, each checked to lie in
// [lo, hi].
func ints[T int | int32](what string, a *ndarray, lo, hi int64) ([]T, error) {
	if a.dt.kind == 'f' {
		return nil, fmt.Errorf("%s has dtype %v, want integers", what, a.dt)
	}
	out := make([]T, a.n)
	for k := range out {
		v, ok := a.intAt(k)
		if !ok || v < lo || v > hi {
			return nil, fmt.Errorf("%s[%d] is outside [%d, %d]", what, k, lo, hi)
		}
		out[k] = T(v)
	}
	return out, nil
}

// csrMatrix is a scipy csr_matrix as its __dict__ gave it.
type csrMatrix struct {
	shape                 *types.Tuple
	indptr, indices, data any
	ready                 bool
}

// PySetState implements the BUILD of a csr_matrix from its __dict__.
// Attributes other than the arrays, shape and format are ignored.
func (m *csrMatrix) PySetState(state any) error {
	d, ok := state.(*types.Dict)
	if !ok {
		return fmt.Errorf("csr_matrix state %T, want a dict", state)
	}
	if m.ready {
		return fmt.Errorf("csr_matrix state set twice")
	}
	for _, e := range *d {
		k, ok := pyString(e.Key)
		if !ok {
			return fmt.Errorf("csr_matrix attribute name %T, want a string", e.Key)
		}
		switch k {
		case "_shape", "shape":
			if m.shape, ok = e.Value.(*types.Tuple); !ok {
				return fmt.Errorf("csr_matrix shape %T, want a tuple", e.Value)
			}
		case "indptr":
			m.indptr = e.Value
		case "indices":
			m.indices = e.Value
		case "data":
			m.data = e.Value
		case "format":
			if f, _ := pyString(e.Value); f != "csr" {
				return fmt.Errorf("csr_matrix of format %v, want csr", e.Value)
			}
		}
	}
	m.ready = true
	return nil
}

// sparseParts holds a checked csr_matrix: indptr is non-decreasing from 0 to
// len(data) and indices lie in [0, cols). Rows need not be sorted.
type sparseParts struct {
	rows, cols int
	indptr     []int
	indices    []int32
	data       []float32
}

// asCSR converts a decoded csr_matrix.
func asCSR(what string, v any) (*sparseParts, error) {
	m, ok := v.(*csrMatrix)
	if !ok || !m.ready {
		return nil, fmt.Errorf("%s is %T, want a scipy csr_matrix", what, v)
	}
	if m.shape == nil || len(*m.shape) != 2 {
		return nil, fmt.Errorf("%s: csr_matrix shape %v, want 2 integers", what, m.shape)
	}
	rows, ok1 := pyInt((*m.shape)[0])
	cols, ok2 := pyInt((*m.shape)[1])
	if !ok1 || !ok2 || rows < 0 || cols < 0 || rows > maxDim || cols > maxDim {
		return nil, fmt.Errorf("%s: csr_matrix shape %v, want 2 integers in [0, %d]", what, *m.shape, maxDim)
	}
	ip, err := asArray(what+".indptr", m.indptr, 1)
	if err != nil {
		return nil, err
	}
	ix, err := asArray(what+".indices", m.indices, 1)
	if err != nil {
		return nil, err
	}
	dv, err := asArray(what+".data", m.data, 1)
	if err != nil {
		return nil, err
	}
	if ip.n != rows+1 || ix.n != dv.n {
		return nil, fmt.Errorf("%s: csr_matrix %d×%d with %d indptr entries, %d indices and %d values", what, rows, cols, ip.n, ix.n, dv.n)
	}
	p := &sparseParts{rows: rows, cols: cols}
	if p.indptr, err = ints[int](what+".indptr", ip, 0, int64(dv.n)); err != nil {
		return nil, err
	}
	if p.indices, err = ints[int32](what+".indices", ix, 0, int64(cols)-1); err != nil {
		return nil, err
	}
	if p.indptr[0] != 0 || p.indptr[rows] != dv.n {
		return nil, fmt.Errorf("%s: indptr runs from %d to %d, want 0 to %d", what, p.indptr[0], p.indptr[rows], dv.n)
	}
	for i := 0; i < rows; i++ {
		if p.indptr[i+1] < p.indptr[i] {
			return nil, fmt.Errorf("%s: indptr decreases at row %d", what, i)
		}
	}
	p.data = make([]float32, dv.n)
	for k := range p.data {
		p.data[k] = float32(dv.floatAt(k))
	}
	return p, nil
}

// asMatrix converts a decoded 2-D numeric array to row-major float64s.
func asMatrix(what string, v any) (rows, cols int, vals []float64, err error) {
	a, err := asArray(what, v, 2)
	if err != nil {
		return 0, 0, nil, err
	}
	rows, cols = a.shape[0], a.shape[1]
	vals = make([]float64, a.n)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			k := i*cols + j
			if a.fortran {
				k = j*rows + i
			}
			vals[i*cols+j] = a.floatAt(k)
		}
	}
	return rows, cols, vals, nil
}

// intDict is a dict with integer keys, standing for collections.defaultdict.
// Like a Python dict it keeps the last value set for a key, and its first
// insertion order.
type intDict struct {
	keys []int
	vals map[int]any
	err  error // the first non-integer key; Set cannot return errors
}

// Set implements types.DictSetter for SETITEM(S).
func (d *intDict) Set(key, value any) {
	k, ok := pyInt(key)
	if !ok {
		if d.err == nil {
			d.err = fmt.Errorf("dict key %T, want an integer", key)
		}
		return
	}
	if _, seen := d.vals[k]; !seen {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = value
}

// asAdjacency converts a decoded adjacency dict (a defaultdict(list) or a
// plain dict) of node → neighbour list, calling f for each (node, neighbour)
// pair in the dict's order. It returns the number of keys.
func asAdjacency(what string, v any, f func(u, v int)) (int, error) {
	var d *intDict
	switch t := v.(type) {
	case *intDict:
		d = t
	case *types.Dict:
		// gopickle keeps repeated keys; a Python dict keeps the last value.
		d = &intDict{vals: make(map[int]any, len(*t))}
		for _, e := range *t {
			d.Set(e.Key, e.Value)
		}
	default:
		return 0, fmt.Errorf("%s is %T, want a dict of lists", what, v)
	}
	if d.err != nil {
		return 0, fmt.Errorf("%s: %w", what, d.err)
	}
	for _, u := range d.keys {
		l, ok := d.vals[u].(*types.List)
		if !ok {
			return 0, fmt.Errorf("%s[%d] is %T, want a list", what, u, d.vals[u])
		}
		for _, x := range *l {
			w, ok := pyInt(x)
			if !ok {
				return 0, fmt.Errorf("%s[%d] holds %T, want integers", what, u, x)
			}
			f(u, w)
		}
	}
	return len(d.keys), nil
}
