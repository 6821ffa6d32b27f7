package nn

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/gnsr/gnsr/internal/gradtest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The golden values come from testdata/golden_cnn.py (torch, float64);
// rerun it to regenerate testdata/golden_cnn.json.

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g *goldenTensor) dense(dt tensor.Dtype) *tensor.Dense {
	if dt == tensor.Float32 {
		d := make([]float32, len(g.Data))
		for i, v := range g.Data {
			d[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(g.Shape...), tensor.WithBacking(d))
	}
	return tensor.New(tensor.WithShape(g.Shape...), tensor.WithBacking(append([]float64(nil), g.Data...)))
}

type goldenCase struct {
	Stride int  `json:"stride"`
	Pad    int  `json:"pad"`
	K      int  `json:"k"`
	Train  bool `json:"train"`
	Relu   bool `json:"relu"`

	X, W, B, Y, Dy, Dx, Dw, Db *goldenTensor
	Gamma, Beta, Dgamma, Dbeta *goldenTensor
	RunningMean                *goldenTensor `json:"running_mean"`
	RunningVar                 *goldenTensor `json:"running_var"`
	NewRunningMean             *goldenTensor `json:"new_running_mean"`
	NewRunningVar              *goldenTensor `json:"new_running_var"`
}

type goldenFile struct {
	Torch  string
	Cases  map[string]*goldenCase
	Params map[string]int
}

func loadGolden(t *testing.T) *goldenFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden_cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f := &goldenFile{Cases: map[string]*goldenCase{}}
	for k, v := range m {
		var err error
		switch k {
		case "torch":
			err = json.Unmarshal(v, &f.Torch)
		case "params":
			err = json.Unmarshal(v, &f.Params)
		default:
			c := new(goldenCase)
			err = json.Unmarshal(v, c)
			f.Cases[k] = c
		}
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	return f
}

// runOp builds op on variable nodes holding ins, takes cost = Σ op(ins)⊙dy
// and returns the output and the gradients of the inputs (nil where none),
// computed by the given machine ("tape" or "lisp").
func runOp(t *testing.T, machine string, dt tensor.Dtype, ins []*goldenTensor, dy *goldenTensor,
	op func(ins []*G.Node) (*G.Node, error)) (G.Value, []G.Value) {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(ins))
	for i, in := range ins {
		v := in.dense(dt)
		nodes[i] = G.NewTensor(g, dt, v.Dims(), G.WithShape(v.Shape()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(v))
	}
	y, err := op(nodes)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(y, G.NewConstant(dy.dense(dt)))
	if err != nil {
		t.Fatal(err)
	}
	cost, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	G.Read(y, &yv)
	var vm G.VM
	if machine == "tape" {
		if _, err := G.Grad(cost, nodes...); err != nil {
			t.Fatal(err)
		}
		vm = G.NewTapeMachine(g)
	} else {
		vm = G.NewLispMachine(g)
	}
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grads := make([]G.Value, len(nodes))
	for i, n := range nodes {
		if gv, err := n.Grad(); err == nil {
			grads[i] = gv
		}
	}
	return yv, grads
}

type goldenCheck struct {
	name string
	got  any
	want *goldenTensor
}

func checkAll(t *testing.T, tol float64, checks ...goldenCheck) {
	t.Helper()
	for _, c := range checks {
		if c.want == nil {
			continue
		}
		if c.got == nil {
			t.Errorf("%s: missing", c.name)
			continue
		}
		if err := gradtest.CloseTo(c.got, c.want.Data, tol); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// goldenRuns are the dtypes and machines each golden case runs with, and
// the tolerance of each dtype.
var goldenRuns = []struct {
	dt      tensor.Dtype
	machine string
	tol     float64
}{
	{tensor.Float64, "tape", 1e-10},
	{tensor.Float64, "lisp", 1e-10},
	{tensor.Float32, "tape", 1e-4},
	{tensor.Float32, "lisp", 1e-4},
}

func TestGoldenConv(t *testing.T) {
	f := loadGolden(t)
	for _, name := range []string{"conv_s1", "conv_s2", "conv_1x1_s2", "conv_wide"} {
		c := f.Cases[name]
		if c == nil {
			t.Fatalf("no case %s", name)
		}
		for _, r := range goldenRuns {
			t.Run(fmt.Sprintf("%s/%v/%s", name, r.dt, r.machine), func(t *testing.T) {
				ins := []*goldenTensor{c.X, c.W}
				if c.B != nil {
					ins = append(ins, c.B)
				}
				ws := &Workspace{}
				y, grads := runOp(t, r.machine, r.dt, ins, c.Dy, func(n []*G.Node) (*G.Node, error) {
					var b *G.Node
					if len(n) == 3 {
						b = n[2]
					}
					return Conv2D(ws, n[0], n[1], b, c.Stride, c.Pad, false)
				})
				checks := []goldenCheck{{"y", y, c.Y}, {"dx", grads[0], c.Dx}, {"dw", grads[1], c.Dw}}
				if c.B != nil {
					checks = append(checks, goldenCheck{"db", grads[2], c.Db})
				}
				checkAll(t, r.tol, checks...)
			})
		}
	}
}

func TestGoldenMaxPool(t *testing.T) {
	f := loadGolden(t)
	for _, name := range []string{"pool_2x2", "pool_3x3_s2"} {
		c := f.Cases[name]
		for _, r := range goldenRuns {
			t.Run(fmt.Sprintf("%s/%v/%s", name, r.dt, r.machine), func(t *testing.T) {
				y, grads := runOp(t, r.machine, r.dt, []*goldenTensor{c.X}, c.Dy, func(n []*G.Node) (*G.Node, error) {
					return MaxPool(n[0], c.K, c.Stride)
				})
				checkAll(t, r.tol, goldenCheck{"y", y, c.Y}, goldenCheck{"dx", grads[0], c.Dx})
			})
		}
	}
}

func TestGoldenGlobalAvgPool(t *testing.T) {
	c := loadGolden(t).Cases["gap"]
	for _, r := range goldenRuns {
		t.Run(fmt.Sprintf("%v/%s", r.dt, r.machine), func(t *testing.T) {
			y, grads := runOp(t, r.machine, r.dt, []*goldenTensor{c.X}, c.Dy, func(n []*G.Node) (*G.Node, error) {
				return GlobalAvgPool(n[0])
			})
			checkAll(t, r.tol, goldenCheck{"y", y, c.Y}, goldenCheck{"dx", grads[0], c.Dx})
		})
	}
}

// TestGoldenBatchNorm checks batch norm in both modes, alone and with its
// ReLU, and that one training run updates the running statistics once.
func TestGoldenBatchNorm(t *testing.T) {
	f := loadGolden(t)
	for _, name := range []string{"bn_train", "bn_train_relu", "bn_eval", "bn_eval_relu"} {
		c := f.Cases[name]
		for _, r := range goldenRuns {
			t.Run(fmt.Sprintf("%s/%v/%s", name, r.dt, r.machine), func(t *testing.T) {
				run := &BNRunning{Mean: c.RunningMean.dense(r.dt), Variance: c.RunningVar.dense(r.dt)}
				y, grads := runOp(t, r.machine, r.dt, []*goldenTensor{c.X, c.Gamma, c.Beta}, c.Dy, func(n []*G.Node) (*G.Node, error) {
					return BatchNorm(n[0], n[1], n[2], run, c.Train, c.Relu)
				})
				checkAll(t, r.tol, goldenCheck{"y", y, c.Y}, goldenCheck{"dx", grads[0], c.Dx},
					goldenCheck{"dgamma", grads[1], c.Dgamma}, goldenCheck{"dbeta", grads[2], c.Dbeta},
					goldenCheck{"running mean", run.Mean.Data(), c.NewRunningMean},
					goldenCheck{"running variance", run.Variance.Data(), c.NewRunningVar})
			})
		}
	}
}
