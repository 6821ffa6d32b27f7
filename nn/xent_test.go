package nn

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestXentThreads checks that the cross-entropy's loss and gradient, whose
// rows are split between goroutines, are the same for any GOMAXPROCS and
// equal to one loop over the labels in order: with distinct rows, and with
// a row repeated (whose gradient is then added in order).
func TestXentThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const n, c = 500, 3
	x := make([]float64, n*c)
	for i := range x {
		x[i] = math.Sin(float64(i)*0.7) * 3
	}
	// Rows 7i mod 500 are distinct; rows 7i mod 150 repeat.
	for _, modulus := range []int{n, 150} {
		rows := make([]int, 300)
		for i := range rows {
			rows[i] = (i * 7) % modulus
		}
		labels := make([]int, len(rows))
		for i := range labels {
			labels[i] = (i * 5) % c
		}
		g := gorgonia.NewGraph()
		logits := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(n, c), gorgonia.WithName("logits"))
		out, err := SoftmaxCrossEntropy(logits, rows, labels)
		if err != nil {
			t.Fatal(err)
		}
		op := out.Op().(*xentOp)
		// The reference: one loop, in label order.
		var wantLoss float64
		wantGrad := make([]float64, n*c)
		for i, r := range rows {
			row := x[r*c : (r+1)*c]
			mx, lse := logSumExp(row)
			wantLoss += lse - (row[labels[i]] - mx)
			for j, v := range row {
				p := math.Exp(v - mx - lse)
				if j == labels[i] {
					p--
				}
				wantGrad[r*c+j] += 0.5 / float64(len(rows)) * p
			}
		}
		wantLoss /= float64(len(rows))
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			if loss := xentLoss(op, x); loss != wantLoss {
				t.Errorf("distinct %v, GOMAXPROCS %d: loss %v, want %v", op.distinct, procs, loss, wantLoss)
			}
			grad := make([]float64, n*c)
			xentAddGrad(op, grad, x, 0.5)
			if !slices.Equal(grad, wantGrad) {
				t.Errorf("distinct %v, GOMAXPROCS %d: the gradient differs from one loop's", op.distinct, procs)
			}
		}
	}
}
