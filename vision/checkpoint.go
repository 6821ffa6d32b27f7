package vision

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/modelfile"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
)

// CheckpointVersion is the version of the checkpoints WriteCheckpoint
// writes and ReadCheckpoint reads.
const CheckpointVersion = 1

// checkpointKind is the model-file kind of checkpoints: they are model
// files (docs/model-format.md) whose header holds the run's progress.
const checkpointKind = "vision-checkpoint"

// ErrCheckpoint is wrapped by every error that reports a checkpoint file
// that cannot be used: corrupt, truncated, of another version, or made for
// other data or another configuration.
var ErrCheckpoint = errors.New("vision: bad checkpoint")

// Checkpoint is the complete state of an image training run, taken between
// two steps: with it TrainWith continues the run to the same numbers, bit
// for bit, as if it had never stopped.
type Checkpoint struct {
	Config      Config
	Meta        map[string]string // the caller's description of the run (Options.Meta), kept verbatim
	Fingerprint [32]byte          // DataFingerprint of the images the run trains on
	EpochsDone  int
	// Step is the number of steps done of epoch EpochsDone+1, 0 at an
	// epoch boundary, and Partial that epoch so far: the sums of its
	// steps' losses, its learning rate and its training time.
	Step      int
	Partial   Epoch
	BestEpoch int // 0 before the first epoch
	ValAcc    float64
	TestAcc   float64
	Epochs    []Epoch // the history, one per epoch done
	state     ckptState
}

// ckptState is the numeric state of a checkpoint.
type ckptState struct {
	lr         float64            // the learning rate of the last epoch begun
	weights    []modelfile.Tensor // the model's state (parameters, then running statistics)
	best       []modelfile.Tensor // the model's state at BestEpoch; nil before the first epoch
	optimizer  nn.OptimizerState
	queues     []nsr.QueueState
	shuffleRNG []byte // the shuffling PCG at the start of the unfinished epoch (MarshalBinary)
	augmentRNG []byte // the augmentation PCG (convolutional networks)
}

// Done reports whether the run of c has finished all its epochs.
func (c *Checkpoint) Done() bool { return c.EpochsDone >= c.Config.Epochs }

// Result returns the results of the epochs done, as Train reports them
// (without the final variances, the timing median or the model).
func (c *Checkpoint) Result() *Result {
	return &Result{Seed: c.Config.Seed, BestEpoch: c.BestEpoch, ValAcc: c.ValAcc, TestAcc: c.TestAcc, Epochs: slices.Clone(c.Epochs)}
}

// DataFingerprint returns a SHA-256 digest of the images of data (shapes,
// pixels, labels and class counts): checkpoints record it, and a run
// resumes only on data with the same fingerprint.
func DataFingerprint(data *datasets.ImageDataset) [32]byte {
	h := sha256.New()
	for _, im := range []*datasets.Images{&data.Train, &data.Test} {
		var b []byte
		for _, v := range []int{im.N, im.C, im.H, im.W, im.NumClasses} {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		h.Write(b)
		h.Write(im.Pixels)
		h.Write(im.Labels)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// ckptHeader is the JSON header of a checkpoint file.
type ckptHeader struct {
	Version     int
	Config      Config
	Meta        map[string]string `json:",omitempty"`
	Fingerprint string
	EpochsDone  int
	Step        int
	Partial     Epoch
	LR          float64
	BestEpoch   int
	ValAcc      float64
	TestAcc     float64
	Epochs      []Epoch
	ShuffleRNG  []byte
	AugmentRNG  []byte `json:",omitempty"`
	Optimizer   string
	OptStep     int
	Buffers     [][]bool // per optimizer buffer and parameter: whether it is allocated (and in the file)
	Queues      []ckptQueue
}

// ckptQueue is the header of one NSR memory queue.
type ckptQueue struct{ Width, Next, Held, Pushes, Slots int }

// Tensor name prefixes of a checkpoint file.
const (
	weightsPrefix = "weights/"
	bestPrefix    = "best/"
)

// MarshalBinary encodes c as a model file of kind "vision-checkpoint":
// the progress in the JSON header, the weights, the best epoch's weights,
// the optimizer buffers and the NSR queues as tensors (the last two
// carrying float64 values, modelfile.Float64Tensor).
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	f, err := c.file()
	if err != nil {
		return nil, err
	}
	return modelfile.Encode(f)
}

// file returns c as a model file.
func (c *Checkpoint) file() (*modelfile.File, error) {
	s := &c.state
	h := ckptHeader{
		Version: CheckpointVersion, Config: c.Config, Meta: c.Meta, Fingerprint: hex.EncodeToString(c.Fingerprint[:]),
		EpochsDone: c.EpochsDone, Step: c.Step, Partial: c.Partial, LR: s.lr, BestEpoch: c.BestEpoch,
		ValAcc: c.ValAcc, TestAcc: c.TestAcc, Epochs: c.Epochs, ShuffleRNG: s.shuffleRNG, AugmentRNG: s.augmentRNG,
		Optimizer: s.optimizer.Kind, OptStep: s.optimizer.Step,
	}
	var ts []modelfile.Tensor
	for _, t := range s.weights {
		ts = append(ts, modelfile.Tensor{Name: weightsPrefix + t.Name, Shape: t.Shape, Data: t.Data})
	}
	for _, t := range s.best {
		ts = append(ts, modelfile.Tensor{Name: bestPrefix + t.Name, Shape: t.Shape, Data: t.Data})
	}
	for k, buf := range s.optimizer.Buffers {
		present := make([]bool, len(buf))
		for i, b := range buf {
			if present[i] = b != nil; b != nil {
				ts = append(ts, modelfile.Float64Tensor(fmt.Sprintf("optimizer/%d/%d", k, i), b))
			}
		}
		h.Buffers = append(h.Buffers, present)
	}
	for q, st := range s.queues {
		h.Queues = append(h.Queues, ckptQueue{Width: st.Width, Next: st.Next, Held: st.Held, Pushes: st.Pushes, Slots: len(st.Sums)})
		for i := range st.Held {
			ts = append(ts, modelfile.Float64Tensor(fmt.Sprintf("queue%d/sums%d", q, i), st.Sums[i]),
				modelfile.Float64Tensor(fmt.Sprintf("queue%d/counts%d", q, i), st.Counts[i]))
		}
	}
	head, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("vision: encoding checkpoint: %w", err)
	}
	return &modelfile.File{Kind: checkpointKind, Header: head, Tensors: ts}, nil
}

// DecodeCheckpoint decodes a checkpoint encoded by MarshalBinary. Anything
// amiss is an error wrapping ErrCheckpoint; it never panics. Whether the
// tensors fit the model is checked when TrainWith resumes.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	f, err := modelfile.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	c, err := decodeCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	return c, nil
}

func decodeCheckpoint(f *modelfile.File) (*Checkpoint, error) {
	var h ckptHeader
	if err := f.DecodeHeader(checkpointKind, &h); err != nil {
		return nil, err
	}
	if h.Version != CheckpointVersion {
		return nil, fmt.Errorf("checkpoint version %d, this gnsr reads version %d", h.Version, CheckpointVersion)
	}
	c := &Checkpoint{
		Config: h.Config, Meta: h.Meta, EpochsDone: h.EpochsDone, Step: h.Step, Partial: h.Partial,
		BestEpoch: h.BestEpoch, ValAcc: h.ValAcc, TestAcc: h.TestAcc, Epochs: h.Epochs,
		state: ckptState{lr: h.LR, shuffleRNG: h.ShuffleRNG, augmentRNG: h.AugmentRNG,
			optimizer: nn.OptimizerState{Kind: h.Optimizer, Step: h.OptStep}},
	}
	if fp, err := hex.DecodeString(h.Fingerprint); err != nil || len(fp) != len(c.Fingerprint) {
		return nil, fmt.Errorf("bad data fingerprint %q", h.Fingerprint)
	} else {
		copy(c.Fingerprint[:], fp)
	}
	if c.EpochsDone < 0 || c.Step < 0 || len(c.Epochs) != c.EpochsDone || c.BestEpoch < 0 || c.BestEpoch > c.EpochsDone {
		return nil, fmt.Errorf("%d epochs done and %d steps with %d epochs of history, best epoch %d", c.EpochsDone, c.Step, len(c.Epochs), c.BestEpoch)
	}
	ts := f.Tensors
	take := func(name string) (modelfile.Tensor, error) {
		if len(ts) == 0 || ts[0].Name != name {
			return modelfile.Tensor{}, fmt.Errorf("tensor %s missing", name)
		}
		t := ts[0]
		ts = ts[1:]
		return t, nil
	}
	for _, p := range []struct {
		prefix string
		dst    *[]modelfile.Tensor
	}{{weightsPrefix, &c.state.weights}, {bestPrefix, &c.state.best}} {
		for len(ts) > 0 && strings.HasPrefix(ts[0].Name, p.prefix) {
			t := ts[0]
			t.Name = strings.TrimPrefix(t.Name, p.prefix)
			*p.dst = append(*p.dst, t)
			ts = ts[1:]
		}
	}
	for k, present := range h.Buffers {
		buf := make([][]float64, len(present))
		for i, ok := range present {
			if !ok {
				continue
			}
			t, err := take(fmt.Sprintf("optimizer/%d/%d", k, i))
			if err != nil {
				return nil, err
			}
			if buf[i], err = t.Float64s(); err != nil {
				return nil, err
			}
		}
		c.state.optimizer.Buffers = append(c.state.optimizer.Buffers, buf)
	}
	for q, qh := range h.Queues {
		if qh.Slots < 1 || qh.Slots > modelfile.MaxTensors || qh.Held < 0 || qh.Held > qh.Slots {
			return nil, fmt.Errorf("queue %d: %d slots, %d held", q, qh.Slots, qh.Held)
		}
		st := nsr.QueueState{Width: qh.Width, Next: qh.Next, Held: qh.Held, Pushes: qh.Pushes,
			Sums: make([][]float64, qh.Slots), Counts: make([][]float64, qh.Slots)}
		for i := range qh.Held {
			for _, dst := range []struct {
				name string
				v    *[]float64
			}{{"sums", &st.Sums[i]}, {"counts", &st.Counts[i]}} {
				t, err := take(fmt.Sprintf("queue%d/%s%d", q, dst.name, i))
				if err != nil {
					return nil, err
				}
				if *dst.v, err = t.Float64s(); err != nil {
					return nil, err
				}
			}
		}
		c.state.queues = append(c.state.queues, st)
	}
	if len(ts) > 0 {
		return nil, fmt.Errorf("stray tensor %s", ts[0].Name)
	}
	return c, nil
}

// WriteCheckpoint writes c to path atomically.
func WriteCheckpoint(path string, c *Checkpoint) error {
	f, err := c.file()
	if err != nil {
		return err
	}
	return modelfile.Write(path, f)
}

// ReadCheckpoint reads the checkpoint at path; errors name the file and
// wrap ErrCheckpoint or the file system's error.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := modelfile.Read(path)
	switch {
	case errors.Is(err, modelfile.ErrFormat):
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	case err != nil:
		return nil, fmt.Errorf("vision: %w", err)
	}
	c, err := decodeCheckpoint(f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCheckpoint, path, err)
	}
	return c, nil
}

// checkResume returns an error wrapping ErrCheckpoint if c is not a
// checkpoint of the run of cfg on data with the given fingerprint.
func (c *Checkpoint) checkResume(cfg Config, fingerprint [32]byte) error {
	a, err := json.Marshal(c.Config)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%w: made with another configuration: %s, not %s", ErrCheckpoint, a, b)
	}
	if c.Fingerprint != fingerprint {
		return fmt.Errorf("%w: made with other data (fingerprint %x, the data's is %x)", ErrCheckpoint, c.Fingerprint[:8], fingerprint[:8])
	}
	return nil
}
