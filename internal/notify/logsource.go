package notify

import (
	"context"

	"github.com/medguard/medguard/internal/eventlog"
)

// RecordReader is the part of the Security Event Log (*eventlog.Log) the
// notifier reads.
type RecordReader interface {
	Read(from uint64, max int) ([]eventlog.Record, error)
	Last() uint64
	Wait(ctx context.Context, after uint64) error
}

// LogSource makes a Source of the event log.
func LogSource(l RecordReader) Source { return logSource{l} }

type logSource struct{ l RecordReader }

func (s logSource) Events(from uint64, max int) ([]eventlog.Event, error) {
	recs, err := s.l.Read(from, max)
	out := make([]eventlog.Event, len(recs))
	for i := range recs {
		out[i] = recs[i].Event
	}
	return out, err
}

func (s logSource) Last() uint64                                 { return s.l.Last() }
func (s logSource) Wait(ctx context.Context, after uint64) error { return s.l.Wait(ctx, after) }
