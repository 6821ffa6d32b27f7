// Package bench runs gnsr's paper-style benchmark tables reproducibly and
// resumably, and renders them from their raw results alone.
//
// Every training run is one Record, keyed by (table, implementation, model,
// dataset, variant, NSR layer, λ, seed), appended as one JSON line to
// <dir>/<table>.jsonl and synced before the next run starts. A Store opened
// on an existing file reads it back, drops a last line cut short by a killed
// run (rewriting the file atomically without it) and lets the drivers skip
// every run already recorded, so a bench killed at any point resumes where it
// stopped and never leaves a corrupted file.
//
// The drivers (RunGNN for the vanilla-against-NSR table on graphs, RunMLP
// for the MNIST MLPs beside the published numbers, RunPeers for the
// comparison with the PyTorch peers) take the training as a Runner
// function, so tests run them with fake trainers in milliseconds; NewGNSR
// and NewMLP give the real ones. The markdown tables and the charts are
// computed from the records only (GNNMarkdown, MLPMarkdown, PeersMarkdown
// and the Write*Report functions): regenerating them never retrains
// anything.
//
// Where a table sets the epochs per cell (the MLP table, and the MLP-4 row
// of the peer table), the epochs are part of the key: a quick run at fewer
// epochs never stands in for a full one.
//
// λ is chosen on validation accuracy only (ChooseLambda), on the first
// TuneSeeds seeds; the chosen λ is then run on all seeds, reusing the tuning
// runs of those first seeds, since a run is fully determined by its key.
//
// A plan can be split among the tasks of a Slurm job array or a Kubernetes
// Indexed Job: a Shard (ParseShard, ShardFromEnv) runs a fixed part of it
// (Sharding: the runs shared out by their prior cost, so that every task
// computes the same parts), writing its own file, <table>.shard-<i>-of-<n>
// .jsonl (OpenShard), which resumes as a whole table's does. The GNN table
// runs in two phases (Phase): the tuning runs on every shard, then the
// chosen λ on the other seeds. Merge joins a table's files, reporting runs
// recorded twice; Unfinished lists the runs still missing; Compare checks
// two sets of records run by run, timings and metadata aside (SameRun).
// TunePlan is gnsr tune as such a table.
//
// RunThreads, the thread-scaling table (ThreadsPlan), trains each run in a
// gnsr train process of its own at a thread count (ProcessRunner, which sets
// GOMAXPROCS), recording the process's peak resident memory and a
// fingerprint of everything it reported but its timings: ThreadsMarkdown
// gives the speed-ups and says whether each seed computed the same numbers
// at every count.
package bench
