package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/internal/autograd"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refModel is the float64 reference of k·SoftmaxCrossEntropy(Dropout(X·W)).
type refModel struct {
	n, d, c int
	x       []float64
	rows    []int
	labels  []int
	mask    *DropoutMask // nil: no dropout
	k       float64
}

func (r *refModel) loss(w []float64) float64 {
	h := make([]float64, r.n*r.c)
	for i := 0; i < r.n; i++ {
		for j := 0; j < r.c; j++ {
			var s float64
			for l := 0; l < r.d; l++ {
				s += r.x[i*r.d+l] * w[l*r.c+j]
			}
			h[i*r.c+j] = s
		}
	}
	if r.mask != nil && r.mask.Training() {
		for i := range h {
			if r.mask.Kept(i) {
				h[i] /= 1 - r.mask.P()
			} else {
				h[i] = 0
			}
		}
	}
	rows := r.rows
	if rows == nil {
		for i := 0; i < r.n; i++ {
			rows = append(rows, i)
		}
	}
	var sum float64
	for i, row := range rows {
		z := h[row*r.c : (row+1)*r.c]
		var e float64
		for _, v := range z {
			e += math.Exp(v)
		}
		sum += math.Log(e) - z[r.labels[i]]
	}
	return r.k * sum / float64(len(rows))
}

func (r *refModel) numGrad(w []float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(w))
	for i := range w {
		old := w[i]
		w[i] = old + h
		up := r.loss(w)
		w[i] = old - h
		down := r.loss(w)
		w[i] = old
		g[i] = (up - down) / (2 * h)
	}
	return g
}

// build makes the graph k·SoftmaxCrossEntropy(Dropout(X·W)) in dt.
func (r *refModel) build(dt tensor.Dtype, w []float64) (g *gorgonia.ExprGraph, wn, cost *gorgonia.Node, err error) {
	g = gorgonia.NewGraph()
	var xt, wt *tensor.Dense
	var k gorgonia.Value
	if dt == tensor.Float64 {
		xt = tensor.New(tensor.WithShape(r.n, r.d), tensor.WithBacking(append([]float64(nil), r.x...)))
		wt = tensor.New(tensor.WithShape(r.d, r.c), tensor.WithBacking(append([]float64(nil), w...)))
		k = gorgonia.NewF64(r.k)
	} else {
		xt = tensor.New(tensor.WithShape(r.n, r.d), tensor.WithBacking(f32(r.x)))
		wt = tensor.New(tensor.WithShape(r.d, r.c), tensor.WithBacking(f32(w)))
		k = gorgonia.NewF32(float32(r.k))
	}
	x := gorgonia.NewConstant(xt, gorgonia.WithName("X"))
	wn = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(r.d, r.c), gorgonia.WithName("W"), gorgonia.WithValue(wt))
	h, err := gorgonia.Mul(x, wn)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.mask != nil {
		if h, err = Dropout(h, r.mask); err != nil {
			return nil, nil, nil, err
		}
	}
	loss, err := SoftmaxCrossEntropy(h, r.rows, r.labels)
	if err != nil {
		return nil, nil, nil, err
	}
	cost, err = gorgonia.Mul(loss, gorgonia.NewConstant(k))
	return g, wn, cost, err
}

func f32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}

func asFloat64(t gorgonia.Value) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return d
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	panic(fmt.Sprintf("%T", t.Data()))
}

// run returns the cost and gradient of W from one forward/backward pass.
func run(t *testing.T, r *refModel, dt tensor.Dtype, machine string, w []float64) (float64, []float64) {
	t.Helper()
	g, wn, cost, err := r.build(dt, w)
	if err != nil {
		t.Fatal(err)
	}
	var costVal gorgonia.Value
	gorgonia.Read(cost, &costVal)
	var vm gorgonia.VM
	switch machine {
	case "tape":
		if _, err := gorgonia.Grad(cost, wn); err != nil {
			t.Fatal(err)
		}
		vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(wn))
	case "lisp":
		vm = gorgonia.NewLispMachine(g)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := wn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	c, err := autograd.ScalarOf(costVal)
	if err != nil {
		t.Fatal(err)
	}
	return c, append([]float64(nil), asFloat64(gv)...)
}

func newRefModel(seed uint64, rows []int, p float64, training bool) (*refModel, []float64) {
	src := rand.NewPCG(seed, 1)
	rng := rand.New(src)
	r := &refModel{n: 8, d: 4, c: 3, rows: rows, k: 2.5}
	r.x = make([]float64, r.n*r.d)
	for i := range r.x {
		r.x[i] = rng.NormFloat64()
	}
	m := r.n
	if rows != nil {
		m = len(rows)
	}
	for range m {
		r.labels = append(r.labels, rng.IntN(r.c))
	}
	if p > 0 {
		r.mask = NewDropoutMask(p, r.n, r.c)
		r.mask.Resample(src)
		r.mask.SetTraining(training)
	}
	w := make([]float64, r.d*r.c)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	return r, w
}

func TestGradients(t *testing.T) {
	cases := []struct {
		name     string
		rows     []int
		p        float64
		training bool
	}{
		{name: "all rows", rows: nil},
		{name: "subset rows", rows: []int{5, 1, 6}},
		{name: "repeated row", rows: []int{2, 2, 7}},
		{name: "dropout all rows", rows: nil, p: 0.5, training: true},
		{name: "dropout subset rows", rows: []int{0, 3, 4, 7}, p: 0.3, training: true},
		{name: "dropout eval", rows: []int{0, 3}, p: 0.5, training: false},
	}
	for ci, tc := range cases {
		r, w := newRefModel(uint64(ci+1), tc.rows, tc.p, tc.training)
		want := r.loss(w)
		wantGrad := r.numGrad(w)
		for _, machine := range []string{"tape", "lisp"} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				t.Run(fmt.Sprintf("%s/%s/%v", tc.name, machine, dt), func(t *testing.T) {
					tol := 1e-7
					if dt == tensor.Float32 {
						tol = 1e-4
					}
					got, grad := run(t, r, dt, machine, w)
					if math.Abs(got-want) > tol*(1+math.Abs(want)) {
						t.Errorf("loss = %v, want %v", got, want)
					}
					for i := range grad {
						if math.Abs(grad[i]-wantGrad[i]) > tol*(1+math.Abs(wantGrad[i])) {
							t.Errorf("grad[%d] = %v, want %v (finite differences)", i, grad[i], wantGrad[i])
						}
					}
				})
			}
		}
	}
}

func TestSoftmaxCrossEntropyValue(t *testing.T) {
	// Large logits check the max subtraction: a naive exp overflows.
	logits := []float64{
		2, 1, 0,
		0, 0, 0,
		1000, -1000, 999,
		-5, 3, 1,
	}
	lse := func(z ...float64) float64 {
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		var s float64
		for _, v := range z {
			s += math.Exp(v - m)
		}
		return m + math.Log(s)
	}
	per := []float64{
		lse(2, 1, 0) - 2,
		math.Log(3),
		lse(1000, -1000, 999) - 999,
		lse(-5, 3, 1) + 5,
	}
	cases := []struct {
		name   string
		rows   []int
		labels []int
		want   float64
	}{
		{"all", nil, []int{0, 1, 2, 0}, (per[0] + per[1] + per[2] + per[3]) / 4},
		{"subset", []int{2, 0}, []int{2, 0}, (per[2] + per[0]) / 2},
		{"single", []int{3}, []int{0}, per[3]},
	}
	for _, tc := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, dt), func(t *testing.T) {
				g := gorgonia.NewGraph()
				var v *tensor.Dense
				if dt == tensor.Float64 {
					v = tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(append([]float64(nil), logits...)))
				} else {
					v = tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(f32(logits)))
				}
				x := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(4, 3), gorgonia.WithValue(v))
				loss, err := SoftmaxCrossEntropy(x, tc.rows, tc.labels)
				if err != nil {
					t.Fatal(err)
				}
				vm := gorgonia.NewTapeMachine(g)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				got, err := autograd.ScalarOf(loss.Value())
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-6
				}
				if math.IsNaN(got) || math.Abs(got-tc.want) > tol*(1+tc.want) {
					t.Errorf("loss = %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestSoftmaxCrossEntropyErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	m := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 3), gorgonia.WithName("m"))
	v := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("v"))
	mi := gorgonia.NewMatrix(g, tensor.Int, gorgonia.WithShape(4, 3), gorgonia.WithName("mi"))
	cases := []struct {
		name   string
		x      *gorgonia.Node
		rows   []int
		labels []int
	}{
		{"vector", v, nil, []int{0, 0, 0}},
		{"int dtype", mi, nil, []int{0, 0, 0, 0}},
		{"label too big", m, nil, []int{0, 3, 0, 0}},
		{"negative label", m, []int{1}, []int{-1}},
		{"row too big", m, []int{4}, []int{0}},
		{"negative row", m, []int{-1}, []int{0}},
		{"too few labels", m, nil, []int{0, 0, 0}},
		{"labels for rows", m, []int{0, 1}, []int{0}},
		{"empty rows", m, []int{}, []int{}},
	}
	for _, tc := range cases {
		if _, err := SoftmaxCrossEntropy(tc.x, tc.rows, tc.labels); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestDistinctNodes(t *testing.T) {
	g := gorgonia.NewGraph()
	xv := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 0, 0, 1, 3, -1}))
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("x"), gorgonia.WithValue(xv))
	a, err := SoftmaxCrossEntropy(x, []int{0}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := SoftmaxCrossEntropy(x, []int{1, 2}, []int{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := NewDropoutMask(0.5, 3, 2), NewDropoutMask(0.5, 3, 2)
	d1, err := Dropout(x, m1)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Dropout(x, m2)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.Hashcode() == b.Hashcode() {
		t.Fatal("two losses over different rows of the same logits were merged")
	}
	if d1 == d2 || d1.Hashcode() == d2.Hashcode() {
		t.Fatal("two dropouts with different masks of the same input were merged")
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	va, _ := autograd.ScalarOf(a.Value())
	vb, _ := autograd.ScalarOf(b.Value())
	if va == vb {
		t.Errorf("losses have equal values %v", va)
	}
}
