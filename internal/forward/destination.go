package forward

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

// Codes of the forwarder's own security events.
const (
	CodeUnreachable = "forward.destination.unreachable"
	CodeRestored    = "forward.destination.restored"
	CodeHandshake   = "forward.destination.handshake-failed"
	CodeTLSWeakened = "forward.tls.weakened"
	CodeGap         = "forward.log.gap"
)

// dest is one destination's loop and its state.
type dest struct {
	cfg  *Config
	d    Destination
	tls  *tls.Config
	log  *slog.Logger
	name string

	mu        sync.Mutex // guards the fields below
	connected bool
	next      uint64
	delivered uint64
	sent      uint64
	lastErr   string
	since     time.Time
}

func newDest(cfg *Config, d Destination) *dest {
	return &dest{cfg: cfg, d: d, tls: d.tlsConfig(), name: d.Name,
		log: cfg.Logger.With("part", "forward", "destination", d.Name, "address", d.Address)}
}

// run connects, streams and reconnects until ctx ends.
func (d *dest) run(ctx context.Context) {
	next, err := d.d.Cursor.Load()
	if err != nil {
		d.log.Error("cannot read cursor, starting from the oldest entry", "err", err)
	}
	next = max(next, 1)
	d.setPos(next, next)
	if d.d.MinVersion < tls.VersionTLS13 {
		d.log.Warn("TLS 1.2 allowed for this destination by configuration")
		d.record(ctx, CodeTLSWeakened, eventlog.SeverityNotice,
			fmt.Sprintf("SIEM destination %s accepts TLS 1.2", d.name),
			"forward.destinations.min_tls_version is set to 1.2 in the configuration",
			"If the SIEM receiver supports TLS 1.3, set min_tls_version to 1.3.", nil)
	}
	retry := d.cfg.RetryMin
	var downSince time.Time
	announced, handshakeAnnounced := false, false
	for ctx.Err() == nil {
		s, err := dial(ctx, d.cfg.Dial, d.d.Address, d.tls, d.cfg.DialTimeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if downSince.IsZero() {
				downSince = d.cfg.Now()
			}
			d.fail(err)
			var he *HandshakeError
			if errors.As(err, &he) && !handshakeAnnounced {
				// Once per outage: a lasting misconfiguration must not
				// fill the log.
				handshakeAnnounced = true
				d.record(ctx, CodeHandshake, eventlog.SeverityError,
					fmt.Sprintf("TLS handshake with SIEM destination %s failed", d.name), err.Error(),
					"Check that the receiver's certificate is issued by the configured CA and names the configured server; an unexpected certificate can mean an impostor on the network.", nil)
			}
			if !announced && d.cfg.Now().Sub(downSince) >= d.cfg.DownAfter {
				announced = true
				d.record(ctx, CodeUnreachable, eventlog.SeverityWarning,
					fmt.Sprintf("SIEM destination %s unreachable", d.name), err.Error(),
					"Check the SIEM receiver and the network path to it. Events wait in the device's log and are sent when it returns.", nil)
			}
			sleep(ctx, retry)
			retry = min(2*retry, d.cfg.RetryMax)
			continue
		}
		retry = d.cfg.RetryMin
		if announced {
			d.record(ctx, CodeRestored, eventlog.SeverityNotice,
				fmt.Sprintf("SIEM destination %s reachable again", d.name),
				fmt.Sprintf("unreachable since %s", downSince.UTC().Format(time.RFC3339)),
				"None: the backlog is being sent.", map[string]string{"backlog_from": strconv.FormatUint(next, 10)})
		}
		announced, handshakeAnnounced, downSince = false, false, time.Time{}
		d.setConnected(true, "")
		d.log.Info("connected", "from", next, "tls", tls.VersionName(s.tls.ConnectionState().Version))
		next, err = d.stream(ctx, s, next)
		s.tls.Close()
		d.store(next)
		d.setConnected(false, errString(err))
		if ctx.Err() == nil {
			d.log.Warn("connection lost, resending from the last delivered entry", "from", next, "err", err)
			downSince = d.cfg.Now()
			sleep(ctx, d.cfg.RetryMin)
		}
	}
}

// stream sends entries from next on until the connection fails or ctx
// ends, and returns the entry to resend from.
func (d *dest) stream(ctx context.Context, s *session, next uint64) (uint64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// A write blocked on a stalled receiver ends when ctx does.
	stop := context.AfterFunc(ctx, func() { s.wire.Close() })
	defer stop()
	// The receiver never speaks in RFC 5425: a read returns only when it
	// closes the connection.
	go func() {
		var b [1]byte
		_, err := s.tls.Read(b[:])
		cancel(fmt.Errorf("receiver closed the connection: %w", err))
	}()
	st := &streamState{s: s, w: bufio.NewWriterSize(s.tls, 32<<10), rw: newRewind(next, d.cfg.ResendWindow), stored: d.cfg.Now()}
	for {
		if ctx.Err() != nil {
			return st.rw.reset(), context.Cause(ctx)
		}
		entries, err := d.cfg.Source.Read(next, d.cfg.Batch)
		if err != nil {
			if !errors.Is(err, eventlog.ErrMalformed) {
				return st.rw.reset(), fmt.Errorf("read event log at %d: %w", next, err)
			}
			// A damaged record in the log: send what precedes it, then
			// go on after it. The SIEM lacks it, and verify-forwarded
			// names it; the log's own verification classifies it.
			d.log.Error("damaged record in the event log, not forwarded", "err", err)
			if len(entries) == 0 {
				next++
				continue
			}
		}
		if len(entries) > 0 && entries[0].Event.Seq > next {
			d.gap(ctx, next, entries[0].Event.Seq)
		}
		if next, err = d.send(st, entries, next); err != nil {
			return st.rw.reset(), err
		}
		if len(entries) < d.cfg.Batch {
			wctx, wcancel := context.WithTimeout(ctx, d.cfg.ResendWindow/2)
			err := d.cfg.Source.Wait(wctx, next-1)
			wcancel()
			if err != nil && wctx.Err() == nil {
				return st.rw.reset(), fmt.Errorf("wait on event log: %w", err)
			}
		}
	}
}

// streamState is one connection's sending state, owned by stream.
type streamState struct {
	s      *session
	w      *bufio.Writer
	rw     *rewind
	stored time.Time // when the cursor was last stored
	buf    []byte    // frame buffer, reused
	n      int       // entries written since the last flush
}

// send writes entries and flushes, and returns the next entry to send.
// An entry that cannot be formatted is logged and skipped.
func (d *dest) send(st *streamState, entries []Entry, next uint64) (uint64, error) {
	for _, e := range entries {
		var frame []byte
		var err error
		frame, st.buf, err = d.frame(st.buf, e)
		if err != nil {
			d.log.Error("entry cannot be sent", "seq", e.Event.Seq, "err", err)
			next = e.Event.Seq + 1
			continue
		}
		st.s.wire.SetWriteDeadline(d.cfg.Now().Add(d.cfg.WriteTimeout))
		if _, err := st.w.Write(frame); err != nil {
			return next, fmt.Errorf("send to %s: %w", d.d.Address, err)
		}
		next, st.n = e.Event.Seq+1, st.n+1
		// Flush in pieces, so that the delivered point moves while a long
		// backlog is sent.
		if st.w.Buffered() >= flushBytes {
			if err := d.flush(st, next); err != nil {
				return next, err
			}
		}
	}
	// Also when idle: the delivered point catches up with the window.
	return next, d.flush(st, next)
}

// flush sends what is buffered, marks it, and moves (and now and then
// stores) the delivered point.
func (d *dest) flush(st *streamState, next uint64) error {
	st.s.wire.SetWriteDeadline(d.cfg.Now().Add(d.cfg.WriteTimeout))
	if err := st.w.Flush(); err != nil {
		return fmt.Errorf("send to %s: %w", d.d.Address, err)
	}
	now := d.cfg.Now()
	st.rw.flushed(next, st.s.wire.written.Load())
	safe := st.rw.acked(st.s.wire.ackedBytes(), now)
	d.sentN(st.n, next, safe)
	st.n = 0
	if now.Sub(st.stored) >= d.cfg.StoreEvery {
		d.store(safe)
		st.stored = now
	}
	return nil
}

// flushBytes is how much is buffered before a flush (a TLS record holds
// up to 16 KiB).
const flushBytes = 16 << 10

// frame returns e as an RFC 5425 frame, MSG-LEN SP SYSLOG-MSG, built in
// buf: the message is written at a fixed offset, then its length just
// before it.
func (d *dest) frame(buf []byte, e Entry) (frame, grown []byte, err error) {
	const room = 8 // MSG-LEN of at most MaxMessageSize, and SP
	buf = append(buf[:0], make([]byte, room)...)
	buf, err = d.d.Format.appendMessage(buf, header{device: d.cfg.Device, facility: d.cfg.Facility, annotate: d.cfg.Annotate}, e)
	if err != nil {
		return nil, buf, err
	}
	n := len(buf) - room
	if n > MaxMessageSize {
		return nil, buf, &FormatError{e.Event.Seq, "size", fmt.Sprintf("%d bytes, more than %d", n, MaxMessageSize)}
	}
	var l [room]byte
	p := strconv.AppendInt(l[:0], int64(n), 10)
	p = append(p, ' ')
	start := room - len(p)
	copy(buf[start:], p)
	return buf[start:], buf, nil
}

// gap reports entries that the log no longer held when their turn came.
func (d *dest) gap(ctx context.Context, from, to uint64) {
	d.log.Error("entries were pruned from the log before they were forwarded", "from", from, "to", to-1)
	d.record(ctx, CodeGap, eventlog.SeverityError,
		fmt.Sprintf("entries %d to %d were never forwarded to %s", from, to-1, d.name),
		"the log pruned them while the SIEM destination was unreachable",
		"Collect the device's log directly (medguard log export) to close the gap in the SIEM, and check why the SIEM was unreachable for so long.",
		map[string]string{"from": strconv.FormatUint(from, 10), "to": strconv.FormatUint(to-1, 10)})
}

// record writes one of the forwarder's own events, if a recorder is set.
func (d *dest) record(ctx context.Context, code string, sev eventlog.Severity, msg, cause, action string, fields map[string]string) {
	if d.cfg.Recorder == nil {
		return
	}
	if fields == nil {
		fields = map[string]string{}
	}
	fields["destination"] = d.name
	fields["address"] = d.d.Address
	_, err := d.cfg.Recorder.Record(ctx, eventlog.Event{
		Code: code, Category: eventlog.CategoryLog, Severity: sev, Actor: "system", Source: "forward",
		Message: msg, Cause: cause, Action: action, Fields: fields,
	})
	if err != nil && ctx.Err() == nil {
		d.log.Error("cannot record event", "code", code, "err", err)
	}
}

func (d *dest) store(next uint64) {
	if err := d.d.Cursor.Store(next); err != nil {
		d.log.Error("cannot store cursor", "next", next, "err", err)
	}
}

func (d *dest) setPos(next, delivered uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next, d.delivered = next, delivered
}

func (d *dest) sentN(n int, next, delivered uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent += uint64(n)
	d.next, d.delivered = next, delivered
}

func (d *dest) setConnected(c bool, lastErr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if c != d.connected {
		d.since = d.cfg.Now()
	}
	d.connected = c
	if lastErr != "" {
		d.lastErr = lastErr
	}
}

func (d *dest) fail(err error) {
	d.log.Warn("cannot connect", "err", err)
	d.setConnected(false, err.Error())
}

func (d *dest) status(last uint64) Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Status{Name: d.name, Address: d.d.Address, Connected: d.connected, Next: d.next,
		Delivered: d.delivered, Sent: d.sent, LastError: d.lastErr, Since: d.since}
	if last+1 > d.delivered {
		st.Backlog = last + 1 - d.delivered
	}
	return st
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
