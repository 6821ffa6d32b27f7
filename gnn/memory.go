package gnn

import (
	"errors"
	"fmt"
	"math"
)

// ErrMemory is wrapped by errors that report a run too large for the
// memory at hand (see CheckMemory).
var ErrMemory = errors.New("gnn: not enough memory")

// EstimateMemory returns about how many bytes of memory a run of cfg on d
// takes at its peak, from the sizes alone and before anything is
// allocated: the data (features, graph, labels), the propagation matrices
// of cfg.Arch, the input dropout's kept entries, the parameters with their
// gradients, optimizer moments and best-epoch copy, and the dense layer
// buffers, nodes × widths × heads times the number that the planned
// networks of the architecture keep alive (autograd.Plan), plus the
// runtime's slack, which assumes the estimate is the runtime's memory
// limit (debug.SetMemoryLimit, as gnsr train sets it): with it, the peak
// heap of runs on synthetic graphs lies between half the estimate and the
// estimate (TestEstimateMemory). cfg must be valid (defaults applied).
// Sizes that overflow give math.MaxInt64.
func EstimateMemory(d *Data, cfg Config) int64 {
	n := float64(d.Graph.NumNodes())
	e2 := 2 * float64(d.Graph.NumEdges()) // stored entries, both directions
	nnz := float64(d.Features.NNZ())
	in := float64(d.Features.Cols)
	arch, err := LookupArch(cfg.Arch)
	attention := err == nil && arch.Attention
	mean := err == nil && arch.MeanAggregation
	heads, outHeads := 1.0, 1.0
	if attention {
		heads, outHeads = float64(max(cfg.Heads, 1)), float64(max(cfg.OutHeads, 1))
	}
	var widths []float64 // each layer's output width, heads included
	var params float64   // parameters
	prev := in
	for _, h := range hiddenSizes(cfg) {
		w := float64(h) * heads
		widths = append(widths, w)
		params += prev * w
		prev = w
	}
	out := float64(d.NumClasses) * outHeads
	widths = append(widths, out)
	params += prev * out

	const ptr, idx, val = 8, 4, 4  // bytes of a row pointer, a column index, a value
	b := (n+1)*ptr + nnz*(idx+val) // features
	b += (n+1)*ptr + e2*idx        // graph
	b += 3 * n * 8                 // labels and splits
	// Propagation matrices, and what the backward pass of each needs;
	// sampled training uses the whole graph's for evaluation only (no
	// transpose, no dropout of the whole feature matrix).
	batch := cfg.BatchSize > 0
	loops := e2 + n
	var dense float64 // dense buffers alive at once, in layer outputs
	switch {
	case mean && batch:
		b += e2 * val // mean values on the graph's pattern
		dense = 2
	case mean:
		b += e2*val + (n+1)*ptr + e2*(idx+val) // and the transpose
		dense = 4
	case attention:
		b += (n+1)*ptr + loops*(idx+val) + loops*idx + (n+1)*ptr + loops*(idx+val) // self-loop pattern, its transpose and entry map
		b += 6 * heads * loops * val                                               // attention scores, coefficients and their gradients
		dense = 6
	default: // gcn and other symmetric propagation
		b += (n+1)*ptr + loops*(idx+val)
		dense = 3
	}
	if mean {
		params *= 2 // root and neighbour weights
	}
	switch {
	case batch:
	case cfg.Dropout > 0:
		b += n*ptr + nnz*(idx+val) // kept entries of the features
	default:
		b += (in+1)*ptr + nnz*(idx+val) // the features' transpose
	}
	var sum float64
	for l, w := range widths {
		sum += w
		if l+1 < len(widths) && cfg.Dropout > 0 && !batch {
			b += n * w // dropout masks, a byte an element
		}
	}
	b += dense * n * sum * val
	b += 5 * params * val // weights, gradients, Adam's two moments, best-epoch copy
	rows := n             // rows of a weight gradient, for the kernel's scratch panel
	if batch {
		// One sampled batch: its input nodes' features (gathered, and their
		// kept entries), and the layers on them.
		s := float64(cfg.BatchSize)
		for _, f := range cfg.Fanouts {
			if f < 0 {
				s = n
				break
			}
			s *= float64(f) + 1
		}
		s = min(s, n)
		b += 2*(s*ptr+s/n*nnz*(idx+val)) + 2*s*sum*val // the layers mostly in the evaluation's buffers
		b += 16 << 20                                  // the batch's graph, machine and samples
		rows = s
	}
	b += rows * 16 * val
	b = 1.1*b + 32<<20 // the runtime's slack: garbage between collections, stacks
	if b >= math.MaxInt64 || math.IsNaN(b) {
		return math.MaxInt64
	}
	return int64(b)
}

// CheckMemory returns an error wrapping ErrMemory, naming the settings
// that size a run, if EstimateMemory(d, cfg) exceeds available bytes.
func CheckMemory(d *Data, cfg Config, available int64) error {
	need := EstimateMemory(d, cfg)
	if need <= available {
		return nil
	}
	return fmt.Errorf("%w: a %s run on %d nodes with hidden sizes %v needs about %s, and %s is available",
		ErrMemory, cfg.Arch, d.Graph.NumNodes(), hiddenSizes(cfg), FormatBytes(need), FormatBytes(available))
}

// FormatBytes writes b in MB, GB, TB or PB (powers of 1000) with three
// significant digits.
func FormatBytes(b int64) string {
	v := float64(b) / 1e6
	units := []string{"MB", "GB", "TB", "PB"}
	u := 0
	for v >= 999.5 && u+1 < len(units) {
		v /= 1e3
		u++
	}
	return fmt.Sprintf("%.3g %s", v, units[u])
}

// hiddenSizes returns cfg's hidden widths, none for fewer than 2 layers.
func hiddenSizes(cfg Config) []int {
	if cfg.HiddenSizes == nil && cfg.Layers < 2 {
		return nil
	}
	return cfg.hidden()
}
