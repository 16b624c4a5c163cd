// Package eventlogtest provides an in-memory eventlog.Recorder for unit
// tests of the parts that write security events. Integration tests use the
// real log.
package eventlogtest

import (
	"context"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// Memory records events in a slice. The zero value is ready to use.
type Memory struct {
	mu     sync.Mutex // guards events
	events []eventlog.Event
}

// Record implements eventlog.Recorder.
func (m *Memory) Record(_ context.Context, e eventlog.Event) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.Seq = uint64(len(m.events) + 1)
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	m.events = append(m.events, e)
	return e.Seq, nil
}

// Events returns a copy of the recorded events, oldest first.
func (m *Memory) Events() []eventlog.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]eventlog.Event(nil), m.events...)
}

// Codes returns the codes of the recorded events, oldest first.
func (m *Memory) Codes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.events))
	for i, e := range m.events {
		out[i] = e.Code
	}
	return out
}
