package datasets

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// DatasetStats summarises a NodeDataset, for `gnsr data info`.
type DatasetStats struct {
	Name             string
	Nodes            int // len(Labels)
	Edges            int // undirected edges, each counted once
	Features         int // feature columns
	FeatureNNZ       int // stored feature entries
	Classes          int
	ClassCounts      []int    // nodes of each class, len Classes
	ClassNames       []string // nil if the files name no classes
	Unlabeled        int      // nodes whose label is outside [0, Classes)
	Train, Val, Test int      // sizes of the split in the dataset
	Isolated         int      // nodes on no edge
}

// Stats computes the statistics of ds. Edges naming a node outside
// [0, len(ds.Labels)) are counted as edges but give no node a degree; a nil
// ds.Features counts as no features. Stats panics if ds is nil.
func Stats(ds *NodeDataset) DatasetStats {
	n := len(ds.Labels)
	s := DatasetStats{
		Name:       ds.Name,
		Nodes:      n,
		Edges:      len(ds.Edges),
		Classes:    ds.NumClasses,
		ClassNames: ds.ClassNames,
		Train:      len(ds.Split.Train),
		Val:        len(ds.Split.Val),
		Test:       len(ds.Split.Test),
	}
	if ds.Features != nil {
		s.Features, s.FeatureNNZ = ds.Features.Cols, ds.Features.NNZ()
	}
	s.ClassCounts = make([]int, max(ds.NumClasses, 0))
	for _, l := range ds.Labels {
		if l >= 0 && l < len(s.ClassCounts) {
			s.ClassCounts[l]++
		} else {
			s.Unlabeled++
		}
	}
	touched := make([]bool, n)
	for _, e := range ds.Edges {
		for _, u := range e {
			if u >= 0 && u < n {
				touched[u] = true
			}
		}
	}
	for _, t := range touched {
		if !t {
			s.Isolated++
		}
	}
	return s
}

// String formats the statistics as an aligned table: one line a quantity,
// then one line a class with its node count and name.
func (s DatasetStats) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	density := 0.0
	if s.Nodes > 0 && s.Features > 0 {
		density = 100 * float64(s.FeatureNNZ) / (float64(s.Nodes) * float64(s.Features))
	}
	fmt.Fprintf(tw, "dataset\t%s\n", s.Name)
	fmt.Fprintf(tw, "nodes\t%s\n", group(s.Nodes))
	fmt.Fprintf(tw, "edges\t%s undirected (%s directed)\n", group(s.Edges), group(2*s.Edges))
	fmt.Fprintf(tw, "isolated nodes\t%s\n", group(s.Isolated))
	fmt.Fprintf(tw, "features\t%s (%s non-zeros, %.2f%% dense)\n", group(s.Features), group(s.FeatureNNZ), density)
	fmt.Fprintf(tw, "classes\t%d\n", s.Classes)
	if s.Unlabeled > 0 {
		fmt.Fprintf(tw, "unlabeled nodes\t%s\n", group(s.Unlabeled))
	}
	fmt.Fprintf(tw, "split\t%s train / %s val / %s test\n", group(s.Train), group(s.Val), group(s.Test))
	tw.Flush()
	// The class table by hand: tabwriter pads right-aligned cells on the
	// left, indenting the whole table.
	cw, nw := len("class"), len("nodes")
	for c, k := range s.ClassCounts {
		cw, nw = max(cw, len(strconv.Itoa(c))), max(nw, len(group(k)))
	}
	fmt.Fprintf(&b, "%*s  %*s  name\n", cw, "class", nw, "nodes")
	for c, k := range s.ClassCounts {
		line := fmt.Sprintf("%*d  %*s", cw, c, nw, group(k))
		if c < len(s.ClassNames) && s.ClassNames[c] != "" {
			line += "  " + s.ClassNames[c]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// group writes n with commas between groups of three digits.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
