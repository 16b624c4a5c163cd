package eventlog

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// flood coalesces floods of identical events (same code, category,
// severity, actor, source, message, cause, action and fields): in every
// window the first burst of them are recorded one by one, the rest are
// counted, and when the window ends one summary event carries the exact
// count. A caller whose event was counted waits for the summary to be
// durable and gets its sequence number, so a count is never acknowledged
// before it is on disk. It is owned by the writer goroutine.
type flood struct {
	burst  int
	window time.Duration
	m      map[string]*floodEntry
}

// maxFloodKeys bounds the memory of the detector; distinct events beyond
// it are never coalesced.
const maxFloodKeys = 4096

type floodEntry struct {
	ev          Event
	windowStart time.Time
	passed      int // recorded one by one in this window
	count       uint64
	first, last time.Time
	parked      []*request
}

func newFlood(burst int, window time.Duration) *flood {
	return &flood{burst: burst, window: window, m: make(map[string]*floodEntry)}
}

// floodable reports whether e may be coalesced: not the log's own events,
// and room for the summary's fields.
func floodable(e *Event) bool {
	return !strings.HasPrefix(e.Code, "log.") && len(e.Fields) <= maxFields-3
}

func floodKey(e *Event) string {
	var b strings.Builder
	for _, s := range []string{e.Code, string(e.Category), strconv.Itoa(int(e.Severity)), e.Actor, e.Source, e.Message, e.Cause, e.Action} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(1)
		b.WriteString(e.Fields[k])
		b.WriteByte(0)
	}
	return b.String()
}

// offer reports whether r was counted instead of recorded.
func (f *flood) offer(r *request, now time.Time) bool {
	if f.burst < 0 || r.fkey == "" {
		return false
	}
	k := r.fkey
	e := f.m[k]
	if e == nil {
		if len(f.m) >= maxFloodKeys {
			f.expire(now)
			if len(f.m) >= maxFloodKeys {
				return false
			}
		}
		e = &floodEntry{ev: r.ev, windowStart: now}
		e.ev.Fields = maps.Clone(r.ev.Fields) // the caller may reuse its map
		f.m[k] = e
	}
	if now.Sub(e.windowStart) >= f.window && e.count == 0 {
		e.windowStart, e.passed = now, 0
	}
	if e.passed < f.burst && e.count == 0 {
		e.passed++
		return false
	}
	if e.count == 0 {
		e.first = now
	}
	e.count++
	e.last = now
	e.parked = append(e.parked, r)
	return true
}

// flush appends the summaries of ended windows (all of them if final).
func (f *flood) flush(w *writer, now time.Time, final bool) {
	for k, e := range f.m {
		if e.count == 0 {
			if now.Sub(e.windowStart) >= 2*f.window {
				delete(f.m, k)
			}
			continue
		}
		if !final && now.Sub(e.windowStart) < f.window {
			continue
		}
		sum := e.ev
		sum.Fields = make(map[string]string, len(e.ev.Fields)+3)
		for fk, fv := range e.ev.Fields {
			sum.Fields[fk] = fv
		}
		sum.Fields["coalesced"] = strconv.FormatUint(e.count, 10)
		sum.Fields["coalesced_first"] = e.first.Format(time.RFC3339Nano)
		sum.Fields["coalesced_last"] = e.last.Format(time.RFC3339Nano)
		err := w.appendEvent(&sum)
		for _, r := range e.parked {
			if err != nil {
				r.ack(err)
				continue
			}
			r.seq = sum.Seq
			w.pending = append(w.pending, r)
		}
		// A new window begins now; the summary's events count as its burst
		// having been used, so a continuing flood stays coalesced.
		e.count, e.parked, e.windowStart, e.passed = 0, nil, now, f.burst
	}
}

func (f *flood) expire(now time.Time) {
	for k, e := range f.m {
		if e.count == 0 && now.Sub(e.windowStart) >= f.window {
			delete(f.m, k)
		}
	}
}

// failAll acknowledges every counted event with err (the log failed).
func (f *flood) failAll(err error) {
	for _, e := range f.m {
		ackAll(e.parked, err)
		e.parked, e.count = nil, 0
	}
}
