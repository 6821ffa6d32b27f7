package nsr_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gnsr/gnsr/nsr"
)

func TestStatsAgainstReference(t *testing.T) {
	const n, d, classes = 12, 3, 3
	rng := rand.New(rand.NewPCG(7, 8))
	h := reluLike(rng, n, d, true)
	tests := []struct {
		name   string
		rows   []int
		labels []int
	}{
		{"all", nil, []int{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}},
		{"subset", []int{11, 3, 5, 7, 0}, []int{2, 2, 0, 1, 0}},
	}
	for _, tc := range tests {
		for _, mask := range []bool{false, true} {
			sel := selectRows(toRows(h, d), tc.rows)
			mu, cnt := refMeans(sel, tc.labels, classes, mask)
			gotMu, gotCnt := nsr.ClassMeans(h, d, tc.rows, tc.labels, classes, mask)
			for c := range mu {
				assertClose(t, tc.name+" means", gotMu[c*d:c*d+d], mu[c], 1e-14)
				assertClose(t, tc.name+" counts", gotCnt[c*d:c*d+d], cnt[c], 0)
			}
			sigma := nsr.IntraClassVariance(h, d, tc.rows, tc.labels, classes, mask)
			// per neuron: mean over the neuron's (kept) elements
			for j := 0; j < d; j++ {
				var s, k float64
				for i, row := range sel {
					if mask && row[j] == 0 {
						continue
					}
					e := row[j] - mu[tc.labels[i]][j]
					s += e * e
					k++
				}
				if want := s / math.Max(k, 1); math.Abs(sigma[j]-want) > 1e-14 {
					t.Errorf("%s mask %v: σ_%d = %v, want %v", tc.name, mask, j, sigma[j], want)
				}
			}
			if !mask {
				// Unmasked, P is the mean of σ_n.
				if p := refFull(toRows(h, d), tc.rows, tc.labels, classes, false); math.Abs(nsr.Aggregate(sigma)/d-p) > 1e-14 {
					t.Errorf("%s: Σσ/d = %v, P = %v", tc.name, nsr.Aggregate(sigma)/d, p)
				}
			}
			// float32 input gives the same statistics to float32 precision
			h32 := make([]float32, len(h))
			for i, v := range h {
				h32[i] = float32(v)
			}
			s32 := nsr.IntraClassVariance(h32, d, tc.rows, tc.labels, classes, mask)
			assertClose(t, "float32 σ", s32, sigma, 1e-6)
		}
	}
}

func TestPerClassVariance(t *testing.T) {
	// 5×2; class 0 rows 0,1,2; class 1 rows 3,4; class 2 has no rows.
	h := []float64{
		1, 0,
		3, 0,
		5, 4,
		10, 1,
		10, 3,
	}
	labels := []int{0, 0, 0, 1, 1}
	got := nsr.PerClassVariance(h, 2, nil, labels, 3, false)
	// class 0: neuron 0 var of (1,3,5) = 8/3, neuron 1 var of (0,0,4) = 32/9; class 1: 0 + 1
	want := []float64{8.0/3 + 32.0/9, 1, 0}
	assertClose(t, "per class", got, want, 1e-14)
	got = nsr.PerClassVariance(h, 2, nil, labels, 3, true)
	// masked: class 0 neuron 1 has the single firing response 4 → 0
	want = []float64{8.0 / 3, 1, 0}
	assertClose(t, "per class masked", got, want, 1e-14)

	// Correct vs wrong: the variance of rows 2 and 4 about all rows' means.
	means, _ := nsr.ClassMeans(h, 2, nil, labels, 3, false)
	v := nsr.VarianceAround(h, 2, []int{2, 4}, []int{0, 1}, means, false)
	// row 2 vs μ_0 = (3, 4/3): (4, 64/9); row 4 vs μ_1 = (10, 2): (0, 1)
	assertClose(t, "around", v, []float64{2, (64.0/9 + 1) / 2}, 1e-14)
}

func TestStatsPanics(t *testing.T) {
	h := []float64{1, 2, 3, 4}
	for name, f := range map[string]func(){
		"ragged":        func() { nsr.ClassMeans(h, 3, nil, []int{0}, 1, false) },
		"labels length": func() { nsr.IntraClassVariance(h, 2, nil, []int{0}, 1, false) },
		"label range":   func() { nsr.PerClassVariance(h, 2, nil, []int{0, 1}, 1, false) },
		"row range":     func() { nsr.ClassMeans(h, 2, []int{2}, []int{0}, 1, false) },
		"means width":   func() { nsr.VarianceAround(h, 2, nil, []int{0, 0}, []float64{1, 2, 3}, false) },
		"choose empty":  func() { nsr.ChooseLayer(nil) },
		"choose NaN":    func() { nsr.ChooseLayer([]float64{math.NaN()}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestChooseLayer(t *testing.T) {
	tests := []struct {
		v    []float64
		want int
	}{
		{[]float64{1, 3, 2}, 1},
		{[]float64{2, 2}, 0},
		{[]float64{math.NaN(), 0.5}, 1},
		{[]float64{0.1}, 0},
	}
	for _, tc := range tests {
		i, reason := nsr.ChooseLayer(tc.v)
		if i != tc.want {
			t.Errorf("ChooseLayer(%v) = %d, want %d", tc.v, i, tc.want)
		}
		for j := range tc.v {
			if !strings.Contains(reason, "layer "+string(rune('0'+j))+":") {
				t.Errorf("reason %q does not list layer %d", reason, j)
			}
		}
	}
}
