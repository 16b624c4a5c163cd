package eventlog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Codes of the events the log writes about itself.
const (
	CodeCheckpoint        = "log.checkpoint"
	CodeOpened            = "log.opened"
	CodeCrashDetected     = "log.crash.detected"
	CodeTruncation        = "log.truncation.detected"
	CodeTailDamaged       = "log.tail.damaged"
	CodeCapacityWarning   = "log.capacity.warning"
	CodeSegmentsRemoved   = "log.segments.removed"
	CodeFull              = "log.full"
	tickEvery             = 50 * time.Millisecond
	systemActor, logSrc   = "system", "eventlog"
	fieldNote, fieldFront = "note", "frontier"
)

// writer is the state of the one goroutine that appends. Nothing else
// touches it after Open returns (except close, after the goroutine ended).
type writer struct {
	l   *Log
	cfg *Config

	f       *os.File
	segs    []segment // writer's view; published to Log.segs on change
	curSize int64     // size of the current segment including buf
	rotate_ bool      // begin a new segment before the next record

	next       uint64 // sequence number of the next record
	prev       [macSize]byte
	epoch      uint64
	key        []byte // the current epoch's key, the only one kept
	mac        *macer
	epochCount uint64
	epochStart time.Time
	tree       merkle
	sinceCP    uint64
	lastCP     time.Time
	signer     *noteSigner

	now        time.Time
	buf        []byte
	pending    []*request
	segsDirty  bool
	stateDirty bool
	persist    *persister
	syncCh     chan *syncJob
	flood      *flood
	capa       capacity
}

func (w *writer) run() {
	syncerDone := make(chan struct{})
	go w.syncer(syncerDone)
	defer func() {
		close(w.syncCh)
		<-syncerDone
		close(w.l.done)
	}()
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	batch := make([]*request, 0, 256)
	for {
		select {
		case <-w.l.qsignal:
			batch = w.l.takeQueue(batch)
		case <-tick.C:
		case <-w.l.quit:
			w.commit(w.l.takeQueue(batch), true)
			return
		}
		w.commit(batch, false)
		clear(batch)
		batch = batch[:0]
	}
}

// commit appends a batch, the flood summaries and checkpoints that are
// due, writes them with one fsync, and acknowledges the batch.
func (w *writer) commit(batch []*request, final bool) {
	w.now = w.cfg.Clock().UTC()
	if err := w.l.failure(); err != nil {
		ackAll(batch, err)
		w.flood.failAll(err)
		return
	}
	for _, r := range batch {
		if w.flood.offer(r, w.now) {
			continue // counted; acknowledged with its summary
		}
		if err := w.capa.admit(w, &r.ev); err != nil {
			r.ack(err)
			continue
		}
		if r.evolve {
			w.epochCount = w.cfg.EpochEntries // maybeEvolve moves on
		}
		if err := w.appendEvent(&r.ev); err != nil {
			r.ack(err)
			continue
		}
		r.seq = r.ev.Seq
		w.pending = append(w.pending, r)
	}
	w.flood.flush(w, w.now, final)
	w.capa.check(w)
	if final && w.sinceCP > 0 || w.sinceCP >= w.cfg.CheckpointEntries ||
		w.sinceCP > 0 && w.now.Sub(w.lastCP) >= w.cfg.CheckpointInterval {
		w.appendCheckpoint()
	}
	if len(w.buf) == 0 && len(w.pending) == 0 && !w.segsDirty && !w.stateDirty {
		return
	}
	// Write now, sync in the syncer goroutine: while it waits for the
	// disk, this goroutine encodes and writes the next group.
	if len(w.buf) > 0 {
		// The sealed head follows the log (at most every persistEvery).
		w.stateDirty = true
		if _, err := w.f.Write(w.buf); err != nil {
			err = fmt.Errorf("write event log %s: %w", w.cfg.Dir, err)
			w.l.fail(err)
			ackAll(w.pending, err)
			w.pending = w.pending[:0]
			return
		}
		w.buf = w.buf[:0]
		w.segs[len(w.segs)-1].size = w.curSize
		w.segsDirty = true
	}
	job := &syncJob{f: w.f, last: w.next - 1, reqs: slices.Clone(w.pending)}
	clear(w.pending)
	w.pending = w.pending[:0]
	if w.segsDirty {
		job.segs = slices.Clone(w.segs)
		w.segsDirty = false
	}
	if w.stateDirty {
		job.state = w.snapshot()
		w.stateDirty = false
	}
	w.syncCh <- job
}

// syncJob is a written group waiting for its fsync; a job with only done
// set is a barrier (waitSync).
type syncJob struct {
	f     *os.File
	last  uint64
	segs  []segment
	reqs  []*request
	state *State
	done  chan struct{}
}

// syncer makes written groups durable, in order, then publishes and
// acknowledges them. The fsync of a group also covers the groups written
// before it.
func (w *writer) syncer(done chan<- struct{}) {
	defer close(done)
	for j := range w.syncCh {
		if j.f != nil {
			if err := w.l.failure(); err != nil {
				ackAll(j.reqs, err)
				j.state.Zero()
				continue
			}
			if err := syscall.Fdatasync(int(j.f.Fd())); err != nil {
				err = fmt.Errorf("sync event log %s: %w", w.cfg.Dir, err)
				w.l.fail(err)
				ackAll(j.reqs, err)
				j.state.Zero()
				continue
			}
			w.l.publish(j.last, j.segs)
			for _, r := range j.reqs {
				r.ack(nil)
			}
			if j.state != nil {
				w.persist.offer(j.state)
			}
		}
		if j.done != nil {
			close(j.done)
		}
	}
}

// waitSync returns once every group handed to the syncer is durable (or
// failed), so that the file may be closed or segments removed.
func (w *writer) waitSync() {
	j := &syncJob{done: make(chan struct{})}
	w.syncCh <- j
	<-j.done
}

func ackAll(rs []*request, err error) {
	for _, r := range rs {
		r.ack(err)
	}
}

// appendEvent appends a writer's event, evolving the key and beginning a
// new segment when due.
func (w *writer) appendEvent(e *Event) error {
	w.maybeEvolve()
	if w.rotate_ || w.curSize >= w.cfg.SegmentBytes {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	if err := w.appendRaw(e); err != nil {
		return err
	}
	w.sinceCP++
	return nil
}

// appendRaw encodes, MACs and buffers one record.
func (w *writer) appendRaw(e *Event) error {
	e.Seq, e.Time, e.BootID = w.next, w.now, w.cfg.BootID
	start := len(w.buf)
	w.buf = appendBody(w.buf, e, w.epoch, w.prev[:])
	if len(w.buf)-start+macSuffixLen > MaxLineBytes {
		w.buf = w.buf[:start]
		return fmt.Errorf("record event %s: its record exceeds %d bytes", e.Code, MaxLineBytes)
	}
	mac := w.mac.mac(w.buf[start:])
	w.buf = appendMAC(w.buf, mac)
	w.tree.add(tlog.RecordHash(w.buf[start:]))
	w.buf = append(w.buf, '\n')
	w.curSize += int64(len(w.buf) - start)
	copy(w.prev[:], mac)
	w.next++
	w.epochCount++
	return nil
}

// maybeEvolve moves to the next key epoch when the current one is used up,
// erasing the current key (forward security).
func (w *writer) maybeEvolve() {
	if w.epochCount < w.cfg.EpochEntries && w.now.Sub(w.epochStart) < w.cfg.EpochInterval {
		return
	}
	next := evolve(w.key, w.epoch+1)
	clear(w.key)
	w.key = next
	w.epoch++
	w.mac = newMacer(w.key, w.epoch)
	w.epochCount = 0
	w.epochStart = w.now
	w.stateDirty = true
}

// appendCheckpoint appends a signed checkpoint of every record so far.
func (w *writer) appendCheckpoint() {
	size := w.next - 1
	text, err := w.signer.signCheckpoint(size, w.tree.root(), w.epoch)
	if err != nil {
		w.l.fail(fmt.Errorf("sign event log checkpoint: %w", err))
		return
	}
	ev := Event{
		Code: CodeCheckpoint, Category: CategoryLog, Severity: SeverityInfo,
		Actor: systemActor, Source: logSrc,
		Message: fmt.Sprintf("signed checkpoint of %d records", size),
		Fields:  map[string]string{fieldNote: string(text), fieldFront: w.tree.frontier()},
	}
	if err := w.appendRaw(&ev); err != nil {
		w.l.fail(err)
		return
	}
	w.sinceCP = 0
	w.lastCP = w.now
	w.stateDirty = true
}

// flush writes the buffer to the current segment and syncs it, after the
// syncer has finished (for rotation and removal, which must not overlap
// with it).
func (w *writer) flush() error {
	w.waitSync()
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.Write(w.buf); err != nil {
		return err
	}
	if err := syscall.Fdatasync(int(w.f.Fd())); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	w.segs[len(w.segs)-1].size = w.curSize
	w.segsDirty = true
	return nil
}

// rotate closes the current segment (durably) and begins a new one whose
// first record is a checkpoint, so that every segment can anchor the
// verification of the rest. The log's first segment has nothing before it
// to anchor: a checkpoint of the empty tree would commit to nothing, and a
// verifier begins the tree at record 1 itself.
func (w *writer) rotate() error {
	if w.f != nil {
		if err := w.flush(); err != nil {
			return fmt.Errorf("write event log %s: %w", w.cfg.Dir, err)
		}
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("close event log segment: %w", err)
		}
		w.f = nil
	}
	name := segName(w.next)
	f, err := os.OpenFile(filepath.Join(w.cfg.Dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create event log segment: %w", err)
	}
	if err := syncDir(w.cfg.Dir); err != nil {
		f.Close()
		return fmt.Errorf("create event log segment %s: %w", name, err)
	}
	w.f = f
	w.segs = append(w.segs, segment{first: w.next, name: name})
	w.segsDirty = true
	w.curSize = 0
	w.rotate_ = false
	if w.next > 1 {
		w.appendCheckpoint()
	}
	return nil
}

// snapshot returns the state to keep in the key store.
func (w *writer) snapshot() *State {
	return &State{
		Epoch: w.epoch, Key: append([]byte(nil), w.key...),
		Seq: w.next - 1, MAC: append([]byte(nil), w.prev[:]...), tree: w.tree.clone(),
	}
}

// close runs after the goroutine ended: it stores the final state
// synchronously and closes the segment.
func (w *writer) close() error {
	err := w.persist.stop(w.snapshot())
	clear(w.key)
	if w.f != nil {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
