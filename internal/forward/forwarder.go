package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/eventlog"
)

// Destination is one SIEM that receives every entry of the log.
type Destination struct {
	// Name identifies the destination in logs, events and its cursor.
	Name string
	// Address is the receiver, HOST:PORT (6514 is syslog over TLS).
	Address string
	// Format of the messages: FormatRFC5424 (default) or FormatCEF.
	Format Format
	// RootCAs verifies the receiver's certificate. Required.
	RootCAs *x509.CertPool
	// ServerName is the name the receiver's certificate must carry;
	// default: the host part of Address.
	ServerName string
	// MinVersion is tls.VersionTLS13 (default) or tls.VersionTLS12.
	MinVersion uint16
	// ClientCertificate, if set, presents a client certificate (the
	// device's TLS certificate) to receivers that ask for one.
	ClientCertificate func(*tls.CertificateRequestInfo) (*tls.Certificate, error)
	// Cursor persists the destination's position. Required.
	Cursor Cursor
}

// Config is what a Forwarder needs.
type Config struct {
	// Device is the device id carried by every message (HOSTNAME and the
	// device parameter).
	Device string
	// Facility is the RFC 5424 facility of every message, 0 to 23.
	Facility uint8
	// Destinations receive every entry.
	Destinations []Destination
	// Source is the event log.
	Source Source
	// Recorder receives the forwarder's own security events (a
	// destination unreachable or restored, a weakened TLS version, a gap
	// in the log). May be nil.
	Recorder eventlog.Recorder
	// Logger receives operational logs. Default: slog.Default().
	Logger *slog.Logger
	// Annotate, if set, says which notification an entry raises; the
	// message then carries it for the SIEM in a second structured-data
	// element (notification@32473: code, title, severity, audience,
	// cause, action, and changes for a configuration change).
	// notify.(*Notifier).Annotate provides it.
	Annotate func(eventlog.Event) (Annotation, bool)

	// ResendWindow is how long after the receiver's TCP acknowledged an
	// entry it is taken as delivered. Default: 2s.
	ResendWindow time.Duration
	// Batch is how many entries are read from the log at once. Default:
	// 2048 (the log's Read scans a segment from its start: large batches
	// keep a catch-up linear).
	Batch int
	// WriteTimeout ends a connection on which a write blocks this long.
	// Default: 30s.
	WriteTimeout time.Duration
	// DialTimeout bounds connect and handshake. Default: 10s.
	DialTimeout time.Duration
	// RetryMin and RetryMax bound the wait between connection attempts,
	// doubling from RetryMin. Defaults: 500ms and 30s.
	RetryMin, RetryMax time.Duration
	// DownAfter is how long a destination may be unreachable before the
	// forwarder records a security event about it. Default: 1m.
	DownAfter time.Duration
	// StoreEvery bounds how often a cursor is written. Default: 1s.
	StoreEvery time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Dial opens network connections. Default: a net.Dialer with TCP
	// keep-alive.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var destName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// Forwarder sends the event log to every destination.
type Forwarder struct {
	cfg   Config
	dests []*dest

	mu      sync.Mutex // guards cancel and done
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// New checks cfg and returns a Forwarder; it opens no connection.
func New(cfg Config) (*Forwarder, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	f := &Forwarder{cfg: cfg, done: make(chan struct{})}
	seen := map[string]bool{}
	for i, d := range cfg.Destinations {
		if err := d.check(); err != nil {
			return nil, fmt.Errorf("forward destination %d: %w", i+1, err)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("forward destination %q: duplicate name", d.Name)
		}
		seen[d.Name] = true
		f.dests = append(f.dests, newDest(&f.cfg, d))
	}
	return f, nil
}

func (c *Config) defaults() error {
	if c.Source == nil {
		return errors.New("forward: no event log source")
	}
	if c.Facility > 23 {
		return fmt.Errorf("forward: facility %d out of range [0, 23]", c.Facility)
	}
	if c.Device == "" {
		return errors.New("forward: no device id")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	setDur(&c.ResendWindow, 2*time.Second)
	setDur(&c.WriteTimeout, 30*time.Second)
	setDur(&c.DialTimeout, 10*time.Second)
	setDur(&c.RetryMin, 500*time.Millisecond)
	setDur(&c.RetryMax, 30*time.Second)
	setDur(&c.DownAfter, time.Minute)
	setDur(&c.StoreEvery, time.Second)
	if c.Batch <= 0 {
		c.Batch = 2048
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		c.Dial = d.DialContext
	}
	return nil
}

func (d *Destination) check() error {
	if !destName.MatchString(d.Name) {
		return fmt.Errorf("name %q: want 1 to 32 lower-case letters, digits and '-'", d.Name)
	}
	if _, _, err := net.SplitHostPort(d.Address); err != nil {
		return fmt.Errorf("%s: address %q: %w", d.Name, d.Address, err)
	}
	if d.RootCAs == nil {
		return fmt.Errorf("%s: no CA to verify the receiver with", d.Name)
	}
	if d.Cursor == nil {
		return fmt.Errorf("%s: no cursor", d.Name)
	}
	switch d.Format {
	case "":
		d.Format = FormatRFC5424
	case FormatRFC5424, FormatCEF:
	default:
		return fmt.Errorf("%s: unknown format %q", d.Name, d.Format)
	}
	switch d.MinVersion {
	case 0:
		d.MinVersion = tls.VersionTLS13
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		return fmt.Errorf("%s: TLS version %#x not allowed (want 1.2 or 1.3)", d.Name, d.MinVersion)
	}
	return nil
}

// tlsConfig is the client configuration for d. TLS 1.3 is the default; TLS
// 1.2 is allowed as an explicit, logged choice for receivers that lack 1.3
// (RFC 5425 requires only TLS 1.2), and then only with ECDHE and AEAD
// cipher suites.
func (d *Destination) tlsConfig() *tls.Config {
	name := d.ServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(d.Address)
	}
	return &tls.Config{
		RootCAs:              d.RootCAs,
		ServerName:           name,
		MinVersion:           d.MinVersion,
		MaxVersion:           tls.VersionTLS13,
		GetClientCertificate: d.ClientCertificate,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// Run forwards until ctx ends or Close is called. It returns nil then; a
// destination's trouble never ends Run, it is retried and reported.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return errors.New("forward: Run called twice")
	}
	f.started = true
	ctx, f.cancel = context.WithCancel(ctx)
	f.mu.Unlock()
	defer close(f.done)
	g, ctx := errgroup.WithContext(ctx)
	for _, d := range f.dests {
		g.Go(func() error { d.run(ctx); return nil })
	}
	return g.Wait()
}

// Close stops Run, waits for it, and stores every cursor. It is safe to
// call more than once, and before or without Run.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	started, cancel := f.started, f.cancel
	f.started = true // a later Run refuses
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if started && cancel != nil {
		<-f.done
	}
	return nil
}

// Status is a destination's state, for the console and health checks.
type Status struct {
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Connected bool      `json:"connected"`
	Next      uint64    `json:"next"`      // next entry to send
	Delivered uint64    `json:"delivered"` // every entry < Delivered is delivered
	Backlog   uint64    `json:"backlog"`   // entries in the log not yet delivered
	Sent      uint64    `json:"sent"`      // messages written since start, resends included
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"` // when Connected last changed
}

// Status returns the state of every destination.
func (f *Forwarder) Status() []Status {
	last := f.cfg.Source.Last()
	out := make([]Status, len(f.dests))
	for i, d := range f.dests {
		out[i] = d.status(last)
	}
	return out
}
