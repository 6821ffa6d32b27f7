// Package vision trains the MLP-k image classifiers of the NSR paper (Fu et
// al., NeurIPS 2022) on mini-batches, with Neuron Steadiness Regularization
// through the memory-queue estimator of package nsr.
//
// Train runs the published MNIST protocol by default (DefaultConfig): MLP-4,
// 10,000 training images held out for validation, plain SGD with learning
// rate 0.01, batch 100, Xavier-normal weights and zero biases, inputs
// scaled to [0, 1], and the test accuracy reported at the epoch of best
// validation accuracy (the latest on ties, as ../shared/peers/mlp_torch.py).
// SGD with (Nesterov) momentum, Adam, weight decay and a step learning-rate
// schedule are options. NSR applies to any layer output, each with its λ,
// the logits (layer -1) by default.
//
// # Graphs
//
// A run builds two gorgonia graphs over the same parameter tensors: a
// training graph with a fixed batch size, run by one TapeMachine for every
// step, and an evaluation graph with a larger batch and no loss. Each step
// copies the batch's pixels into the training graph's input tensor and its
// classes into the label slice that nn.SoftmaxCrossEntropyLabels and the NSR
// queues read, so nothing is rebuilt between steps. An epoch takes
// ⌊train/batch⌋ steps: the last partial batch is dropped, where the peer
// keeps it (with the protocol's 50,000 images and batch 100 there is none).
//
// The dense layers are nn.Linear and nn.BiasReLU: x·W + b and ReLU with their
// gradients, on an AVX2/FMA float32 matrix kernel (a plain Go one on other
// machines, and for float64, which the gradient checks use); built with
// -tags openblas (cgo), the float32 products call OpenBLAS's cblas_sgemm
// instead, see package internal/blasbackend. The matrix
// products are a mini-batch step's cost, and this kernel is several times
// faster than nn.MatMul's portable loops; the first layer also skips the
// gradient with respect to the input images. The training machine is made
// without BindDualValues, so an optimizer reads each gradient op's output
// directly instead of a copy added into a dual value.
//
// # Reproducibility
//
// The validation split, the initialisation and the shuffling come from
// three math/rand/v2 PCG streams seeded with Config.Seed, so changing one
// setting leaves the others' draws alone. Every matrix product sums each
// element in an order fixed by the shapes alone, so a run gives the same
// numbers for any GOMAXPROCS. With -tags openblas the products are
// OpenBLAS's: deterministic for a fixed number of OpenBLAS threads (gnsr
// sets it to GOMAXPROCS), but they may differ in the last bits from the
// pure-Go build, and runs drift apart from its runs over the epochs.
//
// # Saved models
//
// Train keeps the weights of the best validation epoch (and a
// convolutional network's batch-norm running statistics) and returns them
// as Result.Model; TrainWith with Options.Model also writes them to a file
// in gnsr's model format (docs/model-format.md, kind "vision"): the
// architecture (ModelSpec), the pixel normalisation, the classes, the seed
// and the training configuration beside the named tensors. LoadModel reads
// such a file, checking every tensor against the spec before allocating,
// and Model.Evaluate reproduces the run's accuracies at its best epoch
// exactly.
//
// # Convolutional networks
//
// CNNArchs names three networks for 32×32 colour images: cnn, a small one
// for CPU runs (three stages of 3×3 convolution, batch norm, ReLU and 2×2
// max-pooling with 32, 64 and 128 channels, then a linear layer; 113,962
// parameters, 20.7 MFLOP a forward pass per image), and the CIFAR ResNet-18
// and VGG-19 of github.com/kuangliu/pytorch-cifar (11,173,962 and
// 20,040,522 parameters, as torch counts them). NewCNNWeights draws the
// parameters of a CNNSpec (architecture, channel multiplier, classes, image
// shape); BuildCNN makes a training graph (batch statistics, cross-entropy
// on Labels, gradients added by Backward) or an evaluation graph (running
// statistics) on them, the graphs sharing parameters and running
// statistics as the MLP's graphs share weights.
//
// The layers are package nn's ops on NCHW tensors: convolution,
// max-pooling, batch norm fused with the ReLU that follows it, global
// average pooling, residual addition and flatten, checked against torch. A training step of cnn on 128 images is 7.7 GFLOP, about
// 270 ms on one core of the development machine (a 2-core AMD EPYC), so
// about a minute an epoch of 50,000 images when both cores are free; five
// epochs of SGD with flips reach two-thirds test accuracy on CIFAR-10.
// ResNet-18 and VGG-19 steps cost 3.3 and 2.4 GFLOP an image (about 100
// and 85 ms an image on one core), and their training graphs hold about 13
// and 5 MB of values an image.
package vision
