package eventlog

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// lookahead is how many records the classifier may look ahead to tell an
// insertion or reordering from a modification or deletion.
const lookahead = 8

// classifier checks the chain, the sequence numbers and the checkpoints of
// evaluated items in log order, and classifies what it finds.
type classifier struct {
	pub        ed25519.PublicKey
	strictHead bool // a log must begin at 1 or where a removal says

	rep     Report
	started bool
	resync  bool // after damage, take the next record as the new baseline
	expect  uint64
	last    [macSize]byte
	tree    merkle
	treeOK  bool
	macBad  uint64

	window    []*item
	run       *int // index in rep.Damage of a provisional forged-run damage
	lastEpoch uint64
	firstKept uint64 // newest legitimate start of the log (log.segments.removed)
	want      uint64 // tree size whose root to capture (external checkpoint)
	rootWant  *tlog.Hash
	headSeq   uint64
	headMAC   *[macSize]byte
	lastSeg   string
}

func (c *classifier) push(it *item) {
	c.window = append(c.window, it)
	if len(c.window) > lookahead {
		c.decide()
	}
}

func (c *classifier) drain() {
	for len(c.window) > 0 {
		c.decide()
	}
}

func (c *classifier) addDamage(k Kind, seq uint64, it *item, format string, a ...any) int {
	d := Damage{Kind: k, Seq: seq, Detail: fmt.Sprintf(format, a...)}
	if it != nil {
		d.Segment, d.Offset = it.seg, it.off
	}
	if len(c.rep.Damage) < maxDamage {
		c.rep.Damage = append(c.rep.Damage, d)
	}
	c.resync = true
	return len(c.rep.Damage) - 1
}

func (c *classifier) decide() {
	it, ahead := c.window[0], c.window[1:]
	c.window = c.window[1:]
	if it.torn {
		c.tornLine(it, len(c.window) == 0)
		return
	}
	c.rep.Records++
	if !c.started {
		c.begin(it)
	}
	switch {
	case it.displaced:
		// Reported with its reordering; the chain continues after the
		// record that came too early.
	case !it.ok:
		c.addDamage(KindModified, c.expect, it, "line is not a canonical record")
		c.expect++
	case it.mac == 0 || it.mac == -1 && it.h.epoch < c.lastEpoch:
		// Epochs never decrease: an unverifiable record claiming an
		// earlier epoch than its predecessor is not genuine.
		c.macFailed(it, ahead)
	default:
		c.chain(it, ahead)
	}
	if it.ok {
		c.lastEpoch = it.h.epoch
		c.rep.LastSeq = max(c.rep.LastSeq, it.h.seq)
		if it.h.checkpoint {
			c.checkpoint(it)
		}
		if it.h.removal && it.mac == 1 {
			c.removal(it)
		}
		if it.h.seq == c.headSeq && c.headSeq != 0 {
			m := it.h.mac
			c.headMAC = &m
		}
	}
	if c.treeOK {
		c.tree.add(it.leaf)
		if c.tree.n == c.want && c.want != 0 {
			r := c.tree.root()
			c.rootWant = &r
		}
	}
}

func (c *classifier) begin(it *item) {
	c.started = true
	c.lastSeg = it.seg
	if !it.ok {
		c.expect = 1
		return
	}
	c.rep.FirstSeq = it.h.seq
	if it.h.seq == 1 {
		c.expect, c.treeOK = 1, true
		if c.want == 0 && c.rootWant == nil {
			r := c.tree.root()
			c.rootWant = &r
		}
		return
	}
	// A log (or a forwarded stream) that begins later: take its first
	// record as the baseline; Finish checks that the start is legitimate.
	c.resync = true
}

func (c *classifier) macFailed(it *item, ahead []*item) {
	c.macBad++
	if c.run != nil && it.h.prev == c.last && it.h.seq == c.expect {
		// The forged chain goes on: one finding for all of it.
		c.last, c.expect = it.h.mac, it.h.seq+1
		return
	}
	var nx *item
	if len(ahead) > 0 && !ahead[0].torn && ahead[0].ok {
		nx = ahead[0]
	}
	seq := it.h.seq
	if c.started && !c.resync {
		seq = c.expect // the claimed number may be the damaged byte
	}
	switch {
	case nx != nil && nx.mac == 1 && nx.h.prev == it.h.prev:
		// The next genuine record chains to this one's predecessor: this
		// one was put in between.
		c.addDamage(KindInserted, seq, it, "record %d does not verify and the next record chains past it", it.h.seq)
		c.resync = false // the chain continues from the record before
		return
	case nx != nil && nx.mac == 0 && nx.h.prev == it.h.mac:
		// A chain of records that do not verify: forged without the key.
		// Modified, unless a checkpoint inside it shows the numbering
		// shifted (then records were inserted or deleted).
		i := c.addDamage(KindModified, seq, it, "record %d and the records chained to it do not verify: forged without the key", seq)
		c.run = &i
	default:
		c.addDamage(KindModified, seq, it, "record %d does not verify: its bytes were changed", seq)
	}
	c.last, c.expect = it.h.mac, it.h.seq+1
}

func (c *classifier) chain(it *item, ahead []*item) {
	if it.mac == 1 {
		c.rep.MACVerified++
		c.run = nil
	} else {
		c.rep.MACUnchecked++
	}
	if c.resync {
		c.resync = false
	} else if it.h.prev != c.last || it.h.seq != c.expect {
		c.chainBreak(it, ahead)
		c.resync = false // this record is the new baseline, or skipped
	}
	if it.h.seq >= c.expect {
		c.last, c.expect = it.h.mac, it.h.seq+1
	}
}

func (c *classifier) chainBreak(it *item, ahead []*item) {
	switch {
	case it.h.seq > c.expect:
		for _, a := range ahead {
			if a.ok && a.mac != 0 && a.h.seq == c.expect && a.h.prev == c.last {
				a.displaced = true
				c.addDamage(KindReordered, c.expect, it, "record %d comes before record %d", it.h.seq, c.expect)
				return
			}
		}
		c.addDamage(KindDeleted, c.expect, it, "records %d to %d are missing", c.expect, it.h.seq-1)
	case it.h.seq < c.expect:
		c.addDamage(KindInserted, it.h.seq, it, "record %d appears again after record %d (duplicated or replayed)", it.h.seq, c.expect-1)
	default:
		c.addDamage(KindInserted, it.h.seq, it, "record %d chains to a record that is not its predecessor", it.h.seq)
	}
}

// checkpoint checks a checkpoint record: its signature, its place in the
// numbering and the tree it commits to (IEC 62443-4-2 CR 3.9).
func (c *classifier) checkpoint(it *item) {
	r, err := ParseRecord(it.line)
	if err != nil {
		return // already a MAC failure or malformed
	}
	if c.pub == nil {
		return
	}
	before := c.rep.Checkpoints
	defer func() {
		if c.rep.Checkpoints == before {
			c.rep.CheckpointsUnverified++
		}
	}()
	cp, err := ParseCheckpoint([]byte(r.Fields[fieldNote]), c.pub)
	if err != nil {
		if it.mac != 0 {
			c.addDamage(KindForgedCheckpoint, it.h.seq, it, "checkpoint in record %d: %v", it.h.seq, err)
		}
		return
	}
	if it.h.seq != cp.Size+1 && c.run != nil && c.rep.Damage[*c.run].Kind == KindModified {
		k := KindInserted
		if it.h.seq < cp.Size+1 {
			k = KindDeleted
		}
		d := &c.rep.Damage[*c.run]
		d.Kind = k
		d.Detail = fmt.Sprintf("the records from %d on were renumbered (the signed checkpoint of %d records sits at record %d) and do not verify: records were %s and the chain forged without the key", d.Seq, cp.Size, it.h.seq, k)
		c.run = nil
	}
	if it.mac == 0 {
		return
	}
	switch {
	case !c.treeOK:
		if m, err := parseFrontierCheck(cp.Size, r.Fields[fieldFront], cp.Root); err == nil && cp.Size+1 == it.h.seq {
			c.tree, c.treeOK = m, true
			if c.want == cp.Size {
				c.rootWant = &cp.Root
			}
		}
	case c.tree.n == cp.Size && c.tree.root() != cp.Root:
		if len(c.rep.Damage) == 0 {
			c.addDamage(KindModified, it.h.seq, it, "the records before checkpoint %d do not match its signed root hash", it.h.seq)
		}
		return
	case c.tree.n != cp.Size:
		return
	}
	c.rep.Checkpoints++
	c.rep.LastCheckpoint = cp.Size
}

func (c *classifier) removal(it *item) {
	r, err := ParseRecord(it.line)
	if err != nil {
		return
	}
	if v, err := strconv.ParseUint(r.Fields["first_kept"], 10, 64); err == nil && v > c.firstKept {
		c.firstKept = v
	}
}

func (c *classifier) tornLine(it *item, final bool) {
	if it.tornLast && final {
		c.rep.Crash = &Crash{Segment: it.seg, Offset: it.off, Bytes: len(it.line)}
		return
	}
	c.addDamage(KindTruncated, c.expect, it, "segment %s ends inside a record (%d bytes) and the log continues", it.seg, len(it.line))
}

// evidence is what says where the log must end.
type evidence struct {
	cp   *Checkpoint
	head *State
}

// finish applies the end-of-log evidence and completes the report.
func (c *classifier) finish(ev evidence) Report {
	c.drain()
	rep := &c.rep
	var notes []string
	if c.strictHead && rep.FirstSeq > 1 && (c.firstKept == 0 || rep.FirstSeq > c.firstKept) {
		from := max(c.firstKept, 1)
		c.addDamage(KindDeleted, from, nil, "the log begins at record %d; records %d to %d are missing without a removal under the size limit", rep.FirstSeq, from, rep.FirstSeq-1)
	}
	if ev.cp != nil {
		notes = append(notes, fmt.Sprintf("checkpoint of %d records", ev.cp.Size))
		c.endEvidence("checkpoint", ev.cp.Size, ev.cp.Epoch, func() bool { return c.rootWant != nil && *c.rootWant != ev.cp.Root }, c.rootWant != nil)
	}
	if ev.head != nil {
		notes = append(notes, fmt.Sprintf("device state at record %d", ev.head.Seq))
		c.endEvidence("device state", ev.head.Seq, ev.head.Epoch, func() bool { return c.headMAC != nil && string(c.headMAC[:]) != string(ev.head.MAC) }, c.headMAC != nil)
	}
	if len(notes) == 0 {
		rep.Evidence = "none"
		rep.Limits = append(rep.Limits, "no checkpoint from outside the log and no device state: records deleted from the end cannot be detected")
	} else {
		rep.Evidence = strings.Join(notes, ", ")
	}
	if rep.MACVerified == 0 && c.macBad > 0 {
		kept := rep.Damage[:0]
		for _, d := range rep.Damage {
			if d.Kind != KindModified && d.Kind != KindInserted {
				kept = append(kept, d)
			}
		}
		rep.Damage = append(kept, Damage{Kind: KindWrongKey, Seq: rep.FirstSeq, Detail: fmt.Sprintf("none of the %d MACs checked verifies: the key is not this log's", c.macBad)})
	}
	if rep.MACUnchecked > 0 {
		rep.Limits = append(rep.Limits, fmt.Sprintf("%d records of earlier key epochs could not be MAC-checked without the root key; they are covered only by the signed checkpoints", rep.MACUnchecked))
	}
	slices.SortStableFunc(rep.Damage, func(a, b Damage) int { return int64cmp(a.Seq, b.Seq) })
	rep.OK = len(rep.Damage) == 0
	if !rep.OK {
		rep.First = &rep.Damage[0]
	}
	return *rep
}

// endEvidence compares the log's end with a checkpoint or device state of
// size n in key epoch epoch.
func (c *classifier) endEvidence(what string, n, epoch uint64, diverged func() bool, compared bool) {
	last := c.rep.LastSeq
	switch {
	case n == 0:
		// It covers no record (a state sealed before the first one).
	case last < n:
		k := KindTruncated
		detail := fmt.Sprintf("the log ends at record %d but the %s covers %d records", last, what, n)
		if c.lastEpoch < epoch {
			k = KindRolledBack
			detail += fmt.Sprintf(", and its last record is of key epoch %d, older than the %s's %d: an older copy of the log (or the records of the newer epochs cut off: the two leave the same files)", c.lastEpoch, what, epoch)
		}
		c.addDamage(k, last+1, nil, "%s", detail)
	case diverged():
		c.addDamage(KindRolledBack, n, nil, "the log's first %d records differ from the %s: the log was replaced by another history (an older copy, continued)", n, what)
	case !compared:
		c.rep.Limits = append(c.rep.Limits, fmt.Sprintf("the %s could not be compared: the log's tree does not reach back to it", what))
	}
}
