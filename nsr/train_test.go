package nsr_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// blobs draws n samples of dimension f in `classes` Gaussian clusters.
func blobs(rng *rand.Rand, n, f, classes int) ([]float64, []int) {
	centres := make([]float64, classes*f)
	for i := range centres {
		centres[i] = 2 * rng.NormFloat64()
	}
	x, y := make([]float64, n*f), make([]int, n)
	for i := range y {
		y[i] = i % classes
		for j := 0; j < f; j++ {
			x[i*f+j] = centres[y[i]*f+j] + 1.5*rng.NormFloat64()
		}
	}
	return x, y
}

// trainToy trains relu(X W1) W2 with cross-entropy plus λ·P on the hidden
// layer (full batch, masked) by plain gradient descent and returns the
// hidden layer's aggregated intra-class variance on the training data.
func trainToy(t *testing.T, lambda float64, kind machineKind) (variance, loss float64) {
	const n, f, hid, classes, steps = 90, 5, 12, 3, 150
	rng := rand.New(rand.NewPCG(11, 12)) // same data and weights for every λ
	x, y := blobs(rng, n, f, classes)
	onehot := make([]float64, n*classes)
	for i, c := range y {
		onehot[i*classes+c] = 1
	}
	w1v, w2v := make([]float64, f*hid), make([]float64, hid*classes)
	for i := range w1v {
		w1v[i] = rng.NormFloat64() / math.Sqrt(f)
	}
	for i := range w2v {
		w2v[i] = rng.NormFloat64() / math.Sqrt(hid)
	}

	g := G.NewGraph()
	xn := G.NewConstant(tensor.New(tensor.WithShape(n, f), tensor.WithBacking(x)), G.WithName("x"))
	yn := G.NewConstant(tensor.New(tensor.WithShape(n, classes), tensor.WithBacking(onehot)), G.WithName("y"))
	w1 := G.NewMatrix(g, tensor.Float64, G.WithShape(f, hid), G.WithValue(tensor.New(tensor.WithShape(f, hid), tensor.WithBacking(w1v))), G.WithName("w1"))
	w2 := G.NewMatrix(g, tensor.Float64, G.WithShape(hid, classes), G.WithValue(tensor.New(tensor.WithShape(hid, classes), tensor.WithBacking(w2v))), G.WithName("w2"))
	hidden := G.Must(G.Rectify(G.Must(G.Mul(xn, w1))))
	logits := G.Must(G.Mul(hidden, w2))
	// CE = mean_i(logsumexp(logits_i) − logits_i[y_i]), spelt out because
	// LogSoftMax's DoDiff is wrong in gorgonia v0.9.18 (it writes the
	// output's gradient, not the input's), which breaks the LispMachine.
	lse := G.Must(G.Sum(G.Must(G.Log(G.Must(G.Sum(G.Must(G.Exp(logits)), 1))))))
	picked := G.Must(G.Sum(G.Must(G.HadamardProd(yn, logits))))
	ce := G.Must(G.Div(G.Must(G.Sub(lse, picked)), G.NewConstant(float64(n))))
	cost := ce
	if lambda > 0 {
		term, err := nsr.Term(hidden, &nsr.FullBatch{Labels: y, NumClasses: classes, MaskZeros: true}, lambda)
		if err != nil {
			t.Fatal(err)
		}
		cost = G.Must(G.Add(ce, term))
	}
	params := G.Nodes{w1, w2}
	var vm G.VM
	if kind == tape {
		if _, err := G.Grad(cost, params...); err != nil {
			t.Fatal(err)
		}
		vm = G.NewTapeMachine(g, G.BindDualValues(params...))
	}
	solver := G.NewVanillaSolver(G.WithLearnRate(0.1))
	for s := 0; s < steps; s++ {
		if kind == lisp {
			vm = G.NewLispMachine(g) // v0.9.18's LispMachine cannot be rerun
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := solver.Step(G.NodesToValueGrads(params)); err != nil {
			t.Fatal(err)
		}
		if kind == tape {
			vm.Reset()
		} else {
			vm.Close()
		}
	}
	if kind == tape {
		vm.Close()
	}
	// Hidden layer of the trained weights, computed in plain Go.
	h := make([]float64, n*hid)
	for i := 0; i < n; i++ {
		for j := 0; j < hid; j++ {
			var s float64
			for k := 0; k < f; k++ {
				s += x[i*f+k] * w1v[k*hid+j]
			}
			h[i*hid+j] = math.Max(s, 0)
		}
	}
	return nsr.Aggregate(nsr.IntraClassVariance(h, hid, nil, y, classes, true)), ce.Value().Data().(float64)
}

// TestToyTrainingLowersVariance: minimising CE + λP lowers the hidden layer's
// intra-class variance compared with the same run at λ = 0.
func TestToyTrainingLowersVariance(t *testing.T) {
	for _, kind := range []machineKind{tape, lisp} {
		v0, ce0 := trainToy(t, 0, kind)
		v1, ce1 := trainToy(t, 1, kind)
		t.Logf("%v: λ=0: Σσ = %.4f (CE %.4f); λ=1: Σσ = %.4f (CE %.4f)", kind, v0, ce0, v1, ce1)
		if !(v1 < 0.8*v0) {
			t.Errorf("%v: NSR did not lower the intra-class variance: %.4f (λ=1) vs %.4f (λ=0)", kind, v1, v0)
		}
	}
}

// BenchmarkPenaltyPubMed times everything NSR adds to a PubMed step: the
// penalty and its gradient on a 19717×16 float32 layer with 60 training rows,
// and gorgonia's addition of that gradient into the layer's (here its dual
// value; in a network, the sum with the gradient from the next layer).
func BenchmarkPenaltyPubMed(b *testing.B) {
	const n, d, classes, train = 19717, 16, 3, 60
	rng := rand.New(rand.NewPCG(1, 1))
	hv := make([]float32, n*d)
	for i := range hv {
		hv[i] = float32(math.Max(rng.NormFloat64(), 0))
	}
	rows, labels := make([]int, train), make([]int, train)
	for i := range rows {
		rows[i], labels[i] = i*300, i%classes
	}
	g := G.NewGraph()
	h := G.NewMatrix(g, tensor.Float32, G.WithShape(n, d), G.WithValue(tensor.New(tensor.WithShape(n, d), tensor.WithBacking(hv))))
	term, err := nsr.Term(h, &nsr.FullBatch{Rows: rows, Labels: labels, NumClasses: classes, MaskZeros: true}, 0.5)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(term, h); err != nil {
		b.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(h))
	defer vm.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
}
