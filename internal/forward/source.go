package forward

import (
	"context"

	"github.com/medguard/medguard/internal/eventlog"
)

// Entry is one stored entry of the event log as the forwarder needs it.
type Entry struct {
	// Event is the decoded entry.
	Event eventlog.Event
	// MAC is the entry's MAC in the log's hash chain.
	MAC []byte
	// Line is the entry exactly as the log stored it (its canonical line,
	// without a trailing newline). It is what the receiver verifies.
	Line []byte
}

// Source is the event log as the forwarder reads it. The Security Event
// Log satisfies it through LogSource; tests pass a fake.
//
// Read returns up to max entries with sequence numbers ≥ from, oldest
// first, or none when from is past the end. If the log no longer holds from
// (it was pruned), Read starts at the oldest entry it holds, so the caller
// sees the gap. Last returns the sequence number of the newest entry (0 if
// none). Wait blocks until an entry with a sequence number > after exists,
// or ctx ends.
type Source interface {
	Read(from uint64, max int) ([]Entry, error)
	Last() uint64
	Wait(ctx context.Context, after uint64) error
}

// Cursor persists one destination's position: the sequence number of the
// next entry to send. Load returns 0 if nothing was stored yet.
type Cursor interface {
	Load() (uint64, error)
	Store(next uint64) error
}
