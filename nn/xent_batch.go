package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropyLabels returns the scalar mean over all rows of
// -log softmax(logits[i])[labels[i]], like SoftmaxCrossEntropy with nil
// rows, but holding labels by reference instead of copying it: the caller
// writes the next mini-batch's classes into the same slice between machine
// runs, so one graph serves every batch. labels must have one entry per row
// of logits and must not be resized or written while a machine runs.
//
// The labels are checked against the number of classes on every forward
// pass, which then fails with an error rather than indexing out of range.
// SoftmaxCrossEntropyLabels returns an error if logits is not a float matrix
// or len(labels) differs from its number of rows.
func SoftmaxCrossEntropyLabels(logits *gorgonia.Node, labels []int) (*gorgonia.Node, error) {
	s := logits.Shape()
	if s.Dims() != 2 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropyLabels: logits %v have shape %v, want a matrix", logits, s)
	}
	if dt := logits.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropyLabels: logits %v have dtype %v", logits, dt)
	}
	if s[0] == 0 || s[1] == 0 {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropyLabels: logits %v have shape %v", logits, s)
	}
	if len(labels) != s[0] {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropyLabels: %d labels for %d rows", len(labels), s[0])
	}
	op := &xentLabelsOp{&xentOp{n: s[0], c: s[1], labels: labels}}
	out, err := gorgonia.ApplyOp(op, logits)
	if err != nil {
		return nil, fmt.Errorf("nn: SoftmaxCrossEntropyLabels: %w", err)
	}
	return out, nil
}

// xentLabelsOp is xentOp with labels shared with the caller; it checks them
// in the forward pass, which every backward pass of a run follows.
type xentLabelsOp struct{ *xentOp }

func (op *xentLabelsOp) checkLabels() error {
	for i, y := range op.labels {
		if y < 0 || y >= op.c {
			return fmt.Errorf("nn: SoftmaxCrossEntropyLabels: label %d at %d out of range [0,%d)", y, i, op.c)
		}
	}
	return nil
}

func (op *xentLabelsOp) Do(inputs ...gorgonia.Value) (gorgonia.Value, error) {
	if err := op.checkLabels(); err != nil {
		return nil, err
	}
	return op.xentOp.Do(inputs...)
}

func (op *xentLabelsOp) DoDiff(ctx gorgonia.ExecutionContext, inputs gorgonia.Nodes, output *gorgonia.Node) error {
	if err := op.checkLabels(); err != nil {
		return err
	}
	return op.xentOp.DoDiff(ctx, inputs, output)
}
