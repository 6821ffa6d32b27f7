package sampler

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/gnsr/gnsr/graph"
)

func TestSampleInvariants(t *testing.T) {
	isolated := mustGraph(t, 4, [][2]int{{0, 1}, {1, 2}}) // node 3 is isolated
	random := mustGraph(t, 300, randomEdges(300, 1500, 7))
	tests := []struct {
		name    string
		g       *graph.Graph
		fanouts []int
		seeds   []int
	}{
		{"path/all", pathGraph(t, 10), []int{-1, -1}, []int{4}},
		{"path/one", pathGraph(t, 10), []int{1, 1, 1}, []int{0, 5, 9}},
		{"path/ends", pathGraph(t, 10), []int{2}, []int{9, 0}},
		{"star/centre", starGraph(t, 30), []int{5, 3}, []int{0}},
		{"star/leaves", starGraph(t, 30), []int{1, 4}, []int{3, 7, 11}},
		{"star/all", starGraph(t, 30), []int{-1}, []int{0, 1}},
		{"complete/2", completeGraph(t, 12), []int{2, 2}, []int{0}},
		{"complete/fanout=deg", completeGraph(t, 12), []int{11}, []int{5, 6}},
		{"complete/fanout>deg", completeGraph(t, 12), []int{50, 3}, []int{1}},
		{"isolated/seed", isolated, []int{3, 3}, []int{3}},
		{"isolated/mixed", isolated, []int{-1, 1}, []int{3, 0}},
		{"empty seeds", pathGraph(t, 5), []int{2, 2}, nil},
		{"random/3hop", random, []int{5, 3, 2}, []int{0, 10, 20, 30, 299}},
		{"random/deep", random, []int{2, 2, 2, 2, 2}, []int{42}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.g, tc.fanouts)
			if err != nil {
				t.Fatal(err)
			}
			rng := newRNG(1)
			for range 20 { // also exercises scratch reuse
				b, err := s.Sample(tc.seeds, rng)
				if err != nil {
					t.Fatal(err)
				}
				checkBatch(t, tc.g, tc.fanouts, tc.seeds, b)
			}
		})
	}
}

// With all fanouts -1 the blocks are exact neighbourhoods, so they must
// agree entry for entry with graph.NormalizeMean.
func TestSampleAllMatchesNormalizeMean(t *testing.T) {
	g := mustGraph(t, 200, randomEdges(200, 700, 3))
	mean := graph.NormalizeMean(g)
	s, err := New(g, []int{-1, -1})
	if err != nil {
		t.Fatal(err)
	}
	seeds := []int{5, 17, 199, 0}
	b, err := s.Sample(seeds, newRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	for k, blk := range b.Blocks {
		a := blk.Adj
		for i, v := range blk.Dst {
			type entry struct {
				col int32
				val float32
			}
			var got, want []entry
			for p := a.Indptr[i]; p < a.Indptr[i+1]; p++ {
				got = append(got, entry{int32(blk.Src[a.Indices[p]]), a.Data[p]})
			}
			for p := mean.Indptr[v]; p < mean.Indptr[v+1]; p++ {
				want = append(want, entry{mean.Indices[p], mean.Data[p]})
			}
			slices.SortFunc(got, func(x, y entry) int { return int(x.col - y.col) })
			if !slices.Equal(got, want) {
				t.Errorf("block %d node %d: row %v, want %v", k, v, got, want)
			}
		}
	}
}

func TestSampleExactSmall(t *testing.T) {
	// Path 0-1-2-3-4 sampled fully from seed 2: local ids follow discovery.
	s, err := New(pathGraph(t, 5), []int{-1, -1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sample([]int{2}, newRNG(0))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 1, 3, 0, 4}; !slices.Equal(b.InputNodes, want) {
		t.Errorf("InputNodes = %v, want %v", b.InputNodes, want)
	}
	last := b.Blocks[1].Adj
	if !slices.Equal(last.Indptr, []int{0, 2}) || !slices.Equal(last.Indices, []int32{1, 2}) || !slices.Equal(last.Data, []float32{0.5, 0.5}) {
		t.Errorf("last block = %+v", last)
	}
	first := b.Blocks[0].Adj
	if !slices.Equal(first.Indptr, []int{0, 2, 4, 6}) || !slices.Equal(first.Indices, []int32{1, 2, 0, 3, 0, 4}) {
		t.Errorf("first block = %+v", first)
	}
}

// TestSampleUniform checks that a fanout-k sample of a star's centre is a
// uniform k-subset of the leaves, by chi-square bounds on the leaf counts
// and on the pair counts with a fixed generator seed.
func TestSampleUniform(t *testing.T) {
	const leaves, k, trials = 20, 5, 20000
	s, err := New(starGraph(t, leaves), []int{k})
	if err != nil {
		t.Fatal(err)
	}
	rng := newRNG(12345)
	single := make([]float64, leaves+1)
	pair := make(map[[2]int]float64)
	for range trials {
		b, err := s.Sample([]int{0}, rng)
		if err != nil {
			t.Fatal(err)
		}
		blk := b.Blocks[0]
		cols := blk.Adj.Indices
		if len(cols) != k {
			t.Fatalf("%d neighbours, want %d", len(cols), k)
		}
		for p, c := range cols {
			u := blk.Src[c]
			single[u]++
			for _, c2 := range cols[p+1:] {
				u2 := blk.Src[c2]
				pair[[2]int{min(u, u2), max(u, u2)}]++
			}
		}
	}
	// Chi-square with ν degrees of freedom has mean ν and variance 2ν;
	// ν + 6√(2ν) is far in the tail, so only a biased sampler fails.
	bound := func(nu float64) float64 { return nu + 6*math.Sqrt(2*nu) }
	chi := 0.0
	exp := float64(trials*k) / leaves
	for u := 1; u <= leaves; u++ {
		chi += (single[u] - exp) * (single[u] - exp) / exp
	}
	if nu := float64(leaves - 1); chi > bound(nu) {
		t.Errorf("leaf counts: chi-square %.1f > %.1f (ν=%v): %v", chi, bound(nu), nu, single[1:])
	}
	npairs := leaves * (leaves - 1) / 2
	if len(pair) != npairs {
		t.Errorf("%d distinct pairs sampled, want %d", len(pair), npairs)
	}
	chi = 0
	exp = float64(trials*k*(k-1)/2) / float64(npairs)
	for _, c := range pair {
		chi += (c - exp) * (c - exp) / exp
	}
	if nu := float64(npairs - 1); chi > bound(nu) {
		t.Errorf("pair counts: chi-square %.1f > %.1f (ν=%v)", chi, bound(nu), nu)
	}
}

func sampleSequence(t *testing.T, g *graph.Graph, fanouts []int, seed uint64) []*Batch {
	t.Helper()
	s, err := New(g, fanouts)
	if err != nil {
		t.Fatal(err)
	}
	rng := newRNG(seed)
	var out []*Batch
	nodes := make([]int, g.NumNodes())
	for i := range nodes {
		nodes[i] = i
	}
	for _, seeds := range Batches(nodes, 64, rng)[:5] {
		b, err := s.Sample(seeds, rng)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestSampleDeterministic(t *testing.T) {
	g := mustGraph(t, 1000, randomEdges(1000, 5000, 11))
	fanouts := []int{4, 3}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	a := sampleSequence(t, g, fanouts, 99)
	runtime.GOMAXPROCS(2)
	b := sampleSequence(t, g, fanouts, 99)
	if !reflect.DeepEqual(a, b) {
		t.Error("same rng seed gave different batches under GOMAXPROCS 1 and 2")
	}
	c := sampleSequence(t, g, fanouts, 100)
	if reflect.DeepEqual(a, c) {
		t.Error("different rng seeds gave identical batches")
	}
}

func TestNewErrors(t *testing.T) {
	g := pathGraph(t, 3)
	for _, fanouts := range [][]int{nil, {}, {0}, {5, 0}, {-2}, {3, -5}} {
		if _, err := New(g, fanouts); !errors.Is(err, ErrFanout) {
			t.Errorf("New(%v): error %v, want ErrFanout", fanouts, err)
		}
	}
	for _, fanouts := range [][]int{{1}, {-1}, {25, 10}, {-1, 3, -1}} {
		if _, err := New(g, fanouts); err != nil {
			t.Errorf("New(%v): %v", fanouts, err)
		}
	}
}

func TestNewCopiesFanouts(t *testing.T) {
	g := starGraph(t, 10)
	f := []int{2}
	s, err := New(g, f)
	if err != nil {
		t.Fatal(err)
	}
	f[0] = -1
	b, err := s.Sample([]int{0}, newRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Blocks[0].Adj.NNZ(); n != 2 {
		t.Errorf("%d neighbours after modifying the caller's fanouts, want 2", n)
	}
}

func TestSampleErrors(t *testing.T) {
	g := pathGraph(t, 5)
	s, err := New(g, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		seeds []int
		want  error
	}{
		{[]int{-1}, ErrSeedRange},
		{[]int{0, 5}, ErrSeedRange},
		{[]int{1, 2, 1}, ErrDuplicateSeed},
		{[]int{3, 3}, ErrDuplicateSeed},
	}
	rng := newRNG(1)
	for _, tc := range tests {
		if _, err := s.Sample(tc.seeds, rng); !errors.Is(err, tc.want) {
			t.Errorf("Sample(%v): error %v, want %v", tc.seeds, err, tc.want)
		}
	}
	// A failed call leaves the sampler usable.
	seeds := []int{1, 2}
	b, err := s.Sample(seeds, rng)
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, g, []int{2, 2}, seeds, b)
}

func TestSamplePanics(t *testing.T) {
	g := pathGraph(t, 3)
	s, _ := New(g, []int{1})
	for name, f := range map[string]func(){
		"nil rng":   func() { s.Sample([]int{0}, nil) },
		"nil graph": func() { New(nil, []int{1}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestGenerationWrap forces the generation counters to wrap and checks that
// stale stamps are not mistaken for current ones.
func TestGenerationWrap(t *testing.T) {
	g := completeGraph(t, 8)
	s, err := New(g, []int{3, 3})
	if err != nil {
		t.Fatal(err)
	}
	rng := newRNG(5)
	if _, err := s.Sample([]int{0, 1}, rng); err != nil {
		t.Fatal(err)
	}
	s.gen = math.MaxUint32
	s.markGen = math.MaxUint32
	for range 3 {
		b, err := s.Sample([]int{0, 1}, rng)
		if err != nil {
			t.Fatal(err)
		}
		checkBatch(t, g, []int{3, 3}, []int{0, 1}, b)
	}
}

func TestBatches(t *testing.T) {
	nodes := make([]int, 103)
	for i := range nodes {
		nodes[i] = 1000 + i
	}
	orig := slices.Clone(nodes)
	tests := []struct {
		size    int
		shuffle bool
		lens    []int
	}{
		{10, true, []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3}},
		{103, true, []int{103}},
		{500, false, []int{103}},
		{1, false, nil},
		{50, false, []int{50, 50, 3}},
	}
	for _, tc := range tests {
		var rng = newRNG(3)
		if !tc.shuffle {
			rng = nil
		}
		bs := Batches(nodes, tc.size, rng)
		if !slices.Equal(nodes, orig) {
			t.Fatal("Batches modified its input")
		}
		var lens []int
		var all []int
		for _, b := range bs {
			lens = append(lens, len(b))
			all = append(all, b...)
		}
		if tc.lens != nil && !slices.Equal(lens, tc.lens) {
			t.Errorf("size %d: batch lengths %v, want %v", tc.size, lens, tc.lens)
		}
		if !tc.shuffle && !slices.Equal(all, nodes) {
			t.Errorf("size %d without rng: order changed", tc.size)
		}
		if tc.shuffle && slices.Equal(all, nodes) {
			t.Errorf("size %d: not shuffled", tc.size)
		}
		slices.Sort(all)
		if !slices.Equal(all, orig) {
			t.Errorf("size %d: batches are not a permutation of the nodes", tc.size)
		}
	}
	a := Batches(nodes, 7, newRNG(8))
	b := Batches(nodes, 7, newRNG(8))
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different batches")
	}
	if Batches(nil, 4, newRNG(1)) != nil {
		t.Error("Batches of no nodes is not nil")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Batches with size 0 did not panic")
			}
		}()
		Batches(nodes, 0, nil)
	}()
}
