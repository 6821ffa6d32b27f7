package nn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func keptOf(m *DropoutMask) []bool {
	n := m.Shape().TotalSize()
	k := make([]bool, n)
	for i := range k {
		k[i] = m.Kept(i)
	}
	return k
}

func TestDropoutMaskDeterminism(t *testing.T) {
	draw := func(seed uint64) []bool {
		src := rand.NewPCG(seed, 7)
		m := NewDropoutMask(0.5, 33, 5)
		m.Resample(src)
		first := keptOf(m)
		m.Resample(src)
		return append(first, keptOf(m)...)
	}
	a, b, c := draw(1), draw(1), draw(2)
	if !slices.Equal(a, b) {
		t.Error("same seed gave different masks")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same masks")
	}
	if slices.Equal(a[:165], a[165:]) {
		t.Error("Resample did not change the mask")
	}
}

func TestDropoutMaskDraws(t *testing.T) {
	// One Uint64 per two elements, rounded up; none when p is 0.
	for _, tc := range []struct {
		p     float64
		size  int
		draws int
	}{{0.5, 10, 5}, {0.5, 11, 6}, {0.1, 1, 1}, {0, 10, 0}} {
		r1 := rand.NewPCG(3, 4)
		r2 := rand.New(rand.NewPCG(3, 4))
		NewDropoutMask(tc.p, tc.size).Resample(r1)
		for range tc.draws {
			r2.Uint64()
		}
		if r1.Uint64() != r2.Uint64() {
			t.Errorf("p=%v size %d: Resample did not draw %d Uint64s", tc.p, tc.size, tc.draws)
		}
	}
}

// TestDropoutMaskMatchesSerialDraws: the parallel Resample gives the mask
// and leaves the PCG where a serial loop over rand.Rand.Uint64 does, for
// any GOMAXPROCS, on sizes that split over several goroutines.
func TestDropoutMaskMatchesSerialDraws(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	serial := func(p float64, n int, rng *rand.Rand) []bool {
		thresh := uint64(p * (1 << 32))
		k := make([]bool, n)
		for i := 0; i < n; i += 2 {
			u := rng.Uint64()
			k[i] = u&0xffffffff >= thresh
			if i+1 < n {
				k[i+1] = u>>32 >= thresh
			}
		}
		return k
	}
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, n := range []int{1, 2, 7, 2*minParallelDraws - 1, 6*minParallelDraws + 3, 20*minParallelDraws + 1} {
			src, ref := rand.NewPCG(11, uint64(n)), rand.New(rand.NewPCG(11, uint64(n)))
			m := NewDropoutMask(0.3, n)
			for step := range 3 {
				m.Resample(src)
				if want := serial(0.3, n, ref); !slices.Equal(keptOf(m), want) {
					t.Fatalf("GOMAXPROCS %d, %d elements, step %d: the mask differs from the serial draws", procs, n, step)
				}
			}
			if got, want := src.Uint64(), ref.Uint64(); got != want {
				t.Fatalf("GOMAXPROCS %d, %d elements: the PCG is not where the serial draws leave it", procs, n)
			}
		}
	}
}

// TestPCGAdvance: jumping n steps at once lands where n single steps do.
func TestPCGAdvance(t *testing.T) {
	s := pcgState{0x0123456789abcdef, 0xfedcba9876543210}
	walked := s
	for n := range uint64(300) {
		if got := s.advance(n); got != walked {
			t.Fatalf("advance(%d) = %v, want %v", n, got, walked)
		}
		walked = walked.step()
	}
}

func TestDropoutMaskRate(t *testing.T) {
	src := rand.NewPCG(9, 9)
	for _, p := range []float64{0, 0.1, 0.5, 0.9} {
		m := NewDropoutMask(p, 1000, 101) // odd size: the last element has its own draw
		m.Resample(src)
		dropped := 0
		for _, k := range keptOf(m) {
			if !k {
				dropped++
			}
		}
		got := float64(dropped) / 101000
		if math.Abs(got-p) > 0.005 {
			t.Errorf("p=%v: dropped fraction %v", p, got)
		}
	}
}

func TestNewDropoutMaskPanics(t *testing.T) {
	for _, tc := range []struct {
		p     float64
		shape []int
	}{{1, []int{2}}, {-0.1, []int{2}}, {math.NaN(), []int{2}}, {0.5, []int{2, 0}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDropoutMask(%v, %v) did not panic", tc.p, tc.shape)
				}
			}()
			NewDropoutMask(tc.p, tc.shape...)
		}()
	}
}

func TestDropoutForward(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, training := range []bool{true, false} {
			x := []float64{1, -2, 3, -4, 5, -6, 7}
			m := NewDropoutMask(0.25, 7)
			m.Resample(rand.NewPCG(1, 2))
			m.SetTraining(training)
			g := gorgonia.NewGraph()
			var xt *tensor.Dense
			if dt == tensor.Float64 {
				xt = tensor.New(tensor.WithShape(7), tensor.WithBacking(append([]float64(nil), x...)))
			} else {
				xt = tensor.New(tensor.WithShape(7), tensor.WithBacking(f32(x)))
			}
			xn := gorgonia.NewVector(g, dt, gorgonia.WithShape(7), gorgonia.WithValue(xt))
			y, err := Dropout(xn, m)
			if err != nil {
				t.Fatal(err)
			}
			vm := gorgonia.NewTapeMachine(g)
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got := asFloat64(y.Value())
			for i, v := range x {
				want := v
				if training {
					want = 0
					if m.Kept(i) {
						want = v / 0.75
					}
				}
				if math.Abs(got[i]-want) > 1e-6 {
					t.Errorf("%v training=%v: y[%d] = %v, want %v", dt, training, i, got[i], want)
				}
			}
			if got := asFloat64(xt); !close(got, x, 0) {
				t.Errorf("input changed to %v", got)
			}
			vm.Close()
		}
	}
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3))
	if _, err := Dropout(xn, NewDropoutMask(0.5, 3, 2)); err == nil {
		t.Error("shape mismatch: no error")
	}
}

// TestDropoutMaskRestrictRows checks that a mask restricted to some rows
// draws them as the unrestricted mask does, leaves the generator in the
// same state, and zeroes the other rows of its outputs: odd widths, whose
// rows share a draw, and runs of rows near (stepped to) and far (jumped
// to) from each other, for 1 and 3 threads.
func TestDropoutMaskRestrictRows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, cols := range []int{1, 7, 16} {
		const n = 3000
		rows := []int32{0, 1, 2, 5, 9, 10, 300, 301, 1500, 2999}
		for _, threads := range []int{1, 3} {
			runtime.GOMAXPROCS(threads)
			full, part := NewDropoutMask(0.4, n, cols), NewDropoutMask(0.4, n, cols)
			part.RestrictRows(rows)
			a, b := rand.NewPCG(5, 6), rand.NewPCG(5, 6)
			full.Resample(a)
			part.Resample(b)
			if a.Uint64() != b.Uint64() {
				t.Fatalf("cols %d: the generators' states differ after Resample", cols)
			}
			x := make([]float32, n*cols)
			for i := range x {
				x[i] = float32(i%13) - 6
			}
			want, got := make([]float32, len(x)), make([]float32, len(x))
			for i := range got {
				got[i] = 99
			}
			apply(full, want, x, false)
			apply(part, got, x, false)
			in := map[int]bool{}
			for _, r := range rows {
				in[int(r)] = true
			}
			for e := range x {
				w := want[e]
				if !in[e/cols] {
					w = 0
				}
				if got[e] != w {
					t.Fatalf("cols %d, %d threads: element %d (row %d) = %v, want %v", cols, threads, e, e/cols, got[e], w)
				}
			}
		}
	}
}
