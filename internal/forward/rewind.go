package forward

import "time"

// rewind tracks which sent entries are safe: RFC 5425 gives the sender no
// acknowledgement, so an entry counts as delivered only when the receiver's
// TCP has acknowledged its last byte and a resend window has passed since
// (time for the receiver to read it from its socket). Everything after the
// safe point is sent again after a reconnect.
//
// A mark is taken at every flush: "entries before seq end at wire offset
// off". Marks are few (one per flush), and the list is bounded: when it is
// full the oldest marks are merged, which only moves the safe point back.
//
// rewind is owned by one destination goroutine; it is not safe for
// concurrent use.
type rewind struct {
	window time.Duration
	safe   uint64 // every entry < safe is delivered
	marks  []mark
}

type mark struct {
	seq   uint64    // entries < seq end at or before off
	off   uint64    // wire bytes written when the mark was taken
	acked time.Time // when off was first seen acknowledged; zero if not yet
}

const maxMarks = 4096

func newRewind(next uint64, window time.Duration) *rewind {
	return &rewind{window: window, safe: next}
}

// flushed records that entries < seq are on the wire, up to wire offset off.
func (r *rewind) flushed(seq, off uint64) {
	if n := len(r.marks); n > 0 && r.marks[n-1].seq == seq {
		r.marks[n-1].off = off
		return
	}
	if len(r.marks) == maxMarks {
		// Drop every other mark of the older half: the safe point can only
		// lag more, never lead.
		half := r.marks[:maxMarks/2]
		k := 0
		for i := 1; i < len(half); i += 2 {
			half[k] = half[i]
			k++
		}
		r.marks = append(r.marks[:k], r.marks[maxMarks/2:]...)
	}
	r.marks = append(r.marks, mark{seq: seq, off: off})
}

// acked records that the receiver has acknowledged wire bytes up to acked
// at now, and returns the new safe point.
func (r *rewind) acked(acked uint64, now time.Time) uint64 {
	for i := range r.marks {
		m := &r.marks[i]
		if m.off > acked {
			break
		}
		if m.acked.IsZero() {
			m.acked = now
		}
		if now.Sub(m.acked) >= r.window {
			r.safe = m.seq
		}
	}
	j := 0
	for j < len(r.marks) && r.marks[j].seq <= r.safe {
		j++
	}
	r.marks = append(r.marks[:0], r.marks[j:]...)
	return r.safe
}

// reset forgets all marks after a connection is lost and returns the
// point to resend from.
func (r *rewind) reset() uint64 {
	r.marks = r.marks[:0]
	return r.safe
}
