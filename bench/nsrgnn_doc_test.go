package bench

import (
	"os"
	"strings"
	"testing"
)

// TestNSRGNNWriteUp checks that the committed study agrees with itself:
// nsr-gnn.md in bench/results is what its records render to, and every row
// of the write-up's tables (docs/nsr-on-gnns.md, between the table
// markers) is a row of it, so that the write-up's numbers are the table's.
func TestNSRGNNWriteUp(t *testing.T) {
	m, err := Merge("results", TableNSRGNN)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Records) == 0 {
		t.Fatal("bench/results holds no nsr-gnn records")
	}
	md := string(NSRGNNMarkdown(m.Records))
	committed, err := os.ReadFile("results/" + TableNSRGNN + ".md")
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != md {
		t.Errorf("bench/results/nsr-gnn.md differs from what its records render to: run gnsr bench report")
	}
	doc, err := os.ReadFile("../docs/nsr-on-gnns.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(md, "\n") {
		lines[l] = true
	}
	rows, inTable := 0, false
	for _, l := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(l, "<!-- table:begin"):
			inTable = true
		case strings.HasPrefix(l, "<!-- table:end"):
			inTable = false
		case inTable && strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| dataset |"):
			rows++
			if !lines[l] {
				t.Errorf("docs/nsr-on-gnns.md has a row that the table does not:\n%s", l)
			}
		}
	}
	if rows == 0 {
		t.Error("docs/nsr-on-gnns.md has no table rows between <!-- table:begin --> and <!-- table:end -->")
	}
}
