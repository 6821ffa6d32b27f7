package vision

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/internal/gradtest"
	"github.com/gnsr/gnsr/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyCNN is conv → BN → ReLU → max-pool → conv (stride 2, bias) → GAP →
// linear, small enough for finite differences.
func tinyCNN(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	h := b.pool(b.bn(b.conv(x, 4*width, 3, 1, false), true))
	b.layer("stage1", h)
	h = b.gap(b.conv(h, 5*width, 3, 2, true))
	b.layer("features", h)
	return b.fc(h, classes)
}

// tinyResNet is a stem and two residual blocks, one with the identity
// shortcut and one with a strided 1×1 projection, then GAP and linear; the
// block input feeds two branches, so gorgonia sums their gradients.
func tinyResNet(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	h := b.bn(b.conv(x, 4*width, 3, 1, false), true)
	h = basicBlock(b, h, 4*width, 1)
	h = basicBlock(b, h, 6*width, 2)
	h = b.gap(h)
	return b.fc(h, classes)
}

// tinyFlat has a residual addition without ReLU and ends with flatten
// instead of GAP, as the cnn architecture.
func tinyFlat(b *cnnBuilder, x *G.Node, width, classes int) *G.Node {
	h := b.pool(b.bn(b.conv(x, 3*width, 3, 1, true), true))
	h = b.add(h, b.bn(b.conv(h, 3*width, 1, 1, false), false), false)
	h = b.bn(b.conv(h, 4*width, 1, 2, false), false)
	return b.fc(b.flat(h), classes)
}

func testNet(t testing.TB, arch archFunc, input [3]int, classes, batch int, dt tensor.Dtype, train bool, seed uint64) (*CNNWeights, *ConvNet) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	w, err := newCNNWeights(rng, CNNSpec{Arch: "test", Width: 1, Classes: classes, Input: input}, arch, dt)
	if err != nil {
		t.Fatal(err)
	}
	net, err := BuildCNN(w, batch, train)
	if err != nil {
		t.Fatal(err)
	}
	fillRandom(rng, net)
	return w, net
}

// fillRandom puts normal inputs and random labels into net.
func fillRandom(rng *rand.Rand, net *ConvNet) {
	switch d := net.X.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
	case []float64:
		for i := range d {
			d[i] = rng.NormFloat64()
		}
	}
	classes := net.Logits.Shape()[1]
	for i := range net.Labels {
		net.Labels[i] = rng.IntN(classes)
	}
}

// TestCNNGradients checks the gradients of the cross-entropy of small
// float64 networks in training mode (batch statistics) with respect to
// every parameter against central finite differences, on both machines.
func TestCNNGradients(t *testing.T) {
	for _, c := range []struct {
		name  string
		arch  archFunc
		input [3]int
	}{
		{"conv-bn-relu-pool-conv2-gap-linear", tinyCNN, [3]int{2, 8, 7}},
		{"residual blocks", tinyResNet, [3]int{3, 6, 6}},
		{"residual-conv1x1-stride2-flatten", tinyFlat, [3]int{2, 6, 5}},
	} {
		for _, machine := range []string{"tape", "lisp"} {
			t.Run(c.name+"/"+machine, func(t *testing.T) {
				w, net := testNet(t, c.arch, c.input, 3, 4, tensor.Float64, true, 7)
				// Non-trivial γ and β, so that their gradients matter.
				rng := rand.New(rand.NewPCG(8, 8))
				for i, name := range w.Names {
					if strings.HasSuffix(name, ".gamma") || strings.HasSuffix(name, ".beta") || strings.HasSuffix(name, ".b") {
						for j, d := 0, w.Params[i].Data().([]float64); j < len(d); j++ {
							d[j] += 0.3 * rng.NormFloat64()
						}
					}
				}
				// A TapeMachine reruns after Reset; gorgonia v0.9.18's
				// LispMachine does not (its Reset leaves only the last
				// node to run), so every Lisp run gets a new machine.
				var tape G.VM
				if machine == "tape" {
					if err := net.Backward(); err != nil {
						t.Fatal(err)
					}
					tape = G.NewTapeMachine(net.Graph)
					defer tape.Close()
				}
				run := func() float64 {
					vm := tape
					if vm == nil {
						vm = G.NewLispMachine(net.Graph)
						defer vm.Close()
					}
					if err := vm.RunAll(); err != nil {
						t.Fatal(err)
					}
					vm.Reset()
					return net.LossValue()
				}
				run()
				var grads [][]float64
				for _, p := range net.Params {
					g, err := p.Grad()
					if err != nil {
						t.Fatalf("%v: %v", p, err)
					}
					grads = append(grads, slices.Clone(g.Data().([]float64)))
				}
				net.SetUpdateRunning(false)
				const eps = 1e-6
				checked := 0
				for pi, p := range w.Params {
					d := p.Data().([]float64)
					for i := range d {
						orig := d[i]
						d[i] = orig + eps
						up := run()
						d[i] = orig - eps
						down := run()
						d[i] = orig
						fd := (up - down) / (2 * eps)
						if got := grads[pi][i]; math.Abs(got-fd) > 1e-6*(1+math.Abs(fd)) {
							t.Errorf("%s[%d]: gradient %.9g, finite difference %.9g", w.Names[pi], i, got, fd)
						}
						checked++
					}
				}
				t.Logf("%d parameters checked", checked)
			})
		}
	}
}

// TestCNNMachinesAgree runs one float32 training pass of the cnn
// architecture on both machines and wants the same loss, gradients and
// running statistics: each updated once per run.
func TestCNNMachinesAgree(t *testing.T) {
	type result struct {
		loss    float64
		grads   [][]float32
		running [][]float32
	}
	pass := func(machine string) result {
		w, net := testNet(t, smallCNN, [3]int{3, 32, 32}, 10, 3, tensor.Float32, true, 11)
		var vm G.VM
		if machine == "tape" {
			if err := net.Backward(); err != nil {
				t.Fatal(err)
			}
			vm = G.NewTapeMachine(net.Graph)
		} else {
			vm = G.NewLispMachine(net.Graph)
		}
		defer vm.Close()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		r := result{loss: net.LossValue()}
		for _, p := range net.Params {
			g, err := p.Grad()
			if err != nil {
				t.Fatal(err)
			}
			r.grads = append(r.grads, slices.Clone(g.Data().([]float32)))
		}
		for _, s := range w.Running {
			r.running = append(r.running, slices.Clone(s.Data().([]float32)))
		}
		return r
	}
	tape, lisp := pass("tape"), pass("lisp")
	if tape.loss != lisp.loss || math.IsNaN(tape.loss) {
		t.Errorf("loss: tape %v, lisp %v", tape.loss, lisp.loss)
	}
	for i := range tape.grads {
		if err := gradtest.CloseTo(lisp.grads[i], gradtest.AsF64(tape.grads[i]), 1e-5); err != nil {
			t.Errorf("gradient %d: %v", i, err)
		}
	}
	for i := range tape.running {
		if !slices.Equal(tape.running[i], lisp.running[i]) {
			t.Errorf("running statistic %d: tape %v, lisp %v", i, tape.running[i][:3], lisp.running[i][:3])
		}
	}
}

// TestCNNDeterministic wants bit-identical outputs, gradients and running
// statistics from a float32 training pass for any GOMAXPROCS.
func TestCNNDeterministic(t *testing.T) {
	for _, c := range []struct {
		name  string
		arch  archFunc
		input [3]int
		batch int
	}{
		{"cnn", smallCNN, [3]int{3, 32, 32}, 5},
		{"resnet blocks", tinyResNet, [3]int{3, 16, 16}, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			pass := func(procs int) [][]float32 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				w, net := testNet(t, c.arch, c.input, 10, c.batch, tensor.Float32, true, 5)
				if err := net.Backward(); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(net.Graph)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				out := [][]float32{{float32(net.LossValue())}, slices.Clone(net.LogitsValue().Data().([]float32))}
				for _, p := range net.Params {
					g, _ := p.Grad()
					out = append(out, slices.Clone(g.Data().([]float32)))
				}
				for _, s := range w.Running {
					out = append(out, slices.Clone(s.Data().([]float32)))
				}
				return out
			}
			one := pass(1)
			for _, procs := range []int{2, 3} {
				other := pass(procs)
				for i := range one {
					if !slices.Equal(one[i], other[i]) {
						t.Fatalf("GOMAXPROCS %d: result %d differs from GOMAXPROCS 1", procs, i)
					}
				}
			}
		})
	}
}

// TestCNNTrainEvalSharing checks that an evaluation graph reads the
// parameters and running statistics that a training graph updates.
func TestCNNTrainEvalSharing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	w, err := NewCNNWeights(rng, CNNSpec{Arch: "cnn"}, tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	train, err := BuildCNN(w, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Backward(); err != nil {
		t.Fatal(err)
	}
	if err := train.Backward(); err == nil {
		t.Error("second Backward: no error")
	}
	eval, err := BuildCNN(w, 6, false)
	if err != nil {
		t.Fatal(err)
	}
	if eval.Loss != nil || eval.Labels != nil || eval.Backward() == nil {
		t.Error("evaluation graph has a loss")
	}
	fillRandom(rng, train)
	fillRandom(rng, eval)
	tvm, evm := G.NewTapeMachine(train.Graph), G.NewTapeMachine(eval.Graph)
	defer tvm.Close()
	defer evm.Close()
	runEval := func() []float32 {
		if err := evm.RunAll(); err != nil {
			t.Fatal(err)
		}
		evm.Reset()
		return slices.Clone(eval.LogitsValue().Data().([]float32))
	}
	runTrain := func() {
		if err := tvm.RunAll(); err != nil {
			t.Fatal(err)
		}
		tvm.Reset()
	}
	running := func() []float32 {
		var all []float32
		for _, r := range w.Running {
			all = append(all, r.Data().([]float32)...)
		}
		return all
	}
	r0, e0 := running(), runEval()
	if !slices.Equal(r0, running()) {
		t.Fatal("the evaluation graph changed the running statistics")
	}
	train.SetUpdateRunning(false)
	runTrain()
	if !slices.Equal(r0, running()) {
		t.Fatal("running statistics updated with SetUpdateRunning(false)")
	}
	train.SetUpdateRunning(true)
	runTrain()
	r1 := running()
	if slices.Equal(r0, r1) {
		t.Fatal("a training run did not update the running statistics")
	}
	e1 := runEval()
	if slices.Equal(e0, e1) {
		t.Fatal("the evaluation graph does not see the new running statistics")
	}
	opt := nn.NewSGD(train.Params, 0.1)
	if err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(e1, runEval()) {
		t.Fatal("the evaluation graph does not see the updated parameters")
	}
	// Evaluation uses running statistics: one image's logits do not depend
	// on the others in its batch.
	x := eval.X.Data().([]float32)
	before := runEval()
	per := len(x) / 6
	for i := per; i < len(x); i++ {
		x[i] = -x[i]
	}
	after := runEval()
	if !slices.Equal(before[:10], after[:10]) {
		t.Error("evaluation logits of image 0 depend on the other images")
	}
}

// TestCNNArchs builds resnet18 and vgg19 at width 1, checks their parameter
// counts and runs one float32 training pass on a batch of 2.
func TestCNNArchs(t *testing.T) {
	want := map[string]int{"resnet18": 11173962, "vgg19": 20040522, "cnn": 113962}
	for _, arch := range CNNArchs() {
		t.Run(arch, func(t *testing.T) {
			start := time.Now()
			rng := rand.New(rand.NewPCG(1, 1))
			w, err := NewCNNWeights(rng, CNNSpec{Arch: arch, Width: 1}, tensor.Float32)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, p := range w.Params {
				total += p.Shape().TotalSize()
			}
			if total != want[arch] {
				t.Errorf("%d parameters, want %d", total, want[arch])
			}
			net, err := BuildCNN(w, 2, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := net.Backward(); err != nil {
				t.Fatal(err)
			}
			fillRandom(rng, net)
			vm := G.NewTapeMachine(net.Graph)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			loss := net.LossValue()
			if math.IsNaN(loss) || math.IsInf(loss, 0) || loss <= 0 {
				t.Fatalf("loss %v", loss)
			}
			for i, p := range net.Params {
				g, err := p.Grad()
				if err != nil {
					t.Fatal(err)
				}
				d := g.Data().([]float32)
				if !slices.ContainsFunc(d, func(v float32) bool { return v != 0 }) {
					t.Errorf("gradient of %s is zero", w.Names[i])
				}
				if j := slices.IndexFunc(d, func(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }); j >= 0 {
					t.Errorf("gradient of %s is not finite at %d", w.Names[i], j)
				}
			}
			// Memory: node values grow with the batch; parameter gradients do not.
			net4, err := BuildCNN(w, 4, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := net4.Backward(); err != nil {
				t.Fatal(err)
			}
			perImage := (graphBytes(net4) - graphBytes(net)) / 2
			t.Logf("loss %.4f; layers %s; a training graph holds %.1f MB an image and %.0f MB more; %v",
				loss, strings.Join(net.LayerNames, " "), perImage/1e6, (graphBytes(net)-2*perImage)/1e6, time.Since(start))
			if last := net.Layers[len(net.Layers)-1]; last != net.Logits || !last.Shape().Eq(tensor.Shape{2, 10}) {
				t.Errorf("last layer %v, want the 2×10 logits", last)
			}
		})
	}
}

func TestCNNSpecErrors(t *testing.T) {
	for _, c := range []struct {
		spec CNNSpec
		want string
	}{
		{CNNSpec{Arch: "resnet50"}, "unknown"},
		{CNNSpec{Arch: "cnn", Width: -1}, "width"},
		{CNNSpec{Arch: "cnn", Classes: 1}, "classes"},
		{CNNSpec{Arch: "vgg19", Input: [3]int{3, 16, 16}}, "maxpool"},
	} {
		if _, err := CNNParamCount(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one mentioning %q", c.spec, err, c.want)
		}
		if _, err := NewCNNWeights(rand.New(rand.NewPCG(1, 1)), c.spec, tensor.Float32); err == nil {
			t.Errorf("%+v: NewCNNWeights gives no error", c.spec)
		}
	}
	w, err := NewCNNWeights(rand.New(rand.NewPCG(1, 1)), CNNSpec{Arch: "cnn", Input: [3]int{1, 28, 28}}, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := BuildCNN(w, 0, false); err == nil {
		t.Error("batch 0: no error")
	}
	w.Params[3] = tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(2, 2))
	if _, err := BuildCNN(w, 2, false); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched weights: err = %v", err)
	}
}

// graphBytes returns the size of the values of net's nodes other than its
// inputs (parameters, images): roughly the memory a run holds, without the
// scratch memory and the parameters' optimizer state.
func graphBytes(net *ConvNet) float64 {
	var n float64
	for _, node := range net.Graph.AllNodes() {
		tt, ok := node.Type().(G.TensorType)
		if !ok || node.IsVar() {
			continue // scalars, statements, inputs
		}
		if dt, ok := tt.Of.(tensor.Dtype); ok {
			n += float64(node.Shape().TotalSize()) * float64(dt.Size())
		}
	}
	return n
}

// convFLOPs returns the floating-point operations of one forward pass of
// net's convolutions and linear layers (two per multiply-add), and those of
// a training step: forward, input gradients (not for the images) and
// weight gradients.
func convFLOPs(net *ConvNet) (forward, step float64) {
	batch := net.X.Shape()[0]
	add := func(macs float64, gradX bool) {
		forward += 2 * macs
		step += 4 * macs
		if gradX {
			step += 2 * macs
		}
	}
	for _, n := range net.Graph.AllNodes() {
		if op, ok := n.Op().(*autograd.Layer); ok && op.Name() == "nn.Conv2d" {
			in := op.InputShapes()
			out, _ := op.InferShape()
			ws := in[1]
			add(float64(out.TotalSize()*ws[1]*ws[2]*ws[3]), !in[0].Eq(net.X.Shape()))
		}
	}
	for _, p := range net.Params {
		if strings.HasPrefix(p.Name(), "fc") && strings.HasSuffix(p.Name(), ".w") {
			s := p.Shape()
			add(float64(batch*s[0]*s[1]), true)
		}
	}
	return forward, step
}

// BenchmarkCNNStep times a float32 training step of the cnn architecture
// on a batch of 128 CIFAR-sized images: forward, backward and an SGD
// update with momentum, and reports the time of a 50,000-image epoch.
func BenchmarkCNNStep(b *testing.B) {
	benchStep(b, "cnn", 128)
}

// BenchmarkCNNArchStep times training steps of the larger architectures on
// small batches, for estimates.
func BenchmarkCNNArchStep(b *testing.B) {
	for _, arch := range []string{"resnet18", "vgg19"} {
		b.Run(arch, func(b *testing.B) { benchStep(b, arch, 16) })
	}
}

func benchStep(b *testing.B, arch string, batch int) {
	rng := rand.New(rand.NewPCG(1, 2))
	w, err := NewCNNWeights(rng, CNNSpec{Arch: arch}, tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	net, err := BuildCNN(w, batch, true)
	if err != nil {
		b.Fatal(err)
	}
	if err := net.Backward(); err != nil {
		b.Fatal(err)
	}
	fillRandom(rng, net)
	vm := G.NewTapeMachine(net.Graph)
	defer vm.Close()
	opt := nn.NewSGD(net.Params, 0.01)
	opt.Momentum = 0.9
	step := func() {
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
		if err := opt.Step(); err != nil {
			b.Fatal(err)
		}
	}
	step() // allocates the buffers
	cpu0, cpuOK := cpuTime()
	b.ResetTimer()
	var steps []float64 // each step's milliseconds
	for b.Loop() {
		t0 := time.Now()
		step()
		steps = append(steps, float64(time.Since(t0).Microseconds())/1000)
	}
	ms := b.Elapsed().Seconds() * 1000 / float64(b.N)
	_, flops := convFLOPs(net)
	b.ReportMetric(ms, "ms/batch")
	// The median step, as the torch peer reports (cnn_torch.py's
	// step_ms_median): on a shared machine one slow step moves the mean.
	slices.Sort(steps)
	b.ReportMetric(steps[len(steps)/2], "ms/batch-median")
	// CPU time over all threads: on a shared machine, wall time depends on
	// the other load; CPU time much less.
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/batch")
	}
	b.ReportMetric(ms*50000/float64(batch)/1000, "s/epoch")
	b.ReportMetric(flops/1e9, "GFLOP/batch")
	b.ReportMetric(flops/(ms/1000)/1e9, "GFLOPS")
}

// cpuTime returns the user and system time of the process so far from
// /proc/self/stat (Linux, in clock ticks of 1/100 s), and false elsewhere.
func cpuTime() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // from field 3, the state
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(u+k) * 10 * time.Millisecond, true
}
