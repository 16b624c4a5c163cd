package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// capacity applies the size limit (IEC 62443-4-2 CR 2.9 audit storage
// capacity, CR 2.10 response to audit processing failures): a warning event
// at 80 %, and at the limit the configured policy. It is owned by the
// writer goroutine.
type capacity struct {
	warned bool
	full   bool
}

// ErrCapacity marks the notifications of a log nearing its limit.
var ErrCapacity = errors.New("event log nearing its size limit")

func (w *writer) totalBytes() int64 {
	var t int64
	for _, s := range w.segs[:max(len(w.segs)-1, 0)] {
		t += s.size
	}
	return t + w.curSize
}

// admit refuses events once the log is full under PolicyStop.
func (c *capacity) admit(w *writer, e *Event) error {
	if c.full {
		return fmt.Errorf("record event %s: %w (policy stop, limit %d bytes)", e.Code, ErrFull, w.cfg.MaxBytes)
	}
	return nil
}

// check issues the 80 % warning and applies the policy at the limit.
func (c *capacity) check(w *writer) {
	total, limit := w.totalBytes(), w.cfg.MaxBytes
	if !c.warned && total >= limit*8/10 {
		c.warned = true
		w.logEvent(Event{
			Code: CodeCapacityWarning, Category: CategoryLog, Severity: SeverityWarning,
			Message: fmt.Sprintf("the security event log uses %d of %d bytes (80 %% or more)", total, limit),
			Cause:   "the log grows faster than segments are archived or removed",
			Action:  fmt.Sprintf("make sure the SIEM receives the log; at the limit the policy %q applies", w.cfg.Policy),
			Fields:  map[string]string{"bytes": strconv.FormatInt(total, 10), "limit": strconv.FormatInt(limit, 10), "policy": string(w.cfg.Policy)},
		})
		w.cfg.OnFailure(fmt.Errorf("event log %s: %d of %d bytes used: %w", w.cfg.Dir, total, limit, ErrCapacity))
	}
	if total < limit*7/10 {
		c.warned = false
	}
	if total+w.cfg.SegmentBytes < limit || c.full {
		return
	}
	if w.cfg.Policy == PolicyStop {
		c.full = true
		w.logEvent(Event{
			Code: CodeFull, Category: CategoryLog, Severity: SeverityCritical,
			Message: fmt.Sprintf("the security event log is full (%d of %d bytes): further events are refused", total, limit),
			Cause:   "the size limit was reached under policy stop",
			Action:  "export and archive the log, then raise the limit or change the policy",
		})
		w.cfg.OnFailure(fmt.Errorf("event log %s: %w", w.cfg.Dir, ErrFull))
		return
	}
	if err := w.removeOldest(limit - 2*w.cfg.SegmentBytes); err != nil {
		w.l.fail(err)
	}
}

// removeOldest removes (or archives) the oldest segments until the log is
// at most target bytes. It first records which ones, durably, so that a
// verifier knows the log legitimately begins later; each remaining
// segment begins with a signed checkpoint that anchors its verification.
func (w *writer) removeOldest(target int64) error {
	n, freed := 0, int64(0)
	for n < len(w.segs)-1 && w.totalBytes()-freed > target {
		freed += w.segs[n].size
		n++
	}
	if n == 0 {
		return nil
	}
	gone := append([]segment(nil), w.segs[:n]...)
	w.logEvent(Event{
		Code: CodeSegmentsRemoved, Category: CategoryLog, Severity: SeverityNotice,
		Message: fmt.Sprintf("%d oldest segments (records %d to %d) %s under the size limit", n, gone[0].first, w.segs[n].first-1, map[bool]string{true: "archived", false: "removed"}[w.cfg.Policy == PolicyArchive]),
		Fields: map[string]string{
			"first_kept": strconv.FormatUint(w.segs[n].first, 10), "removed_first": strconv.FormatUint(gone[0].first, 10),
			"segments": strconv.Itoa(n), "bytes": strconv.FormatInt(freed, 10), "policy": string(w.cfg.Policy),
		},
	})
	if err := w.flush(); err != nil {
		return fmt.Errorf("write event log %s: %w", w.cfg.Dir, err)
	}
	for _, s := range gone {
		p := filepath.Join(w.cfg.Dir, s.name)
		var err error
		if w.cfg.Policy == PolicyArchive {
			err = moveFile(p, filepath.Join(w.cfg.ArchiveDir, s.name))
		} else {
			err = os.Remove(p)
		}
		if err != nil {
			return fmt.Errorf("remove event log segment %s: %w", p, err)
		}
	}
	w.segs = append(w.segs[:0], w.segs[n:]...)
	w.segsDirty = true
	return syncDir(w.cfg.Dir)
}

// logEvent appends an event of the log itself, reporting a failure.
func (w *writer) logEvent(e Event) {
	e.Actor, e.Source = systemActor, logSrc
	if err := w.appendEvent(&e); err != nil {
		w.l.fail(err)
	}
}

func moveFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return err
	}
	if err := os.Rename(from, to); err == nil {
		return syncDir(filepath.Dir(to))
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Remove(from)
}
