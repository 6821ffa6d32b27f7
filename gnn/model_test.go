package gnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float64Weights returns a float64 copy of w, for gradient checks.
func float64Weights(w *weights) *weights {
	out := &weights{names: w.names}
	for _, t := range w.tensors {
		src := t.Data().([]float32)
		d := make([]float64, len(src))
		for i, v := range src {
			d[i] = float64(v)
		}
		out.tensors = append(out.tensors, tensor.New(tensor.WithShape(t.Shape()...), tensor.WithBacking(d)))
	}
	return out
}

// TestModelGradients checks the gradients of the training network that
// build makes, cross-entropy plus NSR on the hidden layer, against central
// finite differences in float64, for both models with and without bias, on
// the TapeMachine (SymDiff) and on the LispMachine (DoDiff). Dropout is off
// so that the loss is a function of the weights alone.
func TestModelGradients(t *testing.T) {
	d := communities(t, 3, 40, 3)
	labels := make([]int, len(d.Train))
	for i, v := range d.Train {
		labels[i] = d.Labels[v]
	}
	for _, model := range Models {
		for _, bias := range []bool{true, false} {
			rng := rand.New(rand.NewPCG(5, 6))
			w := float64Weights(newWeights(rng, model, []int{d.Features.Cols, 4, d.NumClasses}, bias))
			for i, name := range w.names {
				if name[0] == 'b' {
					// GCN's biases start at zero, which puts the ReLU of a
					// featureless isolated node on its kink, where finite
					// differences see half the slope.
					for j := range w.tensors[i].Data().([]float64) {
						w.tensors[i].Data().([]float64)[j] = rng.NormFloat64() * 0.1
					}
				}
			}
			x := sparse.NewMatrix(d.Features)
			adj := sparse.NewMatrix(adjacency(model, d.Graph))
			loss := &lossSpec{rows: d.Train, labels: labels, classes: d.NumClasses,
				nsrLayers: []int{0}, nsrLambdas: []float64{0.7}, maskZeros: true}
			buildNet := func() *network {
				net, err := build(model, w, x, adj, d.Graph.NumNodes(), 0, bias, loss)
				if err != nil {
					t.Fatal(err)
				}
				return net
			}
			cost := func() float64 {
				net := buildNet()
				vm := G.NewTapeMachine(net.g)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				return net.cost.Value().Data().(float64)
			}
			const h = 1e-6
			var want [][]float64
			for _, p := range w.tensors {
				data := p.Data().([]float64)
				g := make([]float64, len(data))
				for i := range data {
					old := data[i]
					data[i] = old + h
					up := cost()
					data[i] = old - h
					down := cost()
					data[i] = old
					g[i] = (up - down) / (2 * h)
				}
				want = append(want, g)
			}
			for _, machine := range []string{"tape", "lisp"} {
				t.Run(fmt.Sprintf("%s/bias=%t/%s", model, bias, machine), func(t *testing.T) {
					net := buildNet()
					var vm G.VM
					if machine == "tape" {
						if _, err := G.Grad(net.cost, net.params...); err != nil {
							t.Fatal(err)
						}
						vm = G.NewTapeMachine(net.g, G.BindDualValues(net.params...))
					} else {
						vm = G.NewLispMachine(net.g)
					}
					defer vm.Close()
					if err := vm.RunAll(); err != nil {
						t.Fatal(err)
					}
					if nsr := nn.Scalar(net.nsr[0]); !(nsr > 0) {
						t.Fatalf("NSR term %v: the check would not cover it", nsr)
					}
					for pi, p := range net.params {
						gv, err := p.Grad()
						if err != nil {
							t.Fatal(err)
						}
						got := gv.Data().([]float64)
						for i, wv := range want[pi] {
							if math.Abs(got[i]-wv) > 1e-6*(1+math.Abs(wv)) {
								t.Errorf("%s[%d]: gradient %v, finite differences %v", w.names[pi], i, got[i], wv)
							}
						}
					}
				})
			}
		}
	}
}
