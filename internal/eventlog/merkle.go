package eventlog

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// merkle is the right edge of an RFC 6962 Merkle tree over the stored
// lines (the leaf of the record with sequence number s is leaf s-1): the
// hashes of its complete subtrees, largest first. It needs O(log n) memory
// and computes the same root as tlog.TreeHash.
type merkle struct {
	n     uint64
	stack []tlog.Hash
}

var emptyTreeHash = tlog.Hash(sha256.Sum256(nil))

// add appends a leaf hash (tlog.RecordHash of the line).
func (m *merkle) add(h tlog.Hash) {
	m.stack = append(m.stack, h)
	for x := m.n; x&1 == 1; x >>= 1 {
		k := len(m.stack)
		m.stack[k-2] = tlog.NodeHash(m.stack[k-2], m.stack[k-1])
		m.stack = m.stack[:k-1]
	}
	m.n++
}

// root returns the tree hash of the leaves added so far.
func (m *merkle) root() tlog.Hash {
	if m.n == 0 {
		return emptyTreeHash
	}
	h := m.stack[len(m.stack)-1]
	for i := len(m.stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(m.stack[i], h)
	}
	return h
}

func (m *merkle) clone() merkle {
	return merkle{n: m.n, stack: append([]tlog.Hash(nil), m.stack...)}
}

// frontier encodes the tree's edge as space-separated base64 hashes.
func (m *merkle) frontier() string {
	parts := make([]string, len(m.stack))
	for i, h := range m.stack {
		parts[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return strings.Join(parts, " ")
}

// parseFrontier rebuilds the edge of a tree of n leaves.
func parseFrontier(n uint64, s string) (merkle, error) {
	var parts []string
	if s != "" {
		parts = strings.Split(s, " ")
	}
	want := 0
	for x := n; x > 0; x >>= 1 {
		want += int(x & 1)
	}
	if len(parts) != want {
		return merkle{}, fmt.Errorf("frontier of a tree of %d leaves has %d hashes, want %d", n, len(parts), want)
	}
	m := merkle{n: n, stack: make([]tlog.Hash, len(parts))}
	for i, p := range parts {
		b, err := base64.StdEncoding.Strict().DecodeString(p)
		if err != nil || len(b) != len(tlog.Hash{}) {
			return merkle{}, fmt.Errorf("frontier hash %d is not base64 of %d bytes", i, len(tlog.Hash{}))
		}
		copy(m.stack[i][:], b)
	}
	return m, nil
}

// proofRanges returns the leaf ranges [lo,hi) whose subtree hashes form
// the inclusion proof of leaf i in a tree of n leaves, in the order of
// tlog.RecordProof (RFC 6962, section 2.1.1).
func proofRanges(lo, hi, i uint64, out [][2]uint64) [][2]uint64 {
	if hi-lo <= 1 {
		return out
	}
	k := uint64(1)
	for k<<1 < hi-lo {
		k <<= 1
	}
	if i < lo+k {
		out = proofRanges(lo, lo+k, i, out)
		return append(out, [2]uint64{lo + k, hi})
	}
	out = proofRanges(lo+k, hi, i, out)
	return append(out, [2]uint64{lo, lo + k})
}
