package nsr

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"
)

// An Estimator supplies the class means of the penalty and holds the labels
// and the rows that enter it; the two implementations are *FullBatch and
// *Queue (its methods are unexported, so no other type can implement it).
// Labels are plain Go data, never graph nodes, so no gradient is made
// for them.
type Estimator interface {
	fmt.Stringer

	// check validates the estimator for an n×d layer output at graph build time.
	check(n, d int) error
	// attach is called when a Penalty node is made with the estimator.
	attach(op *penaltyOp) error
	// forward returns the penalty P of h. push says whether this is a
	// training run (a Queue pushes h only then).
	forward(h layer, push bool) (float64, error)
	// backward adds scale·∂P/∂h to dst, touching only the selected rows.
	backward(h layer, dst tensor.Tensor, scale float64) error
}

// layer is a dense[float32] or dense[float64] behind one interface, so that
// estimators need no type switches.
type layer interface {
	dims() (n, d int)
	classMeans(rows, labels []int, numClasses int, mask bool) (means, counts []float64)
	accumulate(rows, labels []int, mask bool, sums, counts []float64)
	deviation(rows, labels []int, means, counts []float64, mask bool) (sum float64, kept int)
	addGradTo(dst tensor.Tensor, rows, labels []int, means, counts []float64, mask bool, scale float64, kept int) error
}

func (m dense[T]) dims() (n, d int) { return m.n, m.d }

func (m dense[T]) addGradTo(dst tensor.Tensor, rows, labels []int, means, counts []float64, mask bool, scale float64, kept int) error {
	g, ok := dst.Data().([]T)
	if !ok || !dst.Shape().Eq(tensor.Shape{m.n, m.d}) {
		return fmt.Errorf("nsr: gradient buffer %v of %v does not match the %d×%d layer of %T", dst.Shape(), dst.Dtype(), m.n, m.d, m.h)
	}
	m.addGrad(g, rows, labels, means, counts, mask, scale, kept)
	return nil
}

// FullBatch estimates the class means from the layer output of the very
// step, over the selected rows: the estimator for full-batch GNN training,
// where every step sees all training nodes. Only the selected rows are read,
// so validation and test nodes never enter.
//
// Rows selects the rows of the layer output that enter the penalty (the
// training nodes); nil selects every row. Labels is aligned with Rows:
// Labels[k] is the class of row Rows[k] (with Rows nil, one label per row of
// the layer). Holding only the training labels means the estimator cannot
// see any other. NumClasses bounds the labels. MaskZeros leaves responses
// with |h| <= ZeroThreshold out of the means and the penalty (for ReLU
// outputs; the protocol's default on GNN hidden layers).
//
// A FullBatch holds no state between steps; one value may serve several
// layers. Its fields must not change while a machine runs.
type FullBatch struct {
	Rows       []int
	Labels     []int
	NumClasses int
	MaskZeros  bool
}

// String returns the estimator's identity, the pointer that tells apart
// Penalty nodes made with different estimators.
func (e *FullBatch) String() string { return fmt.Sprintf("FullBatch(%p)", e) }

func (e *FullBatch) check(n, d int) error {
	return checkSelection(n, d, e.Rows, e.Labels, e.NumClasses)
}

func (e *FullBatch) attach(*penaltyOp) error { return nil }

func (e *FullBatch) forward(h layer, _ bool) (float64, error) {
	if err := e.check(h.dims()); err != nil {
		return 0, err
	}
	means, counts := h.classMeans(e.Rows, e.Labels, e.NumClasses, e.MaskZeros)
	s, kept := h.deviation(e.Rows, e.Labels, means, counts, e.MaskZeros)
	if kept == 0 {
		return 0, nil
	}
	return s / float64(kept), nil
}

// backward recomputes the means from h rather than caching them in forward,
// which keeps FullBatch stateless (and shareable between layers) for a cost
// of B·d, far below the layer's own N·d.
func (e *FullBatch) backward(h layer, dst tensor.Tensor, scale float64) error {
	if err := e.check(h.dims()); err != nil {
		return err
	}
	means, counts := h.classMeans(e.Rows, e.Labels, e.NumClasses, e.MaskZeros)
	kept := 0
	for _, c := range counts {
		kept += int(c) // every element that entered a mean is kept, and no other
	}
	return h.addGradTo(dst, e.Rows, e.Labels, means, counts, e.MaskZeros, scale, kept)
}

// Queue estimates the class means over a FIFO memory of the last K training
// steps (the estimator for mini-batch training). Each training run of a
// machine first pushes the current step's detached layer output and labels,
// dropping the oldest step when K are held, and then takes the class means
// over the queue, so the current step is always included. Samples whose class
// is absent from the queue add nothing to the penalty (no division by zero),
// and the gradient flows only through the current step's output, the means
// being constants, as with the detached queue of the reference code.
//
// Pushing happens in the forward pass of the Penalty node: one RunAll of a
// TapeMachine or LispMachine is one push. Call SetPushing(false) before runs
// that are not training steps (evaluation on the training graph); a machine
// made with gorgonia.EvalMode() also disables pushing of its Penalty node, as
// it does for dropout. The queue keeps only per-class sums and counts of each
// step (K·numClasses·d numbers), not the steps' outputs.
//
// A Queue serves one Penalty node; it is not safe for concurrent use.
type Queue struct {
	k, numClasses int
	mask          bool
	pushing       bool

	rows, labels []int
	d            int // layer width, fixed by the first run

	sums, counts [][]float64 // ring of per-step class sums and element counts
	next, held   int
	pushes       int

	// from the last forward pass, for the backward pass of the same run
	means, meanCounts []float64
	kept              int

	owner *penaltyOp
}

// NewQueue returns an empty queue that holds the last k steps of a layer
// with numClasses classes. With maskZeros, responses with |h| <=
// ZeroThreshold enter neither the means nor the penalty.
//
// NewQueue panics if k < 1 or numClasses < 1.
func NewQueue(k, numClasses int, maskZeros bool) *Queue {
	if k < 1 || numClasses < 1 {
		panic(fmt.Sprintf("nsr: NewQueue(%d, %d): need k >= 1 and numClasses >= 1", k, numClasses))
	}
	return &Queue{k: k, numClasses: numClasses, mask: maskZeros, pushing: true,
		sums: make([][]float64, k), counts: make([][]float64, k)}
}

// String returns the queue's identity, the pointer that tells apart Penalty
// nodes made with different estimators.
func (q *Queue) String() string { return fmt.Sprintf("Queue(%p, k=%d)", q, q.k) }

// SetBatch sets the rows of the layer output that enter the next runs and
// their labels, with the convention of FullBatch: rows nil selects every row
// and labels has one entry per row; otherwise labels[k] is the label of
// rows[k]. Call it before each step whose batch differs from the last. The
// slices are copied. Rows are checked against the layer at run time.
func (q *Queue) SetBatch(rows, labels []int) error {
	if rows != nil && len(rows) != len(labels) {
		return fmt.Errorf("nsr: Queue.SetBatch: %d labels for %d rows", len(labels), len(rows))
	}
	for k, c := range labels {
		if c < 0 || c >= q.numClasses {
			return fmt.Errorf("nsr: Queue.SetBatch: label %d (position %d) out of range [0, %d)", c, k, q.numClasses)
		}
	}
	if rows != nil {
		rows = append([]int{}, rows...)
	}
	q.rows, q.labels = rows, append([]int{}, labels...)
	return nil
}

// SetPushing sets whether runs push the current step into the queue (the
// default). With pushing off, runs compute the penalty against the queue as
// it is, which is what evaluation runs on the training graph need.
func (q *Queue) SetPushing(on bool) { q.pushing = on }

// Release frees q from the Penalty node it serves, keeping its contents, so
// that a trainer that builds a new graph for every mini-batch can hand the
// queue to the next graph's Penalty node.
func (q *Queue) Release() { q.owner = nil }

// Len returns the number of steps in the queue, at most k.
func (q *Queue) Len() int { return q.held }

// Pushes returns the number of steps pushed since the queue was made or
// reset.
func (q *Queue) Pushes() int { return q.pushes }

// Reset empties the queue; the batch and the Penalty node it serves stay.
func (q *Queue) Reset() {
	for i := range q.sums {
		q.sums[i], q.counts[i] = nil, nil
	}
	q.next, q.held, q.pushes, q.d = 0, 0, 0, 0
	q.means, q.meanCounts, q.kept = nil, nil, 0
}

// Means returns the class means over the steps in the queue
// (numClasses×d, row-major) and the number of elements behind each; a class
// absent from the queue has count 0. Both are nil while the queue is empty.
func (q *Queue) Means() (means, counts []float64) {
	if q.held == 0 {
		return nil, nil
	}
	return q.totals()
}

func (q *Queue) totals() (means, counts []float64) {
	sums := make([]float64, q.numClasses*q.d)
	counts = make([]float64, q.numClasses*q.d)
	for s := 0; s < q.held; s++ {
		for i, v := range q.sums[s] {
			sums[i] += v
		}
		for i, v := range q.counts[s] {
			counts[i] += v
		}
	}
	return meansOf(sums, counts), counts
}

func (q *Queue) check(n, d int) error {
	if q.d != 0 && d != q.d {
		return fmt.Errorf("nsr: layer width %d, but the queue holds width %d", d, q.d)
	}
	if q.labels == nil {
		return nil // the batch may come later, before the first run
	}
	return checkSelection(n, d, q.rows, q.labels, q.numClasses)
}

func (q *Queue) attach(op *penaltyOp) error {
	if q.owner != nil && q.owner != op {
		return fmt.Errorf("nsr: %v already serves a Penalty node; use one Queue per layer, since each node pushes once per run", q)
	}
	q.owner = op
	return nil
}

func (q *Queue) forward(h layer, push bool) (float64, error) {
	if q.labels == nil {
		return 0, fmt.Errorf("nsr: %v has no batch: call SetBatch before running the machine", q)
	}
	n, d := h.dims()
	if err := q.check(n, d); err != nil {
		return 0, err
	}
	q.d = d
	if push && q.pushing {
		s := q.next
		if q.sums[s] == nil {
			q.sums[s] = make([]float64, q.numClasses*d)
			q.counts[s] = make([]float64, q.numClasses*d)
		} else {
			clear(q.sums[s])
			clear(q.counts[s])
		}
		h.accumulate(q.rows, q.labels, q.mask, q.sums[s], q.counts[s])
		q.next = (q.next + 1) % q.k
		q.held = min(q.held+1, q.k)
		q.pushes++
	}
	if q.held == 0 {
		q.means, q.meanCounts, q.kept = make([]float64, q.numClasses*d), make([]float64, q.numClasses*d), 0
		return 0, nil
	}
	q.means, q.meanCounts = q.totals()
	s, kept := h.deviation(q.rows, q.labels, q.means, q.meanCounts, q.mask)
	q.kept = kept
	if kept == 0 {
		return 0, nil
	}
	return s / float64(kept), nil
}

func (q *Queue) backward(h layer, dst tensor.Tensor, scale float64) error {
	n, d := h.dims()
	if q.means == nil || d != q.d {
		return fmt.Errorf("nsr: %v: backward pass without a forward pass on this layer", q)
	}
	if err := checkSelection(n, d, q.rows, q.labels, q.numClasses); err != nil {
		return err
	}
	return h.addGradTo(dst, q.rows, q.labels, q.means, q.meanCounts, q.mask, scale, q.kept)
}

// QueueState is a copy of a Queue's contents, for checkpoints: with it a
// queue of the same length and class count continues exactly where the
// copied one stood.
type QueueState struct {
	Width  int // layer width, 0 before the first push
	Next   int // the ring slot the next push fills
	Held   int // steps held, at most the queue length
	Pushes int
	// Sums and Counts hold each ring slot's per-class sums and element
	// counts (classes×Width), one entry per slot; nil for a slot never
	// filled.
	Sums, Counts [][]float64
}

// State returns a copy of q's contents.
func (q *Queue) State() QueueState {
	s := QueueState{Width: q.d, Next: q.next, Held: q.held, Pushes: q.pushes,
		Sums: make([][]float64, q.k), Counts: make([][]float64, q.k)}
	for i := range q.sums {
		s.Sums[i], s.Counts[i] = slices.Clone(q.sums[i]), slices.Clone(q.counts[i])
	}
	return s
}

// SetState replaces q's contents with a copy of s, a state of a queue of
// the same length and class count. It returns an error, leaving q alone,
// if s does not fit q.
func (q *Queue) SetState(s QueueState) error {
	n := q.numClasses * s.Width
	switch {
	case len(s.Sums) != q.k || len(s.Counts) != q.k:
		return fmt.Errorf("nsr: queue state of %d and %d slots for a queue of %d", len(s.Sums), len(s.Counts), q.k)
	case s.Width < 0 || s.Next < 0 || s.Next >= q.k || s.Held < 0 || s.Held > q.k || s.Pushes < s.Held:
		return fmt.Errorf("nsr: queue state with width %d, next slot %d, %d held, %d pushes for a queue of %d", s.Width, s.Next, s.Held, s.Pushes, q.k)
	}
	for i := range s.Sums {
		filled := s.Sums[i] != nil
		if filled != (s.Counts[i] != nil) || filled && (len(s.Sums[i]) != n || len(s.Counts[i]) != n) || filled != (i < s.Held) {
			return fmt.Errorf("nsr: queue state slot %d holds %d sums and %d counts, want %d each for %d held steps", i, len(s.Sums[i]), len(s.Counts[i]), n, s.Held)
		}
	}
	q.d, q.next, q.held, q.pushes = s.Width, s.Next, s.Held, s.Pushes
	for i := range q.sums {
		q.sums[i], q.counts[i] = slices.Clone(s.Sums[i]), slices.Clone(s.Counts[i])
	}
	q.means, q.meanCounts, q.kept = nil, nil, 0
	return nil
}
