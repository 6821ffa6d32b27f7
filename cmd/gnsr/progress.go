package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/nsr"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows training progress on stderr: a bar with an ETA on a
// terminal, and nothing when stderr is redirected or --quiet is set, so logs
// and JSON pipelines stay clean.
type progress struct {
	bar    *progressbar.ProgressBar
	prefix string
}

func newProgress(w io.Writer, quiet bool, total int) *progress {
	f, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// runLabel names a training run for the progress display: "cora gcn
// seed 0", with "λ=[1]" when NSR is on.
func runLabel(dataset, arch string, lambdas []float64, seed uint64) string {
	if !nsr.Active(lambdas) {
		return fmt.Sprintf("%s %s seed %d", dataset, arch, seed)
	}
	return fmt.Sprintf("%s %s λ=%v seed %d", dataset, arch, lambdas, seed)
}

// plural is "1 seed", "2 seeds": n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// describe sets what the following epochs belong to (dataset, seed, λ).
func (p *progress) describe(s string) { p.prefix = s }

func (p *progress) step(e gnn.Epoch) {
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%s: epoch %d loss %.4f val %.3f", p.prefix, e.Epoch, e.Loss, e.ValAcc))
		_ = p.bar.Add(1)
	}
}

// clear erases the bar from the terminal, before a line of results; the
// next step draws it again.
func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
}

// finish clears the bar; calling it again does nothing.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
