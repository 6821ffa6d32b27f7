package autograd

import (
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	G "gorgonia.org/gorgonia"
)

// Machine is a gorgonia tape machine whose RunAll runs the program on the
// calling goroutine.
//
// Gorgonia's RunAll starts a goroutine for the program and waits for it on
// an OS thread it locks (for CUDA's sake), so every run hands the
// processor to another thread and back: on the machines measured, about
// 50 µs of thread wake-up each way, outside any parallel section, a
// twentieth of a PubMed training step at two threads. Machine instead
// calls the tape's exported Run on the program's instructions from the
// program counter on, reached by reflection (gorgonia v0.9.18 has had no
// release since 2023): Run executes them with the same code as RunAll.
// It then binds every node to the value in its register, which the
// instructions have done already except where nodes share a register, so
// Machine hands it an empty register map for the run. Where the tape
// machine does not look as described, or batched BLAS is in use (whose
// work the locked thread does), RunAll is gorgonia's own.
type Machine struct {
	G.VM
	run      reflect.Value   // the tape's Run; invalid where RunAll is gorgonia's
	program  reflect.Value   // the program's instructions
	pc       *int            // the tape's program counter
	locMap   reflect.Value   // the tape's register map, settable
	locs     reflect.Value   // its value
	noLocs   reflect.Value   // an empty map of its type
	closures *[]func() error // the tape's closure queue, run after the program as RunAll does
	extern   interface {     // the tape's device work, flushed as RunAll does
		DoWork() error
	}
}

// NewTapeMachine returns a Machine over gorgonia's tape machine for g,
// made with opts. It panics where gorgonia's NewTapeMachine does (a graph
// that does not compile).
func NewTapeMachine(g *G.ExprGraph, opts ...G.VMOpt) *Machine {
	vm := G.NewTapeMachine(g, opts...)
	m := &Machine{VM: vm}
	m.direct(vm)
	return m
}

// direct sets m up to run vm's program on the calling goroutine, or leaves
// m.run invalid where it cannot (see Machine).
func (m *Machine) direct(vm any) {
	extern, ok := vm.(interface {
		DoWork() error
		WorkAvailable() <-chan bool
	})
	if !ok || extern.WorkAvailable() != nil {
		return
	}
	v := reflect.ValueOf(vm)
	prog, run := v.MethodByName("Prog"), v.MethodByName("Run")
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || !prog.IsValid() || !run.IsValid() ||
		run.Type().NumIn() != 1 || run.Type().NumOut() != 1 {
		return
	}
	p := prog.Call(nil)[0]
	if p.Kind() != reflect.Pointer || p.IsNil() || p.Elem().Kind() != reflect.Struct {
		return
	}
	tape := v.Elem()
	instrs, pc, locMap := p.Elem().FieldByName("instructions"), tape.FieldByName("pc"), tape.FieldByName("locMap")
	queue, logFlags := tape.FieldByName("closureQueue"), tape.FieldByName("logFlags")
	if !instrs.IsValid() || instrs.Type() != run.Type().In(0) ||
		!pc.IsValid() || pc.Kind() != reflect.Int ||
		!locMap.IsValid() || locMap.Kind() != reflect.Map ||
		!queue.IsValid() || queue.Type() != reflect.TypeFor[[]func() error]() ||
		// Watching for NaNs, infinities or pointer clashes is done by
		// RunAll's loop, not by the instructions.
		!logFlags.IsValid() || !logFlags.CanUint() || logFlags.Uint() != 0 {
		return
	}
	// The fields are unexported: NewAt gives usable values of them.
	field := func(f reflect.Value) reflect.Value {
		return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	}
	m.program = field(instrs)
	m.pc = (*int)(unsafe.Pointer(pc.UnsafeAddr()))
	m.locMap = field(locMap)
	m.locs = reflect.ValueOf(m.locMap.Interface())
	m.noLocs = reflect.MakeMap(locMap.Type())
	m.closures = (*[]func() error)(unsafe.Pointer(queue.UnsafeAddr()))
	m.extern = extern
	m.run = run
}

// Direct reports whether m runs its program on the calling goroutine.
func (m *Machine) Direct() bool { return m.run.IsValid() }

// RunAll runs the program from the program counter on (all of it after
// Reset), as gorgonia's RunAll does: the instructions, then the device
// work and the closures the instructions queued.
func (m *Machine) RunAll() error {
	if !m.run.IsValid() {
		return m.VM.RunAll()
	}
	if err := m.runProgram(); err != nil {
		return fmt.Errorf("autograd: %w", err)
	}
	if err := m.extern.DoWork(); err != nil {
		return fmt.Errorf("autograd: %w", err)
	}
	for _, c := range *m.closures {
		if err := c(); err != nil {
			return fmt.Errorf("autograd: %w", err)
		}
	}
	return m.extern.DoWork()
}

// runProgram runs the instructions from the program counter on, with no
// register map for Run to bind nodes from, and moves the counter to the
// end.
func (m *Machine) runProgram() error {
	n := m.program.Len()
	if *m.pc >= n {
		return nil
	}
	m.locMap.Set(m.noLocs)
	defer m.locMap.Set(m.locs)
	if err, _ := m.run.Call([]reflect.Value{m.program.Slice(*m.pc, n)})[0].Interface().(error); err != nil {
		return err
	}
	*m.pc = n
	return nil
}

// Close closes the machine and removes the finalizer gorgonia sets on it:
// a no-op without CUDA, which would keep the machine, and through its
// program its graph, matrices and buffers, alive for one more collection.
func (m *Machine) Close() error {
	err := m.VM.Close()
	runtime.SetFinalizer(m.VM, nil)
	return err
}
