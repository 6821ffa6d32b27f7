package bench

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Shard is part Index of Count of a plan's runs, 0 <= Index < Count: one
// task of a Slurm job array or one completion index of a Kubernetes
// Indexed Job. The zero Shard is the whole plan, run by one process.
type Shard struct {
	Index, Count int
}

// MaxShards bounds Shard.Count (Kubernetes allows 100,000 completions of
// an Indexed Job; Slurm's MaxArraySize defaults to 1,001).
const MaxShards = 100_000

// The environment variables ShardFromEnv reads.
const (
	// EnvSlurmTaskID, EnvSlurmTaskCount, EnvSlurmTaskMin and
	// EnvSlurmTaskStep are set by Slurm in each task of a job array.
	EnvSlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmTaskStep  = "SLURM_ARRAY_TASK_STEP"
	// EnvJobCompletionIndex is set by Kubernetes in each pod of an Indexed
	// Job.
	EnvJobCompletionIndex = "JOB_COMPLETION_INDEX"
	// EnvShardCount is the number of shards beside JOB_COMPLETION_INDEX,
	// which Kubernetes does not provide: the Job's manifest sets it to its
	// spec.completions (see deploy/k8s).
	EnvShardCount = "GNSR_SHARD_COUNT"
)

// Sharded reports whether s is a part of a plan rather than all of it.
func (s Shard) Sharded() bool { return s.Count > 0 }

// String returns "i/n", or "all" for the whole plan.
func (s Shard) String() string {
	if !s.Sharded() {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Name returns the name of the store of table that s writes (see
// OpenShard): "<table>.shard-<i>-of-<n>", or table for the whole plan.
func (s Shard) Name(table string) string {
	if !s.Sharded() {
		return table
	}
	return fmt.Sprintf("%s.shard-%d-of-%d", table, s.Index, s.Count)
}

// ParseShard reads a shard as "i/n" (0 <= i < n <= MaxShards), "auto"
// (ShardFromEnv with getenv), or "" (the whole plan).
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	switch s {
	case "":
		return Shard{}, nil
	case "auto":
		return ShardFromEnv(getenv)
	}
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("bench: shard %q: want i/n (shard i of n, counted from 0) or auto", s)
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 || n > MaxShards {
		return Shard{}, fmt.Errorf("bench: shard %q: the count %q is not a whole number from 1 to %d", s, ns, MaxShards)
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("bench: shard %q: the index %q is not a whole number from 0 to %d (shards are counted from 0)", s, is, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardFromEnv returns the shard of this process from the environment: in
// a Slurm job array, the task's place in the array (SLURM_ARRAY_TASK_ID
// less SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP) among
// SLURM_ARRAY_TASK_COUNT tasks; in a Kubernetes Indexed Job,
// JOB_COMPLETION_INDEX among GNSR_SHARD_COUNT. Neither set, both set, or a
// value that does not make a shard is an error that says which.
func ShardFromEnv(getenv func(string) string) (Shard, error) {
	slurm, k8s := getenv(EnvSlurmTaskID), getenv(EnvJobCompletionIndex)
	switch {
	case slurm != "" && k8s != "":
		return Shard{}, fmt.Errorf("bench: shard auto: both %s (Slurm) and %s (Kubernetes) are set; give the shard as i/n", EnvSlurmTaskID, EnvJobCompletionIndex)
	case slurm != "":
		return slurmShard(getenv)
	case k8s != "":
		i, err := envInt(getenv, EnvJobCompletionIndex, 0)
		if err != nil {
			return Shard{}, err
		}
		if getenv(EnvShardCount) == "" {
			return Shard{}, fmt.Errorf("bench: shard auto: %s=%d is set but %s is not: set it to the Indexed Job's spec.completions (deploy/k8s does)", EnvJobCompletionIndex, i, EnvShardCount)
		}
		n, err := envInt(getenv, EnvShardCount, 1)
		if err != nil {
			return Shard{}, err
		}
		return checkShard(i, n, fmt.Sprintf("%s=%d, %s=%d", EnvJobCompletionIndex, i, EnvShardCount, n))
	}
	return Shard{}, fmt.Errorf("bench: shard auto: neither %s (a Slurm job array) nor %s (a Kubernetes Indexed Job) is set; give the shard as i/n", EnvSlurmTaskID, EnvJobCompletionIndex)
}

func slurmShard(getenv func(string) string) (Shard, error) {
	id, err := envInt(getenv, EnvSlurmTaskID, 0)
	if err != nil {
		return Shard{}, err
	}
	if getenv(EnvSlurmTaskCount) == "" {
		return Shard{}, fmt.Errorf("bench: shard auto: %s=%d is set but %s is not (Slurm sets it from version 17.11 on); give the shard as i/n", EnvSlurmTaskID, id, EnvSlurmTaskCount)
	}
	n, err := envInt(getenv, EnvSlurmTaskCount, 1)
	if err != nil {
		return Shard{}, err
	}
	lo, step := 0, 1
	if getenv(EnvSlurmTaskMin) != "" {
		if lo, err = envInt(getenv, EnvSlurmTaskMin, 0); err != nil {
			return Shard{}, err
		}
	}
	if getenv(EnvSlurmTaskStep) != "" {
		if step, err = envInt(getenv, EnvSlurmTaskStep, 1); err != nil {
			return Shard{}, err
		}
	}
	what := fmt.Sprintf("%s=%d, %s=%d, %s=%d, %s=%d", EnvSlurmTaskID, id, EnvSlurmTaskCount, n, EnvSlurmTaskMin, lo, EnvSlurmTaskStep, step)
	if (id-lo)%step != 0 {
		return Shard{}, fmt.Errorf("bench: shard auto: %s: the task is not on the array's step; submit the array as --array=0-%d", what, n-1)
	}
	return checkShard((id-lo)/step, n, what)
}

func checkShard(i, n int, what string) (Shard, error) {
	if n > MaxShards {
		return Shard{}, fmt.Errorf("bench: shard auto: %s: more than %d shards", what, MaxShards)
	}
	if i < 0 || i >= n {
		return Shard{}, fmt.Errorf("bench: shard auto: %s: index %d is not among the %d shards 0..%d; submit the array as --array=0-%d", what, i, n, n-1, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// envInt reads a whole number of at least lo from the environment.
func envInt(getenv func(string) string, name string, lo int) (int, error) {
	v := getenv(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, fmt.Errorf("bench: shard auto: %s=%q is not a whole number of at least %d", name, v, lo)
	}
	return n, nil
}

// Phase is a part of a plan that can run once the parts before it have
// finished. The GNN table has two: PhaseTune, every run that does not wait
// for λ (vanilla on every seed, each λ of the grid on the tuning seeds),
// then PhaseFinal, the chosen λ on the other seeds. The other tables'
// runs are all in PhaseTune.
type Phase string

// The phases; PhaseAll is every phase, one after the other.
const (
	PhaseAll   Phase = ""
	PhaseTune  Phase = "tune"
	PhaseFinal Phase = "final"
)

// ParsePhase reads a phase: "tune", "final", or "" or "all" for both.
func ParsePhase(s string) (Phase, error) {
	switch s {
	case "", "all":
		return PhaseAll, nil
	case string(PhaseTune), string(PhaseFinal):
		return Phase(s), nil
	}
	return PhaseAll, fmt.Errorf("bench: phase %q: want tune, final or all", s)
}

// Planner is a table's plan as shards share it out.
type Planner interface {
	// Todo lists the runs of the plan that recs do not hold, in run order;
	// a final run whose λ is not chosen yet has Undecided set and λ 0.
	Todo(recs []Record) []Job
	// Slot returns the unit of work j belongs to, which one shard runs
	// whole (a run, or all seeds of a cell of the peer table), and its
	// phase. A final run's slot does not depend on the λ chosen.
	Slot(j Job) (slot Job, phase Phase)
}

// Sharding says which runs of a plan a shard runs in a phase. Each phase's
// slots are shared out among the shards by their estimated cost
// (DefaultPrior, never measurements, so that every shard computes the same
// assignment whatever it has seen): the most expensive slot first, each to
// the shard with the least work so far (the lower index on ties), slots of
// equal cost in plan order. The assignment depends on the plan and the
// shard count only, so a shard that is rerun makes the same runs.
type Sharding struct {
	Shard Shard
	Phase Phase
	slot  func(Job) (Job, Phase)
	owner map[Job]int // slot → shard; nil for the whole plan
}

// NewSharding returns the runs of p that shard sh makes in phase ph.
func NewSharding(p Planner, sh Shard, ph Phase) *Sharding {
	s := &Sharding{Shard: sh, Phase: ph, slot: p.Slot}
	if !sh.Sharded() {
		return s
	}
	type group struct {
		slots []Job
		cost  []time.Duration
		index map[Job]int
	}
	groups := map[Phase]*group{}
	var phases []Phase
	for _, j := range p.Todo(nil) {
		slot, phase := p.Slot(j)
		g := groups[phase]
		if g == nil {
			g = &group{index: map[Job]int{}}
			groups[phase] = g
			phases = append(phases, phase)
		}
		i, ok := g.index[slot]
		if !ok {
			i = len(g.slots)
			g.index[slot] = i
			g.slots, g.cost = append(g.slots, slot), append(g.cost, 0)
		}
		g.cost[i] += DefaultPrior(j.Impl, j.Cell)
	}
	s.owner = map[Job]int{}
	for _, phase := range phases {
		g := groups[phase]
		for i, shard := range balance(g.cost, sh.Count) {
			s.owner[g.slots[i]] = shard
		}
	}
	return s
}

// Keep reports whether j is the shard's to run in its phase.
func (s *Sharding) Keep(j Job) bool {
	slot, phase := s.slot(j)
	if s.Phase != PhaseAll && phase != s.Phase {
		return false
	}
	if s.owner == nil {
		return true
	}
	o, ok := s.owner[slot]
	return ok && o == s.Shard.Index
}

// Filter returns the jobs of jobs that Keep keeps, in their order.
func (s *Sharding) Filter(jobs []Job) []Job {
	var out []Job
	for _, j := range jobs {
		if s.Keep(j) {
			out = append(out, j)
		}
	}
	return out
}

// balance assigns items of the given costs to n bins: the costliest first
// (the earlier on ties), each to the bin with the least cost so far (the
// lower index on ties). It returns each item's bin.
func balance(cost []time.Duration, n int) []int {
	order := make([]int, len(cost))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case cost[a] > cost[b]:
			return -1
		case cost[a] < cost[b]:
			return 1
		}
		return 0
	})
	bins := make(binHeap, n)
	for i := range bins {
		bins[i].index = i
	}
	out := make([]int, len(cost))
	for _, i := range order {
		out[i] = bins[0].index
		bins[0].load += cost[i]
		heap.Fix(&bins, 0)
	}
	return out
}

// binHeap is a min-heap of bins by load, then index.
type binHeap []struct {
	load  time.Duration
	index int
}

func (h binHeap) Len() int { return len(h) }
func (h binHeap) Less(a, b int) bool {
	return h[a].load < h[b].load || h[a].load == h[b].load && h[a].index < h[b].index
}
func (h binHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *binHeap) Push(any)     { panic("bench: binHeap is fixed in size") }
func (h *binHeap) Pop() any     { panic("bench: binHeap is fixed in size") }

// errPhaseNeeded is returned by RunGNN for a sharded plan without a phase.
var errPhaseNeeded = errors.New("bench: a sharded GNN table runs in two phases, each its own job array: the tune phase on every shard, then the final phase (the chosen λ on the other seeds) once every shard's tune phase has finished")
