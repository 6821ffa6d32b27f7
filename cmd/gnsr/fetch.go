package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gnsr/gnsr/datasets"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// fetchMissing downloads the files of the registry dataset name that root
// lacks, as gnsr data download does, reporting on stderr unless quiet. It
// does nothing when every file is there or the binary's copy stands in.
func fetchMissing(cmd *cobra.Command, root, name string, quiet bool) error {
	missing, err := datasets.Missing(root, name)
	if err != nil || len(missing) == 0 {
		return err
	}
	var size int64
	for _, f := range missing {
		size += f.Size
	}
	w := cmd.ErrOrStderr()
	if !quiet && !offline() { // offline, the error says what is missing
		what := fmt.Sprintf("%d file(s)", len(missing))
		if size > 0 {
			what += fmt.Sprintf(", %.1f MB", float64(size)/1e6)
		}
		fmt.Fprintf(w, "%s is not under %s: downloading %s\n", name, root, what)
	}
	d := newDownloader(w, quiet)
	d.Offline = offline()
	if err := d.Download(cmd.Context(), root, name); err != nil {
		d.done()
		return err
	}
	d.done()
	return nil
}

// downloader is a datasets.Downloader with a byte progress bar on a
// terminal, and a line a file otherwise.
type downloader struct {
	datasets.Downloader
	w     io.Writer
	quiet bool
	tty   bool
	bar   *progressbar.ProgressBar
	file  string
}

func newDownloader(w io.Writer, quiet bool) *downloader {
	f, ok := w.(*os.File)
	d := &downloader{w: w, quiet: quiet, tty: ok && term.IsTerminal(int(f.Fd()))}
	d.Progress = d.progress
	d.Replacing = func(path, why string) {
		if !quiet {
			fmt.Fprintf(w, "%s does not match the registry (%s): downloading it again\n", path, why)
		}
	}
	return d
}

func (d *downloader) progress(file string, done, total int64) {
	if d.quiet {
		return
	}
	if file != d.file {
		d.done()
		d.file = file
		if !d.tty {
			fmt.Fprintf(d.w, "downloading %s\n", file)
			return
		}
		if total <= 0 {
			total = -1 // unknown: a spinner
		}
		d.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(d.w),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	if d.bar != nil {
		_ = d.bar.Set64(done)
	}
}

// done clears the bar of the file being downloaded.
func (d *downloader) done() {
	if d.bar != nil {
		_ = d.bar.Finish()
		d.bar = nil
	}
	d.file = ""
}
