package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEExamples checks that README.md shows each example's main.go
// verbatim and, with GNSR_DATA set, that it runs and prints what the
// README says it prints.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir    string
		output string // a line the example prints, as the README says
	}{
		{"customlayer", "GIN on Cora: test accuracy"},
		{"predict", "on the test nodes' own subgraph:"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(c.dir, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(readme), "```go\n"+string(src)+"```") {
				t.Fatalf("README.md does not show examples/%s/main.go verbatim in a go block", c.dir)
			}
			if !strings.Contains(string(readme), c.output) {
				t.Errorf("README.md does not show the output %q", c.output)
			}
			if os.Getenv("GNSR_DATA") == "" {
				t.Skip("GNSR_DATA is not set: not running the example")
			}
			out, err := exec.Command("go", "run", "./"+c.dir).CombinedOutput()
			if err != nil {
				t.Fatalf("go run ./%s: %v\n%s", c.dir, err, out)
			}
			if !strings.Contains(string(out), c.output) {
				t.Errorf("go run ./%s printed %q, want a line with %q", c.dir, out, c.output)
			}
		})
	}
}
