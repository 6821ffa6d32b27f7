package vision

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// isCNN reports whether arch is one of CNNArchs.
func isCNN(arch string) bool { return slices.Contains(CNNArchs(), arch) }

// trainCNN is Train for the convolutional architectures: the same split,
// optimisers, schedule, NSR through memory queues and best-validation
// report, on images normalised per channel with the training set's mean and
// standard deviation and, with cfg.Augment, randomly cropped (4 pixels of
// zero padding) and flipped in training batches.
func trainCNN(ctx context.Context, data *datasets.ImageDataset, cfg Config, onEpoch func(Epoch)) (*Result, error) {
	tr, te := &data.Train, &data.Test
	evalBatch := cmp0(cfg.EvalBatch, 250)
	k := cfg.NSR.QueueLen()
	splitRNG := rand.New(rand.NewPCG(cfg.Seed, 0x5eed0001))
	initRNG := rand.New(rand.NewPCG(cfg.Seed, 0x5eed0002))
	shuffleRNG := rand.New(rand.NewPCG(cfg.Seed, 0x5eed0003))
	augRNG := rand.New(rand.NewPCG(cfg.Seed, 0x5eed0004))

	perm := splitRNG.Perm(tr.N)
	val, train := perm[:cfg.ValSize], perm[cfg.ValSize:]

	spec := CNNSpec{Arch: cfg.Arch, Width: cfg.Width, Classes: tr.NumClasses, Input: [3]int{tr.C, tr.H, tr.W}}
	w, err := NewCNNWeights(initRNG, spec, tensor.Float32)
	if err != nil {
		return nil, err
	}
	net, err := BuildCNN(w, cfg.BatchSize, true)
	if err != nil {
		return nil, err
	}
	res := &Result{Seed: cfg.Seed, ValAcc: -1}
	var queues []*nsr.Queue
	var pens []G.Value
	if cfg.NSR.Enabled() {
		layers, err := cfg.resolve(len(net.Layers))
		if err != nil {
			return nil, err
		}
		var terms []*G.Node
		pens = make([]G.Value, len(layers))
		for i, l := range layers {
			out := net.Layers[l]
			if out.Shape().Dims() > 2 {
				// The penalty is per neuron: each channel at each position.
				// Flatten copies; G.Reshape would alias the op's buffer.
				if out, err = nn.Flatten(out); err != nil {
					return nil, fmt.Errorf("vision: NSR on layer %d (%s): %w", l, net.LayerNames[l], err)
				}
			}
			// Zero masking is for ReLU outputs; the logits have none.
			q := nsr.NewQueue(k, tr.NumClasses, cfg.NSR.MaskZeros && l+1 < len(net.Layers))
			term, err := nsr.Term(out, q, cfg.NSR.Lambdas[i])
			if err != nil {
				return nil, fmt.Errorf("vision: NSR on layer %d (%s): %w", l, net.LayerNames[l], err)
			}
			G.Read(term, &pens[i])
			terms = append(terms, term)
			queues = append(queues, q)
		}
		res.NSRLayers, res.NSRLambdas = layers, slices.Clone(cfg.NSR.Lambdas)
		if err := net.Backward(terms...); err != nil {
			return nil, err
		}
	} else if err := net.Backward(); err != nil {
		return nil, err
	}
	vm := G.NewTapeMachine(net.Graph)
	defer vm.Close()
	ev, err := BuildCNN(w, evalBatch, false)
	if err != nil {
		return nil, err
	}
	evm := G.NewTapeMachine(ev.Graph)
	defer evm.Close()
	opt, err := nn.NewOptimizer(cfg.Optimizer, net.Params)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}

	aug := datasets.NewAugmenter(augRNG, datasets.AugmentOptions{Pad: 4, Flip: true, Norm: datasets.ComputeNormalization(tr)})
	xbuf := net.X.Data().([]float32)
	loop := epochLoop{
		cfg: cfg, train: train, shuffle: shuffleRNG, vm: vm, opt: opt,
		loss: net.LossValue, pens: pens,
		fill: func(batch []int) error {
			for r, i := range batch {
				net.Labels[r] = int(tr.Labels[i])
			}
			aug.Batch(xbuf, tr, batch, cfg.Augment)
			for _, q := range queues {
				if err := q.SetBatch(nil, net.Labels); err != nil {
					return err
				}
			}
			return nil
		},
		evaluate: func() (float64, float64, error) {
			valAcc, err := cnnAccuracy(ev, evm, aug, tr, val)
			if err != nil {
				return 0, 0, err
			}
			testAcc, err := cnnAccuracy(ev, evm, aug, te, nil)
			return valAcc, testAcc, err
		},
	}
	if err := loop.run(ctx, res, onEpoch); err != nil {
		return nil, err
	}
	return res, nil
}

// cnnAccuracy is the fraction of the images idx of im (all if idx is nil)
// whose largest logit is their label, run through the evaluation graph ev in
// batches without augmentation; a last partial batch is padded with zero
// images, whose logits are ignored (evaluation batch norm treats every
// image alone).
func cnnAccuracy(ev *ConvNet, evm G.VM, aug *datasets.Augmenter, im *datasets.Images, idx []int) (float64, error) {
	n := im.N
	if idx == nil {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	}
	n = len(idx)
	x := ev.X.Data().([]float32)
	b := ev.X.Shape()[0]
	dim := len(x) / b
	c := im.NumClasses
	correct := 0
	for pos := 0; pos < n; pos += b {
		m := min(b, n-pos)
		aug.Batch(x[:m*dim], im, idx[pos:pos+m], false)
		clear(x[m*dim:])
		if err := evm.RunAll(); err != nil {
			return 0, fmt.Errorf("vision: evaluation: %w", err)
		}
		logits := ev.LogitsValue().Data().([]float32)
		for r := 0; r < m; r++ {
			if argmax(logits[r*c:(r+1)*c]) == int(im.Labels[idx[pos+r]]) {
				correct++
			}
		}
		evm.Reset()
	}
	return float64(correct) / float64(n), nil
}

// cmp0 returns v, or def if v is 0.
func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// CNNLayerNames returns the names of the outputs of the network s that NSR
// can regularise, in the order of ConvNet.Layers: the logits last.
func CNNLayerNames(s CNNSpec) ([]string, error) {
	s, arch, err := s.resolve()
	if err != nil {
		return nil, err
	}
	b, err := declare(s, arch)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(b.names), "logits"), nil
}
