package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode"

	"github.com/medguard/medguard/internal/eventlog"
)

// Source is the event log as the notifier reads it.
//
// Events returns up to max events with sequence numbers ≥ from, oldest
// first. Last returns the newest sequence number (0 if none). Wait blocks
// until an event with a sequence number > after exists, or ctx ends.
type Source interface {
	Events(from uint64, max int) ([]eventlog.Event, error)
	Last() uint64
	Wait(ctx context.Context, after uint64) error
}

// Identity is who makes an inbox request.
type Identity struct {
	User   string // account name
	Source string // client address
}

// Config is what a Notifier needs.
type Config struct {
	// Source is the event log. If nil, events reach the notifier only
	// through Handle, and Run just waits.
	Source Source
	// Recorder records acknowledgements. Required for Acknowledge.
	Recorder eventlog.Recorder
	// InboxSize, StreamClients and ReplayEvents: see config.Notify
	// (ReplayEvents 0: the inbox starts empty).
	InboxSize, StreamClients, ReplayEvents int
	// Identify authenticates and authorises an inbox request: manage is
	// true for an acknowledgement (the notifications.manage permission),
	// false for reading. It returns an error wrapping ErrUnauthenticated
	// or ErrForbidden to refuse. If nil, every request is refused.
	Identify func(r *http.Request, manage bool) (Identity, error)
	// Heartbeat is the interval of keep-alive comments on the stream.
	// Default: 15s.
	Heartbeat time.Duration
	// Logger receives operational logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Errors of the inbox API that callers branch on.
var (
	ErrUnauthenticated = errors.New("not authenticated")
	ErrForbidden       = errors.New("not permitted")
	ErrNotFound        = errors.New("no such notification")
	ErrAlreadyAcked    = errors.New("notification already acknowledged")
)

// Notifier turns events into notifications.
type Notifier struct {
	cfg      Config
	kinds    []*compiled
	instance string        // distinguishes stream ids of this process
	streams  chan struct{} // semaphore of open streams

	mu      sync.Mutex // guards inbox, last and changed
	inbox   *inbox
	last    uint64        // newest event handled
	changed chan struct{} // closed and replaced on every inbox change

	closeOnce sync.Once
	closed    chan struct{}
}

// New compiles the catalog and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.InboxSize <= 0 {
		cfg.InboxSize = 1000
	}
	if cfg.StreamClients <= 0 {
		cfg.StreamClients = 8
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	kinds, err := compileCatalog(Catalog)
	if err != nil {
		return nil, err
	}
	var id [6]byte
	rand.Read(id[:])
	return &Notifier{cfg: cfg, kinds: kinds, instance: hex.EncodeToString(id[:]),
		streams: make(chan struct{}, cfg.StreamClients), inbox: newInbox(cfg.InboxSize),
		changed: make(chan struct{}), closed: make(chan struct{})}, nil
}

func compileCatalog(cat []Kind) ([]*compiled, error) {
	out := make([]*compiled, 0, len(cat))
	seen := map[string]bool{}
	for i := range cat {
		if seen[cat[i].Code] {
			return nil, fmt.Errorf("notification catalog: code %s twice", cat[i].Code)
		}
		seen[cat[i].Code] = true
		c, err := compile(&cat[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Run reads the log from ReplayEvents before its end and handles every
// event until ctx ends or Close is called. A read error is logged and
// retried; Run returns an error only if waiting on the log fails.
func (n *Notifier) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-n.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	src := n.cfg.Source
	if src == nil {
		<-ctx.Done()
		return nil
	}
	next := uint64(1)
	if last := src.Last(); last > uint64(n.cfg.ReplayEvents) {
		next = last - uint64(n.cfg.ReplayEvents) + 1
	}
	for {
		evs, err := src.Events(next, 256)
		for _, e := range evs {
			n.Handle(e)
			next = e.Seq + 1
		}
		if err != nil {
			// Notifications must not stop for a bad record or a passing
			// read error: skip a damaged record (the log's verification
			// reports it), retry anything else.
			n.cfg.Logger.Error("notify: cannot read the event log", "at", next, "err", err)
			if errors.Is(err, eventlog.ErrMalformed) {
				if len(evs) == 0 {
					next++
				}
				continue
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		if len(evs) < 256 {
			if err := src.Wait(ctx, next-1); err != nil {
				if ctx.Err() != nil || errors.Is(err, eventlog.ErrClosed) {
					return nil
				}
				return fmt.Errorf("notify: wait on event log: %w", err)
			}
		}
	}
}

// Close stops Run and every open stream. It is safe to call more than once.
func (n *Notifier) Close() error {
	n.closeOnce.Do(func() { close(n.closed) })
	return nil
}

// Handle turns one stored event into a notification, if the catalog says
// so. It never blocks on readers. Events seen before (a replay) are
// ignored.
func (n *Notifier) Handle(e eventlog.Event) {
	if e.Code == AckCode {
		n.applyAck(e)
		return
	}
	k := n.kindOf(e)
	if k == nil || k.Silent {
		return
	}
	e.Fields = maskFields(e.Fields)
	no := &Notification{
		ID: e.Seq, Code: k.Code, Title: k.Title, Severity: k.Severity.String(), Level: k.Severity,
		Audience: k.Audience, Cause: render(k.cause, e), Action: render(k.action, e), NeedsAck: k.NeedsAck,
		Time: e.Time, Active: true,
		Event: EventRef{Seq: e.Seq, Code: e.Code, Category: e.Category, Boot: e.BootID, Actor: e.Actor, Source: e.Source, Message: e.Message},
	}
	if k.Change {
		no.Changes = k.changes(e)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.inbox.byID[e.Seq]; dup {
		return
	}
	n.last = max(n.last, e.Seq)
	for _, code := range k.Resolves {
		for _, id := range n.inbox.order {
			if o := n.inbox.byID[id]; o.Code == code && o.Active && o.ID < e.Seq {
				o.Active, o.ResolvedBy = false, e.Seq
				n.inbox.touch(o)
			}
		}
	}
	n.inbox.add(no)
	n.notifyLocked()
}

func (n *Notifier) kindOf(e eventlog.Event) *compiled {
	var found *compiled
	for _, k := range n.kinds {
		if k.matches(e) {
			found = k
			break
		}
	}
	// The log's counted summary of a flood: events without a notification
	// of their own (failed logins, denied requests) raise "log.flood", so
	// that a burst nobody would otherwise hear of is announced.
	if e.Fields["coalesced"] != "" && (found == nil || found.Silent || found.Code == "security.event") {
		for _, k := range n.kinds {
			if k.Code == "log.flood" {
				return k
			}
		}
	}
	return found
}

// notifyLocked wakes every stream.
func (n *Notifier) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// AckCode is the code of the event that records an acknowledgement.
const AckCode = "notify.acknowledged"

// maxComment bounds an acknowledgement's comment.
const maxComment = 1000

// Acknowledge records that who acknowledged notification id with comment,
// as a security event, and marks it in the inbox.
func (n *Notifier) Acknowledge(ctx context.Context, id uint64, who Identity, comment string) (Notification, error) {
	if err := checkComment(comment); err != nil {
		return Notification{}, err
	}
	if n.cfg.Recorder == nil {
		return Notification{}, errors.New("acknowledge notification: no event recorder configured")
	}
	n.mu.Lock()
	no, ok := n.inbox.byID[id]
	var code string
	if ok {
		code = no.Code
		if no.Ack != nil {
			n.mu.Unlock()
			return Notification{}, fmt.Errorf("acknowledge notification %d: %w", id, ErrAlreadyAcked)
		}
	}
	n.mu.Unlock()
	if !ok {
		return Notification{}, fmt.Errorf("acknowledge notification %d: %w", id, ErrNotFound)
	}
	e := eventlog.Event{
		Code: AckCode, Category: eventlog.CategorySystem, Severity: eventlog.SeverityNotice,
		Actor: who.User, Source: who.Source,
		Message: fmt.Sprintf("Notification %d (%s) was acknowledged by %s.", id, code, who.User),
		Fields:  map[string]string{"notification": strconv.FormatUint(id, 10), "code": code, "comment": comment},
	}
	seq, err := n.cfg.Recorder.Record(ctx, e)
	if err != nil {
		return Notification{}, fmt.Errorf("acknowledge notification %d: record event: %w", id, err)
	}
	e.Seq, e.Time = seq, n.cfg.Now().UTC()
	n.applyAck(e)
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.inbox.byID[id].clone(), nil
}

// applyAck marks the notification an acknowledgement event names.
func (n *Notifier) applyAck(e eventlog.Event) {
	id, err := strconv.ParseUint(e.Fields["notification"], 10, 64)
	if err != nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	no, ok := n.inbox.byID[id]
	if !ok || no.Ack != nil {
		return
	}
	no.Ack = &Ack{By: e.Actor, Source: e.Source, Comment: e.Fields["comment"], Time: e.Time, Event: e.Seq}
	n.inbox.touch(no)
	n.notifyLocked()
}

// CommentError is a refused acknowledgement comment.
type CommentError struct{ Msg string }

func (e *CommentError) Error() string { return "acknowledgement comment: " + e.Msg }

func checkComment(c string) error {
	switch {
	case len(c) == 0:
		return &CommentError{"empty: say what was checked or done"}
	case len(c) > maxComment:
		return &CommentError{fmt.Sprintf("%d bytes, more than %d", len(c), maxComment)}
	}
	for _, r := range c {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return &CommentError{"contains control characters or invalid UTF-8"}
		}
	}
	return nil
}

// Get returns notification id.
func (n *Notifier) Get(id uint64) (Notification, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	no, ok := n.inbox.byID[id]
	if !ok {
		return Notification{}, false
	}
	return no.clone(), true
}
