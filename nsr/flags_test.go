package nsr_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/nsr"
)

func TestParseLayers(t *testing.T) {
	tests := []struct {
		s      string
		n      int
		want   []int
		auto   bool
		errHas string
	}{
		{"auto", 3, nil, true, ""},
		{" AUTO ", 3, nil, true, ""},
		{"-1", 2, []int{1}, false, ""},
		{"0", 2, []int{0}, false, ""},
		{"0, -1", 3, []int{0, 2}, false, ""},
		{"-3", 3, []int{0}, false, ""},
		{"2", 2, nil, false, "valid: 0..1, or -2..-1"},
		{"-3", 2, nil, false, "--nsr-layers"},
		{"1,x", 2, nil, false, "--nsr-layers"},
		{"", 2, nil, false, "--nsr-layers"},
		{"1,-1", 2, nil, false, "twice"},
	}
	for _, tc := range tests {
		got, auto, err := nsr.ParseLayers(tc.s, tc.n)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), "--nsr-layers") {
				t.Errorf("ParseLayers(%q, %d) error %v, want one naming --nsr-layers and %q", tc.s, tc.n, err, tc.errHas)
			}
			continue
		}
		if err != nil || auto != tc.auto || !slices.Equal(got, tc.want) {
			t.Errorf("ParseLayers(%q, %d) = %v, %v, %v; want %v, %v", tc.s, tc.n, got, auto, err, tc.want, tc.auto)
		}
	}
}

func TestParseLambdas(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want []float64
		ok   bool
	}{
		{"0.5", 1, []float64{0.5}, true},
		{"0.5", 3, []float64{0.5, 0.5, 0.5}, true},
		{"0.1, 2", 2, []float64{0.1, 2}, true},
		{"0", 1, []float64{0}, true},
		{"7.4865", 1, []float64{7.4865}, true},
		{"-1", 1, nil, false},
		{"0.1,0.2", 3, nil, false},
		{"abc", 1, nil, false},
		{"NaN", 1, nil, false},
		{"Inf", 1, nil, false},
		{"", 1, nil, false},
	}
	for _, tc := range tests {
		got, err := nsr.ParseLambdas(tc.s, tc.n)
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), "--nsr-lambda") {
				t.Errorf("ParseLambdas(%q, %d) error %v, want one naming --nsr-lambda", tc.s, tc.n, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseLambdas(%q, %d) = %v, %v; want %v", tc.s, tc.n, got, err, tc.want)
		}
	}
}

func TestActive(t *testing.T) {
	for _, tc := range []struct {
		lambdas []float64
		want    bool
	}{{nil, false}, {[]float64{0}, false}, {[]float64{0, 0.5}, true}, {[]float64{7.4865}, true}} {
		if got := nsr.Active(tc.lambdas); got != tc.want {
			t.Errorf("Active(%v) = %v, want %v", tc.lambdas, got, tc.want)
		}
	}
}
