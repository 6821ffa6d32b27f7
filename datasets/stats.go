package datasets

import (
	"fmt"
	"io"
	"maps"
	"slices"
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
	Dense            bool     // features stored densely
	Bytes            int64    // memory of the graph, features, labels and splits (NodeDataset.Bytes)
	Protocol         Protocol
}

// Stats computes the statistics of ds. A nil ds.Graph counts as no edges
// and nil features as no features. Stats panics if ds is nil.
func Stats(ds *NodeDataset) DatasetStats {
	n := len(ds.Labels)
	s := DatasetStats{
		Name:       ds.Name,
		Nodes:      n,
		Classes:    ds.NumClasses,
		ClassNames: ds.ClassNames,
		Train:      len(ds.Split.Train),
		Val:        len(ds.Split.Val),
		Test:       len(ds.Split.Test),
		Bytes:      ds.Bytes(),
		Protocol:   ds.Protocol,
		Features:   ds.NumFeatures(),
	}
	switch {
	case ds.Features != nil:
		s.FeatureNNZ = ds.Features.NNZ()
	case ds.Dense != nil:
		s.FeatureNNZ, s.Dense = ds.Dense.NNZ(), true
	}
	s.ClassCounts = make([]int, max(ds.NumClasses, 0))
	for _, l := range ds.Labels {
		if l >= 0 && l < len(s.ClassCounts) {
			s.ClassCounts[l]++
		} else {
			s.Unlabeled++
		}
	}
	if g := ds.Graph; g != nil {
		s.Edges = g.NumEdges()
		for i := range g.NumNodes() {
			if g.Degree(i) == 0 {
				s.Isolated++
			}
		}
	} else {
		s.Isolated = n
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
	storage := "stored sparse"
	if s.Dense {
		storage = "stored dense"
	}
	fmt.Fprintf(tw, "features\t%s (%s non-zeros, %.2f%% dense; %s)\n", group(s.Features), group(s.FeatureNNZ), density, storage)
	fmt.Fprintf(tw, "classes\t%d\n", s.Classes)
	if s.Unlabeled > 0 {
		fmt.Fprintf(tw, "unlabeled nodes\t%s\n", group(s.Unlabeled))
	}
	fmt.Fprintf(tw, "split\t%s train / %s val / %s test\n", group(s.Train), group(s.Val), group(s.Test))
	fmt.Fprintf(tw, "memory\t%.1f MB (graph, features, labels, splits)\n", float64(s.Bytes)/1e6)
	if p := s.Protocol; p.Hyper.Layers > 0 {
		writeProtocol(tw, p)
	}
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

// writeProtocol writes the lines of a protocol.
func writeProtocol(w io.Writer, p Protocol) {
	fmt.Fprintf(w, "protocol\t%s features; %s\n", p.Features, p.Split)
	h := p.Hyper
	fmt.Fprintf(w, "\t%d layers, hidden %d, dropout %g, lr %g, weight decay %g, %d epochs (%s)\n",
		h.Layers, h.Hidden, h.Dropout, h.LR, h.WeightDecay, h.Epochs, p.Source)
	for _, arch := range slices.Sorted(maps.Keys(p.Overrides)) {
		o := p.For(arch)
		fmt.Fprintf(w, "\t%s: %d layers, hidden %d, heads %d/%d, dropout %g, lr %g, weight decay %g, %d epochs\n",
			arch, o.Layers, o.Hidden, o.Heads, o.OutputHeads, o.Dropout, o.LR, o.WeightDecay, o.Epochs)
	}
}

// ImageStats formats the statistics of an image dataset as an aligned
// table: sizes, image shape, memory, then one line a class with its
// training and test counts and name.
func ImageStats(name string, ds *ImageDataset) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	tr, te := ds.Train, ds.Test
	fmt.Fprintf(tw, "dataset\t%s\n", name)
	fmt.Fprintf(tw, "images\t%s train / %s test, %d×%d×%d (channels × height × width)\n", group(tr.N), group(te.N), tr.C, tr.H, tr.W)
	fmt.Fprintf(tw, "classes\t%d\n", tr.NumClasses)
	fmt.Fprintf(tw, "memory\t%.1f MB (one byte a pixel)\n", float64(len(tr.Pixels)+len(te.Pixels)+len(tr.Labels)+len(te.Labels))/1e6)
	tw.Flush()
	count := func(im Images) []int {
		c := make([]int, max(im.NumClasses, 0))
		for _, l := range im.Labels {
			if int(l) < len(c) {
				c[l]++
			}
		}
		return c
	}
	trc, tec := count(tr), count(te)
	cw, aw, bw := len("class"), len("train"), len("test")
	for c := range trc {
		cw, aw = max(cw, len(strconv.Itoa(c))), max(aw, len(group(trc[c])))
		if c < len(tec) {
			bw = max(bw, len(group(tec[c])))
		}
	}
	fmt.Fprintf(&b, "%*s  %*s  %*s  name\n", cw, "class", aw, "train", bw, "test")
	for c := range trc {
		test := 0
		if c < len(tec) {
			test = tec[c]
		}
		line := fmt.Sprintf("%*d  %*s  %*s", cw, c, aw, group(trc[c]), bw, group(test))
		if c < len(tr.Classes) && tr.Classes[c] != "" {
			line += "  " + tr.Classes[c]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
