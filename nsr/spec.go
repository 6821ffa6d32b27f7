package nsr

import (
	"fmt"
	"math"
	"slices"
)

// DefaultQueue is the memory-queue length of the paper (K = 5), which a
// Spec's zero Queue means.
const DefaultQueue = 5

// Spec says where NSR applies to a model and how strongly: the settings
// that the GNN and image trainers share. The zero Spec is NSR off.
type Spec struct {
	// Lambdas holds one λ per entry of Layers, or one with Auto. NSR is
	// off when it is empty or all zero.
	Lambdas []float64
	// Layers are the regularised layer outputs, indices in [0, n) of a
	// model with n layer outputs or negative from the end (-1 is the
	// logits). Ignored with Auto.
	Layers []int
	// Auto chooses the layer after Warmup epochs: the one whose aggregated
	// intra-class variance is the largest (ChooseLayer).
	Auto bool
	// Warmup is the number of vanilla epochs before the Auto choice; 0
	// means 1.
	Warmup int
	// MaskZeros leaves zero ReLU responses out of the class means and the
	// penalty on hidden layers.
	MaskZeros bool
	// Queue is the memory-queue length K for mini-batches; 0 means
	// DefaultQueue.
	Queue int
}

// Enabled reports whether s adds any NSR term.
func (s Spec) Enabled() bool { return Active(s.Lambdas) }

// QueueLen returns the memory-queue length s means.
func (s Spec) QueueLen() int {
	if s.Queue == 0 {
		return DefaultQueue
	}
	return s.Queue
}

// WarmupEpochs returns the number of warm-up epochs s means.
func (s Spec) WarmupEpochs() int { return max(s.Warmup, 1) }

// Resolve checks s for a model with n layer outputs and returns the
// regularised layers as indices in [0, n), in the order given: nil when
// NSR is off or the layer is chosen in training (Auto). Errors name the
// setting; λ must be finite and non-negative, one per layer.
func (s Spec) Resolve(n int) ([]int, error) {
	for _, l := range s.Lambdas {
		if !(l >= 0) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("nsr: lambda = %v, need a finite value >= 0", l)
		}
	}
	if s.Queue < 0 {
		return nil, fmt.Errorf("nsr: queue length = %d, need at least 1 (or 0 for %d)", s.Queue, DefaultQueue)
	}
	if s.Warmup < 0 {
		return nil, fmt.Errorf("nsr: warm-up = %d epochs, need at least 1 (or 0 for 1)", s.Warmup)
	}
	if !s.Enabled() {
		return nil, nil
	}
	if s.Auto {
		if len(s.Lambdas) != 1 {
			return nil, fmt.Errorf("nsr: the auto layer takes one lambda, got %d", len(s.Lambdas))
		}
		return nil, nil
	}
	if len(s.Lambdas) != len(s.Layers) {
		return nil, fmt.Errorf("nsr: %d lambdas for %d layers", len(s.Lambdas), len(s.Layers))
	}
	out := make([]int, len(s.Layers))
	for i, l := range s.Layers {
		if l < -n || l >= n {
			return nil, fmt.Errorf("nsr: layer %d out of range for a model with %d layer outputs (use 0..%d or -%d..-1)", l, n, n-1, n)
		}
		if l < 0 {
			l += n
		}
		if slices.Contains(out[:i], l) {
			return nil, fmt.Errorf("nsr: layer %d listed twice", l)
		}
		out[i] = l
	}
	return out, nil
}
