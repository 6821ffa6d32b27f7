package nsr_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestQueueGradient runs several steps with new outputs and labels each step
// and checks P and dP/dh against the reference: class means over the last k
// steps' selected rows (current included), held constant for the gradient.
func TestQueueGradient(t *testing.T) {
	const n, d, classes, k, steps = 8, 3, 3, 3, 5
	for _, mask := range []bool{false, true} {
		for _, subset := range []bool{false, true} {
			for _, kind := range []machineKind{tape, lisp} {
				name := map[bool]string{false: "plain", true: "masked"}[mask] + map[bool]string{false: "/all", true: "/subset"}[subset] + "/" + kind.String()
				t.Run(name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(5, 6))
					q := nsr.NewQueue(k, classes, mask)
					r := newRig(t, kind, make([]float64, n*d), n, d, q, 1.3)
					var hist [][][]float64 // selected rows of each step
					var histY [][]int
					for s := 0; s < steps; s++ {
						h := reluLike(rng, n, d, mask)
						var rows []int
						if subset {
							rows = rng.Perm(n)[:5]
						}
						labels := make([]int, len(selOrAll(rows, n)))
						for i := range labels {
							labels[i] = rng.IntN(classes)
						}
						if err := q.SetBatch(rows, labels); err != nil {
							t.Fatal(err)
						}
						p, g := r.run(t, h)
						if q.Pushes() != s+1 || q.Len() != min(s+1, k) {
							t.Fatalf("step %d: %d pushes, %d held", s, q.Pushes(), q.Len())
						}
						hist = append(hist, selectRows(toRows(h, d), rows))
						histY = append(histY, labels)
						var all [][]float64
						var allY []int
						for j := max(0, len(hist)-k); j < len(hist); j++ {
							all = append(all, hist[j]...)
							allY = append(allY, histY[j]...)
						}
						mu, cnt := refMeans(all, allY, classes, mask)
						f := func(x []float64) float64 {
							return refPenaltyAbout(selectRows(toRows(x, d), rows), labels, mu, cnt, mask)
						}
						if want := f(h); math.Abs(p-want) > 1e-12*(1+want) {
							t.Fatalf("step %d: P = %.15g, want %.15g", s, p, want)
						}
						num := numGrad(f, h, func(i int) bool { return mask && h[i] == 0 })
						assertClose(t, "dP/dh", g, num, 1e-6)
						gotMu, _ := q.Means()
						for c := range mu {
							assertClose(t, "Means", gotMu[c*d:c*d+d], mu[c], 1e-12)
						}
					}
				})
			}
		}
	}
}

// TestQueueAbsentClass: samples of a class that the queue has not seen add
// nothing, and an empty queue gives 0, not NaN.
func TestQueueAbsentClass(t *testing.T) {
	const n, d = 4, 2
	h := []float64{1, 2, 3, 4, 5, 6, 100, -100}
	for _, kind := range []machineKind{tape, lisp} {
		q := nsr.NewQueue(2, 3, false)
		r := newRig(t, kind, h, n, d, q, 1)
		q.SetPushing(false)
		if err := q.SetBatch(nil, []int{0, 1, 0, 2}); err != nil {
			t.Fatal(err)
		}
		p, g := r.run(t, h)
		if p != 0 || slices.ContainsFunc(g, func(v float64) bool { return v != 0 }) {
			t.Fatalf("%v: empty queue: P = %v, grad %v; want zeros", kind, p, g)
		}
		q.SetPushing(true)
		if err := q.SetBatch([]int{0, 1}, []int{0, 1}); err != nil {
			t.Fatal(err)
		}
		r.run(t, h) // queue: class 0 = (1, 2), class 1 = (3, 4)
		q.SetPushing(false)
		if err := q.SetBatch(nil, []int{0, 1, 0, 2}); err != nil {
			t.Fatal(err)
		}
		p, g = r.run(t, h)
		// class 0: (1,2) vs (1,2) → 0; (5,6) vs (1,2) → 16+16; class 1: (3,4) → 0; class 2 absent
		if want := 32.0 / 6; math.Abs(p-want) > 1e-12 {
			t.Errorf("%v: P = %v, want %v", kind, p, want)
		}
		want := []float64{0, 0, 0, 0, 2 * 4.0 / 6, 2 * 4.0 / 6, 0, 0}
		assertClose(t, "dP/dh", g, want, 1e-12)
		if q.Pushes() != 1 {
			t.Errorf("%v: %d pushes with pushing off, want 1", kind, q.Pushes())
		}
	}
}

// TestQueueFIFO: with k = 2, the means are over the last two steps, the
// current one included.
func TestQueueFIFO(t *testing.T) {
	q := nsr.NewQueue(2, 1, false)
	if err := q.SetBatch(nil, []int{0, 0}); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, tape, make([]float64, 2), 2, 1, q, 1)
	steps := []struct {
		h       []float64
		mean, p float64
		held    int
	}{
		{[]float64{1, 1}, 1, 0, 1},
		{[]float64{3, 3}, 2, 1, 2},
		{[]float64{5, 5}, 4, 1, 2}, // the first step is gone: mean(3, 5)
		{[]float64{6, 8}, 6, 2, 2}, // mean(5, 5, 6, 8)
	}
	for s, st := range steps {
		p, _ := r.run(t, st.h)
		mu, cnt := q.Means()
		if mu[0] != st.mean || p != st.p || q.Len() != st.held || cnt[0] != float64(2*st.held) {
			t.Errorf("step %d: mean %v count %v P %v held %d; want %v, %v, %v, %d", s, mu[0], cnt[0], p, q.Len(), st.mean, 2*st.held, st.p, st.held)
		}
	}
	q.Reset()
	if mu, _ := q.Means(); mu != nil || q.Len() != 0 || q.Pushes() != 0 {
		t.Errorf("after Reset: means %v, %d held, %d pushes", mu, q.Len(), q.Pushes())
	}
}

// TestQueueOnePushPerRun: one RunAll is one push on both machines, and a
// machine made with EvalMode does not push.
func TestQueueOnePushPerRun(t *testing.T) {
	h := []float64{1, 2, 3, 4}
	for _, kind := range []machineKind{tape, lisp} {
		q := nsr.NewQueue(5, 2, true)
		if err := q.SetBatch(nil, []int{0, 1}); err != nil {
			t.Fatal(err)
		}
		r := newRig(t, kind, h, 2, 2, q, 1)
		for i := 1; i <= 3; i++ {
			r.run(t, h)
			if q.Pushes() != i {
				t.Fatalf("%v: %d pushes after %d runs", kind, q.Pushes(), i)
			}
		}
		q.SetPushing(false)
		r.run(t, h)
		if q.Pushes() != 3 {
			t.Fatalf("%v: pushed with SetPushing(false)", kind)
		}
	}
	g := G.NewGraph()
	hn := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(h))))
	q := nsr.NewQueue(5, 2, false)
	if err := q.SetBatch(nil, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := nsr.Penalty(hn, q); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.EvalMode())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if q.Pushes() != 0 {
		t.Errorf("EvalMode machine pushed")
	}
}

func TestQueueErrors(t *testing.T) {
	q := nsr.NewQueue(2, 2, false)
	if err := q.SetBatch(nil, []int{0, 2}); err == nil {
		t.Error("label out of range accepted")
	}
	if err := q.SetBatch([]int{0}, []int{0, 1}); err == nil {
		t.Error("rows/labels length mismatch accepted")
	}
	g := G.NewGraph()
	hn := G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithInit(G.Zeroes()))
	if _, err := nsr.Penalty(hn, q); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err == nil {
		t.Error("run without SetBatch succeeded")
	}
	vm.Reset()
	if err := q.SetBatch([]int{0, 5}, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err == nil {
		t.Error("row out of range accepted")
	}
	for _, f := range []func(){func() { nsr.NewQueue(0, 2, false) }, func() { nsr.NewQueue(2, 0, false) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("NewQueue did not panic")
				}
			}()
			f()
		}()
	}
}

// TestQueueState copies a queue's state after some steps into a fresh
// queue and checks that both then give the same penalties and gradients,
// bit for bit, and that states that do not fit are refused.
func TestQueueState(t *testing.T) {
	const n, d, classes, k = 6, 3, 3, 3
	for _, steps := range []int{0, 2, 5} {
		rng := rand.New(rand.NewPCG(9, uint64(steps)))
		step := func() ([]float64, []int) {
			labels := make([]int, n)
			for i := range labels {
				labels[i] = rng.IntN(classes)
			}
			return reluLike(rng, n, d, true), labels
		}
		a := nsr.NewQueue(k, classes, true)
		ra := newRig(t, tape, make([]float64, n*d), n, d, a, 0.7)
		for range steps {
			h, y := step()
			if err := a.SetBatch(nil, y); err != nil {
				t.Fatal(err)
			}
			ra.run(t, h)
		}
		b := nsr.NewQueue(k, classes, true)
		rb := newRig(t, tape, make([]float64, n*d), n, d, b, 0.7)
		if err := b.SetState(a.State()); err != nil {
			t.Fatal(err)
		}
		for s := range 4 {
			h, y := step()
			for _, q := range []*nsr.Queue{a, b} {
				if err := q.SetBatch(nil, y); err != nil {
					t.Fatal(err)
				}
			}
			pa, ga := ra.run(t, h)
			pb, gb := rb.run(t, h)
			if pa != pb || !slices.Equal(ga, gb) || a.Pushes() != b.Pushes() {
				t.Fatalf("after %d steps, step %d: P %v and %v, %d and %d pushes", steps, s, pa, pb, a.Pushes(), b.Pushes())
			}
		}
	}
	q := nsr.NewQueue(2, 3, false)
	good := nsr.NewQueue(2, 3, false).State()
	for name, s := range map[string]nsr.QueueState{
		"slots":    {Sums: make([][]float64, 3), Counts: make([][]float64, 3)},
		"held":     {Held: 1, Pushes: 1, Sums: good.Sums, Counts: good.Counts},
		"width":    {Width: 2, Held: 1, Pushes: 1, Next: 1, Sums: [][]float64{make([]float64, 5), nil}, Counts: [][]float64{make([]float64, 6), nil}},
		"next":     {Next: 2, Sums: good.Sums, Counts: good.Counts},
		"pushes":   {Width: 1, Held: 2, Pushes: 1, Sums: [][]float64{make([]float64, 3), make([]float64, 3)}, Counts: [][]float64{make([]float64, 3), make([]float64, 3)}},
		"counts":   {Width: 1, Held: 1, Pushes: 1, Sums: [][]float64{make([]float64, 3), nil}, Counts: [][]float64{nil, nil}},
		"negative": {Width: -1, Sums: good.Sums, Counts: good.Counts},
	} {
		if err := q.SetState(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
