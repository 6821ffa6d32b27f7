package gnn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"

	"github.com/gnsr/gnsr/internal/atomicfile"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/stats"
	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
)

// CheckpointVersion is the checkpoint format version that WriteCheckpoint
// writes and ReadCheckpoint accepts.
const CheckpointVersion = 2

// ErrCheckpoint is wrapped by every error that reports a checkpoint file
// that cannot be used: corrupt, truncated, of another version, or made for
// other data or another architecture.
var ErrCheckpoint = errors.New("gnn: bad checkpoint")

// checkpointMagic opens every checkpoint file.
const checkpointMagic = "GNSRCKPT"

// maxCheckpointBytes bounds the file ReadCheckpoint reads into memory; real
// checkpoints are a few megabytes at most.
const maxCheckpointBytes = 1 << 30

// Tensor is a named float32 tensor of a checkpoint (a weight matrix, a
// bias, batch norm statistics), row-major.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Checkpoint is the complete state of a training run after EpochsDone
// epochs: with it TrainWith continues the run to the same numbers, bit for
// bit, as if it had never stopped.
type Checkpoint struct {
	Config      Config
	Meta        map[string]string // the caller's description of the run (Options.Meta), kept verbatim
	Fingerprint [32]byte          // DataFingerprint of the data the run trains on
	EpochsDone  int
	BestEpoch   int // 0 before the first epoch
	ValAcc      float64
	TestAcc     float64
	NSRLayers   []int // the regularised layers so far (nil before an auto choice)
	NSRLambdas  []float64
	NSRChoice   string
	Epochs      []Epoch  // the history, one per epoch done
	Weights     []Tensor // the model's state (Model.State): parameters, then batch norm statistics
	Best        []Tensor // the model's state at BestEpoch; nil before the first epoch
	Optimizer   nn.OptimizerState
	RNG         []byte // the run's PCG source, MarshalBinary
	// QueuesInUse says that mini-batch NSR memory queues held steps when
	// the checkpoint was taken. Their contents are not saved, so such a
	// checkpoint can be evaluated but not resumed.
	QueuesInUse bool
}

// Done reports whether the run of c has finished all its epochs.
func (c *Checkpoint) Done() bool { return c.EpochsDone >= c.Config.Epochs }

// Resumable returns nil if TrainWith can continue c, else the reason it
// cannot.
func (c *Checkpoint) Resumable() error {
	if c.QueuesInUse {
		return fmt.Errorf("%w: mini-batch NSR memory queues are not saved in checkpoints, so a mini-batch run with NSR cannot be resumed exactly (train it again from the start)", ErrCheckpoint)
	}
	return nil
}

// ckptHeader is the JSON section of a checkpoint file: everything but the
// numeric arrays, which follow in binary.
type ckptHeader struct {
	Config      Config
	Meta        map[string]string `json:",omitempty"`
	Fingerprint string
	EpochsDone  int
	BestEpoch   int
	ValAcc      float64
	TestAcc     float64
	NSRLayers   []int
	NSRLambdas  []float64
	NSRChoice   string
	QueuesInUse bool
}

// The file is
//
//	magic "GNSRCKPT" | version u32 | section count u32 |
//	sections: tag [4]byte | length u64 | payload |
//	sha256 of everything before it
//
// all integers little-endian. The sections are, in this order: "HEAD" (JSON
// ckptHeader), "WGHT" (the model's state), "BEST" (the state at the best
// epoch), "OPTM" (optimizer state), "HIST" (epoch history) and "RNG " (the
// PCG state).
var sectionTags = []string{"HEAD", "WGHT", "BEST", "OPTM", "HIST", "RNG "}

// MarshalBinary encodes c in the checkpoint format.
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	head, err := json.Marshal(ckptHeader{
		Config: c.Config, Meta: c.Meta, Fingerprint: hex.EncodeToString(c.Fingerprint[:]),
		EpochsDone: c.EpochsDone, BestEpoch: c.BestEpoch, ValAcc: c.ValAcc, TestAcc: c.TestAcc,
		NSRLayers: c.NSRLayers, NSRLambdas: c.NSRLambdas, NSRChoice: c.NSRChoice, QueuesInUse: c.QueuesInUse,
	})
	if err != nil {
		return nil, fmt.Errorf("gnn: encoding checkpoint: %w", err)
	}
	var w, best enc
	w.tensors(c.Weights)
	best.tensors(c.Best)
	var a enc
	a.str(c.Optimizer.Kind)
	a.u64(uint64(c.Optimizer.Step))
	a.u32(uint32(len(c.Optimizer.Buffers)))
	for _, buf := range c.Optimizer.Buffers {
		a.u32(uint32(len(buf)))
		for _, b := range buf {
			a.u8(b2u8(b != nil))
			if b != nil {
				a.f64s(b)
			}
		}
	}
	var h enc
	for _, e := range c.Epochs {
		h.u64(uint64(e.Epoch))
		for _, v := range []float64{e.Loss, e.NSRLoss, e.TrainMs, e.ValAcc, e.TestAcc} {
			h.u64(math.Float64bits(v))
		}
		h.f64s(e.Variance)
	}
	var out enc
	out.b = append(out.b, checkpointMagic...)
	out.u32(CheckpointVersion)
	out.u32(uint32(len(sectionTags)))
	for i, p := range [][]byte{head, w.b, best.b, a.b, h.b, c.RNG} {
		out.b = append(out.b, sectionTags[i]...)
		out.u64(uint64(len(p)))
		out.b = append(out.b, p...)
	}
	sum := sha256.Sum256(out.b)
	return append(out.b, sum[:]...), nil
}

// DecodeCheckpoint decodes a checkpoint encoded by MarshalBinary. It checks
// the magic, the version, every length against the bytes that remain before
// allocating, the trailing sha256 and the consistency of the contents, and
// returns an error wrapping ErrCheckpoint for anything amiss; it never
// panics.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	const fixed = len(checkpointMagic) + 8
	if len(b) < fixed+sha256.Size {
		return nil, fmt.Errorf("%w: %d bytes, too short for a checkpoint (truncated?)", ErrCheckpoint, len(b))
	}
	if string(b[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("%w: not a gnsr checkpoint (bad magic %q)", ErrCheckpoint, b[:len(checkpointMagic)])
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	d := &dec{b: body, off: len(checkpointMagic)}
	if v := d.u32(); v != CheckpointVersion {
		return nil, fmt.Errorf("%w: format version %d, this gnsr reads version %d", ErrCheckpoint, v, CheckpointVersion)
	}
	if n := d.u32(); n != uint32(len(sectionTags)) {
		return nil, fmt.Errorf("%w: %d sections, want %d (truncated or corrupt)", ErrCheckpoint, n, len(sectionTags))
	}
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: sha256 mismatch: the file is truncated or corrupt", ErrCheckpoint)
	}
	secs := make([][]byte, len(sectionTags))
	for i, tag := range sectionTags {
		if t := d.bytes(4); d.err == nil && string(t) != tag {
			return nil, fmt.Errorf("%w: section %d is %q, want %q", ErrCheckpoint, i, t, tag)
		}
		secs[i] = d.bytes(d.len(1))
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: sections: %w", ErrCheckpoint, d.err)
	}
	if d.off != len(body) {
		return nil, fmt.Errorf("%w: %d stray bytes after the sections", ErrCheckpoint, len(body)-d.off)
	}
	c, err := decodeSections(secs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return c, nil
}

func decodeSections(secs [][]byte) (*Checkpoint, error) {
	var h ckptHeader
	jd := json.NewDecoder(bytes.NewReader(secs[0]))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	c := &Checkpoint{
		Config: h.Config, Meta: h.Meta, EpochsDone: h.EpochsDone, BestEpoch: h.BestEpoch,
		ValAcc: h.ValAcc, TestAcc: h.TestAcc, NSRLayers: h.NSRLayers, NSRLambdas: h.NSRLambdas,
		NSRChoice: h.NSRChoice, QueuesInUse: h.QueuesInUse, RNG: slices.Clone(secs[5]),
	}
	if fp, err := hex.DecodeString(h.Fingerprint); err != nil || len(fp) != len(c.Fingerprint) {
		return nil, fmt.Errorf("header: bad data fingerprint %q", h.Fingerprint)
	} else {
		copy(c.Fingerprint[:], fp)
	}

	var err error
	if c.Weights, err = decodeTensors(secs[1]); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if len(secs[2]) > 0 {
		if c.Best, err = decodeTensors(secs[2]); err != nil {
			return nil, fmt.Errorf("best weights: %w", err)
		}
	}

	a := &dec{b: secs[3]}
	c.Optimizer.Kind = a.str()
	c.Optimizer.Step = a.len(1)
	if nb := a.len32(4); nb > 0 {
		c.Optimizer.Buffers = make([][][]float64, nb)
		for k := 0; k < nb && a.err == nil; k++ {
			n := a.len32(1)
			c.Optimizer.Buffers[k] = make([][]float64, n)
			for i := 0; i < n && a.err == nil; i++ {
				if a.u8() == 1 {
					c.Optimizer.Buffers[k][i] = a.f64s()
				}
			}
		}
	}
	if a.err == nil && a.off != len(a.b) {
		a.err = errors.New("stray bytes")
	}
	if a.err != nil {
		return nil, fmt.Errorf("optimizer state: %w", a.err)
	}

	e := &dec{b: secs[4]}
	for e.err == nil && e.off < len(e.b) {
		n := e.u64()
		ep := Epoch{Epoch: int(min(n, math.MaxInt32))} // validate checks it is the entry's index + 1
		for _, p := range []*float64{&ep.Loss, &ep.NSRLoss, &ep.TrainMs, &ep.ValAcc, &ep.TestAcc} {
			*p = math.Float64frombits(e.u64())
		}
		ep.Variance = e.f64s()
		c.Epochs = append(c.Epochs, ep)
	}
	if e.err != nil {
		return nil, fmt.Errorf("history: %w", e.err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// tensors encodes ts: each its name, dimensions, shape and values.
func (e *enc) tensors(ts []Tensor) {
	for _, t := range ts {
		e.str(t.Name)
		e.u64(uint64(len(t.Shape)))
		for _, s := range t.Shape {
			e.u64(uint64(s))
		}
		e.u64(uint64(len(t.Data)))
		for _, v := range t.Data {
			e.u32(math.Float32bits(v))
		}
	}
}

// decodeTensors decodes what enc.tensors wrote, checking every length
// against the bytes present and each shape against its values.
func decodeTensors(b []byte) ([]Tensor, error) {
	w := &dec{b: b}
	var out []Tensor
	for w.err == nil && w.off < len(w.b) {
		t := Tensor{Name: w.str()}
		dims := w.len(8)
		size := 1
		for range dims {
			s := w.len(1)
			if s > 0 && size > math.MaxInt32/s {
				return nil, fmt.Errorf("tensor %q: shape too large", t.Name)
			}
			size *= s
			t.Shape = append(t.Shape, s)
		}
		t.Data = w.f32s()
		if w.err == nil && (len(t.Shape) < 1 || len(t.Shape) > 2 || size != len(t.Data)) {
			return nil, fmt.Errorf("tensor %q: shape %v for %d values", t.Name, t.Shape, len(t.Data))
		}
		out = append(out, t)
	}
	return out, w.err
}

// validate checks that the parts of c fit together, so that resuming or
// evaluating it cannot index out of range.
func (c *Checkpoint) validate() error {
	cfg := c.Config
	arch, err := LookupArch(cfg.Arch)
	if err != nil {
		arch = Arch{Name: cfg.Arch} // a layer of the caller's own
	}
	if err := cfg.validate(arch); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	switch {
	case c.EpochsDone < 0 || c.EpochsDone > cfg.Epochs:
		return fmt.Errorf("%d epochs done of %d", c.EpochsDone, cfg.Epochs)
	case len(c.Epochs) != c.EpochsDone:
		return fmt.Errorf("history of %d epochs for %d done", len(c.Epochs), c.EpochsDone)
	case c.BestEpoch < 0 || c.BestEpoch > c.EpochsDone || (c.BestEpoch == 0) != (c.EpochsDone == 0):
		return fmt.Errorf("best epoch %d of %d done", c.BestEpoch, c.EpochsDone)
	case len(c.NSRLambdas) < len(c.NSRLayers): // without NSR, layers are nil and λ as configured
		return fmt.Errorf("%d NSR layers with %d lambdas", len(c.NSRLayers), len(c.NSRLambdas))
	case len(c.Weights) < cfg.Layers:
		return fmt.Errorf("%d weight tensors for %d layers", len(c.Weights), cfg.Layers)
	case c.Best != nil && len(c.Best) != len(c.Weights):
		return fmt.Errorf("%d best-epoch tensors, %d weight tensors", len(c.Best), len(c.Weights))
	case (c.Best == nil) != (c.EpochsDone == 0):
		return fmt.Errorf("best-epoch weights present: %v after %d epochs", c.Best != nil, c.EpochsDone)
	}
	for i, t := range c.Best {
		if w := c.Weights[i]; t.Name != w.Name || !slices.Equal(t.Shape, w.Shape) {
			return fmt.Errorf("best-epoch tensor %d is %s%v, the weight is %s%v", i, t.Name, t.Shape, w.Name, w.Shape)
		}
	}
	for k, buf := range c.Optimizer.Buffers {
		if len(buf) > len(c.Weights) {
			return fmt.Errorf("optimizer buffer %d for %d tensors, have %d", k, len(buf), len(c.Weights))
		}
		for i, b := range buf {
			if b != nil && len(b) != len(c.Weights[i].Data) {
				return fmt.Errorf("optimizer state for %s has %d values, want %d", c.Weights[i].Name, len(b), len(c.Weights[i].Data))
			}
		}
	}
	for i, e := range c.Epochs {
		if e.Epoch != i+1 {
			return fmt.Errorf("history entry %d is epoch %d", i, e.Epoch)
		}
	}
	for _, l := range c.NSRLayers {
		if l < 0 || l >= cfg.Layers {
			return fmt.Errorf("NSR layer %d out of range for %d layers", l, cfg.Layers)
		}
	}
	if err := new(rand.PCG).UnmarshalBinary(c.RNG); err != nil {
		return fmt.Errorf("random state: %w", err)
	}
	return nil
}

// WriteCheckpoint writes c to path atomically: to a temporary file in the
// same directory that is synced, renamed over path, and the directory
// synced, so that a crash leaves either the old checkpoint or the new one.
func WriteCheckpoint(path string, c *Checkpoint) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
	if err != nil {
		return fmt.Errorf("gnn: writing checkpoint %s: %w", path, err)
	}
	return nil
}

// ReadCheckpoint reads and decodes the checkpoint at path (see
// DecodeCheckpoint); errors name the file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gnn: reading checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gnn: reading checkpoint: %w", err)
	}
	if st.Size() > maxCheckpointBytes {
		return nil, fmt.Errorf("%w: %s: %d bytes exceeds the limit of %d", ErrCheckpoint, path, st.Size(), maxCheckpointBytes)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("gnn: reading checkpoint %s: %w", path, err)
	}
	c, err := DecodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// DataFingerprint returns the sha256 of everything in d that training
// reads: features, graph, labels, class count and split (d.Resplit is not
// called; fingerprint the data of a seed after resplitting).
func DataFingerprint(d *Data) [32]byte {
	h := &hashWriter{h: sha256.New()}
	h.ints("features", d.Features.Rows, d.Features.Cols)
	h.ints("indptr", d.Features.Indptr...)
	h.tag("indices", len(d.Features.Indices))
	for _, v := range d.Features.Indices {
		h.u64(uint64(v))
	}
	h.tag("data", len(d.Features.Data))
	for _, v := range d.Features.Data {
		h.u64(uint64(math.Float32bits(v)))
	}
	n := d.Graph.NumNodes()
	h.ints("graph", n, d.Graph.NumEdges())
	for i := range n {
		nb := d.Graph.Neighbors(i)
		h.u64(uint64(len(nb)))
		for _, v := range nb {
			h.u64(uint64(v))
		}
	}
	h.ints("labels", d.Labels...)
	h.ints("classes", d.NumClasses)
	h.ints("train", d.Train...)
	h.ints("val", d.Val...)
	h.ints("test", d.Test...)
	return h.sum()
}

// hashWriter feeds little-endian words to a hash through a buffer.
type hashWriter struct {
	h   hash.Hash
	buf []byte
}

func (w *hashWriter) u64(v uint64) {
	w.buf = binary.LittleEndian.AppendUint64(w.buf, v)
	if len(w.buf) >= 1<<16 {
		w.h.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// tag separates the parts, so that data cannot shift from one to the next.
func (w *hashWriter) tag(name string, n int) {
	for _, c := range []byte(name) {
		w.u64(uint64(c))
	}
	w.u64(uint64(n))
}

func (w *hashWriter) ints(name string, vs ...int) {
	w.tag(name, len(vs))
	for _, v := range vs {
		w.u64(uint64(v))
	}
}

func (w *hashWriter) sum() (s [32]byte) {
	w.h.Write(w.buf)
	copy(s[:], w.h.Sum(nil))
	return s
}

// enc appends little-endian values.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)   { e.b = append(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) f64s(vs []float64) {
	e.u64(uint64(len(vs)))
	for _, v := range vs {
		e.u64(math.Float64bits(v))
	}
}

// dec reads little-endian values, checking every length against the bytes
// that remain before allocating; after the first error it returns zeros.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("length %d at offset %d runs past the end (%d bytes): truncated or corrupt", n, d.off, len(d.b))
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *dec) u8() uint8 {
	if p := d.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *dec) u32() uint32 {
	if p := d.bytes(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *dec) u64() uint64 {
	if p := d.bytes(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

// len reads a u64 count of items of at least size bytes each, refusing one
// that the remaining bytes cannot hold.
func (d *dec) len(size int) int {
	v := d.u64()
	if d.err == nil && v > uint64(len(d.b)-d.off)/uint64(size) {
		d.err = fmt.Errorf("count %d at offset %d exceeds the %d bytes left: truncated or corrupt", v, d.off-8, len(d.b)-d.off)
		return 0
	}
	return int(v)
}

// len32 is len for a u32 count.
func (d *dec) len32(size int) int {
	v := d.u32()
	if d.err == nil && uint64(v) > uint64(len(d.b)-d.off)/uint64(size) {
		d.err = fmt.Errorf("count %d at offset %d exceeds the %d bytes left: truncated or corrupt", v, d.off-4, len(d.b)-d.off)
		return 0
	}
	return int(v)
}

func (d *dec) str() string { return string(d.bytes(d.len(1))) }

func (d *dec) f32s() []float32 {
	p := d.bytes(d.len(4) * 4)
	if p == nil {
		return nil
	}
	out := make([]float32, len(p)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return out
}

func (d *dec) f64s() []float64 {
	p := d.bytes(d.len(8) * 8)
	if p == nil {
		return nil
	}
	out := make([]float64, len(p)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return out
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// configDiff names the first setting in which a and b differ, or returns
// "". A nil and an empty list are the same setting (JSON keeps no difference).
func configDiff(a, b Config) string {
	return structDiff("", reflect.ValueOf(a), reflect.ValueOf(b))
}

func structDiff(prefix string, a, b reflect.Value) string {
	for i := range a.NumField() {
		name := prefix + a.Type().Field(i).Name
		fa, fb := a.Field(i), b.Field(i)
		if fa.Kind() == reflect.Struct {
			if d := structDiff(name+".", fa, fb); d != "" {
				return d
			}
			continue
		}
		if fa.Kind() == reflect.Slice && fa.Len() == 0 && fb.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			return fmt.Sprintf("%s is %v in the checkpoint, %v now", name, fa, fb)
		}
	}
	return ""
}

// restoreOptimizer sets the optimizer state of a resumed run. A mini-batch
// run makes its optimizer at the first batch, over that batch's graph;
// here it gets one over stand-in nodes holding the same tensors, which the
// first batch rebinds.
func (r *run) restoreOptimizer(s nn.OptimizerState) error {
	opt := r.opt
	if r.mb != nil {
		if s.Step == 0 && s.Buffers == nil {
			return nil
		}
		ctx := newContext(G.NewGraph(), false)
		var nodes []*G.Node
		for _, p := range r.model.params() {
			nodes = append(nodes, ctx.Node(p))
		}
		var err error
		if opt, err = nn.NewOptimizer(r.cfg.optimizer(), nodes); err != nil {
			return fmt.Errorf("gnn: %w", err)
		}
		r.mb.opt = opt
	}
	if err := opt.SetState(s); err != nil {
		return fmt.Errorf("%w: optimizer state: %w", ErrCheckpoint, err)
	}
	return nil
}

// checkpoint snapshots the run after done epochs.
func (r *run) checkpoint(res *Result, done int, fingerprint [32]byte, meta map[string]string) *Checkpoint {
	c := &Checkpoint{
		Config: r.cfg, Meta: meta, Fingerprint: fingerprint, EpochsDone: done,
		BestEpoch: res.BestEpoch, ValAcc: res.ValAcc, TestAcc: res.TestAcc,
		NSRLayers: slices.Clone(r.nsrLayers), NSRLambdas: slices.Clone(r.nsrLambdas), NSRChoice: res.NSRChoice,
		Epochs: slices.Clone(res.Epochs), QueuesInUse: r.resumable() != nil,
	}
	if done == 0 {
		c.ValAcc = 0
	}
	c.Weights = tensorList(r.model.State())
	if r.best != nil {
		c.Best = tensorList(r.best)
	}
	opt := r.opt
	if r.mb != nil {
		opt = r.mb.opt
	}
	if opt != nil {
		c.Optimizer = opt.State()
	}
	// PCG's MarshalBinary cannot fail.
	c.RNG, _ = r.pcg.MarshalBinary()
	return c
}

// resumable returns nil if a checkpoint of r now could be resumed exactly.
func (r *run) resumable() error {
	if r.mb != nil {
		for _, q := range r.mb.queues {
			if q.Pushes() > 0 || q.Len() > 0 {
				return (&Checkpoint{QueuesInUse: true}).Resumable()
			}
		}
	}
	return nil
}

// Accuracy is the full-batch accuracy of a model on each part of the split.
type Accuracy struct {
	Train, Val, Test float64
}

// Evaluate runs the model of checkpoint c on d, full batch without dropout,
// and returns its accuracies. d must be the data c was trained on (before
// Resplit, which Evaluate applies for c's seed): other data or another
// architecture gives an error wrapping ErrCheckpoint.
func Evaluate(d *Data, c *Checkpoint) (Accuracy, error) {
	cfg := c.Config
	d, err := d.ForSeed(cfg.Seed)
	if err != nil {
		return Accuracy{}, err
	}
	if fp := DataFingerprint(d); fp != c.Fingerprint {
		return Accuracy{}, fmt.Errorf("%w: made with other data (fingerprint %x, the data's is %x)", ErrCheckpoint, c.Fingerprint[:8], fp[:8])
	}
	a, err := LookupArch(cfg.Arch)
	if err != nil {
		return Accuracy{}, err
	}
	r, err := newRun(d, cfg, a)
	if err != nil {
		return Accuracy{}, err
	}
	if err := r.model.restore(c.Weights); err != nil {
		return Accuracy{}, err
	}
	ev, err := buildNetwork(r.model, sparseInput(r.xTrain), sameBlocks(r.block, cfg.Layers), nil, nil)
	if err != nil {
		return Accuracy{}, err
	}
	if err := ev.plan(r.pool); err != nil {
		return Accuracy{}, err
	}
	vm := autograd.NewTapeMachine(ev.g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return Accuracy{}, fmt.Errorf("gnn: evaluation: %w", err)
	}
	logits := ev.output(len(ev.outputs) - 1)
	return Accuracy{
		Train: accuracy(logits, d.NumClasses, d.Labels, d.Train),
		Val:   accuracy(logits, d.NumClasses, d.Labels, d.Val),
		Test:  accuracy(logits, d.NumClasses, d.Labels, d.Test),
	}, nil
}

// Result returns the result of c's run so far: what TrainWith would return
// had it stopped after c.EpochsDone epochs, without Outputs.
func (c *Checkpoint) Result() *Result {
	r := &Result{
		Seed: c.Config.Seed, BestEpoch: c.BestEpoch, ValAcc: c.ValAcc, TestAcc: c.TestAcc,
		NSRLayers: slices.Clone(c.NSRLayers), NSRLambdas: slices.Clone(c.NSRLambdas), NSRChoice: c.NSRChoice,
		Epochs: slices.Clone(c.Epochs),
	}
	times := make([]float64, len(c.Epochs))
	for i, e := range c.Epochs {
		times[i] = e.TrainMs
	}
	r.EpochMsMedian = stats.Median(times)
	return r
}
