package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gnsr/gnsr/gnn"
	"github.com/gnsr/gnsr/internal/atomicfile"
	"github.com/spf13/cobra"
)

func newPredictCmd() *cobra.Command {
	var modelPath, dataDir, dataset, graph, nodeSet, out, embeddings string
	cmd := &cobra.Command{
		Use:   "predict --model FILE --out preds.csv [flags]",
		Short: "Predict node classes with a saved model",
		Long: `Run a saved model (the seed-N.model that gnsr train --out writes) on a
dataset, full batch without dropout, and write each node's predicted class
and class probabilities as CSV: node, class, then one probability column per
class; on a --graph whose files name nodes otherwise than 0..N-1, an id
column after node gives each node's id in the files. --embeddings writes
the last hidden layer's output of the same nodes as a float32 .npy matrix
(nodes × width), for downstream use.

The dataset defaults to the one the model was trained on; any dataset whose
features have the model's width will do, its labels unused. --nodes picks
the nodes: all of them, a part of the split the model was trained with, or
a list of node indices; for a few nodes of a big graph, only the nodes
within as many hops as the model has layers are computed. Otherwise the
built-in models run layer by layer over blocks of 16,384 nodes with all
their edges, so that memory holds a block's intermediate values, not the
whole graph's; either way the numbers are those of the whole graph, bit
for bit.`,
		Example: `  gnsr predict --model runs/cora/seed-0.model --out cora-preds.csv
  gnsr predict --model runs/cora/seed-0.model --nodes all --out all.csv --embeddings cora-h.npy
  gnsr predict --model runs/big/seed-0.model --nodes 12,40117,999999 --out three.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" || out == "" {
				return fmt.Errorf("--model and --out are required")
			}
			m, err := gnn.LoadModel(modelPath)
			if err != nil {
				return err
			}
			data, dataset, err := modelData(cmd, m, dataDir, dataset, graph)
			if err != nil {
				return fmt.Errorf("%s: %w", modelPath, err)
			}
			var nodes []int
			switch nodeSet {
			case "all":
			case "train", "val", "test":
				split, err := data.ForSeed(m.Info.Seed)
				if err != nil {
					return err
				}
				nodes = map[string][]int{"train": split.Train, "val": split.Val, "test": split.Test}[nodeSet]
			default:
				if nodes, err = nodeList(nodeSet, data.Graph.NumNodes()); err != nil {
					return err
				}
			}
			p, err := m.PredictData(data, nodes)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", modelPath, dataset, err)
			}
			if err := writePredictions(out, p, data.NodeIDs, m.Info.ClassNames); err != nil {
				return err
			}
			if embeddings != "" {
				if p.Embeddings == nil {
					return fmt.Errorf("--embeddings: the model has one layer, no hidden layer to write")
				}
				if err := writeNPY(embeddings, p.Embeddings, len(p.Nodes), p.EmbeddingWidth); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d nodes of %s predicted into %s\n", modelPath, len(p.Nodes), dataset, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&modelPath, "model", "", "saved model file (required), e.g. DIR/seed-0.model of gnsr train --out DIR")
	fl.StringVar(&dataset, "dataset", "", "dataset to predict on (default: the model's)")
	fl.StringVar(&graph, "graph", "", "a graph directory to predict on (default: the one a model trained with --graph records)")
	fl.StringVar(&dataDir, "data-dir", "", "data root holding <dataset>/raw/ (default $GNSR_DATA, else the user cache directory)")
	fl.StringVar(&nodeSet, "nodes", "test", "which nodes: all, train, val or test (the split of the model's seed), or node indices 0..N-1 such as 3,17,42 (only what they depend on is computed)")
	fl.StringVar(&out, "out", "", "CSV file to write (required): node, class, one probability per class")
	fl.StringVar(&embeddings, "embeddings", "", "also write the nodes' last hidden layer as a float32 .npy matrix")
	return cmd
}

// nodeList parses a --nodes list of node indices of a graph of n nodes,
// such as "3,17,42".
func nodeList(list string, n int) ([]int, error) {
	fields := strings.Split(list, ",")
	if len(fields) > n {
		return nil, fmt.Errorf("--nodes: %d indices for a graph of %d nodes", len(fields), n)
	}
	nodes := make([]int, len(fields))
	for i, f := range fields {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 || v >= n {
			return nil, fmt.Errorf("--nodes %q: want all, train, val, test or node indices in [0, %d), such as 3,17,42", list, n)
		}
		nodes[i] = v
	}
	return nodes, nil
}

// writePredictions writes p as CSV to path, atomically. With ids (a user's
// graph whose files name nodes otherwise than 0..N-1), an id column beside
// the node index gives each node's id in the files.
func writePredictions(path string, p *gnn.Prediction, ids []int64, names []string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		b := bufio.NewWriter(w)
		b.WriteString("node")
		if ids != nil {
			b.WriteString(",id")
		}
		b.WriteString(",class")
		for c := range p.Classes {
			name := strconv.Itoa(c)
			if c < len(names) {
				name = names[c]
			}
			fmt.Fprintf(b, ",p_%s", name)
		}
		b.WriteString("\n")
		for i, v := range p.Nodes {
			fmt.Fprintf(b, "%d", v)
			if ids != nil {
				fmt.Fprintf(b, ",%d", ids[v])
			}
			fmt.Fprintf(b, ",%d", p.Class(i))
			for _, q := range p.Probs[i*p.Classes : (i+1)*p.Classes] {
				b.WriteString(",")
				b.WriteString(strconv.FormatFloat(float64(q), 'g', 7, 32))
			}
			b.WriteString("\n")
		}
		return b.Flush()
	})
}

// writeNPY writes the rows×cols float32 matrix data as a NumPy .npy file
// (format 1.0, little-endian, C order), atomically.
func writeNPY(path string, data []float32, rows, cols int) error {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	// Pad so that the data starts at a multiple of 64 bytes, ending in \n.
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	return atomicfile.Write(path, func(w io.Writer) error {
		b := bufio.NewWriter(w)
		b.WriteString("\x93NUMPY\x01\x00")
		binary.Write(b, binary.LittleEndian, uint16(len(header)))
		b.WriteString(header)
		var buf [4]byte
		for _, v := range data {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			b.Write(buf[:])
		}
		return b.Flush()
	})
}
