package forwardtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
)

// Source is an in-memory event log for unit tests of the forwarder: its
// lines are the events' JSON and its MACs an HMAC chain under a fixed test
// key, standing in for the real log's.
type Source struct {
	mu      sync.Mutex // guards the fields below
	first   uint64     // seq of entries[0]
	entries []forward.Entry
	changed chan struct{} // closed and replaced on every append
}

// NewSource returns an empty source.
func NewSource() *Source { return &Source{first: 1, changed: make(chan struct{})} }

// Append adds an event and returns its sequence number.
func (s *Source) Append(e eventlog.Event) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Seq = s.first + uint64(len(s.entries))
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	if e.BootID == "" {
		e.BootID = "test-boot"
	}
	line, _ := json.Marshal(e)
	var prev []byte
	if n := len(s.entries); n > 0 {
		prev = s.entries[n-1].MAC
	}
	m := hmac.New(sha256.New, []byte("forwardtest"))
	m.Write(prev)
	m.Write(line)
	s.entries = append(s.entries, forward.Entry{Event: e, MAC: m.Sum(nil), Line: line})
	close(s.changed)
	s.changed = make(chan struct{})
	return e.Seq
}

// AppendN appends n events of the given code.
func (s *Source) AppendN(n int, code string) {
	for i := range n {
		s.Append(eventlog.Event{Code: code, Category: eventlog.CategorySystem, Severity: eventlog.SeverityInfo,
			Actor: "system", Message: fmt.Sprintf("test event %d", i)})
	}
}

// Prune drops every entry before seq, as a log rotating would.
func (s *Source) Prune(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.first {
		return
	}
	n := min(int(seq-s.first), len(s.entries))
	s.entries = append([]forward.Entry(nil), s.entries[n:]...)
	s.first += uint64(n)
}

// Read implements forward.Source.
func (s *Source) Read(from uint64, max int) ([]forward.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from = maxU(from, s.first)
	i := int(from - s.first)
	if i >= len(s.entries) {
		return nil, nil
	}
	end := min(len(s.entries), i+max)
	return append([]forward.Entry(nil), s.entries[i:end]...), nil
}

// Last implements forward.Source.
func (s *Source) Last() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first + uint64(len(s.entries)) - 1
}

// Wait implements forward.Source.
func (s *Source) Wait(ctx context.Context, after uint64) error {
	for {
		s.mu.Lock()
		last, ch := s.first+uint64(len(s.entries))-1, s.changed
		s.mu.Unlock()
		if last > after {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Entry returns the entry with sequence number seq.
func (s *Source) Entry(seq uint64) forward.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entries[seq-s.first]
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// MemCursor is an in-memory forward.Cursor.
type MemCursor struct {
	mu   sync.Mutex // guards next
	next uint64
}

// Load implements forward.Cursor.
func (c *MemCursor) Load() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next, nil
}

// Store implements forward.Cursor.
func (c *MemCursor) Store(next uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = next
	return nil
}

// GenSource is a log of N entries generated on demand (for benchmarks of
// large backlogs without holding them in memory): entry i is a typical
// 300-byte record.
type GenSource struct{ N uint64 }

// Read implements forward.Source.
func (g GenSource) Read(from uint64, max int) ([]forward.Entry, error) {
	from = maxU(from, 1)
	var out []forward.Entry
	for s := from; s <= g.N && len(out) < max; s++ {
		out = append(out, GenEntry(s))
	}
	return out, nil
}

// Last implements forward.Source.
func (g GenSource) Last() uint64 { return g.N }

// Wait implements forward.Source.
func (g GenSource) Wait(ctx context.Context, after uint64) error {
	if g.N > after {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

var genTime = time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)

// GenEntry returns the generated entry seq.
func GenEntry(seq uint64) forward.Entry {
	e := eventlog.Event{Seq: seq, Time: genTime.Add(time.Duration(seq) * time.Millisecond), BootID: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Code: "auth.login.failed", Category: eventlog.CategoryAuth, Severity: eventlog.SeverityWarning,
		Actor: "nurse.station-4", Source: "10.20.30.40:51234", Message: "A login failed: wrong password."}
	line := fmt.Appendf(nil, `{"seq":%d,"time":"%s","boot":"%s","code":"%s","cat":"auth","sev":4,"actor":"%s","src":"%s","msg":"%s","epoch":%d,"prev":"%064x","mac":"%064x"}`,
		seq, e.Time.Format(time.RFC3339Nano), e.BootID, e.Code, e.Actor, e.Source, e.Message, seq/4096, seq-1, seq)
	mac := make([]byte, 32)
	binary.BigEndian.PutUint64(mac[24:], seq)
	return forward.Entry{Event: e, MAC: mac, Line: line}
}
