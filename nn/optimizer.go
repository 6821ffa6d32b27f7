package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/gorgonia"
)

// Optimizer updates parameters in place from their gradients. Adam and SGD
// implement it; every trainer of gnsr steps one through this interface and
// checkpoints its State.
type Optimizer interface {
	// Step updates every parameter from its gradient and zeroes the
	// gradient; on error nothing has changed.
	Step() error
	// Params returns the parameter nodes the optimizer updates.
	Params() []*gorgonia.Node
	// Rebind makes the optimizer update params, nodes of another graph
	// over the same tensors, keeping its state.
	Rebind(params []*gorgonia.Node) error
	// SetLR sets the learning rate of the next steps.
	SetLR(lr float64)
	// State returns a copy of the optimizer's state.
	State() OptimizerState
	// SetState restores a state returned by State.
	SetState(OptimizerState) error
}

// The optimizers NewOptimizer knows.
const (
	OptimizerAdam = "adam"
	OptimizerSGD  = "sgd"
)

// Optimizers lists the names NewOptimizer accepts.
func Optimizers() []string { return []string{OptimizerAdam, OptimizerSGD} }

// OptimizerState is a copy of an optimizer's state, in float64 (exact for
// float32 parameters), for checkpoints.
type OptimizerState struct {
	Kind string // one of Optimizers
	Step int    // steps taken (Adam's bias correction); 0 for SGD
	// Buffers holds the optimizer's buffers (Adam: m and v; SGD: the
	// momentum), each with one slice per parameter; a nil slice is a
	// buffer not yet allocated.
	Buffers [][][]float64
}

// OptimizerSpec chooses an optimizer and its settings.
type OptimizerSpec struct {
	Kind        string  // one of Optimizers
	LR          float64 // learning rate, > 0
	WeightDecay float64 // L2 penalty added to every gradient (torch semantics), >= 0
	Momentum    float64 // SGD only: momentum in [0, 1)
	Nesterov    bool    // SGD only: Nesterov momentum (needs Momentum > 0)
}

// Validate reports the first setting of s that is out of range.
func (s OptimizerSpec) Validate() error {
	switch {
	case !slices.Contains(Optimizers(), s.Kind):
		return fmt.Errorf("nn: optimizer %q, want one of %v", s.Kind, Optimizers())
	case !(s.LR > 0) || math.IsInf(s.LR, 0):
		return fmt.Errorf("nn: learning rate = %v, need a finite value > 0", s.LR)
	case !(s.WeightDecay >= 0) || math.IsInf(s.WeightDecay, 0):
		return fmt.Errorf("nn: weight decay = %v, need a finite value >= 0", s.WeightDecay)
	case !(s.Momentum >= 0 && s.Momentum < 1):
		return fmt.Errorf("nn: momentum = %v, need 0 <= momentum < 1", s.Momentum)
	case s.Kind != OptimizerSGD && s.Momentum != 0:
		return fmt.Errorf("nn: momentum is an %s setting, not %s's", OptimizerSGD, s.Kind)
	case s.Nesterov && (s.Kind != OptimizerSGD || s.Momentum == 0):
		return fmt.Errorf("nn: Nesterov needs %s with momentum", OptimizerSGD)
	}
	return nil
}

// NewOptimizer returns the optimizer s describes over params, or the error
// of s.Validate.
func NewOptimizer(s OptimizerSpec, params []*gorgonia.Node) (Optimizer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Kind == OptimizerSGD {
		o := NewSGD(params, s.LR)
		o.Momentum, o.Nesterov, o.WeightDecay = s.Momentum, s.Nesterov, s.WeightDecay
		return o, nil
	}
	return NewAdam(params, s.LR, s.WeightDecay), nil
}

var (
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*SGD)(nil)
)
