// Package modelfile reads and writes gnsr's saved-model files: a versioned
// container of a JSON header and named float32 tensors, checksummed. The
// format is specified in docs/model-format.md; gnn and vision define what
// their headers hold.
//
// Model files travel between people, so Decode trusts nothing: every
// length is checked against the bytes present before anything is
// allocated, the checksum is verified before the contents are parsed, and
// a malformed file is an error wrapping ErrFormat, never a panic.
package modelfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"unicode/utf8"

	"github.com/gnsr/gnsr/internal/atomicfile"
)

// Version is the format version Encode writes. Decode reads every version
// up to it.
const Version = 1

// Magic opens every model file.
const Magic = "GNSRMODL"

// ErrFormat is wrapped by every error that reports a file that is not a
// valid model file.
var ErrFormat = errors.New("modelfile: not a valid gnsr model file")

// Limits on what a file may declare; real models are far below them.
const (
	MaxFileBytes   = 4 << 30 // whole file
	MaxHeaderBytes = 1 << 20
	MaxTensors     = 1 << 16
	maxNameBytes   = 256
	maxDims        = 4
)

// Tensor is a named float32 tensor, row-major.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the content of a model file: its kind (which package wrote it,
// "gnn" or "vision"), the kind's JSON header and the tensors.
type File struct {
	Kind    string
	Header  json.RawMessage
	Tensors []Tensor
}

// Encode returns f in the model-file format. It returns an error if a
// tensor's shape does not match its data, a name or the header is too
// long, or the header is not valid JSON.
func Encode(f *File) ([]byte, error) {
	if len(f.Header) > MaxHeaderBytes || !json.Valid(f.Header) {
		return nil, fmt.Errorf("modelfile: header of %d bytes is not valid JSON within %d bytes", len(f.Header), MaxHeaderBytes)
	}
	if len(f.Kind) == 0 || len(f.Kind) > maxNameBytes || len(f.Tensors) > MaxTensors {
		return nil, fmt.Errorf("modelfile: kind %q with %d tensors", f.Kind, len(f.Tensors))
	}
	var b []byte
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	b = appendString(b, f.Kind)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(f.Header)))
	b = append(b, f.Header...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(f.Tensors)))
	seen := map[string]bool{}
	for _, t := range f.Tensors {
		size := 1
		for _, s := range t.Shape {
			size *= s
		}
		if len(t.Name) == 0 || len(t.Name) > maxNameBytes || seen[t.Name] || len(t.Shape) == 0 || len(t.Shape) > maxDims || size != len(t.Data) {
			return nil, fmt.Errorf("modelfile: tensor %q of shape %v with %d values", t.Name, t.Shape, len(t.Data))
		}
		seen[t.Name] = true
		b = appendString(b, t.Name)
		b = append(b, byte(len(t.Shape)))
		for _, s := range t.Shape {
			b = binary.LittleEndian.AppendUint32(b, uint32(s))
		}
		for _, v := range t.Data {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// Decode parses a model file. Any inconsistency is an error wrapping
// ErrFormat that says what is wrong.
func Decode(b []byte) (*File, error) {
	if len(b) < len(Magic)+4+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes, too short (truncated?)", ErrFormat, len(b))
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrFormat, b[:len(Magic)])
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	r := &reader{b: body, off: len(Magic)}
	if v := r.u32(); v < 1 || v > Version {
		return nil, fmt.Errorf("%w: format version %d, this gnsr reads versions 1 to %d", ErrFormat, v, Version)
	}
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch: the file is truncated or corrupt", ErrFormat)
	}
	f := &File{Kind: r.str()}
	hn := int(r.u32())
	if r.err == nil && hn > MaxHeaderBytes {
		return nil, fmt.Errorf("%w: header of %d bytes exceeds %d", ErrFormat, hn, MaxHeaderBytes)
	}
	f.Header = json.RawMessage(bytes.Clone(r.bytes(hn)))
	if r.err == nil && !json.Valid(f.Header) {
		return nil, fmt.Errorf("%w: the header is not valid JSON", ErrFormat)
	}
	n := int(r.u32())
	if r.err == nil && n > MaxTensors {
		return nil, fmt.Errorf("%w: %d tensors exceeds %d", ErrFormat, n, MaxTensors)
	}
	seen := map[string]bool{}
	for i := 0; i < n && r.err == nil; i++ {
		t := Tensor{Name: r.str()}
		dims := int(r.u8())
		if r.err == nil && (dims < 1 || dims > maxDims || t.Name == "" || seen[t.Name]) {
			return nil, fmt.Errorf("%w: tensor %d (%q) has %d dimensions or a repeated or empty name", ErrFormat, i, t.Name, dims)
		}
		seen[t.Name] = true
		size := 1
		for range dims {
			s := int(r.u32())
			if s > 0 && size > (len(r.b)-r.off)/4/s {
				// More values than the bytes left could hold.
				return nil, fmt.Errorf("%w: tensor %q declares more values than the file holds", ErrFormat, t.Name)
			}
			size *= s
			t.Shape = append(t.Shape, s)
		}
		raw := r.bytes(4 * size)
		if r.err != nil {
			break
		}
		t.Data = make([]float32, size)
		for k := range t.Data {
			t.Data[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
		}
		f.Tensors = append(f.Tensors, t)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, r.err)
	}
	if r.off != len(body) {
		return nil, fmt.Errorf("%w: %d stray bytes after the tensors", ErrFormat, len(body)-r.off)
	}
	if f.Kind == "" || !utf8.ValidString(f.Kind) {
		return nil, fmt.Errorf("%w: empty or invalid kind", ErrFormat)
	}
	return f, nil
}

// reader reads little-endian fields; the first overrun sticks in err.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("truncated: %d bytes wanted at offset %d of %d", n, r.off, len(r.b))
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() uint8 {
	if s := r.bytes(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.bytes(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) str() string {
	s := r.bytes(2)
	if s == nil {
		return ""
	}
	return string(r.bytes(int(binary.LittleEndian.Uint16(s))))
}

// Write writes f to path atomically.
func Write(path string, f *File) error {
	b, err := Encode(f)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("modelfile: writing %s: %w", path, err)
	}
	return nil
}

// Read reads and decodes the model file at path; errors name the file.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the limit of %d", ErrFormat, path, st.Size(), int64(MaxFileBytes))
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(fh, b); err != nil {
		return nil, fmt.Errorf("modelfile: reading %s: %w", path, err)
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Save writes the saved model of the package kind (which writes files of
// that kind), its header h and tensors, to path atomically.
func Save[S, I any](path, kind string, h Header[S, I], tensors []Tensor) error {
	head, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("%s: encoding model: %w", kind, err)
	}
	return Write(path, &File{Kind: kind, Header: head, Tensors: tensors})
}

// Load reads the saved model at path, written by the package kind, and
// builds it with build (DecodeModel). Errors name the file, start with
// kind as a package prefix and wrap those of Read, DecodeModel or build.
func Load[S, I, M any](path, kind string, build func(Header[S, I], []Tensor) (M, error)) (M, error) {
	var zero M
	f, err := Read(path)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", kind, err)
	}
	m, err := DecodeModel(f, kind, build)
	if err != nil {
		return zero, fmt.Errorf("%s: model %s: %w", kind, path, err)
	}
	return m, nil
}

// DecodeModel decodes the header of f, a saved model of the package kind,
// and builds the model with build, which gets the header and the tensors.
// A file of another kind, or whose header does not decode, is an error
// wrapping ErrFormat; build's errors are returned as they are.
func DecodeModel[S, I, M any](f *File, kind string, build func(Header[S, I], []Tensor) (M, error)) (M, error) {
	var h Header[S, I]
	if err := f.DecodeHeader(kind, &h); err != nil {
		var zero M
		return zero, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return build(h, f.Tensors)
}

// DecodeHeader checks that the package kind wrote f and decodes f's JSON
// header into v.
func (f *File) DecodeHeader(kind string, v any) error {
	if f.Kind != kind {
		return fmt.Errorf("a %q model, not a %q one", f.Kind, kind)
	}
	if err := json.Unmarshal(f.Header, v); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	return nil
}

// EditHeader returns the model file b with its JSON header decoded into a
// map, changed by edit and encoded again (with a new checksum): for tests
// and tools that make files whose header says something else.
func EditHeader(b []byte, edit func(header map[string]any)) ([]byte, error) {
	f, err := Decode(b)
	if err != nil {
		return nil, err
	}
	var h map[string]any
	if err := json.Unmarshal(f.Header, &h); err != nil {
		return nil, fmt.Errorf("modelfile: header: %w", err)
	}
	edit(h)
	if f.Header, err = json.Marshal(h); err != nil {
		return nil, fmt.Errorf("modelfile: header: %w", err)
	}
	return Encode(f)
}

// Float64Tensor returns a tensor that carries float64 values exactly: each
// value as two float32 words holding its bits, the low word first, in a
// trailing dimension of 2 (shape len(data)×2). Checkpoints keep optimizer
// and NSR state in such tensors.
func Float64Tensor(name string, data []float64) Tensor {
	t := Tensor{Name: name, Shape: []int{len(data), 2}, Data: make([]float32, 2*len(data))}
	for i, v := range data {
		b := math.Float64bits(v)
		t.Data[2*i], t.Data[2*i+1] = math.Float32frombits(uint32(b)), math.Float32frombits(uint32(b>>32))
	}
	return t
}

// Float64s returns the values of a tensor made by Float64Tensor, or an
// error if t's shape is not n×2.
func (t Tensor) Float64s() ([]float64, error) {
	if len(t.Shape) != 2 || t.Shape[1] != 2 || len(t.Data) != 2*t.Shape[0] {
		return nil, fmt.Errorf("modelfile: tensor %s of shape %v does not hold float64 values (n×2)", t.Name, t.Shape)
	}
	out := make([]float64, t.Shape[0])
	for i := range out {
		out[i] = math.Float64frombits(uint64(math.Float32bits(t.Data[2*i])) | uint64(math.Float32bits(t.Data[2*i+1]))<<32)
	}
	return out, nil
}

// Header is the JSON header of the saved models of gnn and vision:
// {"spec": …, "info": …}, the architecture and what the model knows of its
// data and run.
type Header[S, I any] struct {
	Spec S `json:"spec"`
	Info I `json:"info"`
}
