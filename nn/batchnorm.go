package nn

import (
	"fmt"
	"math"

	"github.com/gnsr/gnsr/internal/autograd"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch-norm settings, PyTorch's defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// BNRunning holds the running statistics of one batch-norm layer, shared by
// the training graph that updates them and the evaluation graphs that read
// them. Update is consulted on every training forward pass: when it points
// to false, the statistics are left alone.
type BNRunning struct {
	Mean, Variance *tensor.Dense // c each, in the layer's dtype
	Update         *bool         // nil: always update in training
}

// BatchNorm returns γ·(x − μ)/sqrt(σ² + ε) + β per channel of x (n×c×h×w),
// with γ and β vectors of c, and max(·, 0) of that with relu.
//
// With train, μ and σ² are the batch's mean and biased variance over n, h
// and w, and every forward pass updates run's statistics as torch does:
// mean ← 0.9·mean + 0.1·μ and variance ← 0.9·variance + 0.1·σ²·m/(m−1) for
// the m = n·h·w values of a channel. Without train, μ and σ² are run's.
// The statistics are computed in float64.
//
// x may also be a matrix n×c (torch's BatchNorm1d, for node features),
// which is the same as n×c×1×1.
func BatchNorm(x, gamma, beta *G.Node, run *BNRunning, train, relu bool) (*G.Node, error) {
	dims := 4
	if x.Shape().Dims() == 2 {
		dims = 2
	}
	if err := autograd.CheckInputs("nn: batchnorm", x.Dtype(), []*G.Node{x, gamma, beta}, dims, 1, 1); err != nil {
		return nil, err
	}
	xs := x.Shape().Clone()
	n, c, hw := xs[0], xs[1], 1
	if dims == 4 {
		hw = xs[2] * xs[3]
	}
	if gamma.Shape()[0] != c || beta.Shape()[0] != c {
		return nil, fmt.Errorf("nn: batchnorm: γ %v and β %v for %d channels", gamma.Shape(), beta.Shape(), c)
	}
	if train && n*hw < 2 {
		return nil, fmt.Errorf("nn: batchnorm: training needs more than one value per channel, have input %v", xs)
	}
	if run == nil || run.Mean == nil || run.Variance == nil {
		return nil, fmt.Errorf("nn: batchnorm: no running statistics")
	}
	for _, t := range []*tensor.Dense{run.Mean, run.Variance} {
		if t.Dtype() != x.Dtype() || t.Shape().TotalSize() != c {
			return nil, fmt.Errorf("nn: batchnorm: running statistics %v%v for %d channels of %v", t.Dtype(), t.Shape(), c, x.Dtype())
		}
	}
	dt := x.Dtype()
	cs := tensor.Shape{c}
	st := &bnStats{n: n, c: c, hw: hw, mean: make([]float64, c), invStd: make([]float64, c),
		scale: make([]float64, c), shift: make([]float64, c)}
	spec := autograd.LayerSpec{Name: "nn.BatchNorm", Dtype: dt, In: []tensor.Shape{xs, cs, cs}, Shape: xs.Clone()}
	spec.Fn = func(out *tensor.Dense, in []*tensor.Dense) error {
		st.setStats(in[0], run, train)
		if dt == tensor.Float32 {
			bnForward(st, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32), in[2].Data().([]float32), relu)
		} else {
			bnForward(st, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64), in[2].Data().([]float64), relu)
		}
		return nil
	}
	spec.Plan = func() ([]autograd.GradStep, []int) {
		// list: 0 x, 1 γ, 2 β, 3 out, 4 grad; steps 5 dγ, 6 dβ, 7 dx.
		// The dγ step also sums dβ, which the dβ step, taking the dγ node
		// as its input so that it runs after, copies. With relu, the
		// gradient is masked where x·scale + shift ≤ 0, recomputed from x
		// as the forward pass computed it, rather than read from out.
		sumG := make([]float64, c)
		dGamma := autograd.NewFn("nn.BatchNormGradGamma", dt, cs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			if dt == tensor.Float32 {
				bnParamGrads(st, relu, sumG, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32))
			} else {
				bnParamGrads(st, relu, sumG, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64))
			}
			return nil
		}, xs.Clone(), xs.Clone())
		dBeta := autograd.NewFn("nn.BatchNormGradBeta", dt, cs.Clone(), func(out *tensor.Dense, _ []*tensor.Dense) error {
			if dt == tensor.Float32 {
				fromF64(out.Data().([]float32), sumG)
			} else {
				fromF64(out.Data().([]float64), sumG)
			}
			return nil
		}, cs.Clone())
		dX := autograd.NewFn("nn.BatchNormGradX", dt, xs.Clone(), func(out *tensor.Dense, in []*tensor.Dense) error {
			if dt == tensor.Float32 {
				bnInputGrad(st, train, relu, out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32),
					in[2].Data().([]float32), in[3].Data().([]float32), in[4].Data().([]float32))
			} else {
				bnInputGrad(st, train, relu, out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64),
					in[2].Data().([]float64), in[3].Data().([]float64), in[4].Data().([]float64))
			}
			return nil
		}, xs.Clone(), cs.Clone(), xs.Clone(), cs.Clone(), cs.Clone())
		return []autograd.GradStep{{Op: dGamma, Args: []int{0, 4}}, {Op: dBeta, Args: []int{5}}, {Op: dX, Args: []int{0, 1, 4, 5, 6}}}, []int{7, 5, 6}
	}
	return autograd.Apply(autograd.NewLayer(spec), "nn: batchnorm", x, gamma, beta)
}

func fromF64[T float32 | float64](dst []T, src []float64) {
	for i, v := range src {
		dst[i] = T(v)
	}
}

// bnStats are the statistics of a batch-norm layer's last forward pass,
// which its gradient uses.
type bnStats struct {
	n, c, hw     int
	mean, invStd []float64
	// y = T(x·scale) + shift in the layer's dtype T; scale and shift hold
	// T values, so that the gradient recomputes exactly the forward's y.
	scale, shift []float64
}

// setStats sets st's mean and 1/sqrt(σ²+ε) from the batch x (updating the
// running statistics) with train, from the running statistics without.
func (st *bnStats) setStats(x *tensor.Dense, run *BNRunning, train bool) {
	var rm, rv []float64
	switch d := run.Mean.Data().(type) {
	case []float32:
		rm, rv = toF64(d), toF64(run.Variance.Data().([]float32))
	case []float64:
		rm, rv = d, run.Variance.Data().([]float64)
	}
	if !train {
		for ch := range st.c {
			st.mean[ch], st.invStd[ch] = rm[ch], 1/math.Sqrt(rv[ch]+bnEps)
		}
		return
	}
	variance := make([]float64, st.c)
	switch d := x.Data().(type) {
	case []float32:
		channelMoments(st, variance, d)
	case []float64:
		channelMoments(st, variance, d)
	}
	m := float64(st.n * st.hw)
	for ch := range st.c {
		st.invStd[ch] = 1 / math.Sqrt(variance[ch]+bnEps)
	}
	if run.Update != nil && !*run.Update {
		return
	}
	for ch := range st.c {
		rm[ch] = (1-bnMomentum)*rm[ch] + bnMomentum*st.mean[ch]
		rv[ch] = (1-bnMomentum)*rv[ch] + bnMomentum*variance[ch]*m/(m-1)
	}
	switch d := run.Mean.Data().(type) {
	case []float32:
		fromF64(d, rm)
		fromF64(run.Variance.Data().([]float32), rv)
	}
}

func toF64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// channelMoments sets st.mean and variance (biased) per channel of x in
// one pass, in float64, summing deviations from the channel's first value
// so that a large mean does not cost precision.
func channelMoments[T float32 | float64](st *bnStats, variance []float64, x []T) {
	n, c, hw := st.n, st.c, st.hw
	m := float64(n * hw)
	parallelIfLarge(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			shift := float64(x[ch*hw])
			// Two interleaved sums each, so that the additions do not wait
			// for one another; combined in a fixed order.
			var s1, s2, t1, t2 float64
			for i := 0; i < n; i++ {
				xs := x[(i*c+ch)*hw:][:hw]
				j := 0
				for ; j+1 < len(xs); j += 2 {
					d, e := float64(xs[j])-shift, float64(xs[j+1])-shift
					s1, t1 = s1+d, t1+e
					s2, t2 = s2+d*d, t2+e*e
				}
				if j < len(xs) {
					d := float64(xs[j]) - shift
					s1, s2 = s1+d, s2+d*d
				}
			}
			s1, s2 = s1+t1, s2+t2
			st.mean[ch], variance[ch] = shift+s1/m, max(s2-s1*s1/m, 0)/m
		}
	})
}

// bnForward writes y = T(x·scale) + shift per channel, with scale = γ/σ
// and shift = β − μ·scale, then max(y, 0) with relu. The conversion keeps
// the compiler from fusing the multiply-add, so that bnAffine gives the
// same y in the gradient.
func bnForward[T float32 | float64](st *bnStats, y, x, gamma, beta []T, relu bool) {
	n, c, hw := st.n, st.c, st.hw
	for ch := range c {
		sc := float64(gamma[ch]) * st.invStd[ch]
		st.scale[ch], st.shift[ch] = float64(T(sc)), float64(T(float64(beta[ch])-st.mean[ch]*sc))
	}
	parallelIfLarge(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			scale, shift := T(st.scale[ch]), T(st.shift[ch])
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				xs, ys := x[o:][:hw], y[o:][:hw]
				if relu {
					for j, v := range xs {
						ys[j] = max(bnAffine(v, scale, shift), 0)
					}
					continue
				}
				for j, v := range xs {
					ys[j] = bnAffine(v, scale, shift)
				}
			}
		}
	})
}

func bnAffine[T float32 | float64](v, scale, shift T) T { return T(v*scale) + shift }

// bnParamGrads writes dγ = Σ g·x̂ into dGamma and dβ = Σ g into sumG per
// channel, g masked where the output is not positive with relu.
func bnParamGrads[T float32 | float64](st *bnStats, relu bool, sumG []float64, dGamma, x, g []T) {
	n, c, hw := st.n, st.c, st.hw
	parallelIfLarge(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			mu := st.mean[ch]
			scale, shift := T(st.scale[ch]), T(st.shift[ch])
			// Two interleaved sums each, as in channelMoments.
			var sg, sgx, tg, tgx float64
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				xs, gs := x[o:][:hw], g[o:][:hw]
				j := 0
				for ; j+1 < len(gs); j += 2 {
					u, v := gs[j], gs[j+1]
					if relu { // no branch: ReLU patterns are unpredictable
						u *= T(b2i(bnAffine(xs[j], scale, shift) > 0))
						v *= T(b2i(bnAffine(xs[j+1], scale, shift) > 0))
					}
					sg, tg = sg+float64(u), tg+float64(v)
					sgx, tgx = sgx+float64(u)*(float64(xs[j])-mu), tgx+float64(v)*(float64(xs[j+1])-mu)
				}
				if j < len(gs) {
					u := gs[j]
					if relu {
						u *= T(b2i(bnAffine(xs[j], scale, shift) > 0))
					}
					sg, sgx = sg+float64(u), sgx+float64(u)*(float64(xs[j])-mu)
				}
			}
			sg, sgx = sg+tg, sgx+tgx
			sumG[ch], dGamma[ch] = sg, T(sgx*st.invStd[ch])
		}
	})
}

// bnInputGrad writes dx. With batch statistics, dx = γ/σ·(g − dβ/m −
// x̂·dγ/m), since μ and σ depend on x; with running statistics, γ/σ·g.
func bnInputGrad[T float32 | float64](st *bnStats, train, relu bool, dx, x, gamma, g, dGamma, dBeta []T) {
	n, c, hw := st.n, st.c, st.hw
	m := float64(n * hw)
	parallelIfLarge(c, n*c*hw, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			inv := st.invStd[ch]
			a := T(float64(gamma[ch]) * inv)
			scale, shift := T(st.scale[ch]), T(st.shift[ch])
			var k0, k1, mu T
			if train {
				k0 = T(float64(dBeta[ch]) / m)
				k1 = T(inv * float64(dGamma[ch]) / m)
				mu = T(st.mean[ch])
			}
			for i := 0; i < n; i++ {
				o := (i*c + ch) * hw
				xs, gs, ds := x[o:][:hw], g[o:][:hw], dx[o:][:hw]
				if relu {
					for j, v := range gs {
						xv := xs[j]
						v *= T(b2i(bnAffine(xv, scale, shift) > 0))
						ds[j] = a * (v - k0 - (xv-mu)*k1)
					}
					continue
				}
				for j, v := range gs {
					ds[j] = a * (v - k0 - (xs[j]-mu)*k1)
				}
			}
		}
	})
}
