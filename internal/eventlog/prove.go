package eventlog

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// Proof is an RFC 6962 inclusion proof of one record in the tree of a
// signed checkpoint: with the checkpoint's root hash, anyone can check
// that the record (its exact line) is in the log the device signed,
// without the rest of the log.
type Proof struct {
	Seq        uint64   `json:"seq"`
	Line       string   `json:"line"`
	TreeSize   uint64   `json:"tree_size"`
	Root       string   `json:"root"`
	Checkpoint string   `json:"checkpoint"`
	Hashes     []string `json:"proof"`
}

// Check verifies the proof against its root hash (not the checkpoint's
// signature: ParseCheckpoint does that).
func (p *Proof) Check() error {
	root, err := base64.StdEncoding.DecodeString(p.Root)
	if err != nil || len(root) != len(tlog.Hash{}) {
		return errors.New("inclusion proof: bad root hash")
	}
	proof := make(tlog.RecordProof, len(p.Hashes))
	for i, h := range p.Hashes {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(b) != len(tlog.Hash{}) {
			return fmt.Errorf("inclusion proof: bad hash %d", i)
		}
		copy(proof[i][:], b)
	}
	if p.Seq == 0 {
		return errors.New("inclusion proof: record 0 does not exist")
	}
	if err := tlog.CheckRecord(proof, int64(p.TreeSize), tlog.Hash(root), int64(p.Seq-1), tlog.RecordHash([]byte(p.Line))); err != nil {
		return fmt.Errorf("inclusion proof of record %d: %w", p.Seq, err)
	}
	return nil
}

// Prove computes the inclusion proof of record seq in the tree of
// checkpoint (a signed note; nil: the newest checkpoint record in the log
// that covers seq). With devicePub, the checkpoint's signature is checked.
// It reads the log once, in O(log n) memory.
func Prove(dir string, seq uint64, checkpoint []byte, devicePub ed25519.PublicKey) (*Proof, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("prove record %d: no log in %s", seq, dir)
	}
	if checkpoint == nil {
		if checkpoint, err = newestCheckpoint(dir, segs, seq); err != nil {
			return nil, err
		}
	}
	var cp Checkpoint
	if devicePub != nil {
		cp, err = ParseCheckpoint(checkpoint, devicePub)
	} else {
		body, _, _ := bytes.Cut(checkpoint, []byte("\n\n"))
		cp, err = ParseCheckpointBody(append(body, '\n'))
	}
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", seq, err)
	}
	if seq == 0 || seq > cp.Size {
		return nil, fmt.Errorf("prove record %d: the checkpoint covers records 1 to %d", seq, cp.Size)
	}
	p := &Proof{Seq: seq, TreeSize: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Checkpoint: string(checkpoint)}
	hashes, line, err := proofHashes(dir, segs, seq, cp.Size)
	if err != nil {
		return nil, err
	}
	p.Line = string(line)
	for _, h := range hashes {
		p.Hashes = append(p.Hashes, base64.StdEncoding.EncodeToString(h[:]))
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("prove record %d: the log does not match the checkpoint: %w", seq, err)
	}
	return p, nil
}

func newestCheckpoint(dir string, segs []segment, seq uint64) ([]byte, error) {
	var note []byte
	for _, s := range segs {
		_, err := forEachLine(dir, s, func(line []byte, h *lineHead) (bool, error) {
			if h.checkpoint && h.seq > seq {
				if r, err := ParseRecord(line); err == nil {
					note = []byte(r.Fields[fieldNote])
				}
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if note == nil {
		return nil, fmt.Errorf("prove record %d: no checkpoint in the log covers it yet", seq)
	}
	return note, nil
}

// proofHashes streams the log and computes the hash of every subtree of
// the proof.
func proofHashes(dir string, segs []segment, seq, size uint64) ([]tlog.Hash, []byte, error) {
	ranges := proofRanges(0, size, seq-1, nil)
	out := make([]tlog.Hash, len(ranges))
	acc := make([]merkle, len(ranges))
	order := make([]int, len(ranges))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int64cmp(ranges[a][0], ranges[b][0]) })
	var line []byte
	idx := segs[0].first - 1 // leaf index of the next line
	started := idx == 0
	_, err := forEachSegmentLine(dir, segs, func(l []byte, h *lineHead) (bool, error) {
		if !started {
			// The oldest segments were removed: the first record's tree edge
			// stands in for them, where the proof needs whole subtrees.
			if err := fromFrontier(l, idx, ranges, out); err != nil {
				return true, fmt.Errorf("prove record %d: %w", seq, err)
			}
			started = true
		}
		if idx >= size {
			return true, nil
		}
		if idx == seq-1 {
			line = slices.Clone(l)
		} else {
			k, _ := slices.BinarySearchFunc(order, idx, func(o int, x uint64) int {
				switch {
				case ranges[o][1] <= x:
					return -1
				case ranges[o][0] > x:
					return 1
				}
				return 0
			})
			acc[order[k]].add(tlog.RecordHash(l))
		}
		idx++
		return false, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if idx < size || line == nil {
		return nil, nil, fmt.Errorf("prove record %d: the log holds %d of the checkpoint's %d records", seq, idx, size)
	}
	for i, r := range ranges {
		if r[0] >= segs[0].first-1 {
			out[i] = acc[i].root()
		}
	}
	return out, line, nil
}

func fromFrontier(line []byte, n uint64, ranges [][2]uint64, out []tlog.Hash) error {
	r, err := ParseRecord(line)
	if err != nil || r.Code != CodeCheckpoint {
		return errors.New("the log's first record is not a checkpoint")
	}
	m, err := parseFrontier(n, r.Fields[fieldFront])
	if err != nil {
		return err
	}
	var lo uint64
	var subtrees [][2]uint64
	for b := 63; b >= 0; b-- {
		if n&(1<<b) != 0 {
			subtrees = append(subtrees, [2]uint64{lo, lo + 1<<b})
			lo += 1 << b
		}
	}
	for i, pr := range ranges {
		if pr[1] > n {
			continue
		}
		j := slices.Index(subtrees, pr)
		if j < 0 {
			return fmt.Errorf("records %d to %d were removed and the proof needs them", pr[0]+1, pr[1])
		}
		out[i] = m.stack[j]
	}
	return nil
}

// forEachSegmentLine runs forEachLine over segments in order.
func forEachSegmentLine(dir string, segs []segment, fn func([]byte, *lineHead) (bool, error)) (bool, error) {
	for _, s := range segs {
		stop, err := forEachLine(dir, s, fn)
		if stop || err != nil {
			return stop, err
		}
	}
	return false, nil
}
