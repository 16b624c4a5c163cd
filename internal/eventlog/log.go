package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Log is the Security Event Log of one device: an append-only directory
// of segment files written by one goroutine with group commit. It is safe
// for concurrent use.
type Log struct {
	cfg  Config
	slog *slog.Logger
	quit chan struct{}
	done chan struct{} // closed when the writer goroutine has stopped
	lock *os.File      // flock on Dir/lock: one writer per directory

	qmu     sync.Mutex // guards queue, closed
	queue   []*request // handed to the writer goroutine
	closed  bool
	qsignal chan struct{} // wakes the writer when the queue was empty

	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex    // guards last, changed, segs, failed, readHint
	readHint readPos       // where the last Read stopped
	last     uint64        // sequence number of the last durable record
	changed  chan struct{} // closed and replaced whenever last grows
	segs     []segment     // oldest first; the last is being written
	failed   error         // set once the log can no longer write

	w *writer // owned by the writer goroutine once Open returns
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("event log is closed")

// ErrFull is returned by Record when the log is full under PolicyStop.
var ErrFull = errors.New("event log is full")

// request is one Record call waiting for its event to be durable.
type request struct {
	ev     Event
	evolve bool   // begin a new key epoch with this event (EraseRootKey)
	fkey   string // flood key, computed by the caller (in parallel)
	seq    uint64
	err    error
	done   chan struct{}
}

// Record appends e and returns its sequence number once it is on disk
// (fsync'd, together with the other events of its group commit). The log
// fills Seq, Time and BootID. An identical event beyond the flood burst is
// counted into a summary event; Record then returns once the summary is
// durable, with the summary's sequence number.
func (l *Log) Record(ctx context.Context, e Event) (uint64, error) {
	return l.record(e, false)
}

// record is Record; with evolve, the event is the first of a new key
// epoch.
func (l *Log) record(e Event, evolve bool) (uint64, error) {
	if err := checkEvent(&e); err != nil {
		return 0, fmt.Errorf("record event: %w", err)
	}
	sanitize(&e)
	r := reqPool.Get().(*request)
	r.ev, r.evolve = e, evolve
	if l.cfg.FloodBurst >= 0 && floodable(&e) {
		r.fkey = floodKey(&e)
	}
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		reqPool.Put(r.reset())
		return 0, ErrClosed
	}
	l.queue = append(l.queue, r)
	l.qmu.Unlock()
	select {
	case l.qsignal <- struct{}{}:
	default:
	}
	// Once queued, the event will be written or failed: wait for it, so
	// that the caller never mistakes a durable event for a lost one.
	<-r.done
	seq, err := r.seq, r.err
	reqPool.Put(r.reset())
	return seq, err
}

// reqPool recycles requests and their acknowledgement channels: an
// acknowledgement is a send on done (capacity 1), after which the writer
// no longer touches the request.
var reqPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func (r *request) reset() *request {
	*r = request{done: r.done}
	return r
}

// ack acknowledges r with err (nil: durable).
func (r *request) ack(err error) {
	r.err = err
	r.done <- struct{}{}
}

// takeQueue appends the queued requests to batch.
func (l *Log) takeQueue(batch []*request) []*request {
	l.qmu.Lock()
	batch = append(batch, l.queue...)
	clear(l.queue)
	l.queue = l.queue[:0]
	l.qmu.Unlock()
	return batch
}

var _ Recorder = (*Log)(nil)

// Last returns the sequence number of the last durable record (0 if none).
func (l *Log) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Wait returns once Last() > after, or with ctx's error, or ErrClosed.
func (l *Log) Wait(ctx context.Context, after uint64) error {
	for {
		l.mu.Lock()
		last, ch := l.last, l.changed
		l.mu.Unlock()
		if last > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-l.done:
			if l.Last() > after {
				return nil
			}
			return ErrClosed
		}
	}
}

// Close writes a final checkpoint, stores the key state and stops the log.
// It is idempotent.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		l.qmu.Lock()
		l.closed = true
		l.qmu.Unlock()
		close(l.quit)
		<-l.done
		l.closeErr = l.w.close()
		if l.lock != nil {
			l.lock.Close()
		}
	})
	return l.closeErr
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.cfg.Dir }

// lockDir takes an exclusive lock on dir, so that two processes never
// write one log.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock event log %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock event log %s: in use by another process: %w", dir, err)
	}
	return f, nil
}

// publish makes the records up to last visible to readers.
func (l *Log) publish(last uint64, segs []segment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if segs != nil {
		l.segs = segs
	}
	if last > l.last {
		l.last = last
		close(l.changed)
		l.changed = make(chan struct{})
	}
}

func (l *Log) fail(err error) {
	l.mu.Lock()
	first := l.failed == nil
	if first {
		l.failed = err
	}
	l.mu.Unlock()
	if first {
		l.slog.Error("event log failed", "dir", l.cfg.Dir, "err", err)
		l.cfg.OnFailure(err)
	}
}

func (l *Log) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}
