package device

import (
	"context"
	"log/slog"
	"sync"

	"github.com/medguard/medguard/internal/eventlog"
)

// bootRecorder stands in for the event log until the log is open: it keeps
// the events of the first boot steps (opening the key store comes before
// opening the log) and hands them to the log, in order, once it is
// attached. Every event also goes to the operational log.
type bootRecorder struct {
	logger *slog.Logger

	mu      sync.Mutex // guards the fields below
	log     eventlog.Recorder
	pending []eventlog.Event
	closed  bool // after detach: the operational log only
}

func (b *bootRecorder) Record(ctx context.Context, e eventlog.Event) (uint64, error) {
	b.logger.LogAttrs(ctx, slogLevel(e.Severity), e.Message,
		slog.String("code", e.Code), slog.String("category", string(e.Category)),
		slog.String("cause", e.Cause))
	b.mu.Lock()
	l := b.log
	if l == nil {
		if !b.closed {
			b.pending = append(b.pending, e)
		}
		b.mu.Unlock()
		return 0, nil
	}
	b.mu.Unlock()
	return l.Record(ctx, e)
}

// attach hands the pending events to l and sends all later ones there.
func (b *bootRecorder) attach(ctx context.Context, l eventlog.Recorder) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, e := range b.pending {
		if _, err := l.Record(ctx, e); err != nil {
			b.pending = b.pending[i:]
			return err
		}
	}
	b.pending = nil
	b.log = l
	return nil
}

// detach stops sending to the log (at shutdown, before it is closed).
func (b *bootRecorder) detach() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = nil
	b.closed = true
}

func slogLevel(s eventlog.Severity) slog.Level {
	switch {
	case s <= eventlog.SeverityError:
		return slog.LevelError
	case s == eventlog.SeverityWarning:
		return slog.LevelWarn
	case s == eventlog.SeverityDebug:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
