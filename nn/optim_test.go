package nn

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// paramWithGrad returns a float64 or float32 parameter node whose gradient
// is the returned tensor, as a machine would leave it.
func paramWithGrad(dt tensor.Dtype, name string, w []float64) (*gorgonia.Node, *tensor.Dense) {
	g := gorgonia.NewGraph()
	var wt, gt *tensor.Dense
	if dt == tensor.Float64 {
		wt = tensor.New(tensor.WithShape(len(w)), tensor.WithBacking(append([]float64(nil), w...)))
		gt = tensor.New(tensor.Of(dt), tensor.WithShape(len(w)))
	} else {
		wt = tensor.New(tensor.WithShape(len(w)), tensor.WithBacking(f32(w)))
		gt = tensor.New(tensor.Of(dt), tensor.WithShape(len(w)))
	}
	n := gorgonia.NewVector(g, dt, gorgonia.WithShape(len(w)), gorgonia.WithName(name), gorgonia.WithValue(wt), gorgonia.WithGrad(gt))
	return n, gt
}

func setGrad(gt *tensor.Dense, g []float64) {
	switch d := gt.Data().(type) {
	case []float64:
		copy(d, g)
	case []float32:
		copy(d, f32(g))
	}
}

var optGrads = [][]float64{
	{0.5, -1.5, 0.001, 0},
	{-0.2, -1.0, 0.002, 3},
	{0.3, 2.0, -0.004, -1},
}

var optW0 = []float64{0.1, -0.2, 0.3, 1.0}

// adamRef is torch.optim.Adam written from its documented algorithm.
func adamRef(lr, wd float64) [][]float64 {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	w := append([]float64(nil), optW0...)
	m := make([]float64, len(w))
	v := make([]float64, len(w))
	var out [][]float64
	for t, g := range optGrads {
		for i := range w {
			gi := g[i] + wd*w[i]
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			mHat := m[i] / (1 - math.Pow(b1, float64(t+1)))
			vHat := v[i] / (1 - math.Pow(b2, float64(t+1)))
			w[i] -= lr * mHat / (math.Sqrt(vHat) + eps)
		}
		out = append(out, append([]float64(nil), w...))
	}
	return out
}

func TestAdam(t *testing.T) {
	// After one step without weight decay, Adam moves each weight by lr
	// against the sign of its gradient (|g|/(|g|+ε)), and not at all for g=0.
	first := []float64{0.1 - 0.01*0.5/(0.5+1e-8), -0.2 + 0.01*1.5/(1.5+1e-8), 0.3 - 0.01*0.001/(0.001+1e-8), 1.0}
	if got := adamRef(0.01, 0)[0]; !close(got, first, 1e-15) {
		t.Fatalf("reference first step = %v, want %v", got, first)
	}
	for _, tc := range []struct {
		dt      tensor.Dtype
		lr, wd  float64
		tol     float64
		restore bool
	}{
		{tensor.Float64, 0.01, 0, 1e-14, false},
		{tensor.Float64, 0.1, 0.05, 1e-14, false},
		{tensor.Float64, 0.1, 0.05, 1e-14, true},
		{tensor.Float32, 0.01, 0, 1e-6, false},
		{tensor.Float32, 0.1, 5e-4, 1e-6, true},
	} {
		n, gt := paramWithGrad(tc.dt, "w", optW0)
		opt := NewAdam([]*gorgonia.Node{n}, tc.lr, tc.wd)
		want := adamRef(tc.lr, tc.wd)
		for step, g := range optGrads {
			setGrad(gt, g)
			if tc.restore {
				// A fresh optimizer restored from the state continues exactly.
				st := opt.State()
				opt = NewAdam([]*gorgonia.Node{n}, tc.lr, tc.wd)
				if err := opt.SetState(st); err != nil {
					t.Fatal(err)
				}
			}
			if err := opt.Step(); err != nil {
				t.Fatal(err)
			}
			if got := asFloat64(n.Value()); !close(got, want[step], tc.tol) {
				t.Errorf("%v lr=%v wd=%v step %d: w = %v, want %v", tc.dt, tc.lr, tc.wd, step+1, got, want[step])
			}
			if got := asFloat64(gt); !close(got, make([]float64, len(got)), 0) {
				t.Errorf("gradient not zeroed after step: %v", got)
			}
		}
		if st := opt.State(); st.Kind != OptimizerAdam || st.Step != 3 || len(st.Buffers) != 2 || len(st.Buffers[0]) != 1 || len(st.Buffers[1][0]) != 4 {
			t.Errorf("state = %+v", st)
		}
	}
}

func close(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(math.Abs(a[i]-b[i]) <= tol*(1+math.Abs(b[i]))) {
			return false
		}
	}
	return true
}

// sgdRef is torch.optim.SGD written from its documented algorithm.
func sgdRef(lr, momentum, dampening, wd float64, nesterov bool) [][]float64 {
	w := append([]float64(nil), optW0...)
	var buf []float64
	var out [][]float64
	for t, g := range optGrads {
		if t == 0 {
			buf = make([]float64, len(w))
		}
		for i := range w {
			d := g[i] + wd*w[i]
			if momentum != 0 {
				if t == 0 {
					buf[i] = d
				} else {
					buf[i] = momentum*buf[i] + (1-dampening)*d
				}
				if nesterov {
					d += momentum * buf[i]
				} else {
					d = buf[i]
				}
			}
			w[i] -= lr * d
		}
		out = append(out, append([]float64(nil), w...))
	}
	return out
}

func TestSGD(t *testing.T) {
	for _, tc := range []struct {
		name              string
		lr, mom, damp, wd float64
		nesterov          bool
		dt                tensor.Dtype
		tol               float64
	}{
		{"plain", 0.1, 0, 0, 0, false, tensor.Float64, 1e-15},
		{"momentum", 0.1, 0.9, 0, 0, false, tensor.Float64, 1e-15},
		{"dampening", 0.1, 0.9, 0.5, 0.01, false, tensor.Float64, 1e-15},
		{"nesterov", 0.1, 0.9, 0, 0.01, true, tensor.Float64, 1e-15},
		{"nesterov float32", 0.1, 0.9, 0, 0.01, true, tensor.Float32, 1e-6},
	} {
		n, gt := paramWithGrad(tc.dt, "w", optW0)
		opt := NewSGD([]*gorgonia.Node{n}, tc.lr)
		opt.Momentum, opt.Dampening, opt.WeightDecay, opt.Nesterov = tc.mom, tc.damp, tc.wd, tc.nesterov
		want := sgdRef(tc.lr, tc.mom, tc.damp, tc.wd, tc.nesterov)
		for step, g := range optGrads {
			setGrad(gt, g)
			if step == 1 {
				st := opt.State()
				opt2 := NewSGD([]*gorgonia.Node{n}, tc.lr)
				opt2.Momentum, opt2.Dampening, opt2.WeightDecay, opt2.Nesterov = tc.mom, tc.damp, tc.wd, tc.nesterov
				if err := opt2.SetState(st); err != nil {
					t.Fatal(err)
				}
				opt = opt2
			}
			if err := opt.Step(); err != nil {
				t.Fatal(err)
			}
			if got := asFloat64(n.Value()); !close(got, want[step], tc.tol) {
				t.Errorf("%s step %d: w = %v, want %v", tc.name, step+1, got, want[step])
			}
		}
	}
	n, _ := paramWithGrad(tensor.Float64, "w", optW0)
	opt := NewSGD([]*gorgonia.Node{n}, 0.1)
	opt.Nesterov = true
	if err := opt.Step(); err == nil {
		t.Error("Nesterov without momentum: no error")
	}
}

func TestOptimizerNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			ok, okG := paramWithGrad(dt, "fine", optW0)
			n, gt := paramWithGrad(dt, "layer1/W", optW0)
			setGrad(okG, optGrads[0])
			setGrad(gt, []float64{1, bad, 0, 0})
			steppers := map[string]interface{ Step() error }{
				"adam": NewAdam([]*gorgonia.Node{ok, n}, 0.1, 0),
				"sgd":  NewSGD([]*gorgonia.Node{ok, n}, 0.1),
			}
			for name, s := range steppers {
				err := s.Step()
				if err == nil || !strings.Contains(err.Error(), "layer1/W") {
					t.Errorf("%s %v %v: error %v, want one naming layer1/W", name, dt, bad, err)
				}
				// Nothing changed: not even the finite parameter.
				if got := asFloat64(ok.Value()); !close(got, optW0, 1e-7) {
					t.Errorf("%s: parameter changed to %v by a failed step", name, got)
				}
			}
		}
	}
}

func TestAdamRebind(t *testing.T) {
	g := gorgonia.NewGraph()
	p := NewParam(g, "p", []int{2, 2}, []float32{1, 2, 3, 4})
	a := NewAdam([]*gorgonia.Node{p}, 0.1, 0)
	g2 := gorgonia.NewGraph()
	same := NewParam(g2, "p", []int{2, 2}, []float32{1, 2, 3, 4})
	if err := a.Rebind([]*gorgonia.Node{same}); err != nil {
		t.Fatal(err)
	}
	if a.Params()[0] != same {
		t.Error("Rebind did not take the new node")
	}
	other := NewParam(g2, "q", []int{4, 1}, []float32{1, 2, 3, 4})
	if err := a.Rebind([]*gorgonia.Node{other}); err == nil {
		t.Error("Rebind accepted a parameter of another shape")
	}
	if err := a.Rebind(nil); err == nil {
		t.Error("Rebind accepted a different parameter count")
	}
}

// TestOptimizerSpec checks NewOptimizer's validation and that states do not
// cross optimizers.
func TestOptimizerSpec(t *testing.T) {
	n, _ := paramWithGrad(tensor.Float64, "w", optW0)
	ps := []*gorgonia.Node{n}
	for _, bad := range []OptimizerSpec{
		{Kind: "rmsprop", LR: 0.1},
		{Kind: OptimizerAdam, LR: 0},
		{Kind: OptimizerAdam, LR: math.Inf(1)},
		{Kind: OptimizerAdam, LR: 0.1, WeightDecay: -1},
		{Kind: OptimizerAdam, LR: 0.1, Momentum: 0.9},
		{Kind: OptimizerSGD, LR: 0.1, Momentum: 1},
		{Kind: OptimizerSGD, LR: 0.1, Nesterov: true},
	} {
		if _, err := NewOptimizer(bad, ps); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	adam, err := NewOptimizer(OptimizerSpec{Kind: OptimizerAdam, LR: 0.1}, ps)
	if err != nil {
		t.Fatal(err)
	}
	sgd, err := NewOptimizer(OptimizerSpec{Kind: OptimizerSGD, LR: 0.1, Momentum: 0.9, Nesterov: true}, ps)
	if err != nil {
		t.Fatal(err)
	}
	if err := adam.SetState(sgd.State()); err == nil {
		t.Error("Adam accepted SGD's state")
	}
	if err := sgd.SetState(adam.State()); err == nil {
		t.Error("SGD accepted Adam's state")
	}
	if err := sgd.SetState(OptimizerState{Kind: OptimizerSGD, Buffers: [][][]float64{{{1, 2}}}}); err == nil {
		t.Error("SGD accepted a buffer of the wrong size")
	}
}

// TestNonFiniteFirst checks that the parallel scan reports the first NaN
// or Inf, whichever range finds one first.
func TestNonFiniteFirst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	s32 := make([]float32, 100_000)
	s32[90_000] = float32(math.Inf(1))
	s32[70_001] = float32(math.NaN())
	s64 := make([]float64, 100_000)
	s64[99_999] = math.NaN()
	s64[12_345] = math.Inf(-1)
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		if got := nonFinite(s32); got != 70_001 {
			t.Errorf("GOMAXPROCS=%d: float32: nonFinite = %d, want 70001", procs, got)
		}
		if got := nonFinite(s64); got != 12_345 {
			t.Errorf("GOMAXPROCS=%d: float64: nonFinite = %d, want 12345", procs, got)
		}
		if got := nonFinite(make([]float32, 50_000)); got != -1 {
			t.Errorf("GOMAXPROCS=%d: finite slice: nonFinite = %d, want -1", procs, got)
		}
	}
}

// TestAdamStepSplit checks that Adam's update of a vector split over
// goroutines is that of the serial loop, and that it zeroes the gradient.
func TestAdamStepSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const n = 30_001
	a := &Adam{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 5e-4}
	w0, g0 := make([]float32, n), make([]float32, n)
	for i := range w0 {
		w0[i], g0[i] = float32(math.Sin(float64(i))), float32(math.Cos(float64(3*i)))
	}
	want, m, v := slices.Clone(w0), make([]float32, n), make([]float32, n)
	adam(want, g0, m, v, a, 0.1, 0.05)
	for _, procs := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		w, g, m, v := slices.Clone(w0), slices.Clone(g0), make([]float32, n), make([]float32, n)
		adamStep(w, g, m, v, a, 0.1, 0.05)
		if !slices.Equal(w, want) {
			t.Errorf("GOMAXPROCS=%d: split update differs from the serial one", procs)
		}
		if slices.ContainsFunc(g, func(x float32) bool { return x != 0 }) {
			t.Errorf("GOMAXPROCS=%d: gradient not zeroed", procs)
		}
	}
}
