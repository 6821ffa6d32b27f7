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

// blobs returns n points in 2-D from two well-separated Gaussian classes.
func blobs(rng *rand.Rand, n int) ([]float32, []int) {
	x := make([]float32, 0, 2*n)
	y := make([]int, n)
	for i := range y {
		y[i] = i % 2
		cx := float64(4*y[i] - 2) // centres at (-2,-1) and (2,1)
		x = append(x, float32(cx+0.5*rng.NormFloat64()), float32(cx/2+0.5*rng.NormFloat64()))
	}
	return x, y
}

// logreg builds logits = X·W + b on g, with W and b made from wt and bt.
func logreg(g *gorgonia.ExprGraph, x []float32, n int, wt, bt *tensor.Dense) (w, b, logits *gorgonia.Node, err error) {
	xn := gorgonia.NewConstant(tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(x)), gorgonia.WithName("X"))
	w = gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 2), gorgonia.WithName("W"), gorgonia.WithValue(wt))
	b = gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(1, 2), gorgonia.WithName("b"), gorgonia.WithValue(bt))
	xw, err := gorgonia.Mul(xn, w)
	if err != nil {
		return nil, nil, nil, err
	}
	logits, err = gorgonia.BroadcastAdd(xw, b, nil, []byte{0})
	return w, b, logits, err
}

func accuracy(logits []float32, y []int) float64 {
	ok := 0
	for i, c := range y {
		if (logits[2*i+1] > logits[2*i]) == (c == 1) {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// TestLogisticRegression trains on separable data with Adam and dropout on
// both machines, evaluating on a second graph that shares the weights.
func TestLogisticRegression(t *testing.T) {
	for _, machine := range []string{"tape", "lisp"} {
		t.Run(machine, func(t *testing.T) {
			src := rand.NewPCG(42, 0)
			rng := rand.New(src)
			const n = 200
			x, y := blobs(rng, n)
			train := make([]int, 0, n/2)
			labels := make([]int, 0, n/2)
			for i := 0; i < n; i += 2 { // train on half, via rows
				train = append(train, i, i+1)
				labels = append(labels, y[i], y[i+1])
			}
			train, labels = train[:n/2], labels[:n/2]

			wt := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(GlorotUniform(rng, 2, 2)))
			bt := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking(Zeros(2)))

			g := gorgonia.NewGraph()
			w, b, logits, err := logreg(g, x, n, wt, bt)
			if err != nil {
				t.Fatal(err)
			}
			mask := NewDropoutMask(0.2, n, 2)
			dropped, err := Dropout(logits, mask)
			if err != nil {
				t.Fatal(err)
			}
			loss, err := SoftmaxCrossEntropy(dropped, train, labels)
			if err != nil {
				t.Fatal(err)
			}
			var lossVal gorgonia.Value
			gorgonia.Read(loss, &lossVal)

			ev := gorgonia.NewGraph()
			_, _, evLogits, err := logreg(ev, x, n, wt, bt)
			if err != nil {
				t.Fatal(err)
			}
			evm := gorgonia.NewTapeMachine(ev)
			defer evm.Close()

			var vm gorgonia.VM
			if machine == "tape" {
				if _, err := gorgonia.Grad(loss, w, b); err != nil {
					t.Fatal(err)
				}
				vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(w, b))
				defer vm.Close()
			}
			opt := NewAdam([]*gorgonia.Node{w, b}, 0.05, 5e-4)
			var first, last float64
			for step := 0; step < 150; step++ {
				mask.Resample(src)
				if machine == "lisp" {
					// A LispMachine runs its graph once: Reset does not
					// rewind the forward pass, so make one per step.
					vm = gorgonia.NewLispMachine(g)
				}
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				l, err := autograd.ScalarOf(lossVal)
				if err != nil {
					t.Fatal(err)
				}
				if step == 0 {
					first = l
				}
				last = l
				if err := opt.Step(); err != nil {
					t.Fatal(err)
				}
				if machine == "tape" {
					vm.Reset()
				} else {
					vm.Close()
				}
			}
			if err := evm.RunAll(); err != nil {
				t.Fatal(err)
			}
			acc := accuracy(evLogits.Value().Data().([]float32), y)
			evm.Reset()
			if acc < 0.99 || !(last < first/4) {
				t.Errorf("accuracy %v, loss %v -> %v", acc, first, last)
			}
			// The evaluation graph saw the optimizer's updates in place.
			if w.Value().(*tensor.Dense) != wt || b.Value().(*tensor.Dense) != bt {
				t.Error("parameters no longer share the tensors")
			}
		})
	}
}

// TestTapeAndLispAgree trains the same model on both machines, which must
// produce the same weights.
func TestTapeAndLispAgree(t *testing.T) {
	final := map[string][]float64{}
	for _, machine := range []string{"tape", "lisp"} {
		src := rand.NewPCG(5, 0)
		r, w0 := newRefModel(11, []int{1, 4, 6}, 0.4, true)
		g, wn, cost, err := r.build(tensor.Float64, w0)
		if err != nil {
			t.Fatal(err)
		}
		var vm gorgonia.VM
		if machine == "tape" {
			if _, err := gorgonia.Grad(cost, wn); err != nil {
				t.Fatal(err)
			}
			vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(wn))
		}
		opt := NewAdam([]*gorgonia.Node{wn}, 0.1, 0.01)
		for range 20 {
			r.mask.Resample(src)
			if machine == "lisp" {
				vm = gorgonia.NewLispMachine(g)
			}
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			if err := opt.Step(); err != nil {
				t.Fatal(err)
			}
			if machine == "tape" {
				vm.Reset()
			}
		}
		final[machine] = asFloat64(wn.Value())
	}
	if !close(final["tape"], final["lisp"], 1e-12) {
		t.Errorf("tape %v\nlisp %v", final["tape"], final["lisp"])
	}
}

func TestInitialisers(t *testing.T) {
	const fanIn, fanOut = 300, 200
	rng := rand.New(rand.NewPCG(1, 1))
	u := GlorotUniform(rng, fanIn, fanOut)
	a := math.Sqrt(6.0 / (fanIn + fanOut))
	var sum, sq float64
	for _, v := range u {
		if math.Abs(float64(v)) > a {
			t.Fatalf("GlorotUniform value %v outside ±%v", v, a)
		}
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	if n := float64(len(u)); math.Abs(sum/n) > 0.01*a || math.Abs(sq/n-a*a/3) > 0.02*a*a/3 {
		t.Errorf("GlorotUniform mean %v, variance %v, want 0, %v", sum/n, sq/n, a*a/3)
	}
	nrm := GlorotNormal(rng, fanIn, fanOut)
	sq = 0
	for _, v := range nrm {
		sq += float64(v) * float64(v)
	}
	if want := 2.0 / (fanIn + fanOut); math.Abs(sq/float64(len(nrm))-want) > 0.02*want {
		t.Errorf("GlorotNormal variance %v, want %v", sq/float64(len(nrm)), want)
	}
	// The same seed gives the same weights, in either precision.
	u2 := GlorotUniform(rand.New(rand.NewPCG(1, 1)), fanIn, fanOut)
	t64 := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(fanIn, fanOut))
	if err := FillGlorotUniform(rand.New(rand.NewPCG(1, 1)), t64); err != nil {
		t.Fatal(err)
	}
	for i, v := range t64.Data().([]float64) {
		if u[i] != u2[i] || float32(v) != u[i] {
			t.Fatalf("element %d: %v, %v, %v differ", i, u[i], u2[i], v)
		}
	}
	if err := FillGlorotNormal(rng, tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2, 2))); err == nil {
		t.Error("FillGlorotNormal of an int tensor: no error")
	}

	g := gorgonia.NewGraph()
	init := Zeros(6)
	p := NewParam(g, "W", []int{2, 3}, init)
	if !p.Shape().Eq(tensor.Shape{2, 3}) || p.Name() != "W" || p.Dtype() != tensor.Float32 {
		t.Errorf("NewParam: %v %v %v", p.Name(), p.Shape(), p.Dtype())
	}
	init[4] = 7 // the value shares init's memory
	if got := p.Value().Data().([]float32)[4]; got != 7 {
		t.Errorf("NewParam value does not share init: %v", got)
	}
	if v := NewParam(g, "b", []int{4}, nil); v.Value().Shape().TotalSize() != 4 {
		t.Errorf("NewParam(nil) shape %v", v.Value().Shape())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewParam with a wrong-sized init did not panic")
			}
		}()
		NewParam(g, "bad", []int{2, 2}, Zeros(3))
	}()
}

func ExampleSoftmaxCrossEntropy() {
	g := gorgonia.NewGraph()
	logits := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 3), gorgonia.WithName("logits"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{
			2, 1, 0,
			0, 0, 0,
			0, 5, 0,
		}))))
	// The loss of rows 0 and 1 only, whose classes are 0 and 2; row 2 gets
	// no gradient.
	loss, err := SoftmaxCrossEntropy(logits, []int{0, 1}, []int{0, 2})
	if err != nil {
		panic(err)
	}
	if _, err := gorgonia.Grad(loss, logits); err != nil {
		panic(err)
	}
	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(logits))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		panic(err)
	}
	grad, _ := logits.Grad()
	fmt.Printf("loss %.4f\n", loss.Value())
	fmt.Printf("grad %.3f\n", grad.Data())
	// Output:
	// loss 0.7531
	// grad [-0.167 0.122 0.045 0.167 0.167 -0.333 0.000 0.000 0.000]
}
