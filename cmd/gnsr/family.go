package main

import (
	"fmt"
	"strings"

	"github.com/gnsr/gnsr/datasets"
	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/vision"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// imageDefaultModel returns the model gnsr train uses on the image dataset
// of family fam when --model is not given: the published MNIST protocol's
// MLP-4 on MNIST, the small convolutional network on CIFAR-10.
func imageDefaultModel(fam datasets.Family) string {
	if fam == datasets.CIFAR10 {
		return "cnn"
	}
	return vision.DefaultConfig().Arch
}

// imageOnlyFlags are the flags of gnsr train that only image models use,
// with why they do not apply to a graph.
func imageOnlyFlags() []struct{ name, why string } {
	return []struct{ name, why string }{
		{"optimizer", "graph models train with Adam"},
		{"momentum", "graph models train with Adam"},
		{"nesterov", "graph models train with Adam"},
		{"augment", "it crops and flips images"},
		{"width", "it scales the channels of convolutional image models"},
		{"val-size", "a graph's validation nodes come from its split"},
		{"lr-step", "graph models train at a constant learning rate"},
		{"lr-gamma", "graph models train at a constant learning rate"},
	}
}

// graphOnlyFlags are the flags of gnsr train that image models do not
// take: the architecture fixes their setting.
func graphOnlyFlags() []string {
	return []string{"hidden", "layers", "dropout", "fanouts", "split", "no-bias", "nsr-warmup",
		"activation", "residual", "batch-norm", "heads", "out-heads"}
}

// checkImageOnly refuses, naming it and why, an image-only flag given for
// a graph run.
func checkImageOnly(cmd *cobra.Command, f *trainFlags) error {
	for _, fl := range imageOnlyFlags() {
		if cmd.Flags().Changed(fl.name) {
			return fmt.Errorf("--%s applies to image datasets (%s), not %s: %s",
				fl.name, strings.Join(datasets.KnownOf(datasets.ImageClassification), ", "), f.dataset, fl.why)
		}
	}
	return nil
}

// familyDefaults returns the Defaults paragraph of gnsr train's help:
// what a flag left out is, per dataset family, from the values the code
// uses (gnn.ConfigFor under Planetoid's protocol, vision.DefaultConfig).
func familyDefaults() string {
	g, v := planetoidConfig(), vision.DefaultConfig()
	var b strings.Builder
	fmt.Fprintf(&b, `Defaults depend on the dataset's family; a flag left out takes its family's:
  graphs   --model %s, full batch, --nsr-layers %d, and the dataset's protocol
           ('gnsr data info NAME' shows it); for Planetoid (cora, citeseer,
           pubmed), Kipf & Welling's: public split, L1-normalised features,
           --layers %d, --hidden %d, --dropout %g, Adam with --lr %g and
           --weight-decay %g, --epochs %d
  mnist    --model %s, --epochs %d, --batch-size %d, --optimizer %s, --lr %g,
           --weight-decay %g, --val-size %d, --nsr-layers %d (the logits)
  cifar10, cifar10-jpeg
           --model %s, otherwise as mnist`,
		g.Arch, g.NSR.Layers[0], g.Layers, g.Hidden, g.Dropout, g.LR, g.WeightDecay, g.Epochs,
		v.Arch, v.Epochs, v.BatchSize, v.Optimizer.Kind, v.Optimizer.LR, v.Optimizer.WeightDecay, v.ValSize, v.NSR.Layers[0],
		imageDefaultModel(datasets.CIFAR10))
	return b.String()
}

// perFamilyHelp rewrites the help of gnsr train's flags whose default
// depends on the dataset's family: no single "(default ...)" but each
// family's, and the flags one family does not take say so.
func perFamilyHelp(fs *pflag.FlagSet) {
	hide := func(name, usage string) {
		f := fs.Lookup(name)
		f.Usage = usage
		switch f.Value.Type() { // the zero value, which help does not print
		case "string", "bool":
			f.DefValue = ""
		default:
			f.DefValue = "0"
		}
	}
	g, v := planetoidConfig(), vision.DefaultConfig()
	hide("model", fmt.Sprintf("architecture: graphs %v (default %s), images %v and %v (default mnist %s, cifar10 %s)",
		gnn.Archs(), g.Arch, vision.Archs(), vision.CNNArchs(), v.Arch, imageDefaultModel(datasets.CIFAR10)))
	hide("epochs", fmt.Sprintf("training epochs per seed (default: graphs the dataset's protocol, %d for Planetoid; images %d)", g.Epochs, v.Epochs))
	hide("lr", fmt.Sprintf("learning rate (default: graphs the protocol's, %g for Planetoid; images %g)", g.LR, v.Optimizer.LR))
	hide("weight-decay", fmt.Sprintf("L2 weight decay, added to the gradients as torch's optimizers do (default: graphs the protocol's, %g for Planetoid; images %g)", g.WeightDecay, v.Optimizer.WeightDecay))
	hide("batch-size", fmt.Sprintf("training examples per step (default: graphs 0, full batch; with sage, neighbour-sampled mini-batches of this many training nodes, with --fanouts; images %d)", v.BatchSize))
	hide("nsr-layers", fmt.Sprintf(`layers to regularise: indices of layer outputs (0 = first layer, after its activation; negative from the end, -1 = logits), or "auto" on graphs (the layer with the largest intra-class variance after --nsr-warmup epochs) (default: graphs %d, images %d)`, g.NSR.Layers[0], v.NSR.Layers[0]))
	hide("dropout", fmt.Sprintf("graphs: dropout probability on the input and hidden layers (default the protocol's, %g for Planetoid)", g.Dropout))
	hide("layers", fmt.Sprintf("graphs: number of graph convolution layers, any depth >= 1 (default the protocol's, %d)", g.Layers))
	hide("activation", fmt.Sprintf("graphs: activation after each hidden layer, one of %v (default %s; gat elu)", gnn.Activations(), g.Activation))
	for _, name := range []string{"residual", "batch-norm", "no-bias", "fanouts"} {
		fs.Lookup(name).Usage = "graphs: " + fs.Lookup(name).Usage
	}
	fs.Lookup("hidden").Usage = "graphs: hidden units per layer, one value or one per hidden layer (e.g. 64,32); per head for gat (default the protocol's: 16 for Planetoid, 64 for Amazon and WikiCS, 8 per head for gat)"
}

// planetoidConfig returns the configuration gnsr train resolves for the
// default model on a Planetoid dataset, whose values the help shows.
func planetoidConfig() gnn.Config {
	g := gnn.DefaultConfig()
	if e, err := datasets.Lookup("cora"); err == nil {
		if c, err := gnn.ConfigFor(g.Arch, gnn.ProtocolOf(e.Protocol)); err == nil {
			return c
		}
	}
	return g
}
