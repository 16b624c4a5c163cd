// Package eventlog implements medguard's Security Event Log: an append-only,
// tamper-evident record of every security-relevant event on the device.
//
// This file holds the event model that every other part of medguard writes.
// Parts never depend on the log itself; they depend on the small Recorder
// interface, so that unit tests can pass a fake and the daemon passes the log.
package eventlog

import (
	"context"
	"fmt"
	"time"
)

// Category groups events by the part of the device they concern
// (ARCHITECTURE.md, "Contracts").
type Category string

// The categories of ARCHITECTURE.md.
const (
	CategoryAuth      Category = "auth"
	CategoryAccess    Category = "access"
	CategorySoftware  Category = "software"
	CategoryIntegrity Category = "integrity"
	CategoryConfig    Category = "config"
	CategoryNetwork   Category = "network"
	CategoryHealth    Category = "health"
	CategorySystem    Category = "system"
	CategoryLog       Category = "log"
)

// Categories lists every valid category, in a stable order.
var Categories = []Category{
	CategoryAuth, CategoryAccess, CategorySoftware, CategoryIntegrity,
	CategoryConfig, CategoryNetwork, CategoryHealth, CategorySystem, CategoryLog,
}

// Valid reports whether c is one of the defined categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Severity is an RFC 5424 severity level: 0 (emergency) is the most severe,
// 7 (debug) the least.
type Severity uint8

// RFC 5424, section 6.2.1, table 2.
const (
	SeverityEmergency Severity = iota
	SeverityAlert
	SeverityCritical
	SeverityError
	SeverityWarning
	SeverityNotice
	SeverityInfo
	SeverityDebug
)

var severityNames = [...]string{"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"}

// String returns the lower-case RFC 5424 name of s.
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Valid reports whether s is one of the eight RFC 5424 levels.
func (s Severity) Valid() bool { return int(s) < len(severityNames) }

// ParseSeverity accepts an RFC 5424 name ("warning") or its number ("4").
func ParseSeverity(v string) (Severity, error) {
	for i, n := range severityNames {
		if v == n || v == fmt.Sprint(i) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of emergency, alert, critical, error, warning, notice, info, debug)", v)
}

// Event is one entry of the Security Event Log. The log fills Seq, Time and
// BootID when the event is appended; a writer fills the rest.
//
// No patient data ever goes into an event.
type Event struct {
	// Seq is the event's sequence number: assigned by the log, starting at
	// 1, never reset.
	Seq uint64 `json:"seq"`
	// Time is when the log accepted the event, in UTC.
	Time time.Time `json:"time"`
	// BootID identifies the boot of the daemon that wrote the event.
	BootID string `json:"boot"`
	// Code is the stable, machine-readable kind of event, dotted
	// ("auth.login.failed", "device.state.changed"). The notification
	// catalog keys on it.
	Code string `json:"code"`
	// Category is the part of the device the event concerns.
	Category Category `json:"cat"`
	// Severity is the RFC 5424 severity.
	Severity Severity `json:"sev"`
	// Actor is who caused the event: a user name, "system", or a client
	// certificate's subject.
	Actor string `json:"actor,omitempty"`
	// Source is where the actor acted from: an IP address and port,
	// "console", "local-socket" or a part's name.
	Source string `json:"src,omitempty"`
	// Message says what happened, in one sentence for a person.
	Message string `json:"msg"`
	// Cause, where a notification follows, says why it happened.
	Cause string `json:"cause,omitempty"`
	// Action, where a notification follows, is the recommended action.
	Action string `json:"action,omitempty"`
	// Fields carries further details as key-value pairs. Secrets are masked
	// by the writer before they get here.
	Fields map[string]string `json:"fields,omitempty"`
}

// Recorder is what every part of medguard writes security events to. The
// Security Event Log implements it; unit tests pass a fake.
//
// Record returns only after the event is durable (or has failed), and
// returns the sequence number the log gave it.
type Recorder interface {
	Record(ctx context.Context, e Event) (seq uint64, err error)
}
