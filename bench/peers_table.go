package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gnsr/gnsr/report"
)

// PeerRow is one row of the peer table: a cell run by gnsr and by the peer.
type PeerRow struct {
	Cell
	GNSR, Peer Summary
}

// Ratio returns gnsr's epoch time over the peer's (below 1: gnsr is
// faster), NaN when either is missing.
func (r PeerRow) Ratio() float64 {
	if r.GNSR.N == 0 || r.Peer.N == 0 || r.Peer.EpochMs == 0 {
		return math.NaN()
	}
	return r.GNSR.EpochMs / r.Peer.EpochMs
}

// PeersTable computes the peer table from records alone: per dataset and
// model of the plan that pair (MLPs on MNIST, graph models on the graphs),
// a row for vanilla and one for each NSR λ recorded, at the model's epochs
// when the plan sets them.
func PeersTable(recs []Record) (Plan, []PeerRow) {
	p, _ := planOf(recs, TablePeers)
	var rows []PeerRow
	for _, ds := range p.Datasets {
		for _, m := range p.Models {
			if !pairs(m, ds) {
				continue
			}
			epochs := p.Epochs[m]
			g := cellRecords(recs, TablePeers, ImplGNSR, m, ds)
			t := cellRecords(recs, TablePeers, ImplTorch, m, ds)
			cells := []Cell{{Model: m, Dataset: ds, Variant: Vanilla, Epochs: epochs}}
			for _, r := range append(g, t...) {
				c := Cell{Model: m, Dataset: ds, Variant: NSR, Layer: r.Layer, Lambda: r.Lambda, Epochs: epochs}
				if r.Variant == NSR && r.TrainEpochs == epochs && !containsCell(cells, c) {
					cells = append(cells, c)
				}
			}
			for _, c := range cells {
				rows = append(rows, PeerRow{Cell: c,
					GNSR: summarize(selectRuns(g, c, p.Seeds)),
					Peer: summarize(selectRuns(t, c, p.Seeds))})
			}
		}
	}
	return p, rows
}

func containsCell(cells []Cell, c Cell) bool {
	for _, x := range cells {
		if x == c {
			return true
		}
	}
	return false
}

// PeersMarkdown renders the peer table of recs as markdown, from the
// records alone.
func PeersMarkdown(recs []Record) []byte {
	p, rows := PeersTable(recs)
	var b strings.Builder
	peerRecs := markdownStart(&b, "gnsr against the PyTorch peer", TablePeers, "peers.jsonl", "gnsr bench peers", recs)
	if peerRecs == nil {
		return []byte(b.String())
	}
	b.WriteString("## Protocol\n\n")
	var graphRecs, mnistRecs []Record
	for _, r := range peerRecs {
		if r.Dataset == MLPDataset {
			// Only the runs the rows show: not those of a quick run at
			// other epochs.
			if r.TrainEpochs == p.Epochs[r.Model] {
				mnistRecs = append(mnistRecs, r)
			}
		} else {
			graphRecs = append(graphRecs, r)
		}
	}
	var graphSets []string
	for _, d := range p.Datasets {
		if d != MLPDataset {
			graphSets = append(graphSets, d)
		}
	}
	peer := distinct(peerRecs, func(r Record) string { return r.Meta.Peer })
	if len(graphRecs) > 0 {
		writeProtocol(&b, graphRecs, graphSets)
		b.WriteString("- **Peer (graphs)**: `gnn_torch.py` of the shared folder, dense features as PyTorch Geometric keeps them; NSR with the λ chosen in the GNN table, on the hidden layer, zero responses masked.\n")
	}
	if len(mnistRecs) > 0 {
		fmt.Fprintf(&b, "- **MNIST**: the published MNIST protocol of the MLP table (`mlp.md`: 10,000 training images held out for validation, plain SGD learning rate %s, batch %s, Xavier-normal weights, zero biases) for %s (the published protocol has 100); NSR on the logits with the published λ and a 5-batch queue. Peer: `mlp_torch.py` of the shared folder.\n",
			distinct(mnistRecs, func(r Record) string { return fmt.Sprint(r.LR) }),
			distinct(mnistRecs, func(r Record) string { return fmt.Sprint(r.Batch) }),
			epochsPhrase(distinct(mnistRecs, func(r Record) string { return fmt.Sprint(r.Epochs) })))
	}
	fmt.Fprintf(&b, "- **Peer version**: %s.\n", peer)
	b.WriteString("- **Pairing**: the same protocol and seeds 0…n−1, run one after the other in one invocation; the random draws differ (initialisation, dropout, batch order, and the per-seed split on Amazon and of MNIST's validation images: numpy's and torch's generators in the peer, gnsr's own PCG streams), so seeds are not paired, only the distributions compared.\n")
	fmt.Fprintf(&b, "- **Reported**: test accuracy at the epoch of best validation accuracy, mean ± sample std (n−1) over %s, in %%; epoch ms: median over seeds of each run's median training step (evaluation excluded). Ratio: gnsr's epoch time over the peer's (below 1: gnsr faster).\n", seedRange(p.Seeds))
	writeMachines(&b, peerRecs)
	b.WriteString("\n## Results\n\n")
	b.WriteString("| model | dataset | variant | gnsr test acc (%) | peer test acc (%) | gnsr − peer (points) | gnsr epoch ms | peer epoch ms | ratio gnsr/peer |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		v := "vanilla"
		if r.Variant == NSR {
			v = fmt.Sprintf("NSR λ=%g", r.Lambda)
		}
		diff := math.NaN()
		if r.GNSR.N > 0 && r.Peer.N > 0 {
			diff = 100 * (r.GNSR.Mean - r.Peer.Mean)
		}
		ratio := "—"
		if x := r.Ratio(); !math.IsNaN(x) {
			ratio = fmt.Sprintf("%.2f", x)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Model, r.Dataset, v, pct(r.GNSR, p.Seeds), pct(r.Peer, p.Seeds), signed(diff, ".2f"), ms(r.GNSR), ms(r.Peer), ratio)
	}
	return []byte(b.String())
}

// WritePeersReport writes peers.md into dir from recs alone, atomically.
func WritePeersReport(dir string, recs []Record) error {
	if err := report.WriteFileAtomic(filepath.Join(dir, TablePeers+".md"), PeersMarkdown(recs)); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
