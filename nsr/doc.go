// Package nsr implements Neuron Steadiness Regularization (Fu et al.,
// NeurIPS 2022): a penalty on each neuron's intra-class response variance,
// added to the loss on chosen layers, as specified in docs/nsr.md.
//
// For a layer output H (rows = samples or graph nodes, columns = neurons),
// labels y and class means μ_c, the penalty of the layer is
//
//	σ_n = (1/B) Σ_i (H[i,n] − μ_{y_i}[n])²,   P = (1/d) Σ_n σ_n,
//
// each sample compared with the mean of its own class, and the loss becomes
// L_CE + Σ_l λ_l·P_l. With zero masking (for ReLU outputs) responses with
// |H| <= ZeroThreshold enter neither the means nor the mean that forms P.
//
// # Graph op
//
// Penalty makes P a node of a gorgonia graph, differentiable on both the
// TapeMachine (after gorgonia.Grad) and the LispMachine; Term scales it by λ.
// Labels and the rows that enter are held by an Estimator, not by graph
// nodes, so they get no gradient, and rows outside the estimator are never
// read (the backward pass writes zeros and then only the chosen rows):
//
//   - FullBatch takes the class means from the same step's output over the
//     training rows, for full-batch GNN training. Its gradient is exact,
//     through the means too, masked or not (it equals the gradient with the
//     means held constant, since deviations from a mean sum to zero); this is
//     the gradient torch autograd computes through the reference code.
//   - Queue takes them from a FIFO memory of the last K steps (K = 5 in the
//     paper), for mini-batches. One machine run is one push; the gradient
//     flows only through the current step.
//
// A full-batch GNN, NSR on the hidden layer h with λ = 0.5:
//
//	est := &nsr.FullBatch{Rows: train, Labels: trainLabels, NumClasses: c, MaskZeros: true}
//	term, err := nsr.Term(h, est, 0.5)
//	...
//	loss, err = gorgonia.Add(loss, term)
//
// A mini-batch model calls q.SetBatch(nil, labels) before each step with
// the queue q of nsr.NewQueue(5, c, false), and q.SetPushing(false) before
// any evaluation run of the training graph.
//
// # Statistics
//
// ClassMeans, IntraClassVariance, VarianceAround, PerClassVariance and
// Aggregate compute the same quantities in plain Go (float64 accumulation)
// for analysis and for the "auto" layer choice of ChooseLayer. ParseLayers
// and ParseLambdas read the --nsr-layers and --nsr-lambda flags.
//
// # Gorgonia notes
//
// Nodes made by Penalty carry the estimator's address in their hash, so the
// graph merges two penalties only if they share input and estimator. The
// LispMachine of gorgonia v0.9.18 cannot be rerun after Reset (the forward
// pass restarts at the last node): make a new one per step. A graph holding
// Penalty nodes must not be run by two machines at once.
package nsr
