package main

import (
	"context"
	"fmt"
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
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gnsr:", err)
		os.Exit(1)
	}
}
