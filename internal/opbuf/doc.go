// Package opbuf keeps the output buffer of a gorgonia op between runs of
// its graph.
//
// A TapeMachine clears its registers on Reset, so an op that allocates its
// output in Do allocates (and the runtime zeroes) a new tensor on every run:
// 3.5 MB a product on Amazon Computers. The ops of nn, sparseops and vision
// instead write into a buffer they own. A gorgonia.Read copies out of it, so
// values read after a run stay valid, but a graph built on such ops must not
// be run by two machines at once.
package opbuf
