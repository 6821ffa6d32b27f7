package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gnsr/gnsr/internal/blasbackend"
	"github.com/spf13/cobra"
)

// buildInfo describes how this binary was built, from what Go stamps into
// it (debug.ReadBuildInfo).
type buildInfo struct {
	Version  string // the module version: (devel) for a build from a checkout
	Commit   string // vcs.revision, or "" without VCS stamping
	Modified bool   // vcs.modified: uncommitted changes
	Time     string // vcs.time, the commit's
	Go       string
	Platform string
	BLAS     string
	Tags     string // -tags, or ""
	CGO      string // CGO_ENABLED: "0" or "1"
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, BLAS: blasbackend.Name()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := bi.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		case "vcs.time":
			b.Time = s.Value
		case "-tags":
			b.Tags = s.Value
		case "CGO_ENABLED":
			b.CGO = s.Value
		}
	}
	return b
}

// String is what gnsr version and gnsr --version print.
func (b buildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "gnsr %s\n", b.Version)
	switch {
	case b.Commit == "":
		s.WriteString("commit   unknown (built without VCS stamping: go run, go test, -buildvcs=false or a tree without .git)\n")
	case b.Modified:
		fmt.Fprintf(&s, "commit   %s (%s), with uncommitted changes\n", b.Commit, b.Time)
	default:
		fmt.Fprintf(&s, "commit   %s (%s)\n", b.Commit, b.Time)
	}
	fmt.Fprintf(&s, "go       %s %s\n", b.Go, b.Platform)
	fmt.Fprintf(&s, "blas     %s\n", b.BLAS)
	tags := b.Tags
	if tags == "" {
		tags = "none"
	}
	fmt.Fprintf(&s, "tags     %s\n", tags)
	switch b.CGO {
	case "0":
		s.WriteString("cgo      CGO_ENABLED=0: a static binary\n")
	case "1":
		s.WriteString("cgo      CGO_ENABLED=1: linked against the C library (not static)\n")
	default:
		s.WriteString("cgo      unknown\n")
	}
	return s.String()
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version, BLAS backend and build flags of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), readBuildInfo())
			return err
		},
	}
}
