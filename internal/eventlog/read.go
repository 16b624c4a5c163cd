package eventlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Read returns up to max durable records with Seq ≥ from, oldest first.
// Records of removed segments are skipped. A stored line that is not a
// record is an error wrapping ErrMalformed (run a verification).
func (l *Log) Read(from uint64, max int) ([]Record, error) {
	l.mu.Lock()
	last, segs, hint := l.last, slices.Clone(l.segs), l.readHint
	l.mu.Unlock()
	out, next, err := readRange(l.cfg.Dir, segs, from, last, max, hint)
	if err == nil && len(out) > 0 {
		l.mu.Lock()
		l.readHint = next
		l.mu.Unlock()
	}
	return out, err
}

// readPos is where the record seq begins: a sequential reader (a
// forwarder) continues there instead of scanning its segment again.
type readPos struct {
	seq uint64
	seg string
	off int64
}

// readRange reads records from..last (at most max) from segs, starting
// at hint when it points at from. It returns where the next record begins.
func readRange(dir string, segs []segment, from, last uint64, max int, hint readPos) ([]Record, readPos, error) {
	var next readPos
	if max <= 0 || from > last || len(segs) == 0 {
		return nil, next, nil
	}
	i, _ := slices.BinarySearchFunc(segs, from, func(s segment, seq uint64) int { return int64cmp(s.first, seq) })
	if i == len(segs) || segs[i].first > from {
		i = max0(i - 1)
	}
	var start int64
	if hint.seq == from && hint.seq != 0 {
		if j := slices.IndexFunc(segs, func(s segment) bool { return s.name == hint.seg }); j >= 0 {
			i, start = j, hint.off
		}
	}
	var out []Record
	for ; i < len(segs) && len(out) < max; i, start = i+1, 0 {
		done, err := forEachLineFrom(dir, segs[i], start, func(line []byte, h *lineHead, end int64) (bool, error) {
			if h.seq < from {
				return false, nil
			}
			if h.seq > last {
				return true, nil
			}
			r, err := ParseRecord(slices.Clone(line))
			if err != nil {
				return true, fmt.Errorf("read event log segment %s, record %d: %w", segs[i].name, h.seq, err)
			}
			out = append(out, r)
			next = readPos{seq: h.seq + 1, seg: segs[i].name, off: end}
			return len(out) >= max, nil
		})
		if err != nil {
			return out, next, err
		}
		if done {
			break
		}
	}
	return out, next, nil
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// forEachLine calls fn for every record line of a segment until fn says
// stop. A line that is not a record is an error wrapping ErrMalformed.
func forEachLine(dir string, s segment, fn func(line []byte, h *lineHead) (stop bool, err error)) (bool, error) {
	return forEachLineFrom(dir, s, 0, func(line []byte, h *lineHead, _ int64) (bool, error) { return fn(line, h) })
}

// forEachLineFrom is forEachLine from byte offset start (a line's
// beginning), passing each line's end offset.
func forEachLineFrom(dir string, s segment, start int64, fn func(line []byte, h *lineHead, end int64) (stop bool, err error)) (bool, error) {
	f, err := os.Open(filepath.Join(dir, s.name))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil // removed under the size limit meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("read event log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return false, fmt.Errorf("read event log segment %s: %w", s.name, err)
	}
	lr := newLineReader(f)
	lr.off = start
	for {
		line, off, err := lr.next()
		if err == io.EOF || err == errTorn {
			return false, nil // a record being written is not durable yet
		}
		if err != nil {
			return false, fmt.Errorf("read event log segment %s at offset %d: %w", s.name, off, err)
		}
		var h lineHead
		if !parseHead(line, &h) {
			return false, fmt.Errorf("read event log segment %s at offset %d: %w", s.name, off, malformed("not a record"))
		}
		stop, err := fn(line, &h, lr.off)
		if stop || err != nil {
			return stop, err
		}
	}
}

// Query selects records for the API and the console. Zero fields do not
// filter. Results come newest first, Limit at a time (default 100, at
// most 1000); pass the returned Page.Next as Cursor for the next page.
type Query struct {
	FromSeq, ToSeq uint64    // inclusive sequence range
	Since, Until   time.Time // inclusive time range
	Categories     []Category
	MaxSeverity    *Severity // most verbose severity wanted (e.g. warning: 0..4)
	Actor          string
	Limit          int
	Cursor         string
}

// Page is one page of a Query.
type Page struct {
	Records []Record
	// Next is the cursor of the next (older) page; empty at the end.
	Next string
}

func (q *Query) match(r *Record) bool {
	if !q.Since.IsZero() && r.Time.Before(q.Since) || !q.Until.IsZero() && r.Time.After(q.Until) {
		return false
	}
	if len(q.Categories) > 0 && !slices.Contains(q.Categories, r.Category) {
		return false
	}
	if q.MaxSeverity != nil && r.Severity > *q.MaxSeverity {
		return false
	}
	return q.Actor == "" || r.Actor == q.Actor
}

// Query returns one page of records matching q, newest first.
func (l *Log) Query(q Query) (Page, error) {
	l.mu.Lock()
	last, segs := l.last, slices.Clone(l.segs)
	l.mu.Unlock()
	return queryDir(l.cfg.Dir, segs, last, q)
}

func queryDir(dir string, segs []segment, last uint64, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	hi := last
	if q.ToSeq != 0 && q.ToSeq < hi {
		hi = q.ToSeq
	}
	if q.Cursor != "" {
		c, err := strconv.ParseUint(q.Cursor, 10, 64)
		if err != nil || c == 0 {
			return Page{}, fmt.Errorf("query event log: bad cursor %q", q.Cursor)
		}
		hi = min(hi, c-1)
	}
	var page Page
	for i := len(segs) - 1; i >= 0 && hi >= max(q.FromSeq, 1); i-- {
		if segs[i].first > hi {
			continue
		}
		var recs []Record
		_, err := forEachLine(dir, segs[i], func(line []byte, h *lineHead) (bool, error) {
			if h.seq > hi {
				return true, nil
			}
			if h.seq < q.FromSeq {
				return false, nil
			}
			r, err := ParseRecord(slices.Clone(line))
			if err != nil {
				return true, fmt.Errorf("query event log segment %s, record %d: %w", segs[i].name, h.seq, err)
			}
			if q.match(&r) {
				recs = append(recs, r)
			}
			return false, nil
		})
		if err != nil {
			return Page{}, err
		}
		for j := len(recs) - 1; j >= 0; j-- {
			if len(page.Records) == q.Limit {
				page.Next = strconv.FormatUint(page.Records[len(page.Records)-1].Seq, 10)
				return page, nil
			}
			page.Records = append(page.Records, recs[j])
		}
		if segs[i].first == 0 {
			break
		}
		hi = min(hi, segs[i].first-1)
	}
	return page, nil
}
