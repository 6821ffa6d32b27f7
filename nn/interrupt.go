package nn

import "fmt"

// InterruptedError is the error every gnsr trainer returns when its
// context is done: the run stopped between steps after Epoch epochs of the
// run of Seed. It wraps the context's error.
type InterruptedError struct {
	Seed       uint64
	Epoch      int    // epochs done
	Checkpoint string // the checkpoint written at the stop, "" if none
	Resumable  error  // nil if the checkpoint can be resumed, else why not
	Err        error  // ctx.Err()
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted after epoch %d of seed %d: %v", e.Epoch, e.Seed, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// RunInfo is what a saved model of every gnsr trainer records of the run
// that made it: the seed (whose data split evaluation takes again) and the
// epoch of best validation accuracy, with its validation and test
// accuracy, the weights the model holds.
type RunInfo struct {
	Seed      uint64  `json:"seed"`
	BestEpoch int     `json:"best_epoch"`
	ValAcc    float64 `json:"val_acc"`
	TestAcc   float64 `json:"test_acc"`
}
