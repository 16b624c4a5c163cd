package notify

import (
	"context"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// memLog is an in-memory event log that is both the notifier's Source and
// its Recorder, so acknowledgements come back as events, as with the real
// log.
type memLog struct {
	mu      sync.Mutex // guards events and changed
	events  []eventlog.Event
	changed chan struct{}
	fail    error // Record returns it, if set
}

func newMemLog() *memLog { return &memLog{changed: make(chan struct{})} }

func (m *memLog) Record(_ context.Context, e eventlog.Event) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return 0, m.fail
	}
	e.Seq = uint64(len(m.events) + 1)
	e.Time = time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC).Add(time.Duration(e.Seq) * time.Second)
	e.BootID = "boot-1"
	m.events = append(m.events, e)
	close(m.changed)
	m.changed = make(chan struct{})
	return e.Seq, nil
}

func (m *memLog) Events(from uint64, max int) ([]eventlog.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if from == 0 {
		from = 1
	}
	if int(from) > len(m.events) {
		return nil, nil
	}
	end := min(len(m.events), int(from)-1+max)
	return append([]eventlog.Event(nil), m.events[from-1:end]...), nil
}

func (m *memLog) Last() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.events))
}

func (m *memLog) Wait(ctx context.Context, after uint64) error {
	for {
		m.mu.Lock()
		n, ch := uint64(len(m.events)), m.changed
		m.mu.Unlock()
		if n > after {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// all returns every recorded event.
func (m *memLog) all() []eventlog.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]eventlog.Event(nil), m.events...)
}
