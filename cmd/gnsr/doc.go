// Command gnsr trains graph neural networks with Neuron Steadiness
// Regularization from the command line.
//
//	gnsr train --dataset pubmed            # GCN on PubMed, protocol defaults
//	gnsr train --dataset cora --seeds 10 --json
//
// Run gnsr help for every command and flag.
package main
