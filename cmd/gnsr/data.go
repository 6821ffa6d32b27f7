package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/gnsr/gnsr/datasets"
	"github.com/spf13/cobra"
)

func newDataCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "data",
		Short: "List, download and verify datasets",
		Long: `Manage the datasets under the data root (--data-dir, else $GNSR_DATA, else the
user cache directory), laid out as <root>/<dataset>/raw/<original files>.

Downloads come from each dataset's canonical location, are checked against the
sha256 compiled into gnsr and written atomically: a failed or corrupt download
leaves no file behind.`,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data root (default $GNSR_DATA, else the user cache directory)")
	root := func() (string, error) { return datasets.Root(dataDir) }

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the known datasets and whether their files are present",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(w, "data root: %s\n", r)
			fmt.Fprintln(w, "DATASET\tFILES\tPRESENT\tSIZE")
			for _, name := range datasets.Known() {
				st, err := datasets.Verify(r, name)
				if err != nil {
					return err
				}
				present, size := 0, int64(0)
				for _, s := range st {
					if s.Present {
						present++
					}
					size += s.Spec.Size
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%.1f MB\n", name, len(st), present, float64(size)/1e6)
			}
			return w.Flush()
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "info NAME",
		Short: "Print a dataset's nodes, edges, features, classes, label counts and split sizes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			ds, err := datasets.Load(r, args[0])
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), datasets.Stats(ds).String())
			return nil
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "download NAME...",
		Short: "Download the missing files of datasets, checking their sha256",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			d := &datasets.Downloader{Progress: func(file string, done, total int64) {
				if total > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "\r%s: %.1f / %.1f MB", file, float64(done)/1e6, float64(total)/1e6)
				}
			}}
			for _, name := range args {
				if err := d.Download(cmd.Context(), r, name); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr())
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "\r%s: ready in %s\n", name, r)
			}
			return nil
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "verify [NAME...]",
		Short: "Check the files of datasets against their size and sha256",
		Long:  "Check the files of the named datasets (default: every dataset with files present) against the size and sha256 compiled into gnsr. Exits non-zero if any present file does not match.",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := root()
			if err != nil {
				return err
			}
			return verify(cmd.OutOrStdout(), r, args)
		},
	})
	return cmd
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
		for _, s := range st {
			status := "ok"
			switch {
			case !s.Present:
				status = "missing"
			case !s.OK:
				status = fmt.Sprintf("MODIFIED (size %d, sha256 %s; want %d, %s)", s.Size, s.SHA256, s.Spec.Size, s.Spec.SHA256)
			}
			if status != "ok" {
				bad++
			}
			fmt.Fprintf(out, "%-18s %-32s %s\n", name, s.Spec.Name, status)
		}
	}
	if bad > 0 {
		return fmt.Errorf("data verify: %d file(s) missing or not matching under %s", bad, root)
	}
	return nil
}
