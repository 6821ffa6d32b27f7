package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gnsr/gnsr/internal/blasbackend"
)

func main() {
	// The one change of process-wide BLAS state: gorgonia's products (and,
	// built with -tags openblas, OpenBLAS's thread count); nothing in the
	// pure-Go build. Before any command builds a graph.
	blasbackend.Install()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args with its output on stdout and stderr and
// returns the exit status: 0, or 1 after printing the error as one line
// "gnsr: ..." on stderr. Deprecated flag spellings are pointed out last.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	c, err := cmd.ExecuteContextC(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "gnsr:", err)
	}
	if c != nil {
		warnAliases(stderr, c.Flags())
	}
	if err != nil {
		return 1
	}
	return 0
}
