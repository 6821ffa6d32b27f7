package vision

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/internal/autograd"
	"github.com/gnsr/gnsr/nn"
	"github.com/gnsr/gnsr/nsr"
	G "gorgonia.org/gorgonia"
)

// isCNN reports whether arch is one of CNNArchs.
func isCNN(arch string) bool { return slices.Contains(CNNArchs(), arch) }

// setupCNN builds the training graph of the convolutional network
// l.model, its machine and optimizer: Train's split, optimisers, schedule,
// NSR through memory queues and best-validation report, on images
// normalised per channel with norm (the training set's mean and standard
// deviation) and, with cfg.Augment, randomly cropped (4 pixels of zero
// padding) and flipped in training batches.
func (l *epochLoop) setupCNN(tr *datasets.Images, norm datasets.Normalization, res *Result) error {
	cfg := l.cfg
	k := cfg.NSR.QueueLen()
	l.augPCG = rand.NewPCG(cfg.Seed, 0x5eed0004)
	augRNG := rand.New(l.augPCG)
	net, err := BuildCNN(l.model.cnn, cfg.BatchSize, true)
	if err != nil {
		return err
	}
	var pens []G.Value
	if cfg.NSR.Enabled() {
		layers, err := cfg.resolve(len(net.Layers))
		if err != nil {
			return err
		}
		var terms []*G.Node
		pens = make([]G.Value, len(layers))
		for i, li := range layers {
			out := net.Layers[li]
			if out.Shape().Dims() > 2 {
				// The penalty is per neuron: each channel at each position.
				// Flatten copies; G.Reshape would alias the op's buffer.
				if out, err = nn.Flatten(out); err != nil {
					return fmt.Errorf("vision: NSR on layer %d (%s): %w", li, net.LayerNames[li], err)
				}
			}
			// Zero masking is for ReLU outputs; the logits have none.
			q := nsr.NewQueue(k, tr.NumClasses, cfg.NSR.MaskZeros && li+1 < len(net.Layers))
			term, err := nsr.Term(out, q, cfg.NSR.Lambdas[i])
			if err != nil {
				return fmt.Errorf("vision: NSR on layer %d (%s): %w", li, net.LayerNames[li], err)
			}
			G.Read(term, &pens[i])
			terms = append(terms, term)
			l.queues = append(l.queues, q)
		}
		res.NSRLayers, res.NSRLambdas = layers, slices.Clone(cfg.NSR.Lambdas)
		if err := net.Backward(terms...); err != nil {
			return err
		}
	} else if err := net.Backward(); err != nil {
		return err
	}
	l.vm = autograd.NewTapeMachine(net.Graph)
	if l.opt, err = nn.NewOptimizer(cfg.Optimizer, net.Params); err != nil {
		return fmt.Errorf("vision: %w", err)
	}
	aug := datasets.NewAugmenter(augRNG, datasets.AugmentOptions{Pad: 4, Flip: true, Norm: norm})
	xbuf := net.X.Data().([]float32)
	l.loss, l.pens = net.LossValue, pens
	l.fill = func(batch []int) error {
		for r, i := range batch {
			net.Labels[r] = int(tr.Labels[i])
		}
		aug.Batch(xbuf, tr, batch, cfg.Augment)
		for _, q := range l.queues {
			if err := q.SetBatch(nil, net.Labels); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
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
