package gnn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/gnsr/gnsr/sparse"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// toFloat64 makes m's parameters float64 copies, for gradient checks, and
// gives zero biases small random values: a zero bias puts the ReLU of a
// featureless isolated node on its kink, where finite differences see half
// the slope.
func toFloat64(m *Model, rng *rand.Rand) {
	for _, p := range m.params() {
		src := p.Value.Data().([]float32)
		d := make([]float64, len(src))
		for i, v := range src {
			d[i] = float64(v)
			if v == 0 {
				d[i] = rng.NormFloat64() * 0.1
			}
		}
		p.Value = tensor.New(tensor.WithShape(p.Value.Shape()...), tensor.WithBacking(d))
	}
}

// gradCase is a model whose training network's gradients are checked.
type gradCase struct {
	name string
	cfg  func(*Config)
}

// gradCases covers every registered architecture, with and without bias,
// and the model options around the layers.
func gradCases() []gradCase {
	var cs []gradCase
	for _, arch := range Archs() {
		cs = append(cs,
			gradCase{arch + "/bias", func(c *Config) { c.Arch = arch }},
			gradCase{arch + "/no-bias", func(c *Config) { c.Arch, c.NoBias = arch, true }},
		)
	}
	cs = append(cs,
		gradCase{"gcn/3-layer-residual-batchnorm", func(c *Config) { c.Layers, c.Residual, c.BatchNorm = 3, true, true }},
		gradCase{"sage/3-layer-elu-residual", func(c *Config) { c.Arch, c.Layers, c.Activation, c.Residual = "sage", 3, "elu", true }},
	)
	return cs
}

// TestModelGradients checks the gradients of the training network,
// cross-entropy plus NSR on the first hidden layer, against central finite
// differences in float64, for every architecture and model option, on the
// TapeMachine (SymDiff) and on the LispMachine (DoDiff). Dropout is off so
// that the loss is a function of the weights alone.
func TestModelGradients(t *testing.T) {
	d := communities(t, 3, 40, 3)
	labels := make([]int, len(d.Train))
	for i, v := range d.Train {
		labels[i] = d.Labels[v]
	}
	for _, tc := range gradCases() {
		cfg := DefaultConfig()
		cfg.Hidden, cfg.Dropout = 4, 0
		tc.cfg(&cfg)
		if a, _ := LookupArch(cfg.Arch); a.Attention {
			cfg.Heads, cfg.OutHeads = 2, 2
		}
		rng := rand.New(rand.NewPCG(5, 6))
		m, err := NewModel(cfg.Spec(d.Features.Cols, d.NumClasses), rng)
		if err != nil {
			t.Fatal(err)
		}
		toFloat64(m, rng)
		x := sparseInput(sparse.NewMatrix(d.Features))
		blocks := sameBlocks(FullBlock(d.Graph), cfg.Layers)
		no := false
		buildNet := func() *network {
			net, err := buildNetwork(m, x, blocks, &lossSpec{rows: d.Train, labels: labels,
				nsrLayers: []int{0}, nsrLambdas: []float64{0.7},
				estimator: func(_ int, hidden bool) (nsr.Estimator, error) {
					return &nsr.FullBatch{Rows: d.Train, Labels: labels, NumClasses: d.NumClasses, MaskZeros: hidden}, nil
				}}, &no)
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
		for _, p := range m.params() {
			data := p.Value.Data().([]float64)
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
		names := m.Params()
		for _, machine := range []string{"tape", "lisp"} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, machine), func(t *testing.T) {
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
							t.Errorf("%s[%d]: gradient %v, finite differences %v", names[pi].Name, i, got[i], wv)
							break
						}
					}
				}
			})
		}
	}
}
