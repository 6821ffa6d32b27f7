// Package examples holds runnable programs that the README shows verbatim:
// customlayer (a layer of your own, on the public API alone) and predict
// (a saved model predicting on a graph it never saw). Its test checks that
// the README still shows them as they are and that they run.
package examples
