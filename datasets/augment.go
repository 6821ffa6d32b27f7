package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Normalization is a per-channel mean and standard deviation of pixel
// values scaled to [0, 1]; normalising maps v to (v/255 − Mean[c]) / Std[c].
type Normalization struct {
	Mean, Std []float32
}

// CIFAR10Normalization returns the usual per-channel mean (0.4914, 0.4822,
// 0.4465) and standard deviation (0.2470, 0.2435, 0.2616) of the CIFAR-10
// training set, red, green, blue. It returns new slices on every call.
func CIFAR10Normalization() Normalization {
	return Normalization{
		Mean: []float32{0.4914, 0.4822, 0.4465},
		Std:  []float32{0.2470, 0.2435, 0.2616},
	}
}

// ComputeNormalization returns the per-channel mean and (population)
// standard deviation of the pixels of im, scaled to [0, 1]: for the
// CIFAR-10 training set, about CIFAR10Normalization's values. The sums are
// exact integers, so the result does not depend on the order of the images.
// ComputeNormalization panics if im holds no pixels or fewer than
// N×C×H×W.
func ComputeNormalization(im *Images) Normalization {
	plane := im.H * im.W
	if im.N <= 0 || im.C <= 0 || plane <= 0 {
		panic(fmt.Sprintf("datasets: ComputeNormalization of %d images of %d×%d×%d", im.N, im.C, im.H, im.W))
	}
	// Sums of v and v² over at most 2⁶³/255² values fit in a uint64.
	sum := make([]uint64, im.C)
	sq := make([]uint64, im.C)
	for i := range im.N {
		img := im.Image(i)
		for c := range im.C {
			var s, q uint64
			for _, v := range img[c*plane : (c+1)*plane] {
				s += uint64(v)
				q += uint64(v) * uint64(v)
			}
			sum[c] += s
			sq[c] += q
		}
	}
	n := float64(im.N) * float64(plane)
	norm := Normalization{Mean: make([]float32, im.C), Std: make([]float32, im.C)}
	for c := range im.C {
		mean := float64(sum[c]) / n
		variance := max(float64(sq[c])/n-mean*mean, 0)
		norm.Mean[c] = float32(mean / 255)
		norm.Std[c] = float32(math.Sqrt(variance) / 255)
	}
	return norm
}

// AugmentOptions configures an Augmenter.
type AugmentOptions struct {
	// Pad is the zero padding added on each side before a random crop of
	// the original size: offsets are drawn uniformly from [−Pad, Pad] on
	// each axis. 0 turns cropping off.
	Pad int
	// Flip mirrors each image left to right with probability 1/2.
	Flip bool
	// Norm normalises the channels; a zero Normalization only scales the
	// pixels to [0, 1].
	Norm Normalization
}

// CIFAR10Augment returns the usual CIFAR-10 training augmentation: a random
// 32×32 crop of the image padded by 4 zero pixels on each side, a
// horizontal flip with probability 1/2, and CIFAR10Normalization.
func CIFAR10Augment() AugmentOptions {
	return AugmentOptions{Pad: 4, Flip: true, Norm: CIFAR10Normalization()}
}

// Augmenter turns images into batches of normalised float32 values,
// augmented or not. Its random draws come from its own generator, so a run
// is reproducible from the generator's seed. An Augmenter is not safe for
// concurrent use.
type Augmenter struct {
	pad  int
	flip bool
	rng  *rand.Rand
	// lut maps a byte to its normalised value, one table a channel (one
	// for all channels if the normalisation is the identity scaling):
	// a lookup is cheaper than the arithmetic and is exactly the same for
	// every pixel.
	lut      [][256]float32
	channels int // len(Norm.Mean), 0 for any
}

// NewAugmenter returns an Augmenter drawing crops and flips from rng, e.g.
// rand.New(rand.NewPCG(seed, 0)) for a per-run seed. NewAugmenter panics if
// rng is nil, opt.Pad is negative, or opt.Norm's Mean and Std differ in
// length or have a Std that is not positive and finite.
func NewAugmenter(rng *rand.Rand, opt AugmentOptions) *Augmenter {
	if rng == nil {
		panic("datasets: NewAugmenter with a nil rng")
	}
	if opt.Pad < 0 {
		panic(fmt.Sprintf("datasets: NewAugmenter with padding %d", opt.Pad))
	}
	m, s := opt.Norm.Mean, opt.Norm.Std
	if len(m) != len(s) {
		panic(fmt.Sprintf("datasets: NewAugmenter with %d means and %d standard deviations", len(m), len(s)))
	}
	a := &Augmenter{pad: opt.Pad, flip: opt.Flip, rng: rng, channels: len(m)}
	a.lut = make([][256]float32, max(len(m), 1))
	for c := range a.lut {
		mean, std := 0.0, 1.0
		if len(m) > 0 {
			mean, std = float64(m[c]), float64(s[c])
			if !(std > 0) || math.IsInf(std, 0) || math.IsNaN(mean) || math.IsInf(mean, 0) {
				panic(fmt.Sprintf("datasets: NewAugmenter with channel %d mean %v, std %v", c, m[c], s[c]))
			}
		}
		for v := range 256 {
			a.lut[c][v] = float32((float64(v)/255 - mean) / std)
		}
	}
	return a
}

// Batch writes the images idx of im, normalised, into dst[:len(idx)·C·H·W]
// in N×C×H×W order. With augment, each image is first cropped at a random
// offset from its zero-padded self and possibly mirrored (three draws from
// the generator an image: the vertical offset, the horizontal one, the
// flip); without, it is copied as is and nothing is drawn. Padding pixels
// are zeros before normalisation, as with torchvision's RandomCrop. Batch
// does not allocate.
//
// Batch panics if dst is shorter than len(idx)·C·H·W, an index is out of
// range, or the normalisation has a channel count other than im.C.
func (a *Augmenter) Batch(dst []float32, im *Images, idx []int, augment bool) {
	if a.channels != 0 && a.channels != im.C {
		panic(fmt.Sprintf("datasets: Augmenter.Batch: normalisation of %d channels for images of %d", a.channels, im.C))
	}
	sz := im.C * im.H * im.W
	if len(dst) < len(idx)*sz {
		panic(fmt.Sprintf("datasets: Augmenter.Batch: dst holds %d values, want %d×%d", len(dst), len(idx), sz))
	}
	for k, i := range idx {
		if i < 0 || i >= im.N {
			panic(fmt.Sprintf("datasets: Augmenter.Batch: image %d of %d", i, im.N))
		}
		out := dst[k*sz : (k+1)*sz]
		src := im.Image(i)
		if !augment {
			for c := range im.C {
				lut := &a.lut[min(c, len(a.lut)-1)]
				plane := im.H * im.W
				o, s := out[c*plane:(c+1)*plane], src[c*plane:(c+1)*plane]
				for j, v := range s {
					o[j] = lut[v]
				}
			}
			continue
		}
		dy, dx, flip := a.draw()
		augmentImage(out, src, im.C, im.H, im.W, dy, dx, flip, a.lut)
	}
}

// draw returns one image's crop offsets in [−pad, pad] and whether to flip
// it; a disabled augmentation draws nothing.
func (a *Augmenter) draw() (dy, dx int, flip bool) {
	if a.pad > 0 {
		dy = a.rng.IntN(2*a.pad+1) - a.pad
		dx = a.rng.IntN(2*a.pad+1) - a.pad
	}
	if a.flip {
		flip = a.rng.IntN(2) == 1
	}
	return dy, dx, flip
}

// augmentImage writes into out the c×h×w image src shifted by (dy, dx),
// with zeros where that leaves the image, then mirrored if flip:
// out[y][x] = src[y+dy][x'+dx] with x' = w−1−x if flip, else x.
func augmentImage(out []float32, src []uint8, c, h, w, dy, dx int, flip bool, luts [][256]float32) {
	for ch := range c {
		lut := &luts[min(ch, len(luts)-1)]
		zero := lut[0]
		for y := range h {
			o := out[(ch*h+y)*w : (ch*h+y+1)*w]
			sy := y + dy
			if sy < 0 || sy >= h {
				for x := range o {
					o[x] = zero
				}
				continue
			}
			row := src[(ch*h+sy)*w : (ch*h+sy+1)*w]
			for x := range o {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				if sx := xx + dx; sx >= 0 && sx < w {
					o[x] = lut[row[sx]]
				} else {
					o[x] = zero
				}
			}
		}
	}
}
