package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomImages returns n random c×h×w images.
func randomImages(seed uint64, n, c, h, w int) *Images {
	r := rand.New(rand.NewPCG(seed, 3))
	im := &Images{N: n, C: c, H: h, W: w, Pixels: make([]uint8, n*c*h*w), Labels: make([]uint8, n), NumClasses: 10}
	for i := range im.Pixels {
		im.Pixels[i] = uint8(r.UintN(256))
	}
	for i := range im.Labels {
		im.Labels[i] = uint8(r.UintN(10))
	}
	return im
}

// referenceAugment builds the zero-padded image, crops it at (pad+dy,
// pad+dx), mirrors the crop if flip and normalises, the slow and obvious
// way.
func referenceAugment(src []uint8, c, h, w, pad, dy, dx int, flip bool, norm Normalization) []float32 {
	hp, wp := h+2*pad, w+2*pad
	padded := make([]uint8, c*hp*wp)
	for ch := range c {
		for y := range h {
			for x := range w {
				padded[(ch*hp+y+pad)*wp+x+pad] = src[(ch*h+y)*w+x]
			}
		}
	}
	out := make([]float32, c*h*w)
	for ch := range c {
		for y := range h {
			for x := range w {
				v := padded[(ch*hp+y+pad+dy)*wp+x+pad+dx]
				ox := x
				if flip {
					ox = w - 1 - x
				}
				out[(ch*h+y)*w+ox] = float32((float64(v)/255 - float64(norm.Mean[ch])) / float64(norm.Std[ch]))
			}
		}
	}
	return out
}

func TestAugmenterMatchesReference(t *testing.T) {
	im := randomImages(1, 50, 3, 32, 32)
	opt := CIFAR10Augment()
	a := NewAugmenter(rand.New(rand.NewPCG(7, 0)), opt)
	twin := NewAugmenter(rand.New(rand.NewPCG(7, 0)), opt) // draws the same offsets
	idx := []int{3, 0, 49, 3, 17}
	dst := make([]float32, len(idx)*3072)
	seen := map[[2]int]bool{}
	flips := 0
	for range 40 {
		a.Batch(dst, im, idx, true)
		for k, i := range idx {
			dy, dx, flip := twin.draw()
			if dy < -4 || dy > 4 || dx < -4 || dx > 4 {
				t.Fatalf("offset (%d, %d) outside ±4", dy, dx)
			}
			seen[[2]int{dy, dx}] = true
			if flip {
				flips++
			}
			want := referenceAugment(im.Image(i), 3, 32, 32, 4, dy, dx, flip, opt.Norm)
			if got := dst[k*3072 : (k+1)*3072]; !slices.Equal(got, want) {
				t.Fatalf("image %d with offset (%d, %d), flip %v differs from the reference", i, dy, dx, flip)
			}
		}
	}
	// 200 draws of 81 equally likely offsets: all but a few should appear.
	if len(seen) < 70 {
		t.Errorf("only %d of the 81 offsets drawn", len(seen))
	}
	if flips < 70 || flips > 130 {
		t.Errorf("%d flips in 200 images, want about 100", flips)
	}
}

func TestAugmenterDeterministic(t *testing.T) {
	im := randomImages(2, 20, 3, 32, 32)
	run := func(seed uint64) []float32 {
		a := NewAugmenter(rand.New(rand.NewPCG(seed, 0)), CIFAR10Augment())
		var all []float32
		dst := make([]float32, 4*3072)
		for b := range 5 {
			a.Batch(dst, im, []int{b, b + 1, b + 5, 19 - b}, true)
			all = append(all, dst...)
		}
		return all
	}
	if !slices.Equal(run(11), run(11)) {
		t.Error("the same seed gave different batches")
	}
	if slices.Equal(run(11), run(12)) {
		t.Error("different seeds gave the same batches")
	}
}

func TestAugmenterFlipIsMirror(t *testing.T) {
	im := randomImages(3, 64, 3, 8, 5)
	a := NewAugmenter(rand.New(rand.NewPCG(5, 0)), AugmentOptions{Flip: true})
	plain := make([]float32, im.N*im.C*im.H*im.W)
	out := make([]float32, len(plain))
	idx := make([]int, im.N)
	for i := range idx {
		idx[i] = i
	}
	a.Batch(plain, im, idx, false)
	a.Batch(out, im, idx, true)
	mirrored := 0
	for i := range im.N {
		sz := im.C * im.H * im.W
		p, o := plain[i*sz:(i+1)*sz], out[i*sz:(i+1)*sz]
		if slices.Equal(p, o) {
			continue
		}
		mirrored++
		for row := range im.C * im.H {
			for x := range im.W {
				if o[row*im.W+x] != p[row*im.W+im.W-1-x] {
					t.Fatalf("image %d is neither itself nor its mirror", i)
				}
			}
		}
	}
	if mirrored < 16 || mirrored > 48 {
		t.Errorf("%d of 64 images mirrored, want about 32", mirrored)
	}
}

// TestAugmenterShift checks one crop by hand: with the offset (4, −4) the
// image moves 4 pixels up and 4 right, the vacated pixels being zeros.
func TestAugmenterShift(t *testing.T) {
	im := &Images{N: 1, C: 1, H: 6, W: 6, Pixels: make([]uint8, 36), NumClasses: 1}
	for i := range im.Pixels {
		im.Pixels[i] = uint8(i + 1)
	}
	out := make([]float32, 36)
	augmentImage(out, im.Pixels, 1, 6, 6, 4, -4, false, NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{}).lut)
	for y := range 6 {
		for x := range 6 {
			want := float32(0)
			if y < 2 && x >= 4 {
				want = float32(im.Pixels[(y+4)*6+x-4]) / 255
			}
			if out[y*6+x] != want {
				t.Fatalf("pixel (%d, %d) = %v, want %v", y, x, out[y*6+x], want)
			}
		}
	}
}

func TestAugmenterNormalization(t *testing.T) {
	im := &Images{N: 1, C: 3, H: 1, W: 3, Pixels: []uint8{0, 128, 255, 0, 128, 255, 0, 128, 255}, NumClasses: 1}
	norm := CIFAR10Normalization()
	a := NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{Norm: norm})
	dst := make([]float32, 9)
	a.Batch(dst, im, []int{0}, false)
	for c := range 3 {
		for j, v := range []float64{0, 128, 255} {
			want := (v/255 - float64(norm.Mean[c])) / float64(norm.Std[c])
			if got := float64(dst[c*3+j]); math.Abs(got-want) > 1e-6 {
				t.Errorf("channel %d value %v: %v, want %v", c, v, got, want)
			}
		}
	}
	// Augmenting with the identity: no draws change anything.
	same := make([]float32, 9)
	NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{Norm: norm}).Batch(same, im, []int{0}, true)
	if !slices.Equal(same, dst) {
		t.Error("augmentation without crop or flip changed the image")
	}
	// No normalisation: plain scaling.
	NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{}).Batch(dst, im, []int{0}, false)
	if dst[0] != 0 || dst[1] != float32(128.0/255) || dst[2] != 1 {
		t.Errorf("scaled values %v", dst[:3])
	}
	if n := CIFAR10Normalization(); &n.Mean[0] == &norm.Mean[0] {
		t.Error("CIFAR10Normalization returns shared slices")
	}
}

func TestAugmenterNoAllocs(t *testing.T) {
	im := randomImages(4, 32, 3, 32, 32)
	a := NewAugmenter(rand.New(rand.NewPCG(1, 0)), CIFAR10Augment())
	idx := []int{1, 5, 9, 31, 0, 2, 2, 7}
	dst := make([]float32, len(idx)*3072)
	for _, aug := range []bool{false, true} {
		if n := testing.AllocsPerRun(20, func() { a.Batch(dst, im, idx, aug) }); n != 0 {
			t.Errorf("augment %v: %v allocations a call", aug, n)
		}
	}
}

func TestAugmenterPanics(t *testing.T) {
	im := randomImages(5, 2, 3, 4, 4)
	a := NewAugmenter(rand.New(rand.NewPCG(1, 0)), CIFAR10Augment())
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"short dst", "dst holds", func() { a.Batch(make([]float32, 47), im, []int{0}, true) }},
		{"index", "image 2 of 2", func() { a.Batch(make([]float32, 96), im, []int{0, 2}, false) }},
		{"negative index", "image -1", func() { a.Batch(make([]float32, 48), im, []int{-1}, false) }},
		{"channels", "normalisation of 3 channels", func() {
			a.Batch(make([]float32, 16), &Images{N: 1, C: 1, H: 4, W: 4, Pixels: make([]uint8, 16)}, []int{0}, false)
		}},
		{"nil rng", "nil rng", func() { NewAugmenter(nil, AugmentOptions{}) }},
		{"padding", "padding -1", func() { NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{Pad: -1}) }},
		{"lengths", "2 means and 3", func() {
			NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{Norm: Normalization{Mean: []float32{0, 0}, Std: []float32{1, 1, 1}}})
		}},
		{"zero std", "std 0", func() {
			NewAugmenter(rand.New(rand.NewPCG(0, 0)), AugmentOptions{Norm: Normalization{Mean: []float32{0}, Std: []float32{0}}})
		}},
		{"empty stats", "ComputeNormalization of 0 images", func() { ComputeNormalization(&Images{C: 3, H: 2, W: 2}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) || !strings.HasPrefix(s, "datasets: ") {
					t.Errorf("panic %v, want one mentioning %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func TestComputeNormalization(t *testing.T) {
	im := randomImages(6, 30, 3, 5, 7)
	got := ComputeNormalization(im)
	plane := im.H * im.W
	for c := range im.C {
		var vals []float64
		for i := range im.N {
			for _, v := range im.Image(i)[c*plane : (c+1)*plane] {
				vals = append(vals, float64(v)/255)
			}
		}
		mean := 0.0
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		ss := 0.0
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		std := math.Sqrt(ss / float64(len(vals)))
		if math.Abs(float64(got.Mean[c])-mean) > 1e-6 || math.Abs(float64(got.Std[c])-std) > 1e-6 {
			t.Errorf("channel %d: mean %v std %v, want %v %v", c, got.Mean[c], got.Std[c], mean, std)
		}
	}
	flat := &Images{N: 2, C: 1, H: 1, W: 2, Pixels: []uint8{51, 51, 51, 51}}
	if n := ComputeNormalization(flat); n.Mean[0] != 0.2 || n.Std[0] != 0 {
		t.Errorf("constant image: %+v", n)
	}
}

func BenchmarkAugmenterBatch(b *testing.B) {
	im := randomImages(7, 512, 3, 32, 32)
	a := NewAugmenter(rand.New(rand.NewPCG(1, 0)), CIFAR10Augment())
	idx := make([]int, 128)
	for i := range idx {
		idx[i] = i * 3
	}
	dst := make([]float32, len(idx)*3072)
	for b.Loop() {
		a.Batch(dst, im, idx, true)
	}
}

// ExampleAugmenter_Batch turns two images into a normalised training batch
// and an evaluation batch.
func ExampleAugmenter_Batch() {
	im := &Images{N: 2, C: 3, H: 32, W: 32, Pixels: make([]uint8, 2*3*32*32), Labels: []uint8{0, 1}, NumClasses: 10}
	im.Pixels[1] = 255 // image 0, red, row 0, column 1
	aug := NewAugmenter(rand.New(rand.NewPCG(42, 0)), CIFAR10Augment())
	batch := make([]float32, 2*3*32*32)
	aug.Batch(batch, im, []int{1, 0}, true) // training: random crops and flips
	aug.Batch(batch, im, []int{0, 1}, false)
	fmt.Printf("%d values; red of image 0 at (0, 0) %.4f, at (0, 1) %.4f\n", len(batch), batch[0], batch[1])
	// Output: 6144 values; red of image 0 at (0, 0) -1.9895, at (0, 1) 2.0591
}
