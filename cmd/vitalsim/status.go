package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Status is the device state as the daemon's local API reports it
// (GET /v1/local/status on the unix socket).
type Status struct {
	Device   string    `json:"device"`
	State    string    `json:"state"`
	Since    time.Time `json:"since"`
	Cause    string    `json:"cause,omitempty"`
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is one active warning of the device.
type Warning struct {
	Code     string    `json:"code"`
	Severity string    `json:"severity"`
	Title    string    `json:"title"`
	Cause    string    `json:"cause"`
	Action   string    `json:"action"`
	Since    time.Time `json:"since"`
}

// maxStatus bounds a status document (the socket is trusted less than the
// display needs it to be).
const maxStatus = 256 << 10

// parseStatus decodes a status document; a state outside the known set is
// kept (the display treats anything but operational/degraded as unsafe).
func parseStatus(data []byte) (Status, error) {
	if len(data) > maxStatus {
		return Status{}, fmt.Errorf("parse device status: %d bytes exceeds %d", len(data), maxStatus)
	}
	var s Status
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return Status{}, fmt.Errorf("parse device status: %w", err)
	}
	if s.State == "" {
		return Status{}, fmt.Errorf("parse device status: no state")
	}
	if len(s.Warnings) > 64 {
		s.Warnings = s.Warnings[:64]
	}
	return s, nil
}

// Observation is what the poller last learned.
type Observation struct {
	Reachable bool      // the daemon answered with a valid status
	Status    Status    // valid when Reachable
	Err       string    // why not, when not Reachable
	Checked   time.Time // when the last poll finished
	OKAt      time.Time // when the daemon last answered
}

// poller asks the daemon for the device state every interval.
type poller struct {
	client   *http.Client
	interval time.Duration

	mu   sync.Mutex // guards last
	last Observation
}

func newPoller(socket string, interval time.Duration) *poller {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns: 1, IdleConnTimeout: 30 * time.Second,
	}
	return &poller{client: &http.Client{Transport: tr, Timeout: 2 * interval}, interval: interval,
		last: Observation{Err: "not yet asked"}}
}

// run polls until ctx is done.
func (p *poller) run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *poller) poll(ctx context.Context) {
	s, err := p.fetch(ctx)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.last.Reachable, p.last.Err, p.last.Checked = false, err.Error(), now
		return
	}
	p.last = Observation{Reachable: true, Status: s, Checked: now, OKAt: now}
}

func (p *poller) fetch(ctx context.Context) (Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://medguard/v1/local/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return Status{}, fmt.Errorf("ask the security core: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatus+1))
	if err != nil {
		return Status{}, fmt.Errorf("read device status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("device status: HTTP %d", resp.StatusCode)
	}
	return parseStatus(body)
}

// Observation returns the latest observation.
func (p *poller) Observation() Observation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}
