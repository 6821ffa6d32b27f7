package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/spf13/cobra"
)

func newDataCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "data",
		Short: "List, download, verify, inspect and synthesise datasets",
		Long: `Manage the datasets under the data root (--data-dir, else $GNSR_DATA, else the
user cache directory), laid out as <root>/<dataset>/raw/<original files>.

Downloads come from each dataset's canonical location, are checked against the
size and sha256 compiled into gnsr and written atomically: a failed or corrupt
download leaves no file behind. Cora, CiteSeer and PubMed are compiled into
gnsr and need no download. train, tune, analyze and bench download what they
miss by themselves; set GNSR_OFFLINE=1 to forbid it.`,
	}
	var quiet bool
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data root (default $GNSR_DATA, else the user cache directory)")
	cmd.PersistentFlags().BoolVarP(&quiet, "quiet", "q", false, "no progress or timing on stderr (errors still)")
	root := func() (string, error) { return datasets.Root(dataDir) }

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the known datasets, what they are for, their files and whether they are present",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			return listDatasets(cmd.OutOrStdout(), r)
		},
	})

	var graphDir string
	info := &cobra.Command{
		Use:   "info NAME | --graph DIR",
		Short: "Print a dataset's size, classes, split and protocol (graphs) or images and classes",
		Example: `  gnsr data info cora
  gnsr data info mnist
  gnsr data info --graph runs/synth-1m`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			switch {
			case graphDir != "" && len(args) > 0:
				return fmt.Errorf("give a dataset name or --graph DIR, not both")
			case graphDir != "":
				ds, err := datasets.LoadDir(graphDir)
				if err != nil {
					return fmt.Errorf("--graph: %w", err)
				}
				fmt.Fprint(cmd.OutOrStdout(), datasets.Stats(ds).String())
				if !quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "loaded in %.1f s\n", time.Since(start).Seconds())
				}
				return nil
			case len(args) == 0:
				return fmt.Errorf("give a dataset name (one of %v) or --graph DIR", datasets.Known())
			}
			r, err := root()
			if err != nil {
				return err
			}
			e, err := datasets.Lookup(args[0])
			if err != nil {
				return err
			}
			if e.Kind == datasets.ImageClassification {
				ds, err := datasets.LoadImages(r, e.Name, imageOptions(e.Name))
				if err != nil {
					return err
				}
				fmt.Fprint(cmd.OutOrStdout(), datasets.ImageStats(e.Name, ds))
				return nil
			}
			ds, err := datasets.Load(r, e.Name)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), datasets.Stats(ds).String())
			return nil
		},
	}
	info.Flags().StringVar(&graphDir, "graph", "", "a graph directory (OGB's raw layout or Parquet tables) instead of a dataset name")
	cmd.AddCommand(info)

	cmd.AddCommand(&cobra.Command{
		Use:   "download NAME...",
		Short: "Download the missing or damaged files of datasets, checking their size and sha256",
		Long: `Make the files of the named datasets present and intact under the data root: a
missing file is downloaded, and a present one whose size or sha256 differs from
the registry's is downloaded again and replaced. Cora, CiteSeer and PubMed are
written from the copy compiled into gnsr. An OGB dataset's zip is extracted
safely after download.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			d := newDownloader(cmd.ErrOrStderr(), quiet)
			d.Offline = offline()
			for _, name := range args {
				err := d.Download(cmd.Context(), r, name)
				d.done()
				if err != nil {
					return err
				}
				if !quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: ready in %s\n", name, r)
				}
			}
			return nil
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "verify [NAME...]",
		Short: "Check the files of datasets against their size and sha256",
		Long:  "Check the files of the named datasets (default: every dataset with files present) against the size and sha256 compiled into gnsr. Exits non-zero if any present file does not match; gnsr data download NAME replaces such a file.",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			return verify(cmd.OutOrStdout(), r, args)
		},
	})
	cmd.AddCommand(newSynthCmd(&quiet))
	return cmd
}

// offline reports whether $GNSR_OFFLINE forbids downloads.
func offline() bool { return os.Getenv(datasets.EnvOffline) != "" }

// imageOptions puts a decoded-image cache in the user cache directory, since
// the data root may be read-only.
func imageOptions(name string) datasets.ImageOptions {
	var opt datasets.ImageOptions
	if dir, err := os.UserCacheDir(); err == nil {
		opt.CacheDir = filepath.Join(dir, "gnsr", name)
	}
	return opt
}

// listDatasets prints the registry: each dataset's kind, files, presence,
// size and where it comes from.
func listDatasets(out io.Writer, root string) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "data root: %s\n", root)
	fmt.Fprintln(w, "DATASET\tKIND\tFILES\tPRESENT\tSIZE\tSOURCE")
	for _, name := range datasets.Known() {
		e, err := datasets.Lookup(name)
		if err != nil {
			return err
		}
		st, err := datasets.Verify(root, name)
		if err != nil {
			return err
		}
		present, size, approx := 0, int64(0), false
		for _, s := range st {
			if s.Present {
				present++
			}
			size += max(s.Spec.Size, s.Spec.Approx)
			approx = approx || s.Spec.Size == 0
		}
		sz := fmt.Sprintf("%.1f MB", float64(size)/1e6)
		if approx {
			sz = "~" + sz
		}
		src := e.Files[0].URL
		switch {
		case e.Embedded:
			src = "compiled into gnsr; " + src
		case e.Note != "":
			src = "no download location"
		}
		if len(e.Files) > 1 {
			src += " (and " + fmt.Sprint(len(e.Files)-1) + " more)"
		}
		if e.Archive != nil {
			src += ", extracted to " + e.Archive.Dir + "/"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\n", name, e.Kind, len(st), present, sz, src)
	}
	return w.Flush()
}

// verify prints the status of every file of the named datasets, or of the
// datasets with any file present, and fails if a file is absent (for a named
// dataset) or does not match.
func verify(out io.Writer, root string, names []string) error {
	all := len(names) == 0
	if all {
		names = datasets.Known()
	}
	bad := 0
	var repair []string
	for _, name := range names {
		st, err := datasets.Verify(root, name)
		if err != nil {
			return err
		}
		any := false
		for _, s := range st {
			any = any || s.Present
		}
		if all && !any {
			continue
		}
		broken := false
		for _, s := range st {
			status := "ok"
			switch {
			case !s.Present:
				status = "missing"
			case !s.OK:
				status = fmt.Sprintf("MODIFIED (%s): replace it with `gnsr data download %s`", s.Mismatch(), name)
			}
			if status != "ok" {
				bad++
				broken = true
			}
			fmt.Fprintf(out, "%-18s %-32s %s\n", name, s.Spec.Name, status)
		}
		if broken {
			repair = append(repair, name)
		}
	}
	if bad > 0 {
		return fmt.Errorf("data verify: %d file(s) missing or not matching under %s; `gnsr data download %s` fetches and replaces them",
			bad, root, strings.Join(repair, " "))
	}
	return nil
}

// newSynthCmd returns gnsr data synth; *quiet (data's -q) leaves out the
// line on stderr that says what was written.
func newSynthCmd(quiet *bool) *cobra.Command {
	c := datasets.SynthConfig{}
	var out string
	cmd := &cobra.Command{
		Use:   "synth --nodes N --out DIR [flags]",
		Short: "Write a synthetic graph with a learnable signal (OGB layout or Parquet)",
		Long: `Write a node-classification graph drawn from --seed, the analogue of PyG's
FakeDataset with something to learn: each node has a uniform class; each edge
joins two nodes of one class with probability --homophily (which sets how hard the task is), two uniform nodes
otherwise; features are a binary bag of --nnz-per-row words, a quarter of them in a
block of columns of the node's class (or, with --dense, 1 on that block and 0
elsewhere plus standard normal noise). The same flags give the same files.

--format ogb writes OGB's raw layout (raw/edge.csv.gz, raw/node-feat.csv.gz, ...,
split/random/); --format parquet writes nodes.parquet, edges.parquet and, for
sparse features, features.parquet. Train on either with gnsr train --graph DIR.`,
		Example: `  gnsr data synth --nodes 10000 --out /tmp/g && gnsr train --graph /tmp/g
  gnsr data synth --nodes 1000000 --avg-degree 20 --classes 10 --features 500 --nnz-per-row 20 --out big
  gnsr data synth --nodes 5000 --features 64 --dense --format parquet --out /tmp/gp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required: the directory to write, which must not exist")
			}
			if cmd.Flags().Changed("dense") && cmd.Flags().Changed("nnz-per-row") {
				return errors.New("--dense and --nnz-per-row: give one of them")
			}
			start := time.Now()
			edges, err := datasets.WriteSynthetic(out, c)
			if err != nil {
				return err
			}
			if !*quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d nodes and %d edges (%s layout) to %s in %.1f s\n",
					c.Nodes, edges, c.Format, out, time.Since(start).Seconds())
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&c.Nodes, "nodes", 1000, "number of nodes")
	fl.Float64Var(&c.AvgDegree, "avg-degree", 10, "mean number of neighbours (nodes × avg-degree / 2 edges are drawn)")
	fl.IntVar(&c.Classes, "classes", 5, "number of classes")
	fl.IntVar(&c.Features, "features", 100, "number of feature columns")
	fl.IntVar(&c.NNZPerRow, "nnz-per-row", 10, "non-zero features a node (a binary bag of words)")
	fl.BoolVar(&c.Dense, "dense", false, "dense float features instead of --nnz-per-row")
	fl.Float64Var(&c.Homophily, "homophily", 0.8, "probability that an edge joins two nodes of one class")
	fl.Float64Var(&c.Train, "train", 0.6, "fraction of nodes for training")
	fl.Float64Var(&c.Val, "val", 0.2, "fraction of nodes for validation (the rest test)")
	fl.Uint64Var(&c.Seed, "seed", 0, "seed of every draw")
	fl.StringVar(&c.Format, "format", "ogb", "ogb (gzipped CSV in OGB's raw layout) or parquet")
	fl.StringVar(&out, "out", "", "directory to write (required; must not exist)")
	return cmd
}
