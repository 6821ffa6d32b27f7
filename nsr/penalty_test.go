package nsr_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refMeans computes class means directly from the spec: μ_c[n] = Σ h / count
// over the given samples of class c, leaving out |h| <= 1e-5 with mask.
func refMeans(h [][]float64, labels []int, classes int, mask bool) (mu, cnt [][]float64) {
	d := len(h[0])
	mu, cnt = make([][]float64, classes), make([][]float64, classes)
	for c := range mu {
		mu[c], cnt[c] = make([]float64, d), make([]float64, d)
	}
	for i, row := range h {
		for n, v := range row {
			if mask && math.Abs(v) <= 1e-5 {
				continue
			}
			mu[labels[i]][n] += v
			cnt[labels[i]][n]++
		}
	}
	for c := range mu {
		for n := range mu[c] {
			if cnt[c][n] > 0 {
				mu[c][n] /= cnt[c][n]
			}
		}
	}
	return mu, cnt
}

// refPenaltyAbout is the mean of (h[i,n] − μ_{y_i}[n])² over the elements
// whose class mean exists (cnt > 0) and, with mask, that fire.
func refPenaltyAbout(h [][]float64, labels []int, mu, cnt [][]float64, mask bool) float64 {
	var s, k float64
	for i, row := range h {
		for n, v := range row {
			if cnt[labels[i]][n] == 0 || (mask && math.Abs(v) <= 1e-5) {
				continue
			}
			s += (v - mu[labels[i]][n]) * (v - mu[labels[i]][n])
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return s / k
}

// refFull is the full-batch penalty of the spec on the selected rows.
func refFull(h [][]float64, rows, labels []int, classes int, mask bool) float64 {
	sel := selectRows(h, rows)
	mu, cnt := refMeans(sel, labels, classes, mask)
	return refPenaltyAbout(sel, labels, mu, cnt, mask)
}

func selectRows(h [][]float64, rows []int) [][]float64 {
	if rows == nil {
		return h
	}
	sel := make([][]float64, len(rows))
	for k, i := range rows {
		sel[k] = h[i]
	}
	return sel
}

func toRows(flat []float64, d int) [][]float64 {
	var h [][]float64
	for i := 0; i < len(flat); i += d {
		h = append(h, slices.Clone(flat[i:i+d]))
	}
	return h
}

// numGrad is the central finite difference of f at x (modified in place and
// restored). Elements in skip are left at 0.
func numGrad(f func([]float64) float64, x []float64, skip func(i int) bool) []float64 {
	const eps = 1e-6
	g := make([]float64, len(x))
	for i := range x {
		if skip != nil && skip(i) {
			continue
		}
		v := x[i]
		x[i] = v + eps
		fp := f(x)
		x[i] = v - eps
		fm := f(x)
		x[i] = v
		g[i] = (fp - fm) / (2 * eps)
	}
	return g
}

// reluLike draws an n×d layer with about a third of the responses exactly 0
// and the others away from the mask threshold.
func reluLike(rng *rand.Rand, n, d int, zeros bool) []float64 {
	h := make([]float64, n*d)
	for i := range h {
		h[i] = rng.NormFloat64() + 0.3
		if zeros && rng.IntN(3) == 0 {
			h[i] = 0
		}
		if h[i] != 0 && math.Abs(h[i]) < 1e-3 {
			h[i] = 0.5
		}
	}
	return h
}

type machineKind int

const (
	tape machineKind = iota
	lisp
)

func (k machineKind) String() string { return [...]string{"tape", "lisp"}[k] }

// rig is a graph cost = λ·P(h) + Σ h⊙c: the linear term checks that the
// penalty's backward adds to (rather than overwrites) h's gradient.
type rig struct {
	g    *G.ExprGraph
	h    *G.Node
	hv   *tensor.Dense
	p    *G.Node
	c    []float64
	vm   G.VM
	opts []G.VMOpt
	lam  float64
	kind machineKind
}

func newRig(t testing.TB, kind machineKind, h0 []float64, n, d int, est nsr.Estimator, lam float64, opts ...G.VMOpt) *rig {
	t.Helper()
	r := &rig{g: G.NewGraph(), lam: lam, kind: kind}
	r.hv = tensor.New(tensor.WithShape(n, d), tensor.WithBacking(slices.Clone(h0)))
	r.h = G.NewMatrix(r.g, tensor.Float64, G.WithShape(n, d), G.WithValue(r.hv), G.WithName("h"))
	r.c = make([]float64, n*d)
	for i := range r.c {
		r.c[i] = 0.01 * float64(i%7)
	}
	cn := G.NewConstant(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(slices.Clone(r.c))), G.WithName("c"))
	var err error
	r.p, err = nsr.Penalty(r.h, est)
	if err != nil {
		t.Fatal(err)
	}
	term, err := G.Mul(G.NewConstant(lam), r.p)
	if err != nil {
		t.Fatal(err)
	}
	lin := G.Must(G.Sum(G.Must(G.HadamardProd(r.h, cn))))
	cost := G.Must(G.Add(term, lin))
	switch kind {
	case tape:
		if _, err := G.Grad(cost, r.h); err != nil {
			t.Fatal(err)
		}
		r.vm = G.NewTapeMachine(r.g, append([]G.VMOpt{G.BindDualValues(r.h)}, opts...)...)
	case lisp:
		r.opts = opts
	}
	t.Cleanup(func() {
		if r.vm != nil {
			r.vm.Close()
		}
	})
	return r
}

// run sets h's values, runs one step, and returns P and dP/dh (the known
// linear part of the gradient taken off and λ divided out).
func (r *rig) run(t testing.TB, h []float64) (float64, []float64) {
	t.Helper()
	copy(r.hv.Data().([]float64), h)
	if r.kind == lisp {
		// gorgonia v0.9.18's LispMachine cannot be rerun (its Reset restarts
		// the forward pass at the last node), so each step gets a new one.
		if r.vm != nil {
			r.vm.Close()
		}
		r.vm = G.NewLispMachine(r.g, r.opts...)
	}
	if err := r.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	defer r.vm.Reset()
	p := r.p.Value().Data().(float64)
	gv, err := r.h.Grad()
	if err != nil {
		t.Fatal(err)
	}
	g := slices.Clone(gv.Data().([]float64))
	clear(gv.Data().([]float64)) // as a solver does: machines accumulate into it
	for i := range g {
		g[i] = (g[i] - r.c[i]) / r.lam
	}
	return p, g
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %.12g, want %.12g (|diff| %.3g)", what, i, got[i], want[i], d)
		}
	}
}

func TestFullBatchGradient(t *testing.T) {
	const n, d, classes = 9, 4, 3
	tests := []struct {
		name   string
		rows   []int
		labels []int
		mask   bool
	}{
		{"all rows", nil, []int{0, 1, 2, 0, 1, 2, 0, 1, 2}, false},
		{"subset", []int{7, 1, 4, 2, 8, 0}, []int{2, 0, 1, 2, 0, 1}, false},
		{"subset masked", []int{7, 1, 4, 2, 8, 0, 5}, []int{2, 0, 1, 2, 0, 1, 1}, true},
		{"all rows masked", nil, []int{0, 1, 2, 0, 1, 2, 0, 1, 2}, true},
		{"single-sample class", []int{3, 5, 6}, []int{0, 0, 2}, false},
	}
	for _, tc := range tests {
		for _, kind := range []machineKind{tape, lisp} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, kind), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				h := reluLike(rng, n, d, tc.mask)
				if tc.mask {
					// A class whose neuron never fires: no mean, no penalty, no NaN.
					for k, i := range selOrAll(tc.rows, n) {
						if tc.labels[k] == 1 {
							h[i*d+2] = 0
						}
					}
				}
				est := &nsr.FullBatch{Rows: tc.rows, Labels: tc.labels, NumClasses: classes, MaskZeros: tc.mask}
				r := newRig(t, kind, h, n, d, est, 0.7)
				p, g := r.run(t, h)
				f := func(x []float64) float64 { return refFull(toRows(x, d), tc.rows, tc.labels, classes, tc.mask) }
				if want := f(h); math.Abs(p-want) > 1e-12*(1+want) {
					t.Fatalf("P = %.15g, want %.15g", p, want)
				}
				// Masked: the mask is a constant of the function (as in torch), so
				// finite differences are taken only where it cannot flip.
				skip := func(i int) bool { return tc.mask && math.Abs(h[i]) <= 1e-5 }
				num := numGrad(f, h, skip)
				assertClose(t, "dP/dh", g, num, 1e-6)
				inSel := make(map[int]bool)
				for _, i := range selOrAll(tc.rows, n) {
					inSel[i] = true
				}
				for i := range g {
					if (!inSel[i/d] || skip(i)) && g[i] != 0 {
						t.Fatalf("dP/dh[%d] = %g, want 0 (row not selected or zero response)", i, g[i])
					}
				}
				// A second step gives the same answer (no state leaks across runs).
				p2, g2 := r.run(t, h)
				if p2 != p || !slices.Equal(g, g2) {
					t.Fatalf("second run: P %v→%v\n%v\n%v", p, p2, g, g2)
				}
			})
		}
	}
}

func selOrAll(rows []int, n int) []int {
	if rows != nil {
		return rows
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

// TestOwnClassMean pins each sample to its own class mean. The published code
// broadcasts one row of means against all samples; here that would give
// ((1−2)²+(3−2)²+(10−2)²+(12−2)²)/4 = 41.5 on neuron 0 instead of 1.
func TestOwnClassMean(t *testing.T) {
	h := []float64{1, 3, 10, 12} // 4×1
	labels := []int{0, 0, 1, 1}
	for _, mask := range []bool{false, true} {
		r := newRig(t, tape, h, 4, 1, &nsr.FullBatch{Labels: labels, NumClasses: 2, MaskZeros: mask}, 1)
		p, g := r.run(t, h)
		if p != 1 {
			t.Errorf("mask %v: P = %v, want 1 (slip value 41.5)", mask, p)
		}
		assertClose(t, "dP/dh", g, []float64{-0.5, 0.5, -0.5, 0.5}, 1e-15)
	}
}

// TestTorchGolden compares with values computed by torch autograd through the
// reference nsr_penalty_masked / nsr_penalty (testdata/golden.py prints them).
func TestTorchGolden(t *testing.T) {
	h := []float64{
		0.5, 0, 1.25, 2,
		0, 0.75, 0, 1,
		1.5, 0.25, 0.5, 0,
		2, 0, 0, 3,
		0.25, 1, 1.75, 0.5,
		1, 0.5, 0, 0,
	}
	labels := []int{0, 1, 0, 1, 2, 2}
	tests := []struct {
		mask  bool
		p     float64
		gradh []float64
	}{
		{true, goldenMaskedP, goldenMaskedGrad},
		{false, goldenPlainP, goldenPlainGrad},
	}
	for _, tc := range tests {
		for _, kind := range []machineKind{tape, lisp} {
			r := newRig(t, kind, h, 6, 4, &nsr.FullBatch{Labels: labels, NumClasses: 3, MaskZeros: tc.mask}, 1)
			p, g := r.run(t, h)
			if math.Abs(p-tc.p) > 1e-12 {
				t.Errorf("mask %v %v: P = %.17g, torch %.17g", tc.mask, kind, p, tc.p)
			}
			assertClose(t, fmt.Sprintf("mask %v %v: dP/dh", tc.mask, kind), g, tc.gradh, 1e-12)
		}
	}
}

func TestFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 20, 5
	h64 := reluLike(rng, n, d, true)
	h32 := make([]float32, len(h64))
	for i, v := range h64 {
		h32[i] = float32(v)
		h64[i] = float64(h32[i])
	}
	rows := []int{0, 2, 4, 6, 8, 10, 12, 14}
	labels := []int{0, 1, 0, 1, 0, 1, 0, 1}
	est := &nsr.FullBatch{Rows: rows, Labels: labels, NumClasses: 2, MaskZeros: true}
	g := G.NewGraph()
	hn := G.NewMatrix(g, tensor.Float32, G.WithShape(n, d), G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(h32))))
	term, err := nsr.Term(hn, est, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(term, hn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(hn))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := 2 * refFull(toRows(h64, d), rows, labels, 2, true)
	if got := float64(term.Value().Data().(float32)); math.Abs(got-want) > 1e-5*want {
		t.Fatalf("λP = %v, want %v", got, want)
	}
	gv, _ := hn.Grad()
	num := numGrad(func(x []float64) float64 { return 2 * refFull(toRows(x, d), rows, labels, 2, true) }, h64,
		func(i int) bool { return h64[i] == 0 })
	for i, v := range gv.Data().([]float32) {
		if math.Abs(float64(v)-num[i]) > 1e-4 {
			t.Fatalf("grad[%d] = %v, want %v", i, v, num[i])
		}
	}
}

// TestIdentity checks graph deduplication: the same layer with another
// estimator is another node, with the same estimator the same node.
func TestIdentity(t *testing.T) {
	g := G.NewGraph()
	h := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 1), G.WithValue(tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{1, 3, 10, 12}))))
	a := &nsr.FullBatch{Labels: []int{0, 0, 1, 1}, NumClasses: 2}
	b := &nsr.FullBatch{Labels: []int{0, 1, 0, 1}, NumClasses: 2}
	pa, _ := nsr.Penalty(h, a)
	pb, _ := nsr.Penalty(h, b)
	pa2, _ := nsr.Penalty(h, a)
	if pa == pb {
		t.Fatal("penalties with different estimators were merged")
	}
	if pa2 != pa {
		t.Error("penalties with the same estimator and input were not merged")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if va, vb := pa.Value().Data().(float64), pb.Value().Data().(float64); va != 1 || vb != 20.25 {
		t.Errorf("P = %v, %v; want 1, 20.25", va, vb)
	}
}

func TestPenaltyErrors(t *testing.T) {
	g := G.NewGraph()
	h := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithInit(G.Zeroes()))
	v := G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithInit(G.Zeroes()))
	tests := []struct {
		name string
		h    *G.Node
		est  nsr.Estimator
	}{
		{"vector", v, &nsr.FullBatch{Labels: []int{0, 0, 1, 1}, NumClasses: 2}},
		{"labels length", h, &nsr.FullBatch{Labels: []int{0, 0, 1}, NumClasses: 2}},
		{"rows/labels", h, &nsr.FullBatch{Rows: []int{0, 1}, Labels: []int{0}, NumClasses: 2}},
		{"row range", h, &nsr.FullBatch{Rows: []int{0, 4}, Labels: []int{0, 1}, NumClasses: 2}},
		{"label range", h, &nsr.FullBatch{Labels: []int{0, 0, 1, 2}, NumClasses: 2}},
		{"no classes", h, &nsr.FullBatch{Labels: []int{0, 0, 0, 0}}},
	}
	for _, tc := range tests {
		if _, err := nsr.Penalty(tc.h, tc.est); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	q := nsr.NewQueue(5, 2, false)
	if _, err := nsr.Penalty(h, q); err != nil {
		t.Fatal(err)
	}
	h2 := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithInit(G.Zeroes()))
	if _, err := nsr.Penalty(h2, q); err == nil {
		t.Error("a Queue served two Penalty nodes")
	}
}
