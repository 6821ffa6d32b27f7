package nsr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseLayers parses the --nsr-layers flag for a model with numLayers layer
// outputs (numbered 0 to numLayers−1; the last is the logits). s is either
// "auto", which returns auto = true and no layers, or a comma-separated list
// of indices where negative ones count from the end (−1 is the last layer).
// The layers are returned as non-negative indices in the order given.
// Out-of-range, repeated or malformed indices are errors naming the flag
// and the valid range.
func ParseLayers(s string, numLayers int) (layers []int, auto bool, err error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		return nil, true, nil
	}
	if numLayers < 1 {
		return nil, false, fmt.Errorf("nsr: --nsr-layers: the model has no layers")
	}
	if s == "" {
		return nil, false, fmt.Errorf("nsr: --nsr-layers is empty: give \"auto\" or layer indices in [%d, %d]", -numLayers, numLayers-1)
	}
	seen := make(map[int]bool)
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		i, err := strconv.Atoi(f)
		if err != nil {
			return nil, false, fmt.Errorf("nsr: --nsr-layers: %q is not a layer index (want \"auto\" or integers in [%d, %d]): %w", f, -numLayers, numLayers-1, err)
		}
		j := i
		if j < 0 {
			j += numLayers
		}
		if j < 0 || j >= numLayers {
			return nil, false, fmt.Errorf("nsr: --nsr-layers: layer %d out of range for a model with %d layers (valid: 0..%d, or -%d..-1 from the end)", i, numLayers, numLayers-1, numLayers)
		}
		if seen[j] {
			return nil, false, fmt.Errorf("nsr: --nsr-layers: layer %d given twice", j)
		}
		seen[j] = true
		layers = append(layers, j)
	}
	return layers, false, nil
}

// ParseLambdas parses the --nsr-lambda flag for nLayers chosen layers: either
// one value, used for every layer, or a comma-separated list with one value
// per layer. Values must be finite and non-negative.
func ParseLambdas(s string, nLayers int) ([]float64, error) {
	if nLayers < 1 {
		return nil, fmt.Errorf("nsr: --nsr-lambda: %d layers chosen, need at least 1", nLayers)
	}
	fields := strings.Split(s, ",")
	vals := make([]float64, 0, len(fields))
	for _, f := range fields {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("nsr: --nsr-lambda: %q is not a number: %w", f, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("nsr: --nsr-lambda: %v is not finite", v)
		}
		if v < 0 {
			return nil, fmt.Errorf("nsr: --nsr-lambda: %v is negative, need λ >= 0", v)
		}
		vals = append(vals, v)
	}
	switch len(vals) {
	case nLayers:
		return vals, nil
	case 1:
		out := make([]float64, nLayers)
		for i := range out {
			out[i] = vals[0]
		}
		return out, nil
	}
	return nil, fmt.Errorf("nsr: --nsr-lambda: %d values for %d layers (give one value for all, or one per layer)", len(vals), nLayers)
}

// Active reports whether any of the per-layer λ values adds a penalty, that
// is, whether NSR is on at all.
func Active(lambdas []float64) bool {
	for _, l := range lambdas {
		if l != 0 {
			return true
		}
	}
	return false
}
