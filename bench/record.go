package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gnsr/gnsr/internal/blasbackend"
)

// Variants of a run.
const (
	Vanilla = "vanilla" // no NSR
	NSR     = "nsr"     // NSR with Key.Lambda on layer Key.Layer
)

// Implementations that produce records.
const (
	ImplGNSR  = "gnsr"
	ImplTorch = "torch" // the PyTorch peer
)

// BLAS names the dense linear algebra backend gnsr runs on, for the records:
// "gonum pure Go", or "openblas" in a build with -tags openblas.
const BLAS = blasbackend.Backend

// Key identifies one training run of a table. Two runs with the same key
// give the same numbers (on the same machine and commit), so a key that is
// already recorded is never run again.
type Key struct {
	Table   string  `json:"table"`
	Impl    string  `json:"impl"`
	Model   string  `json:"model"`
	Dataset string  `json:"dataset"`
	Variant string  `json:"variant"`
	Layer   int     `json:"nsr_layer"` // the regularised layer; 0 for vanilla runs
	Lambda  float64 `json:"lambda"`    // 0 for vanilla runs
	Seed    uint64  `json:"seed"`
	// TrainEpochs is the number of epochs where a table sets it per cell
	// (the MLP table, the MLP rows of the peer table), so that a quick run
	// at fewer epochs is a different run and never stands in for a full
	// one. It is 0 where the protocol fixes the epochs (the GNN tables;
	// Record.Epochs says how many ran).
	TrainEpochs int `json:"train_epochs,omitempty"`
	// Depth, Sampled and Arm are set by the tables that vary them (the
	// NSR-on-GNNs study): the model's number of layers, training on
	// neighbour-sampled mini-batches, and how the regularised layer is
	// picked (ArmAuto or ArmLast; Layer is then 0 for ArmAuto, whose layer
	// each run chooses, and the last hidden layer for ArmLast). Zero
	// elsewhere, where the protocol fixes them.
	Depth   int    `json:"depth,omitempty"`
	Sampled bool   `json:"sampled,omitempty"`
	Arm     string `json:"nsr_arm,omitempty"`
	// Threads is the GOMAXPROCS of the run where the table varies it (the
	// thread-scaling table); 0 elsewhere, where Meta.GOMAXPROCS says it.
	Threads int `json:"threads,omitempty"`
}

// Plan is the table's plan at the time a record was written. It travels
// with every record so that the tables can be rendered from the records
// alone: which seeds count, which λ were candidates, on how many seeds λ
// was chosen.
type Plan struct {
	Models    []string  `json:"models"`
	Datasets  []string  `json:"datasets"`
	Seeds     int       `json:"seeds"`
	TuneSeeds int       `json:"tune_seeds,omitempty"`
	Grid      []float64 `json:"lambda_grid,omitempty"`
	Layer     int       `json:"nsr_layer"`
	// Epochs is the epochs of each model whose table sets them per cell
	// (see Key.TrainEpochs); nil otherwise.
	Epochs map[string]int `json:"epochs,omitempty"`
	// FirstSeed is the first of the Seeds seeds where they do not start at
	// 0 (gnsr tune --seed).
	FirstSeed uint64 `json:"first_seed,omitempty"`
	// Config is the training settings every run of the table shares beyond
	// its key (gnsr tune's flags); "" where the protocol fixes them.
	Config string `json:"config,omitempty"`
	// The NSR-on-GNNs study's settings (see NSRGNNPlan); zero elsewhere.
	Depths    []int    `json:"depths,omitempty"`
	Sampled   bool     `json:"sampled,omitempty"`
	Arms      []string `json:"nsr_arms,omitempty"`
	TestSeeds int      `json:"test_seeds,omitempty"`
	// Threads is the thread counts of the thread-scaling table.
	Threads []int `json:"threads,omitempty"`
}

// Meta says where and when a record was produced.
type Meta struct {
	Time       time.Time `json:"time"`
	Commit     string    `json:"commit"` // the VCS revision stamped into the binary; "unknown" without one
	Dirty      bool      `json:"dirty,omitempty"`
	Version    string    `json:"version,omitempty"` // the binary's module version, where Go stamped one
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	BLAS       string    `json:"blas"`
	OS         string    `json:"goos"`
	Arch       string    `json:"goarch"`
	CPU        string    `json:"cpu"` // model name from /proc/cpuinfo; "" if unreadable
	NumCPU     int       `json:"nproc"`
	Peer       string    `json:"peer,omitempty"` // the peer's version and threads, for peer records
}

// Record is one finished training run: its key, the measurements, the
// configuration that matters for reading them, the plan and the metadata.
type Record struct {
	Key
	ValAcc      float64 `json:"val_acc"`
	TestAcc     float64 `json:"test_acc"`
	BestEpoch   int     `json:"best_epoch,omitempty"`
	EpochMs     float64 `json:"epoch_ms_median"` // median training step of the run
	WallS       float64 `json:"wall_s"`          // the whole run, evaluation included
	Hidden      int     `json:"hidden,omitempty"`
	Epochs      int     `json:"epochs,omitempty"`
	Batch       int     `json:"batch,omitempty"` // mini-batch size; 0 for full-batch training
	LR          float64 `json:"lr,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Dropout     float64 `json:"dropout,omitempty"`
	// NSRLayers is the layer outputs NSR regularised, where a run chose
	// them itself (ArmAuto): the auto choice, with NSRChoice saying why.
	NSRLayers []int  `json:"nsr_layers_used,omitempty"`
	NSRChoice string `json:"nsr_choice,omitempty"`
	// PeakRSSKiB is the peak resident memory of a run in a process of its
	// own (the thread-scaling table's), in KiB; 0 where not measured.
	PeakRSSKiB int64 `json:"peak_rss_kib,omitempty"`
	// Fingerprint is a hash of everything such a run reported but its
	// timings: runs that computed the same numbers have the same one.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Error says why a run failed as a result (a diverging loss); its
	// accuracies are then meaningless and the run is left out of the tables.
	Error string `json:"error,omitempty"`
	Plan  Plan   `json:"plan"`
	Meta  Meta   `json:"meta"`
}

// CollectMeta describes this process and machine, with the build of the
// binary itself: the VCS revision and modification flag Go stamps into a
// binary built inside a checkout, and the module version of one built by
// go install module@version. Without a stamp (go run, go test, a build with
// -buildvcs=false or from a source tree without .git) the commit is
// "unknown": it is never taken from a checkout the binary happens to run in,
// which may be any repository (the one holding --out, say). Time is left
// zero: the drivers stamp each record as it is written.
func CollectMeta() Meta {
	m := Meta{
		Commit: "unknown", GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), BLAS: BLAS,
		OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: cpuModel("/proc/cpuinfo"), NumCPU: runtime.NumCPU(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		stampBuild(&m, bi)
	}
	return m
}

// stampBuild sets m's commit, dirty flag and version from the build
// information of a binary.
func stampBuild(m *Meta, bi *debug.BuildInfo) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			m.Commit = s.Value
		case "vcs.modified":
			m.Dirty = s.Value == "true"
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		m.Version = v
	}
}

// cpuModel returns the first "model name" of a /proc/cpuinfo file, or "".
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
