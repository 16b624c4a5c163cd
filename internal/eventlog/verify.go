package eventlog

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Kind names a kind of damage a verification finds.
type Kind string

// The kinds of damage (docs/eventlog.md, "What a verifier proves").
const (
	KindModified         Kind = "modified"          // a record's bytes changed, or a record forged without the key
	KindDeleted          Kind = "deleted"           // records missing inside the log
	KindInserted         Kind = "inserted"          // a record that does not belong (forged, duplicated, replayed)
	KindReordered        Kind = "reordered"         // genuine records in the wrong order
	KindTruncated        Kind = "truncated"         // records missing at the end (within the key epoch of the evidence)
	KindRolledBack       Kind = "rolled-back"       // the log is an older copy, or diverges from a checkpoint
	KindForgedCheckpoint Kind = "forged-checkpoint" // a checkpoint whose signature does not verify with the device key
	KindWrongKey         Kind = "wrong-key"         // no MAC verifies: the verifier key is not this log's
)

// Damage is one finding.
type Damage struct {
	Kind    Kind   `json:"kind"`
	Seq     uint64 `json:"seq"` // the first affected sequence number
	Segment string `json:"segment,omitempty"`
	Offset  int64  `json:"offset,omitempty"`
	Detail  string `json:"detail"`
}

// Crash describes a torn final record: the trace of a crash while
// writing, never of an acknowledged event (unless evidence says it was).
type Crash struct {
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Bytes   int    `json:"bytes"`
}

// Report is the result of a verification.
type Report struct {
	OK           bool   `json:"ok"`
	Records      uint64 `json:"records"`
	FirstSeq     uint64 `json:"first_seq"`
	LastSeq      uint64 `json:"last_seq"`
	MACVerified  uint64 `json:"mac_verified"`
	MACUnchecked uint64 `json:"mac_unchecked"` // records of epochs whose key the verifier does not hold
	Checkpoints  uint64 `json:"checkpoints"`   // in-log checkpoints whose signature and tree verified
	// CheckpointsUnverified counts the in-log checkpoints that did not:
	// a bad signature or MAC, or a tree that does not match the records.
	CheckpointsUnverified uint64   `json:"checkpoints_unverified,omitempty"`
	LastCheckpoint        uint64   `json:"last_checkpoint_size"`
	Evidence              string   `json:"evidence"` // what said where the log must end
	First                 *Damage  `json:"first_damage,omitempty"`
	Damage                []Damage `json:"damage,omitempty"`
	Crash                 *Crash   `json:"crash,omitempty"`
	Limits                []string `json:"limits,omitempty"` // what this verification could not prove
}

// maxDamage bounds the findings a report keeps.
const maxDamage = 100

// ErrTampered marks a verification that found damage. It is a security
// failure, never an I/O error.
var ErrTampered = errors.New("event log damaged or tampered with")

// Err returns nil for a report without damage, else an error wrapping
// ErrTampered that names the first damage.
func (r *Report) Err() error {
	if r.OK {
		return nil
	}
	return fmt.Errorf("%w: %s at record %d: %s", ErrTampered, r.First.Kind, r.First.Seq, r.First.Detail)
}

// keyring derives epoch keys on demand. With the root key it gives every
// epoch's key; with only a current key (on-device verification after the
// root key was erased) it gives that epoch and the later ones.
type keyring struct {
	mu     sync.Mutex // guards keys, budget
	base   uint64     // epoch of keys[0]
	keys   [][]byte
	budget uint64 // derivations still allowed
}

// maxEpochJump bounds the derivations a log may cost beyond one per
// record: in a genuine log the epoch grows by at most one from record to
// record (and once by more, after a truncation was detected), so a
// damaged or hostile epoch number must not make the verifier derive keys
// for hours.
const maxEpochJump = 4096

func newKeyring(key []byte, epoch uint64) *keyring {
	if len(key) == 0 {
		return nil
	}
	// The key is used as given: a root key of another length than 32
	// bytes is an HMAC key like any other (evolved keys are 32 bytes).
	return &keyring{base: epoch, keys: [][]byte{append([]byte(nil), key...)}, budget: maxEpochJump}
}

// key returns epoch e's key and 1; nil and -1 if the ring cannot know it
// (an epoch before its base); nil and 0 if no genuine record can claim e
// (beyond maxEpochJump past the newest epoch derived).
func (k *keyring) key(e uint64) ([]byte, int8) {
	if k == nil || e < k.base {
		return nil, -1
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.budget++ // one derivation per record looked up
	top := k.base + uint64(len(k.keys)) - 1
	if e > top && e-top > k.budget {
		return nil, 0
	}
	if e > top {
		k.budget -= e - top
	}
	for top < e {
		k.keys = append(k.keys, evolve(k.keys[len(k.keys)-1], top+1))
		top++
	}
	return k.keys[e-k.base], 1
}

func (k *keyring) zero() {
	if k != nil {
		k.mu.Lock()
		for _, key := range k.keys {
			clear(key)
		}
		k.mu.Unlock()
	}
}

// item is one line as the classifier sees it.
type item struct {
	h         lineHead
	ok        bool // the line has a record's fixed prefix and suffix
	mac       int8 // 1 verified, 0 failed, -1 not checkable (no key)
	torn      bool // a torn line at the end of a segment
	tornLast  bool // … of the last segment
	line      []byte
	leaf      tlog.Hash
	seg       string
	off       int64
	displaced bool // the earlier half of a reported reordering
}

// evaluate fills in what can be computed for a line independently of the
// others: the head, the MAC check and the Merkle leaf hash.
func (it *item) evaluate(ring *keyring, sc *scratch) {
	it.leaf = sc.leafHash(it.line)
	it.ok = parseHead(it.line, &it.h)
	if !it.ok {
		it.mac = 0
		return
	}
	m := sc.macers[it.h.epoch]
	if m == nil {
		key, st := ring.key(it.h.epoch)
		if st != 1 {
			it.mac = st
			return
		}
		m = newMacer(key, it.h.epoch)
		sc.macers[it.h.epoch] = m
	}
	// IEC 62443-4-2 CR 3.9 (protection of audit information): a record
	// counts only if its MAC verifies under its epoch's key.
	if m.check(it.h.body, it.h.mac[:]) {
		it.mac = 1
	} else {
		it.mac = 0
	}
}

// scratch is a worker's reusable state: a MAC per epoch and a hasher for
// leaves (kept apart from the MACs: a leaf hash is no MAC).
type scratch struct {
	macers map[uint64]*macer
	leaf   hash.Hash
}

func newScratch() *scratch {
	return &scratch{macers: map[uint64]*macer{}, leaf: sha256.New()}
}

// leafHash is tlog.RecordHash (SHA-256 of 0x00 || line) without its
// allocations.
func (s *scratch) leafHash(line []byte) tlog.Hash {
	var h tlog.Hash
	s.leaf.Reset()
	s.leaf.Write([]byte{0})
	s.leaf.Write(line)
	s.leaf.Sum(h[:0])
	return h
}
